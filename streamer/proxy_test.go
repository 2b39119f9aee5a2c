package streamer_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
)

// proxyEnv is alilink in proxy mode.
func proxyEnv(t *testing.T, opts alifake.Options, cfg streamer.Config) *testEnv {
	t.Helper()
	return proxyEnvFor(t, "drive", opts, cfg)
}

func proxyEnvFor(t *testing.T, driver string, opts alifake.Options, cfg streamer.Config) *testEnv {
	t.Helper()
	if cfg.Mode == "" {
		cfg.Mode = streamer.ModeProxy
	}
	return newEnvFor(t, driver, opts, cfg)
}

func testContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i*7%26)
	}
	return b
}

// TestProxyRangeConformance checks every Range case against what net/http's
// ServeContent answers for the same bytes and validators (the reference the
// issue names), except the documented differences.
func TestProxyRangeConformance(t *testing.T) { forDrivers(t, proxyRangeConformance) }

func proxyRangeConformance(t *testing.T, driver string) {
	env := proxyEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	content := testContent(1000)
	id := env.fake.AddFile("/f.bin", content)
	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	env.fake.SetUpdatedAt("/f.bin", mod)
	_ = id
	sum := env.do(t, http.MethodHead, "/f.bin").header.Get("ETag")
	if sum == "" {
		t.Fatalf("no ETag on HEAD")
	}
	cases := []struct {
		rng, ifRange string
		// multi: net/http answers multipart; alilink answers the whole body.
		multi bool
	}{
		{rng: ""},
		{rng: "bytes=0-0"},
		{rng: "bytes=0-9"},
		{rng: "bytes=10-19"},
		{rng: "bytes=990-"},
		{rng: "bytes=990-5000"},
		{rng: "bytes=-1"},
		{rng: "bytes=-10"},
		{rng: "bytes=-1000"},
		{rng: "bytes=-5000"},
		{rng: "bytes=0-"},
		{rng: "bytes=999-999"},
		{rng: "bytes=1000-"},
		{rng: "bytes=1000-1001"},
		{rng: "bytes=5-4"},
		{rng: "bytes=abc"},
		{rng: "bytes=1-x"},
		{rng: "bits=0-1"},
		{rng: "bytes="},
		{rng: "bytes= 3 - 7 "},
		{rng: "bytes=0-1,2-3", multi: true},
		{rng: "bytes=0-1,1000-2000"},
		{rng: "bytes=1000-2000,0-1"},
		{rng: "bytes=0-999,0-999"},
		{rng: "bytes=10-19", ifRange: sum},
		{rng: "bytes=10-19", ifRange: `"other"`},
		{rng: "bytes=10-19", ifRange: "W/" + sum},
		{rng: "bytes=10-19", ifRange: mod.Format(http.TimeFormat)},
		{rng: "bytes=10-19", ifRange: mod.Add(time.Second).Format(http.TimeFormat)},
	}
	for _, c := range cases {
		t.Run(c.rng+"|"+c.ifRange, func(t *testing.T) {
			got := env.do(t, http.MethodGet, "/f.bin", "Range", c.rng, "If-Range", c.ifRange)

			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/f.bin", nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			if c.ifRange != "" {
				req.Header.Set("If-Range", c.ifRange)
			}
			rec.Header().Set("ETag", sum)
			http.ServeContent(rec, req, "f.bin", mod, bytes.NewReader(content))
			want := rec.Result()
			wantBody, _ := io.ReadAll(want.Body)

			if c.multi {
				if got.status != http.StatusOK || got.body != string(content) {
					t.Fatalf("unexpected answer to a multi-range; got %d (%d bytes); want 200 whole", got.status, len(got.body))
				}
				return
			}
			if got.status != want.StatusCode {
				t.Fatalf("unexpected status; got %d; want %d (net/http)", got.status, want.StatusCode)
			}
			if got.status == http.StatusRequestedRangeNotSatisfiable {
				if cr := got.header.Get("Content-Range"); cr != "bytes */1000" {
					t.Fatalf("unexpected Content-Range on 416; got %q", cr)
				}
				return
			}
			if got.header.Get("Content-Range") != want.Header.Get("Content-Range") {
				t.Fatalf("unexpected Content-Range; got %q; want %q", got.header.Get("Content-Range"), want.Header.Get("Content-Range"))
			}
			if got.body != string(wantBody) || got.header.Get("Content-Length") != want.Header.Get("Content-Length") {
				t.Fatalf("unexpected body; got %d bytes (Content-Length %s); want %d", len(got.body), got.header.Get("Content-Length"), len(wantBody))
			}
			if got.header.Get("Accept-Ranges") != "bytes" {
				t.Fatalf("no Accept-Ranges")
			}
		})
	}
}

// TestProxyRangeDeviations are the documented differences from net/http.
func TestProxyRangeDeviations(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/f.bin", testContent(100))
	env.fake.AddFile("/empty.bin", nil)
	f := func(path, rng string, want int, wantCR string) {
		t.Helper()
		r := env.do(t, http.MethodGet, path, "Range", rng)
		if r.status != want || r.header.Get("Content-Range") != wantCR {
			t.Fatalf("%s %s: got %d %q; want %d %q", path, rng, r.status, r.header.Get("Content-Range"), want, wantCR)
		}
	}
	f("/f.bin", "bytes=-0", http.StatusRequestedRangeNotSatisfiable, "bytes */100")
	f("/empty.bin", "bytes=-5", http.StatusRequestedRangeNotSatisfiable, "bytes */0")
	f("/empty.bin", "", http.StatusOK, "")
}

func TestProxyHeadAndHeaders(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	name := "/电影/A \"quoted\" film #1.mkv"
	env.fake.AddFile(name, testContent(500))
	mod := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	env.fake.SetUpdatedAt(name, mod)
	path := "/%E7%94%B5%E5%BD%B1/A%20%22quoted%22%20film%20%231.mkv"
	env.do(t, http.MethodGet, "/") // warm
	cdn, links := env.fake.Calls("cdn"), env.fake.Calls("get_download_url")

	head := env.do(t, http.MethodHead, path)
	want := map[string]string{
		"Content-Length": "500",
		"Accept-Ranges":  "bytes",
		"Content-Type":   "video/x-matroska",
		"Last-Modified":  mod.Format(http.TimeFormat),
	}
	if head.status != http.StatusOK || head.body != "" {
		t.Fatalf("unexpected HEAD; got %d with %d body bytes", head.status, len(head.body))
	}
	for k, v := range want {
		if got := head.header.Get(k); got != v {
			t.Fatalf("unexpected %s; got %q; want %q", k, got, v)
		}
	}
	if cd := head.header.Get("Content-Disposition"); cd != `inline; filename="A _quoted_ film #1.mkv"; filename*=UTF-8''A%20%22quoted%22%20film%20#1.mkv` {
		t.Fatalf("unexpected Content-Disposition %q", cd)
	}
	etag := head.header.Get("ETag")
	if len(etag) != 42 || etag[0] != '"' {
		t.Fatalf("unexpected ETag %q; want the quoted SHA-1", etag)
	}
	if env.fake.Calls("cdn") != cdn || env.fake.Calls("get_download_url") != links {
		t.Fatalf("HEAD touched the CDN or asked for a link")
	}
	if r := env.do(t, http.MethodHead, path, "Range", "bytes=10-19"); r.status != http.StatusPartialContent ||
		r.header.Get("Content-Length") != "10" || r.header.Get("Content-Range") != "bytes 10-19/500" {
		t.Fatalf("unexpected ranged HEAD %d %v", r.status, r.header)
	}

	get := env.do(t, http.MethodGet, path)
	if get.status != http.StatusOK || get.body != string(testContent(500)) || get.header.Get("ETag") != etag {
		t.Fatalf("unexpected GET %d (%d bytes, ETag %q)", get.status, len(get.body), get.header.Get("ETag"))
	}
	for k := range get.header {
		if strings.HasPrefix(strings.ToLower(k), "x-oss") || k == "Set-Cookie" {
			t.Fatalf("a CDN header leaked to the client: %s", k)
		}
	}
	// Conditional requests.
	f := func(want int, hdr ...string) {
		t.Helper()
		if r := env.do(t, http.MethodGet, path, hdr...); r.status != want {
			t.Fatalf("%v: unexpected status %d; want %d", hdr, r.status, want)
		}
	}
	f(http.StatusNotModified, "If-None-Match", etag)
	f(http.StatusNotModified, "If-None-Match", `"x", `+etag)
	f(http.StatusOK, "If-None-Match", `"x"`)
	f(http.StatusNotModified, "If-Modified-Since", mod.Format(http.TimeFormat))
	f(http.StatusOK, "If-Modified-Since", mod.Add(-time.Second).Format(http.TimeFormat))
	f(http.StatusPreconditionFailed, "If-Match", `"x"`)
	f(http.StatusOK, "If-Match", etag)
	f(http.StatusPreconditionFailed, "If-Unmodified-Since", mod.Add(-time.Hour).Format(http.TimeFormat))
}

// TestProxyRequestHygiene: only Range, the required Referer and a fixed
// User-Agent reach the CDN; the client's credentials and hop-by-hop headers never do.
func TestProxyRequestHygiene(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	bound := env.fake.AddFile("/bound.mkv", testContent(100))
	env.fake.SetRefererBound(bound, true)
	env.fake.AddFile("/free.mkv", testContent(100))
	client := []string{"Authorization", "Bearer secret", "Cookie", "session=secret", "Referer", "https://evil.example/",
		"Connection", "X-Hop", "X-Hop", "1", "Proxy-Authorization", "Basic c2VjcmV0", "User-Agent", "MyPlayer/1.0",
		"X-Forwarded-For", "10.0.0.1", "TE", "trailers"}
	for _, p := range []string{"/bound.mkv", "/free.mkv"} {
		if r := env.do(t, http.MethodGet, p, client...); r.status != http.StatusOK || r.body != string(testContent(100)) {
			t.Fatalf("%s: unexpected answer %d %q", p, r.status, r.body)
		}
	}
	var seen int
	for _, req := range env.fake.Requests() {
		if req.Endpoint != "cdn" {
			continue
		}
		seen++
		for _, h := range []string{"Authorization", "Cookie", "X-Hop", "Proxy-Authorization", "X-Forwarded-For", "Te"} {
			if req.Header.Get(h) != "" {
				t.Fatalf("the client's %s reached the CDN", h)
			}
		}
		if ua := req.Header.Get("User-Agent"); strings.Contains(ua, "MyPlayer") || ua == "" {
			t.Fatalf("unexpected User-Agent at the CDN %q", ua)
		}
		wantReferer := ""
		if strings.Contains(req.RawQuery, "x-oss-additional-headers=referer") {
			wantReferer = "https://www.alipan.com/"
		}
		if got := req.Header.Get("Referer"); got != wantReferer {
			t.Fatalf("unexpected Referer at the CDN; got %q; want %q", got, wantReferer)
		}
		if req.Header.Get("Range") == "" {
			t.Fatalf("no Range sent to the CDN")
		}
	}
	if seen != 2 {
		t.Fatalf("unexpected CDN requests; got %d; want 2", seen)
	}
}

func TestAutoModeChoosesPerLink(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAuto})
	bound := env.fake.AddFile("/bound.mkv", testContent(300))
	env.fake.SetRefererBound(bound, true)
	env.fake.AddFile("/free.mkv", testContent(300))
	if r := env.do(t, http.MethodGet, "/free.mkv"); r.status != http.StatusFound {
		t.Fatalf("auto mode did not redirect a free link; got %d", r.status)
	}
	r := env.do(t, http.MethodGet, "/bound.mkv", "Range", "bytes=100-199")
	if r.status != http.StatusPartialContent || r.body != string(testContent(300)[100:200]) {
		t.Fatalf("auto mode did not proxy a Referer-bound link; got %d %q", r.status, r.body)
	}
	if !strings.Contains(env.logs.String(), "auto: proxying a Referer-bound link") {
		t.Fatalf("the choice was not logged at debug level")
	}
}

// sha256Of hashes a synthetic file without holding it.
func sha256Of(t *testing.T, path string, size int64) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(alifake.SyntheticReader(path, size), 0, size)); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// getStreamed downloads through alilink, hashing the body.
func (e *testEnv) getStreamed(t *testing.T, path string, hdr ...string) (int, int64, [32]byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://alilink"+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatalf("body broke after %d bytes: %v", n, err)
	}
	return resp.StatusCode, n, [32]byte(h.Sum(nil))
}

// TestResumeWhenLinksExpire: a 64 MiB download whose link expires twice
// while it streams arrives byte-exact.
func TestResumeWhenLinksExpire(t *testing.T) { forDrivers(t, resumeWhenLinksExpire) }

func resumeWhenLinksExpire(t *testing.T, driver string) {
	const size = 64 << 20
	env := proxyEnvFor(t, driver, alifake.Options{LinkTTL: 2 * time.Second}, streamer.Config{})
	env.fake.AddSynthetic("/big.mkv", size)
	env.fake.SetCDNCutOnExpiry(true)
	env.fake.SetCDNThrottle(size / 5) // about 5 s: longer than two link lifetimes
	status, n, sum := env.getStreamed(t, "/big.mkv")
	if status != http.StatusOK || n != size || sum != sha256Of(t, "/big.mkv", size) {
		t.Fatalf("unexpected download: %d, %d bytes, hash match %v", status, n, sum == sha256Of(t, "/big.mkv", size))
	}
	if links := env.fake.Calls(env.ep().Link); links < 3 {
		t.Fatalf("the link did not expire twice during the transfer; %d link calls", links)
	}
	if !strings.Contains(env.logs.String(), "CDN stream broke; resuming") {
		t.Fatalf("no resume was logged")
	}
}

// TestResumeWhenConnectionCut: the CDN drops the connection after 5 MiB, twice.
func TestResumeWhenConnectionCut(t *testing.T) { forDrivers(t, resumeWhenConnectionCut) }

func resumeWhenConnectionCut(t *testing.T, driver string) {
	const size = 64 << 20
	env := proxyEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	env.fake.AddSynthetic("/big.mkv", size)
	env.fake.CutCDNAfter(5<<20, 2)
	status, n, sum := env.getStreamed(t, "/big.mkv")
	if status != http.StatusOK || n != size || sum != sha256Of(t, "/big.mkv", size) {
		t.Fatalf("unexpected download after cuts: %d, %d bytes", status, n)
	}
	// A ranged request resumes at the right place too.
	env.fake.CutCDNAfter(1<<20, 1)
	status, n, sum = env.getStreamed(t, "/big.mkv", "Range", "bytes=1000000-9999999")
	want := sha256.New()
	_, _ = io.Copy(want, io.NewSectionReader(alifake.SyntheticReader("/big.mkv", size), 1000000, 9000000))
	if status != http.StatusPartialContent || n != 9000000 || sum != [32]byte(want.Sum(nil)) {
		t.Fatalf("unexpected ranged download after a cut: %d, %d bytes", status, n)
	}
	if links := env.fake.Calls(env.ep().Link); links != 1 {
		t.Fatalf("a cut connection asked for a new link although the old one was valid; %d link calls", links)
	}
}

// TestResumeGivesUp: a CDN that keeps failing gets a 502 before the first byte,
// and after it an aborted response (the client sees a short body, never a
// spliced or padded one), within the attempt bound.
func TestResumeGivesUp(t *testing.T) {
	t.Run("before the first byte", func(t *testing.T) {
		env := proxyEnv(t, alifake.Options{}, streamer.Config{ResumeAttempts: 2})
		env.fake.AddFile("/a.mkv", testContent(100))
		env.fake.FailNext("cdn", 100, alifake.Fault{Status: 500})
		if r := env.do(t, http.MethodGet, "/a.mkv"); r.status != http.StatusBadGateway {
			t.Fatalf("unexpected status with a failing CDN; got %d; want 502", r.status)
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		env := proxyEnv(t, alifake.Options{LinkTTL: 2 * time.Second}, streamer.Config{ResumeAttempts: 2})
		env.fake.AddSynthetic("/a.mkv", 8<<20)
		env.fake.SetCDNThrottle(1 << 20)
		env.fake.SetCDNCutOnExpiry(true)
		resp, err := env.client.Get("http://alilink/a.mkv")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("unexpected status %d", resp.StatusCode)
		}
		env.fake.Remove("/a.mkv") // the next link and the old object are gone
		n, err := io.Copy(io.Discard, resp.Body)
		if err == nil || n >= 8<<20 {
			t.Fatalf("unexpected end of an unrecoverable stream; got %d bytes, err %v; want a short body and an error", n, err)
		}
		if logs := env.logs.String(); !strings.Contains(logs, "proxied stream aborted") || strings.Contains(logs, "%!") {
			t.Fatalf("the abort was not logged, or badly: %s", logs)
		}
	})
}

func TestChangedFileIsNotSpliced(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/f.bin", testContent(1000))
	env.do(t, http.MethodHead, "/f.bin") // the path is cached with size 1000
	env.fake.AddFile("/f.bin", testContent(2000))
	r := env.do(t, http.MethodGet, "/f.bin")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "changed") {
		t.Fatalf("unexpected answer for a file that changed under the cache; got %d %q", r.status, r.body)
	}
}

// TestDisconnectClosesUpstream: a client that goes away mid-stream leaves no
// CDN connection, no CDN stream and no stream slot behind within 2 s.
func TestDisconnectClosesUpstream(t *testing.T) { forDrivers(t, disconnectClosesUpstream) }

func disconnectClosesUpstream(t *testing.T, driver string) {
	env := proxyEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	env.fake.AddSynthetic("/big.mkv", 32<<20)
	env.fake.SetCDNThrottle(2 << 20)
	resp, err := env.client.Get("http://alilink/big.mkv")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unexpected status %d", resp.StatusCode)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	if env.fake.ActiveCDNStreams() != 1 || env.srv.ActiveStreams() != 1 {
		t.Fatalf("unexpected streams mid-download: CDN %d, alilink %d", env.fake.ActiveCDNStreams(), env.srv.ActiveStreams())
	}
	resp.Body.Close()
	env.client.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for env.fake.OpenCDNConns() > 0 || env.fake.ActiveCDNStreams() > 0 || env.srv.ActiveStreams() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("2 s after the client left: %d CDN connections, %d CDN streams, %d alilink streams",
				env.fake.OpenCDNConns(), env.fake.ActiveCDNStreams(), env.srv.ActiveStreams())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStreamCap(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{MaxStreams: 1})
	env.fake.AddSynthetic("/a.mkv", 32<<20)
	env.fake.SetCDNThrottle(4 << 20)
	resp, err := env.client.Get("http://alilink/a.mkv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil {
		t.Fatal(err)
	}
	r := env.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("unexpected answer over the stream cap; got %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	for _, k := range []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Disposition", "Content-Range"} {
		if v := r.header.Get(k); v != "" {
			t.Errorf("the 503 carries the file's %s: %q", k, v)
		}
	}
	if ct, cl := r.header.Get("Content-Type"), r.header.Get("Content-Length"); !strings.HasPrefix(ct, "text/plain") || cl == strconv.Itoa(32<<20) {
		t.Errorf("the 503 describes the file: Content-Type %q, Content-Length %s", ct, cl)
	}
	if h := env.do(t, http.MethodHead, "/a.mkv"); h.status != http.StatusOK {
		t.Fatalf("HEAD needs no stream slot; got %d", h.status)
	}
	resp.Body.Close()
	env.client.CloseIdleConnections()
	for deadline := time.Now().Add(2 * time.Second); env.srv.ActiveStreams() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not freed")
		}
	}
	if r := env.do(t, http.MethodGet, "/a.mkv", "Range", "bytes=0-99"); r.status != http.StatusPartialContent {
		t.Fatalf("unexpected answer once the slot is free; got %d", r.status)
	}
}

func TestCDNBusyGives503(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a.mkv", testContent(100))
	env.fake.FailNext("cdn", 1, alifake.Fault{Status: 503, RetryAfter: 3 * time.Second, RetryAfterHeader: "Retry-After"})
	r := env.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "3" {
		t.Fatalf("unexpected answer to a busy CDN; got %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// A long wait is clamped to a few seconds: a player told to wait ten
	// minutes gives up.
	env.fake.FailNext("cdn", 1, alifake.Fault{Status: 429, RetryAfter: 600 * time.Second, RetryAfterHeader: "Retry-After"})
	r = env.do(t, http.MethodGet, "/a.mkv")
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); r.status != http.StatusServiceUnavailable || err != nil || n < 1 || n > 5 {
		t.Fatalf("a CDN Retry-After of 600 s became %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
}

func TestManyConcurrentRanges(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	const size = 4 << 20
	env.fake.AddSynthetic("/f.mkv", size)
	src := alifake.SyntheticReader("/f.mkv", size)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			start := int64(i) * 200_000
			want := make([]byte, 100_000)
			_, _ = src.ReadAt(want, start)
			r := env.do(t, http.MethodGet, "/f.mkv", "Range", fmt.Sprintf("bytes=%d-%d", start, start+99_999))
			if r.status != http.StatusPartialContent || r.body != string(want) {
				t.Errorf("range %d: unexpected answer %d (%d bytes)", i, r.status, len(r.body))
			}
		})
	}
	wg.Wait()
	if links := env.fake.Calls("get_download_url"); links != 1 {
		t.Fatalf("unexpected link calls for 16 ranges of one file; got %d; want 1", links)
	}
}
