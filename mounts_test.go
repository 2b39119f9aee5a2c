package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/streamer/streamertest"
)

// probe runs ffprobe on url and checks it found the clip's two streams.
func probe(t *testing.T, url string) {
	t.Helper()
	ffprobe := streamertest.NeedTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe failed on %s: %v\n%s", strings.SplitN(url, "?", 2)[0], err, out)
	}
	var got struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct{ Duration string } `json:"format"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("unexpected ffprobe output %s: %v", out, err)
	}
	var codecs []string
	for _, s := range got.Streams {
		codecs = append(codecs, s.CodecName)
	}
	if d, _ := strconv.ParseFloat(got.Format.Duration, 64); strings.Join(codecs, ",") != "mpeg4,aac" || d < 1.9 || d > 2.2 {
		t.Fatalf("unexpected probe of %s: codecs %v, duration %v", strings.SplitN(url, "?", 2)[0], codecs, d)
	}
}

// curlGet runs curl (following redirects as a player does) and returns the
// status and body.
func curlGet(t *testing.T, url string, args ...string) (int, string) {
	t.Helper()
	curl := streamertest.NeedTool(t, "curl")
	args = append([]string{"-s", "-L", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}", url}, args...)
	out, err := exec.Command(curl, args...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.SplitN(url, "?", 2)[0], err)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	code, _ := strconv.Atoi(s[i+1:])
	return code, s[:i]
}

// listedNames are the names of a JSON listing.
func listedNames(t *testing.T, body string) []string {
	t.Helper()
	var l struct{ Items []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("not a JSON listing: %v\n%s", err, body)
	}
	var n []string
	for _, it := range l.Items {
		n = append(n, it.Name)
	}
	return n
}

const mountsSecret = "mounts-test-sign-secret"

// mountsFixture fills the fake's drives and writes a mounts file: the
// account's backup drive at /Backup, its resource drive at /Resource, and a
// share of the backup drive's /Shared folder through it at /Share.
func mountsFixture(t *testing.T, fake *alifake.Fake, clip []byte) string {
	t.Helper()
	fake.AddFileTo(alifake.DriveBackup, "/Films/b.mp4", clip)
	fake.AddFileTo(alifake.DriveBackup, "/Films/r.mkv", []byte("the backup drive's r.mkv, not the resource drive's"))
	fake.AddFileTo(alifake.DriveResource, "/Films/r.mkv", clip)
	fake.AddFileTo(alifake.DriveBackup, "/Shared/s.mp4", clip)
	share := fake.AddShare("/Shared", "pw42")
	t.Setenv("TEST_MOUNTS_TOKEN", os.Getenv("ALILINK_REFRESH_TOKEN"))
	t.Setenv("TEST_MOUNTS_SHARE_PWD", "pw42")
	t.Setenv("ALILINK_REFRESH_TOKEN", "") // the file's account has its own
	file := filepath.Join(t.TempDir(), "mounts.yaml")
	body := `accounts:
  - name: me
    refresh_token_env: TEST_MOUNTS_TOKEN
mounts:
  - path: /Backup
    account: me
    drive: backup
  - path: /Resource
    account: me
    drive: resource
  - path: /Share
    account: me
    share_id: ` + share + `
    share_pwd_env: TEST_MOUNTS_SHARE_PWD
    read_only: true
`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALILINK_MOUNTS_FILE", file)
	return file
}

// alilinkProcess runs this test binary as `alilink serve` with the test's
// environment, until kill or the test's end.
type alilinkProcess struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	base string
}

func startAlilink(t *testing.T, port int) *alilinkProcess {
	t.Helper()
	p := &alilinkProcess{out: &syncBuffer{}, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	p.cmd = exec.Command(os.Args[0], "serve")
	p.cmd.Env = append(os.Environ(), "ALILINK_TEST_MAIN=1", "ALILINK_LISTEN=127.0.0.1:"+strconv.Itoa(port))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(p.base + "/-/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("alilink did not start:\n%s", p.out.String())
		}
	}
}

// TestMountsAcceptance is issue 12's acceptance: three mounts of one account
// (its backup drive, its resource drive, a share through it) in a real
// alilink process: / lists them, each lists and plays (curl, ffprobe), the
// account refreshes its token once for all three, a sign covers its mount,
// and a kill -9 plus restart keeps the one chain valid.
func TestMountsAcceptance(t *testing.T) {
	fake := fakeEnv(t)
	clip := streamertest.Clip(t)
	mountsFixture(t, fake, clip)
	t.Setenv("ALILINK_SIGN_SECRET", mountsSecret)
	t.Setenv("ALILINK_LOG_LEVEL", "warn")
	s := sign.New(mountsSecret)
	port := freeTCPPort(t)
	p := startAlilink(t, port)
	u := func(path string) string { return s.URL(p.base, path, time.Now().Add(time.Hour).Unix()) }

	code, body := curlGet(t, u("/")+"&format=json")
	if got := strings.Join(listedNames(t, body), " "); code != 200 || got != "Backup Resource Share" {
		t.Fatalf("unexpected root: %d %q; want the three mounts", code, got)
	}
	for _, m := range []struct{ folder, names, file string }{
		{"/Backup/Films", "b.mp4 r.mkv", "/Backup/Films/b.mp4"},
		{"/Resource/Films", "r.mkv", "/Resource/Films/r.mkv"},
		{"/Share", "s.mp4", "/Share/s.mp4"},
	} {
		code, body := curlGet(t, u(m.folder)+"&format=json")
		if got := strings.Join(listedNames(t, body), " "); code != 200 || got != m.names {
			t.Fatalf("%s: unexpected listing %d %q; want %q", m.folder, code, got, m.names)
		}
		probe(t, u(m.file))
		if code, body := curlGet(t, u(m.file), "-r", "0-1023"); code != 206 || body != string(clip[:1024]) {
			t.Fatalf("%s: unexpected range %d, %d bytes", m.file, code, len(body))
		}
	}
	if got := fake.Refreshes(); got != 1 {
		t.Fatalf("unexpected refreshes for three mounts of one account; got %d; want 1", got)
	}
	// A sign is for the full path: /Resource's does not open /Backup's file
	// of the same name.
	signed := s.Sign("/Resource/Films/r.mkv", time.Now().Add(time.Hour))
	if code, body := curlGet(t, p.base+"/Resource/Films/r.mkv?sign="+signed); code != 200 || body != string(clip) {
		t.Fatalf("the signed link does not play: %d, %d bytes", code, len(body))
	}
	if code, _ := curlGet(t, p.base+"/Backup/Films/r.mkv?sign="+signed); code != 403 {
		t.Fatalf("the sign of /Resource/Films/r.mkv opened /Backup/Films/r.mkv: %d", code)
	}
	// The share is read-only.
	if code, _ := curlGet(t, p.base+"/Share/new.txt", "-T", "-", "-H", "Authorization: Bearer x"); code != 401 && code != 403 {
		t.Fatalf("a PUT into the read-only share: %d", code)
	}

	// kill -9, then the same configuration again: the rotated token saved
	// before it was used carries the chain on.
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	p = startAlilink(t, port)
	fake.ExpireAccessTokens()
	for _, f := range []string{"/Backup/Films/b.mp4", "/Resource/Films/r.mkv", "/Share/s.mp4"} {
		if code, body := curlGet(t, u(f)); code != 200 || body != string(clip) {
			t.Fatalf("%s after the restart: %d, %d bytes\n%s", f, code, len(body), p.out.String())
		}
	}
	if got := fake.Refreshes(); got != 2 {
		t.Fatalf("unexpected refreshes after the restart; got %d; want 2 (one per access token)", got)
	}
	if n := spentReuses(fake); n != 0 {
		t.Fatalf("a spent refresh token was used %d times after the restart", n)
	}
	code, body = curlGet(t, p.base+"/-/readyz")
	if code != 200 || !strings.Contains(body, `"ready":true`) {
		t.Fatalf("unexpected readiness %d %s", code, body)
	}
	_, m := get(t, p.base+"/-/metrics")
	for _, want := range []string{`mount="/Resource"`, `mount="/Share"`, `alilink_token_refreshes_total{result="ok",account="me"} 1`} {
		if !strings.Contains(m, want) {
			t.Fatalf("the metrics lack %s", want)
		}
	}
}

// TestMountsStrmAndSign: `alilink strm --path /Resource/Films` and `alilink
// sign` work on a mount's paths, and their URLs play.
func TestMountsStrmAndSign(t *testing.T) {
	fake := fakeEnv(t)
	mountsFixture(t, fake, []byte("not really a video"))
	t.Setenv("ALILINK_SIGN_SECRET", mountsSecret)
	t.Setenv("ALILINK_LISTEN", "127.0.0.1:0")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"strm", "--out", out, "--path", "/Resource/Films", "--base", "http://media.lan"}, &stdout, &stderr); code != 0 {
		t.Fatalf("strm failed: %s %s", stdout.String(), stderr.String())
	}
	files := listFiles(t, out)
	line := strings.TrimSpace(files["r.strm"])
	if len(files) != 1 || !strings.HasPrefix(line, "http://media.lan/Resource/Films/r.mkv?sign=") {
		t.Fatalf("unexpected .strm files %v", files)
	}
	su, _ := url.Parse(line)
	if _, err := sign.New(mountsSecret).Verify("/Resource/Films/r.mkv", su.Query().Get("sign"), time.Now()); err != nil {
		t.Fatalf("the .strm sign does not verify: %v", err)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"sign", "/Share/s.mp4", "--base", "http://x"}, &stdout, &stderr); code != 0 {
		t.Fatalf("sign failed: %s", stderr.String())
	}
	signed := strings.TrimSpace(stdout.String())
	base := serveInProcess(t, io.Discard)
	if r, _ := get(t, strings.Replace(line, "http://media.lan", base, 1)); r.StatusCode != http.StatusFound {
		t.Fatalf("the .strm URL: %d", r.StatusCode)
	}
	if r, b := get(t, strings.Replace(signed, "http://x", base, 1)); r.StatusCode != http.StatusFound && r.StatusCode != 200 {
		t.Fatalf("the signed share URL: %d %s", r.StatusCode, b)
	}
	if r, _ := get(t, strings.Replace(signed, "http://x/Share", base+"/Backup/Shared", 1)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("the sign of /Share/s.mp4 opened /Backup/Shared/s.mp4: %d", r.StatusCode)
	}
}

// TestMountsStartupErrors: a bad mounts file or account stops start-up
// with one line naming the file.
func TestMountsStartupErrors(t *testing.T) {
	fake := fakeEnv(t)
	token := fake.NewRefreshToken()
	t.Setenv("ALILINK_REFRESH_TOKEN", "")
	dir := t.TempDir()
	f := func(name, body, want string) {
		t.Helper()
		file := filepath.Join(dir, name+".yaml")
		if body != "" {
			if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("ALILINK_MOUNTS_FILE", file)
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"serve"}, io.Discard, &stderr); code != 1 {
			t.Fatalf("%s: unexpected exit code %d; stderr %q", name, code, stderr.String())
		}
		msg := stderr.String()
		t.Log(msg)
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "ALILINK_MOUNTS_FILE "+file) || !strings.Contains(msg, want) ||
			strings.Contains(msg, token) {
			t.Fatalf("%s: unexpected message %q; want one line naming the file and %q", name, msg, want)
		}
	}
	acct := "accounts:\n  - name: me\n    refresh_token: " + token + "\n"
	f("unknown-account", acct+"mounts:\n  - path: /a\n    account: you\n", "you")
	f("duplicate", acct+"mounts:\n  - path: /a\n  - path: /a\n", `"/a"`)
	f("unclean", acct+"mounts:\n  - path: /a/\n", "clean")
	f("open-share", "accounts:\n  - name: o\n    driver: open\n    refresh_token: x\n    client_id: id\n    client_secret: s\nmounts:\n  - path: /s\n    share_id: abc\n", "share")
	f("unreadable", "", "cannot read")
	f("mode", acct+"mounts:\n  - path: /a\n    mode: rewrite\n", "ALILINK_PROXY_URL")
	f("no-token", "accounts:\n  - name: me\nmounts:\n  - path: /a\n", "refresh token")
	f("alist-door", acct+"mounts:\n  - path: /a\n  - path: /d\n", "AList API (at /d) answers there")
	f("dav-door", acct+"mounts:\n  - path: /dav/Films\n", "ALILINK_DAV_PREFIX")
}

// TestMountsReplicasShareChains: two replicas with the same mounts file on
// one Redis make one refresh per account (two accounts here) and one link
// call per file, however many of them ask at once.
func TestMountsReplicasShareChains(t *testing.T) {
	fake := fakeEnv(t)
	t.Setenv("ALILINK_LOG_LEVEL", "error")
	for i := range 2 {
		fake.AddFileTo(alifake.DriveBackup, fmt.Sprintf("/b%d.mkv", i), []byte{'b', byte(i)})
		fake.AddFileTo(alifake.DriveResource, fmt.Sprintf("/r%d.mkv", i), []byte{'r', byte(i)})
	}
	t.Setenv("TEST_TOKEN_ME", fake.NewRefreshToken())
	t.Setenv("TEST_TOKEN_YOU", fake.NewRefreshToken())
	t.Setenv("ALILINK_REFRESH_TOKEN", "")
	file := filepath.Join(t.TempDir(), "mounts.yaml")
	body := `accounts:
  - name: me
    refresh_token_env: TEST_TOKEN_ME
  - name: you
    refresh_token_env: TEST_TOKEN_YOU
mounts:
  - {path: /me, account: me, drive: backup}
  - {path: /me/res, account: me, drive: resource}
  - {path: /you, account: you, drive: resource}
`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALILINK_MOUNTS_FILE", file)
	url, prefix := testRedis(t)
	bases := []string{replica(t, url, prefix), replica(t, url, prefix)}
	var wg sync.WaitGroup
	for _, b := range bases {
		for _, p := range []string{"/me/b0.mkv", "/me/res/r0.mkv", "/you/r1.mkv", "/me/b1.mkv"} {
			for range 3 {
				wg.Go(func() {
					if s := status(t, b+p); s != http.StatusFound {
						t.Errorf("%s: unexpected status %d", p, s)
					}
				})
			}
		}
	}
	wg.Wait()
	if got := fake.Refreshes(); got != 2 {
		t.Fatalf("unexpected refreshes of two accounts across two replicas; got %d; want 2", got)
	}
	if n := spentReuses(fake); n != 0 {
		t.Fatalf("a replica reused a spent refresh token %d times", n)
	}
	// /me/res/r0.mkv and /you/r1.mkv are two files; /you links r1 through
	// its own account: one link call per file and account's drive.
	if got := fake.Calls("get_download_url"); got != 4 {
		t.Fatalf("unexpected link calls across 2 replicas; got %d; want 4 (one per file)", got)
	}
	fake.ExpireAccessTokens()
	for _, b := range bases {
		wg.Go(func() {
			if s := status(t, b+"/you/r0.mkv"); s != http.StatusFound {
				t.Errorf("unexpected status %d after the tokens expired", s)
			}
		})
	}
	wg.Wait()
	if got := fake.Refreshes(); got != 3 {
		t.Fatalf("unexpected refreshes after the access tokens expired; got %d; want 3", got)
	}
	if n := spentReuses(fake); n != 0 {
		t.Fatalf("a replica reused a spent refresh token %d times", n)
	}
}

// TestMountsLogin: `alilink login --account NAME` saves the token in that
// account's state file, where serving with the mounts file finds it.
func TestMountsLogin(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFileTo(alifake.DriveResource, "/r.mkv", []byte("r"))
	t.Setenv("ALILINK_REFRESH_TOKEN", "")
	t.Setenv("ALILINK_PASSPORT_URL", fake.APIURL())
	file := filepath.Join(t.TempDir(), "mounts.yaml")
	body := "accounts:\n  - name: me\n  - name: you\nmounts:\n  - {path: /me, account: me, drive: resource}\n  - {path: /you, account: you}\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALILINK_MOUNTS_FILE", file)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"login", "--timeout", "1s"}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "name one of me, you") {
		t.Fatalf("login without --account on two accounts: %d %q", code, stderr.String())
	}
	for _, name := range []string{"me", "you"} {
		var stdout, stderr syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(context.Background(), []string{"login", "--account", name, "--interval", "20ms", "--timeout", "20s"}, &stdout, &stderr)
		}()
		id := pendingQR(t, fake)
		fake.ScanQR(id)
		time.Sleep(100 * time.Millisecond)
		fake.ConfirmQR(id)
		if code := <-done; code != 0 || !strings.Contains(stdout.String(), name+"-drive-token.json") {
			t.Fatalf("login --account %s: %d %s %s", name, code, stdout.String(), stderr.String())
		}
	}
	base := serveInProcess(t, io.Discard)
	if s := status(t, base+"/me/r.mkv"); s != http.StatusFound {
		t.Fatalf("the logged-in account does not serve: %d", s)
	}
	if r, b := get(t, base+"/-/readyz"); r.StatusCode != 200 || strings.Contains(b, "/you:") {
		t.Fatalf("unexpected readiness %d %s", r.StatusCode, b)
	}
}

// TestMountsReadiness: /-/readyz names the mount of each problem and stays
// ready while a mount is; the broken mount's paths fail, the others serve.
func TestMountsReadiness(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFileTo(alifake.DriveBackup, "/a.mkv", []byte("a"))
	t.Setenv("TEST_MOUNTS_TOKEN", os.Getenv("ALILINK_REFRESH_TOKEN"))
	t.Setenv("ALILINK_REFRESH_TOKEN", "")
	t.Setenv("ALILINK_LISTEN", "127.0.0.1:0")
	file := filepath.Join(t.TempDir(), "mounts.yaml")
	body := "accounts:\n  - {name: me, refresh_token_env: TEST_MOUNTS_TOKEN}\nmounts:\n  - {path: /ok, drive: backup}\n  - {path: /gone, share_id: NoSuchShare1}\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALILINK_MOUNTS_FILE", file)
	base := serveInProcess(t, io.Discard)
	r, b := get(t, base+"/-/readyz")
	var ready struct {
		Ready    bool
		Problems []string
	}
	if err := json.Unmarshal([]byte(b), &ready); err != nil || r.StatusCode != 200 || !ready.Ready || len(ready.Problems) != 1 ||
		!strings.HasPrefix(ready.Problems[0], "/gone: ") {
		t.Fatalf("unexpected readiness %d %s", r.StatusCode, b)
	}
	t.Log(ready.Problems[0])
	if s := status(t, base+"/ok/a.mkv"); s != http.StatusFound {
		t.Fatalf("the healthy mount: %d", s)
	}
	if s := status(t, base+"/gone/x.mkv"); s < 400 {
		t.Fatalf("the broken share answered %d", s)
	}
}
