package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
)

func TestConfigErrorsNameTheVariable(t *testing.T) {
	f := func(name, value string) {
		t.Helper()
		t.Run(name+"="+value, func(t *testing.T) {
			t.Setenv(name, value)
			_, err := loadConfig()
			if err == nil {
				t.Fatalf("unexpected success with %s=%q", name, value)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, name+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("unexpected error line; got %q; want one line starting with %s", msg, name)
			}
		})
	}
	f("ALILINK_API_TIMEOUT", "soon")
	f("ALILINK_API_TIMEOUT", "-1s")
	f("ALILINK_MODE", "teleport")
	f("ALILINK_DRIVER", "ftp")
	f("ALILINK_API_URL", "ftp://example.com")
	f("ALILINK_AUTH_URL", "not a url")
	f("ALILINK_LOG_LEVEL", "loud")
	f("ALILINK_LOG_FORMAT", "xml")
	f("ALILINK_PATH_CACHE_SIZE", "many")
	f("ALILINK_PATH_CACHE_SIZE", "0")
	f("ALILINK_LINK_MARGIN", "-1s")
	f("ALILINK_RATE_LINK", "0")
	f("ALILINK_LINK_EXPIRE_SEC", "99999")
	f("ALILINK_UPLOAD_MAX", "huge")
	f("ALILINK_UPLOAD_MAX", "-1")
	f("ALILINK_RAPID_UPLOAD", "maybe")
}

func TestUploadConfig(t *testing.T) {
	t.Setenv("ALILINK_STATE_DIR", "/tmp/st")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Streamer.SpoolDir != "/tmp/st" || cfg.Streamer.UploadMax != 20<<30 || !cfg.Client.RapidUpload || cfg.Client.InternalUpload {
		t.Fatalf("unexpected upload defaults: spool %q, max %d, rapid %v, internal %v",
			cfg.Streamer.SpoolDir, cfg.Streamer.UploadMax, cfg.Client.RapidUpload, cfg.Client.InternalUpload)
	}
	for v, want := range map[string]streamer.ByteSize{"1048576": 1 << 20, "500MB": 500e6, "2 GiB": 2 << 30, "1TiB": 1 << 40, "7B": 7} {
		t.Setenv("ALILINK_UPLOAD_MAX", v)
		t.Setenv("ALILINK_SPOOL_DIR", "/tmp/sp")
		if cfg, err := loadConfig(); err != nil || cfg.Streamer.UploadMax != want || cfg.Streamer.SpoolDir != "/tmp/sp" {
			t.Fatalf("ALILINK_UPLOAD_MAX=%s: %d (%v), spool %q", v, cfg.Streamer.UploadMax, err, cfg.Streamer.SpoolDir)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/tmp/xdg")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Client.StateDir != "/tmp/xdg/alilink" || cfg.Resolver.RootFolderID != "root" ||
		cfg.Resolver.LinkMargin != time.Minute || cfg.Client.APIURL != "https://api.alipan.com" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

// TestDefaultConfigsMatchEnv keeps the packages' DefaultConfig in step with
// the envDefault tags that serve uses.
func TestDefaultConfigsMatchEnv(t *testing.T) {
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Streamer.SpoolDir = ""       // main's default is the state dir
	cfg.Streamer.AList.Provider = "" // main's default follows ALILINK_DRIVER
	if cfg.Streamer != streamer.DefaultConfig() {
		t.Fatalf("streamer.DefaultConfig differs from the env defaults:\n%+v\n%+v", streamer.DefaultConfig(), cfg.Streamer)
	}
	if cfg.Resolver != resolver.DefaultConfig() {
		t.Fatalf("resolver.DefaultConfig differs from the env defaults:\n%+v\n%+v", resolver.DefaultConfig(), cfg.Resolver)
	}
}

func TestServeWithoutToken(t *testing.T) {
	t.Setenv("ALILINK_STATE_DIR", t.TempDir())
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, io.Discard, &stderr); code != 1 {
		t.Fatalf("unexpected exit code %d", code)
	}
	if msg := stderr.String(); !strings.Contains(msg, "ALILINK_REFRESH_TOKEN") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("unexpected message %q; want one line naming ALILINK_REFRESH_TOKEN", msg)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, io.Discard, &stderr); code != 2 {
		t.Fatalf("unexpected exit code %d", code)
	}
}

// syncBuffer is a bytes.Buffer safe to read while another goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemo runs the README's first command in-process and uses what it prints.
func TestDemo(t *testing.T) {
	t.Setenv("ALILINK_LOG_LEVEL", "warn")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--film-size", "8388608"}, &stdout, &stderr)
	}()

	addr := regexp.MustCompile(`alilink at (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("the demo printed no address; stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if n := strings.Count(stdout.String(), "curl "); n < 5 {
		t.Fatalf("the demo printed %d curl lines; want at least 5", n)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, url string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	// / lists the demo's mounts; the backup drive holds the samples.
	resp, body := get(noFollow, base+"/?format=json")
	var root struct{ Items []struct{ Name string } }
	if resp.StatusCode != 200 || json.Unmarshal(body, &root) != nil || len(root.Items) != 3 ||
		root.Items[0].Name != "Backup" || root.Items[1].Name != "Resource" || root.Items[2].Name != "Shared" {
		t.Fatalf("unexpected root listing %d %s", resp.StatusCode, body)
	}
	resp, body = get(noFollow, base+"/Backup/?format=json")
	if resp.StatusCode != 200 || json.Unmarshal(body, &root) != nil || len(root.Items) < 5 {
		t.Fatalf("unexpected backup listing %d %s", resp.StatusCode, body)
	}
	if resp, body := get(http.DefaultClient, base+"/Resource/Films/Cosmos%20Laundromat%20(2015).mkv", "Range", "bytes=0-15"); resp.StatusCode != 206 || len(body) != 16 {
		t.Fatalf("unexpected resource drive film %d %d bytes", resp.StatusCode, len(body))
	}
	if resp, body := get(http.DefaultClient, base+"/Shared/Music/?format=json"); resp.StatusCode != 200 || !strings.Contains(string(body), "flac") {
		t.Fatalf("unexpected share listing %d %s", resp.StatusCode, body)
	}
	film := "/Backup/Movies/Big%20Buck%20Bunny%20(2008).mkv"
	if resp, _ := get(noFollow, base+film); resp.StatusCode != http.StatusFound {
		t.Fatalf("unexpected status for the film; got %d; want 302", resp.StatusCode)
	}
	// bench/redirect-vs-nginx.sh measures the 302 of one demo path, and
	// stopped at "answered 404" once the demo served mounts: keep them in step.
	script, err := os.ReadFile("bench/redirect-vs-nginx.sh")
	if err != nil {
		t.Fatal(err)
	}
	bm := regexp.MustCompile(`(?m)^path='([^']+)'$`).FindSubmatch(script)
	if bm == nil {
		t.Fatal("bench/redirect-vs-nginx.sh sets no path='…'")
	}
	if resp, _ := get(noFollow, base+string(bm[1])); resp.StatusCode != http.StatusFound {
		t.Fatalf("the 302 benchmark's path %s answers %d, not 302", bm[1], resp.StatusCode)
	}
	resp, body = get(http.DefaultClient, base+film, "Range", "bytes=1000-1015")
	want := make([]byte, 16)
	if _, err := alifake.SyntheticReader("/Movies/Big Buck Bunny (2008).mkv", 8<<20).ReadAt(want, 1000); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want) {
		t.Fatalf("unexpected range through the redirect: %d %x; want 206 %x", resp.StatusCode, body, want)
	}
	// The Referer-bound film is proxied in auto mode (the default): no 302.
	resp, body = get(noFollow, base+"/Backup/Movies/Tears%20of%20Steel%20(2012).mkv", "Range", "bytes=1000-1015")
	if _, err := alifake.SyntheticReader("/Movies/Tears of Steel (2012).mkv", 2<<20).ReadAt(want, 1000); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want) {
		t.Fatalf("unexpected proxied range: %d %x; want 206 %x", resp.StatusCode, body, want)
	}
	if resp, body := get(noFollow, base+"/Backup/Photos/2024", "Accept", "application/json"); resp.StatusCode != 200 || strings.Count(string(body), `"name"`) != 450 {
		t.Fatalf("unexpected big folder listing: %d, %d names", resp.StatusCode, strings.Count(string(body), `"name"`))
	}
	// The upload line: its token file, a PUT, the file read back.
	m := regexp.MustCompile(`Bearer \$\(cat ([^)]+)\)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("the demo printed no upload line: %s", stdout.String())
	}
	token, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), string(token)) {
		t.Fatal("the demo printed its admin token")
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/Backup/Uploads/hello.txt", strings.NewReader("hello\n"))
	req.Header.Set("Authorization", "Bearer "+string(token))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("the demo's upload: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, body := get(http.DefaultClient, base+"/Backup/Uploads/hello.txt"); resp.StatusCode != 200 || string(body) != "hello\n" {
		t.Fatalf("the uploaded file reads %d %q", resp.StatusCode, body)
	}
	if resp, body := get(noFollow, base+"/-/readyz"); resp.StatusCode != 200 {
		t.Fatalf("unexpected readiness %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("unexpected exit code %d; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the demo did not stop")
	}
}

func TestPublicListenNeedsSecret(t *testing.T) {
	f := func(listen, secret, public string, wantOK bool) {
		t.Helper()
		t.Setenv("ALILINK_LISTEN", listen)
		t.Setenv("ALILINK_SIGN_SECRET", secret)
		t.Setenv("ALILINK_PUBLIC", public)
		_, err := loadConfig()
		if (err == nil) != wantOK {
			t.Fatalf("listen %q secret %v public %q: got %v", listen, secret != "", public, err)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "ALILINK_LISTEN: ") || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("unexpected error line %q", err)
		}
	}
	f("127.0.0.1:8080", "", "", true)
	f("[::1]:8080", "", "", true)
	f("localhost:8080", "", "", true)
	f("0.0.0.0:8080", "", "", false)
	f(":8080", "", "", false)
	f("192.0.2.1:8080", "", "", false)
	f("0.0.0.0:8080", "s3cret", "", true)
	f("0.0.0.0:8080", "", "true", true)
}

func TestSignCommand(t *testing.T) {
	t.Setenv("ALILINK_SIGN_SECRET", "cmd-secret")
	t.Setenv("ALILINK_LISTEN", "127.0.0.1:9999")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sign", "/Movies/a b #1.mkv", "--ttl", "2h"}, &out, &errb); code != 0 {
		t.Fatalf("sign failed: %s", errb.String())
	}
	u, err := url.Parse(strings.TrimSpace(out.String()))
	if err != nil || u.Host != "127.0.0.1:9999" || u.Path != "/Movies/a b #1.mkv" {
		t.Fatalf("unexpected URL %q", out.String())
	}
	exp, err := sign.New("cmd-secret").Verify("/Movies/a b #1.mkv", u.Query().Get("sign"), time.Now())
	if err != nil || exp < time.Now().Add(119*time.Minute).Unix() {
		t.Fatalf("unexpected sign: %d %v", exp, err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"sign", "--base", "https://x.example/", "Movies/../a.mkv", "--ttl", "0"}, &out, &errb); code != 0 {
		t.Fatalf("sign failed: %s", errb.String())
	}
	if !strings.HasPrefix(out.String(), "https://x.example/a.mkv?sign=") || !strings.HasSuffix(strings.TrimSpace(out.String()), ":0") {
		t.Fatalf("unexpected URL %q", out.String())
	}
	t.Setenv("ALILINK_SIGN_SECRET", "")
	errb.Reset()
	if code := run(context.Background(), []string{"sign", "/a.mkv"}, io.Discard, &errb); code == 0 || !strings.Contains(errb.String(), "ALILINK_SIGN_SECRET") {
		t.Fatalf("sign without a secret: %d %q", code, errb.String())
	}
}

func TestDriverConfigErrors(t *testing.T) {
	f := func(want string, kv ...string) {
		t.Helper()
		for i := 0; i+1 < len(kv); i += 2 {
			t.Setenv(kv[i], kv[i+1])
		}
		_, err := loadConfig()
		if err == nil || !strings.HasPrefix(err.Error(), want+": ") {
			t.Fatalf("%v: got %v; want an error naming %s", kv, err, want)
		}
	}
	f("ALILINK_OPEN_CLIENT_ID", "ALILINK_DRIVER", "open")
	f("ALILINK_OPEN_DRIVE_TYPE", "ALILINK_DRIVER", "open", "ALILINK_OPEN_CLIENT_ID", "id", "ALILINK_OPEN_CLIENT_SECRET", "s", "ALILINK_OPEN_DRIVE_TYPE", "photos")
	f("ALILINK_OPEN_TOKEN_URL", "ALILINK_DRIVER", "open", "ALILINK_OPEN_CLIENT_ID", "", "ALILINK_OPEN_CLIENT_SECRET", "",
		"ALILINK_OPEN_TOKEN_URL", "not a url", "ALILINK_OPEN_DRIVE_TYPE", "default")
	f("ALILINK_SHARE_ID", "ALILINK_DRIVER", "share")
}

// TestOpenConfigCombinationsRefused: a token broker with an app of one's
// own (spec §13.4: the secret would go to a third party) and internal
// uploads on the open driver (spec §13.8: the open API has no internal
// upload URLs) stop start-up with one line naming the variable.
func TestOpenConfigCombinationsRefused(t *testing.T) {
	f := func(want string, kv ...string) {
		t.Helper()
		for _, k := range []string{"ALILINK_OPEN_CLIENT_ID", "ALILINK_OPEN_CLIENT_SECRET", "ALILINK_OPEN_TOKEN_URL", "ALILINK_INTERNAL_UPLOAD"} {
			t.Setenv(k, "")
		}
		t.Setenv("ALILINK_DRIVER", "open")
		for i := 0; i+1 < len(kv); i += 2 {
			t.Setenv(kv[i], kv[i+1])
		}
		_, err := loadConfig()
		switch {
		case want == "" && err != nil:
			t.Fatalf("%v: unexpected error %v", kv, err)
		case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want+": ") || strings.Contains(err.Error(), "\n")):
			t.Fatalf("%v: got %v; want one line naming %s", kv, err, want)
		}
	}
	const broker = "https://broker.example/token"
	f("ALILINK_OPEN_TOKEN_URL", "ALILINK_OPEN_TOKEN_URL", broker, "ALILINK_OPEN_CLIENT_ID", "id", "ALILINK_OPEN_CLIENT_SECRET", "s")
	f("ALILINK_OPEN_TOKEN_URL", "ALILINK_OPEN_TOKEN_URL", broker, "ALILINK_OPEN_CLIENT_SECRET", "s")
	f("ALILINK_OPEN_TOKEN_URL", "ALILINK_OPEN_TOKEN_URL", broker, "ALILINK_OPEN_CLIENT_ID", "id")
	f("", "ALILINK_OPEN_TOKEN_URL", broker)
	f("", "ALILINK_OPEN_CLIENT_ID", "id", "ALILINK_OPEN_CLIENT_SECRET", "s")
	f("ALILINK_INTERNAL_UPLOAD", "ALILINK_OPEN_CLIENT_ID", "id", "ALILINK_OPEN_CLIENT_SECRET", "s", "ALILINK_INTERNAL_UPLOAD", "true")
	t.Setenv("ALILINK_DRIVER", "drive")
	t.Setenv("ALILINK_INTERNAL_UPLOAD", "true")
	if _, err := loadConfig(); err != nil {
		t.Fatalf("internal uploads refused on the drive driver: %v", err)
	}
}
