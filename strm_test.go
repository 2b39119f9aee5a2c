package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer/sign"
)

// fakeEnv points the configuration at a started fake drive.
func fakeEnv(t *testing.T) *alifake.Fake {
	t.Helper()
	fake := alifake.New(alifake.Options{PageSize: 5})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	t.Setenv("ALILINK_REFRESH_TOKEN", fake.NewRefreshToken())
	t.Setenv("ALILINK_API_URL", fake.APIURL())
	t.Setenv("ALILINK_AUTH_URL", fake.APIURL())
	t.Setenv("ALILINK_STATE_DIR", t.TempDir())
	t.Setenv("ALILINK_RATE_LIST", "200")
	t.Setenv("ALILINK_RATE_OTHER", "200")
	t.Setenv("ALILINK_LOG_LEVEL", "warn")
	return fake
}

func listFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func TestStrm(t *testing.T) {
	fake := fakeEnv(t)
	t.Setenv("ALILINK_SIGN_SECRET", "strm-secret")
	for _, p := range []string{
		"/Movies/Film A (2020).mkv", "/Movies/Film A (2020).nfo", "/Movies/Film B.mp4", "/Movies/Film B.mkv",
		"/Movies/Sub/Deep #1.ts", "/Movies/电影/千与千寻.MP4", "/Music/song.flac",
	} {
		fake.AddFile(p, []byte(p))
	}
	for i := range 12 { // more than two pages of 5
		fake.AddFile("/Movies/Many/ep"+string(rune('a'+i))+".mkv", []byte{byte(i)})
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "keep-me.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	strm := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"strm", "--out", out}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("strm failed (%d): %s %s", code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	sum := strm("--path", "/Movies", "--base", "http://media.lan:8080/")
	if sum != "strm: 17 written, 0 unchanged, 0 removed, 0 errors\n" {
		t.Fatalf("unexpected summary %q", sum)
	}
	files := listFiles(t, out)
	want := []string{"Film A (2020).strm", "Film B.mkv.strm", "Film B.mp4.strm", "Sub/Deep #1.strm", "keep-me.txt", "电影/千与千寻.strm"}
	for _, w := range want {
		if _, ok := files[w]; !ok {
			t.Fatalf("missing %s; have %v", w, keys(files))
		}
	}
	if len(files) != 18 {
		t.Fatalf("unexpected files %v", keys(files))
	}
	got := strings.TrimSpace(files["Sub/Deep #1.strm"])
	u, err := url.Parse(got)
	if err != nil || u.Host != "media.lan:8080" || u.Path != "/Movies/Sub/Deep #1.ts" {
		t.Fatalf("unexpected strm URL %q", got)
	}
	if exp, err := sign.New("strm-secret").Verify("/Movies/Sub/Deep #1.ts", u.Query().Get("sign"), time.Now()); err != nil || exp != 0 {
		t.Fatalf("the strm URL's sign does not verify forever: %d, %v", exp, err)
	}

	// Idempotent: nothing changed, nothing written.
	if sum := strm("--path", "/Movies", "--base", "http://media.lan:8080"); sum != "strm: 0 written, 17 unchanged, 0 removed, 0 errors\n" {
		t.Fatalf("unexpected second run %q", sum)
	}
	// A video gone and one new: without --prune the stale file stays.
	fake.Remove("/Movies/Sub/Deep #1.ts")
	fake.AddFile("/Movies/New.webm", []byte("new"))
	if sum := strm("--path", "/Movies", "--base", "http://media.lan:8080"); sum != "strm: 1 written, 16 unchanged, 0 removed, 0 errors\n" {
		t.Fatalf("unexpected run after a change %q", sum)
	}
	if sum := strm("--path", "/Movies", "--base", "http://media.lan:8080", "--prune"); sum != "strm: 0 written, 17 unchanged, 1 removed, 0 errors\n" {
		t.Fatalf("unexpected pruning run %q", sum)
	}
	files = listFiles(t, out)
	if _, ok := files["Sub/Deep #1.strm"]; ok {
		t.Fatalf("the stale file survived --prune")
	}
	if _, err := os.Stat(filepath.Join(out, "Sub")); !os.IsNotExist(err) {
		t.Fatalf("the emptied folder survived --prune: %v", err)
	}
	if files["keep-me.txt"] != "mine" {
		t.Fatalf("--prune touched a file that is not a .strm")
	}
	// --ext narrows the set; a not-terminal stderr gets no progress drawing.
	out2 := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"strm", "--out", out2, "--path", "/Movies", "--ext", "ts,webm"}, &stdout, &stderr); code != 0 {
		t.Fatalf("strm failed: %s", stderr.String())
	}
	if files := listFiles(t, out2); len(files) != 1 || stderr.Len() != 0 {
		t.Fatalf("unexpected --ext result %v; stderr %q", keys(files), stderr.String())
	}
}

func TestStrmUnreadableFolderIsNotPruned(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFile("/A/x.mkv", []byte("x"))
	fake.AddFile("/B/y.mkv", []byte("y"))
	out := t.TempDir()
	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"strm", "--out", out}, &o, &e); code != 0 {
		t.Fatalf("strm failed: %s", e.String())
	}
	fake.FailNext("file/list", 20, alifake.Fault{Status: 403, Code: "ForbiddenNoPermission.File", Message: "no"})
	o.Reset()
	code := run(context.Background(), []string{"strm", "--out", out, "--prune"}, &o, io.Discard)
	if code == 0 || !strings.Contains(o.String(), "0 removed, 1 errors") {
		t.Fatalf("unexpected run with an unreadable drive: %d %q", code, o.String())
	}
	if files := listFiles(t, out); len(files) != 2 {
		t.Fatalf("files were pruned under a folder that could not be read: %v", keys(files))
	}
}
