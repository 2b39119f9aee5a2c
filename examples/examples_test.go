// Package examples_test runs the shipped nginx and Caddy configurations
// (examples/nginx/alilink.conf, examples/caddy/Caddyfile) with the real
// programs in front of alilink and the fake drive, in redirect, proxy and
// accel modes, and checks whole bodies and ranges byte for byte.
package examples_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

const fileSize = 6 << 20

// The drive: one free link and one the CDN binds to the Referer (a player
// could not follow a redirect to it; proxy and accel must send the Referer).
const (
	freePath  = "/Movies/Free film #1 (2024).mkv"
	boundPath = "/Movies/Bound film.mkv"
)

var fake *alifake.Fake

// TestMain starts one fake drive whose CDN is HTTPS, as the real one is, and
// makes its certificate the trusted root of this process and of the front
// servers it starts (SSL_CERT_FILE, read by Go programs such as Caddy).
func TestMain(m *testing.M) {
	os.Exit(func() int {
		fake = alifake.New(alifake.Options{CDNTLS: true})
		if err := fake.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer fake.Close()
		fake.AddSynthetic(freePath, fileSize)
		fake.SetRefererBound(fake.AddSynthetic(boundPath, fileSize), true)
		dir, err := os.MkdirTemp("", "alilink-examples-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ca := filepath.Join(dir, "cdn-ca.pem")
		if err := os.WriteFile(ca, fake.CDNCertPEM(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv("SSL_CERT_FILE", ca)
		return m.Run()
	}())
}

func TestFrontServers(t *testing.T) {
	for _, front := range []string{"nginx", "caddy"} {
		for _, mode := range []string{streamer.ModeRedirect, streamer.ModeProxy, streamer.ModeAccel} {
			t.Run(front+"/"+mode, func(t *testing.T) {
				addr := startAlilink(t, mode)
				var base string
				if front == "nginx" {
					base = startNginx(t, addr)
				} else {
					base = startCaddy(t, addr)
				}
				paths := []string{freePath}
				if mode != streamer.ModeRedirect {
					paths = append(paths, boundPath)
				}
				before := len(fake.Requests())
				for _, p := range paths {
					checkFile(t, base, p)
				}
				if mode == streamer.ModeRedirect {
					return // the player itself talks to the CDN
				}
				for _, r := range fake.Requests()[before:] {
					if r.Endpoint != "cdn" {
						continue
					}
					for _, h := range []string{"Authorization", "Cookie", "X-Forwarded-For"} {
						if r.Header.Get(h) != "" {
							t.Fatalf("the client's %s reached the CDN through %s in %s mode", h, front, mode)
						}
					}
				}
			})
		}
	}
}

// checkFile fetches p through the front server whole and by Range (following
// a redirect as a player does) and compares the bytes.
func checkFile(t *testing.T, base, p string) {
	t.Helper()
	src := alifake.SyntheticReader(p, fileSize)
	url := base + resolver.EscapePath(p)
	f := func(rng string, wantStatus int, off, n int64) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		req.Header.Set("Authorization", "Bearer must-not-reach-the-cdn")
		req.Header.Set("Cookie", "session=must-not-reach-the-cdn")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", p, rng, err)
		}
		defer resp.Body.Close()
		got := sha256.New()
		if resp.StatusCode >= 400 {
			b, _ := io.ReadAll(resp.Body)
			for _, r := range fake.Requests() {
				if r.Endpoint == "cdn" && r.Status == 403 {
					t.Logf("CDN refused %s?%s", r.Path, r.RawQuery)
				}
			}
			t.Fatalf("%s %q: %d %s", p, rng, resp.StatusCode, b)
		}
		m, err := io.Copy(got, resp.Body)
		if err != nil {
			t.Fatalf("%s %s: body broke after %d bytes: %v", p, rng, m, err)
		}
		want := sha256.New()
		_, _ = io.Copy(want, io.NewSectionReader(src, off, n))
		if resp.StatusCode != wantStatus || m != n || string(got.Sum(nil)) != string(want.Sum(nil)) {
			t.Fatalf("%s %q: got %d with %d bytes (match %v); want %d with %d", p, rng, resp.StatusCode, m,
				string(got.Sum(nil)) == string(want.Sum(nil)), wantStatus, n)
		}
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-alilink") || strings.EqualFold(k, "X-Accel-Redirect") {
				t.Fatalf("%s: an internal header reached the client: %s", p, k)
			}
		}
	}
	f("", http.StatusOK, 0, fileSize)
	f("bytes=1000000-1999999", http.StatusPartialContent, 1_000_000, 1_000_000)
	f("bytes=-4096", http.StatusPartialContent, fileSize-4096, 4096)
}

func startAlilink(t *testing.T, mode string) string {
	t.Helper()
	c, err := aliclient.New(aliclienttest.Config(t, fake), aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolver.New(resolver.DefaultConfig(), c, resolver.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.Mode = mode
	srv, err := streamer.New(cfg, res, streamer.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return streamertest.ServeTCP(t, srv)
}

// example reads a shipped example and substitutes addresses, failing if a
// substitution found nothing (the example changed under the test).
func example(t *testing.T, path string, subst ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(subst); i += 2 {
		if !strings.Contains(s, subst[i]) {
			t.Fatalf("%s no longer contains %q", path, subst[i])
		}
		s = strings.ReplaceAll(s, subst[i], subst[i+1])
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startNginx(t *testing.T, alilinkAddr string) string {
	t.Helper()
	bin := streamertest.NeedTool(t, "nginx")
	dir := t.TempDir()
	port := freePort(t)
	site := example(t, "nginx/alilink.conf", "127.0.0.1:8080", alilinkAddr, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port))
	if err := os.WriteFile(filepath.Join(dir, "alilink.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  include %[1]s/alilink.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "nginx", exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")),
		port, filepath.Join(dir, "error.log"))
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

func startCaddy(t *testing.T, alilinkAddr string) string {
	t.Helper()
	bin := streamertest.NeedTool(t, "caddy")
	dir := t.TempDir()
	port, admin := freePort(t), freePort(t)
	site := example(t, "caddy/Caddyfile", "127.0.0.1:8080", alilinkAddr,
		"http://:80 {", fmt.Sprintf("http://:%d {\n\tbind 127.0.0.1", port))
	// A test-only global block: the admin endpoint on a free port.
	site = fmt.Sprintf("{\n\tadmin 127.0.0.1:%d\n}\n\n", admin) + site
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	start(t, "caddy", cmd, port, "")
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// start runs a front server until the test ends and waits for its port.
func start(t *testing.T, name string, cmd *exec.Cmd, port int, logFile string) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once the process is gone
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
			if logFile != "" {
				b, _ := os.ReadFile(logFile)
				t.Logf("%s error log:\n%s", name, b)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start: %v\n%s", name, waitErr, out.String())
		case <-ctx.Done():
			t.Fatalf("%s did not listen within 15 s\n%s", name, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
