package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer/sign"
)

// TestMain lets a test run this binary as alilink itself (for the SIGTERM
// test): with ALILINK_TEST_MAIN=1 it is main().
func TestMain(m *testing.M) {
	if os.Getenv("ALILINK_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// serveInProcess runs `alilink serve` wired as in production against the
// fake, with its log in logs, and returns its base URL.
func serveInProcess(t *testing.T, logs io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		a, err := openApp(logs)
		if err != nil {
			done <- err
			return
		}
		done <- serve(ctx, a, func(s string) { addr <- s })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("serve did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// metricValue reads one sample of the Prometheus text format.
func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestMetricsMove: /-/metrics shows every family of issue #6 moving as
// requests flow.
func TestMetricsMove(t *testing.T) {
	fake := fakeEnv(t)
	t.Setenv("ALILINK_LISTEN", "127.0.0.1:0")
	t.Setenv("ALILINK_LOG_LEVEL", "error")
	t.Setenv("ALILINK_LINK_MARGIN", "10s")
	fake.AddFile("/Movies/a.mkv", []byte("aaaa"))
	fake.AddFile("/Movies/c.mkv", []byte("c"))
	fake.SetRefererBound(fake.AddFile("/Movies/bound.mkv", make([]byte, 1<<20)), true)
	base := serveInProcess(t, io.Discard)
	scrape := func() string { _, b := get(t, base+"/-/metrics"); return b }

	before := scrape()
	if r, _ := get(t, base+"/Movies/a.mkv"); r.StatusCode != http.StatusFound {
		t.Fatalf("unexpected status %d", r.StatusCode)
	}
	get(t, base+"/Movies/a.mkv")
	fake.CutCDNAfter(100_000, 1) // the proxied body resumes once
	if r, b := get(t, base+"/Movies/bound.mkv"); r.StatusCode != http.StatusOK || len(b) != 1<<20 {
		t.Fatalf("unexpected proxied answer %d, %d bytes", r.StatusCode, len(b))
	}
	get(t, base+"/Movies?format=json")
	get(t, base+"/Movies/missing.mkv")
	after := scrape()

	moved := func(name string, atLeast float64) {
		t.Helper()
		if d := metricValue(t, after, name) - metricValue(t, before, name); d < atLeast {
			t.Fatalf("%s moved by %v; want at least %v\n%s", name, d, atLeast, after)
		}
	}
	moved(`alilink_requests_total{action="redirect",status="302"}`, 2)
	moved(`alilink_requests_total{action="proxy",status="200"}`, 1)
	moved(`alilink_requests_total{action="listing",status="200"}`, 1)
	moved(`alilink_requests_total{action="error",status="404"}`, 1)
	moved(`alilink_cache_lookups_total{cache="link",result="hit"}`, 1)
	moved(`alilink_cache_lookups_total{cache="link",result="miss"}`, 2)
	moved(`alilink_cache_lookups_total{cache="path",result="hit"}`, 1)
	moved(`alilink_drive_calls_total{endpoint="get_download_url",result="ok"}`, 2)
	moved(`alilink_bytes_streamed_total`, 1<<20)
	moved(`alilink_stream_resumes_total`, 1)
	moved(`alilink_resolve_duration_seconds_count{kind="link",result="ok"}`, 2)
	if v := metricValue(t, after, `alilink_token_refreshes_total{result="ok"}`); v != 1 {
		t.Fatalf("unexpected token refreshes %v", v)
	}
	if v := metricValue(t, after, `alilink_token_age_seconds`); v <= 0 || v > 60 {
		t.Fatalf("unexpected token age %v", v)
	}
	if !strings.Contains(after, "alilink_active_streams 0") || !strings.Contains(after, "process_resident_memory_bytes") {
		t.Fatalf("missing gauges in\n%s", after)
	}
	// A 429 the client waited out.
	fake.FailNext("get_download_url", 1, alifake.Fault{Status: 429, RetryAfter: time.Second})
	if r, _ := get(t, base+"/Movies/c.mkv"); r.StatusCode != http.StatusFound {
		t.Fatalf("unexpected status after a 429: %d", r.StatusCode)
	}
	last := scrape()
	if metricValue(t, last, `alilink_drive_429_total{endpoint="get_download_url"}`) != 1 ||
		metricValue(t, last, `alilink_rate_waits_total{endpoint="get_download_url",reason="429"}`) != 1 {
		t.Fatalf("the 429 and its wait were not counted:\n%s", last)
	}
}

// TestAccessLog: one JSON line per request with method, path, status, action,
// bytes and duration; never a sign, a token or a secret.
func TestAccessLog(t *testing.T) {
	fake := fakeEnv(t)
	const secret, admin = "log-test-sign-secret", "log-test-admin-token-123"
	t.Setenv("ALILINK_LISTEN", "127.0.0.1:0")
	t.Setenv("ALILINK_LOG_FORMAT", "json")
	t.Setenv("ALILINK_LOG_LEVEL", "info")
	t.Setenv("ALILINK_SIGN_SECRET", secret)
	t.Setenv("ALILINK_ADMIN_TOKEN", admin)
	fake.AddFile("/a b.mkv", []byte("abc"))
	fake.SetRefererBound(fake.AddFile("/bound.mkv", []byte("bound")), true)
	var logs syncBuffer
	base := serveInProcess(t, &logs)
	s := sign.New(secret)
	sig := s.Sign("/a b.mkv", time.Time{})
	get(t, base+"/a%20b.mkv?sign="+sig, "Authorization", "Bearer client-secret-xyz", "Cookie", "c=client-cookie-xyz")
	get(t, base+"/bound.mkv?sign="+s.Sign("/bound.mkv", time.Time{}))
	get(t, base+"/a%20b.mkv?sign=forged:0")
	get(t, base+"/-/api/link?path=/a%20b.mkv", "Authorization", "Bearer "+admin)
	// The proxied body logs when it ends, and the access log writes its
	// lines in batches at least once a second.
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		lines = lines[:0]
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "request" {
				lines = append(lines, m)
			}
		}
		if len(lines) >= 4 || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != 4 {
		t.Fatalf("unexpected access lines: %d; want 4\n%s", len(lines), logs.String())
	}
	want := []struct {
		path   string
		status float64
		action string
		bytes  float64
	}{{"/a b.mkv", 302, "redirect", 0}, {"/bound.mkv", 200, "proxy", 5}, {"/a b.mkv", 403, "error", 13}, {"/-/api/link", 200, "internal", -1}}
	for i, w := range want {
		l := lines[i]
		if l["method"] != "GET" || l["path"] != w.path || l["status"] != w.status || l["action"] != w.action || l["duration"] == nil {
			t.Fatalf("line %d: unexpected %v; want %+v", i, l, w)
		}
		if w.bytes >= 0 && l["bytes"] != w.bytes {
			t.Fatalf("line %d: unexpected bytes %v; want %v", i, l["bytes"], w.bytes)
		}
	}
	all := logs.String()
	for _, bad := range append([]string{secret, admin, sig, "forged", "client-secret-xyz", "client-cookie-xyz"}, fake.Secrets()...) {
		if strings.Contains(all, bad) {
			t.Fatalf("the log holds a secret (%q…)", bad[:min(len(bad), 6)])
		}
	}
}

// TestSIGTERMDrainsStreams: SIGTERM during a 3-second proxied stream: the
// readiness fails at once, the stream finishes byte-exact, the process exits 0.
func TestSIGTERMDrainsStreams(t *testing.T) {
	fake := fakeEnv(t)
	const size = 3 << 20
	fake.AddSynthetic("/film.mkv", size)
	fake.SetCDNThrottle(size / 3)
	port := freeTCPPort(t)
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "ALILINK_TEST_MAIN=1", "ALILINK_MODE=proxy", "ALILINK_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"ALILINK_DRAIN_DELAY=500ms", "ALILINK_SHUTDOWN_TIMEOUT=20s", "ALILINK_LOG_LEVEL=info")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alilink did not start:\n%s", out.String())
		}
	}

	resp, err := http.Get(base + "/film.mkv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	started := time.Now()
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if r, err := http.Get(base + "/-/readyz"); err != nil || r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readiness did not fail at once on SIGTERM: %v %v", r, err)
	}
	got := make([]byte, size)
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		t.Fatalf("the stream broke during the drain after %v: %v\n%s", time.Since(started), err, out.String())
	}
	want := make([]byte, size)
	_, _ = alifake.SyntheticReader("/film.mkv", size).ReadAt(want, 0)
	if string(got) != string(want) {
		t.Fatalf("the drained stream is not byte-exact")
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("alilink exited with %v after SIGTERM\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("alilink did not exit after the stream ended\n%s", out.String())
	}
	if elapsed := time.Since(started); elapsed < 2*time.Second {
		t.Fatalf("the stream ended in %v: it was not a 3-second stream", elapsed)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
