package alifake

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cdnFixture is a logged-in session with a link to a synthetic file.
type cdnFixture struct {
	f     *Fake
	s     *testSession
	clock *testClock
	path  string
	size  int64
	link  string
	etag  string
}

func newCDNFixture(t *testing.T, size int64) *cdnFixture {
	t.Helper()
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	const path = "/Movies/big file.mkv"
	id := f.AddSynthetic(path, size)
	s := login(t, f)
	h := sha1.New()
	_, _ = io.Copy(h, io.NewSectionReader(SyntheticReader(path, size), 0, size))
	return &cdnFixture{
		f: f, s: s, clock: clock, path: path, size: size,
		link: s.link(t, id, 900),
		etag: `"` + strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + `"`,
	}
}

func TestRange(t *testing.T) {
	const size = 100_003 // not a multiple of 8, to cross word boundaries
	fx := newCDNFixture(t, size)
	lastMod := fx.clock.Now().UTC().Format(http.TimeFormat)
	full := strconv.Itoa(size)
	tests := []struct {
		name        string
		method      string
		header      map[string]string
		status      int
		start, n    int64  // expected body window for 200/206
		contentRang string // expected Content-Range, "" for none
	}{
		{"no range", "GET", nil, 200, 0, size, ""},
		{"first byte", "GET", map[string]string{"Range": "bytes=0-0"}, 206, 0, 1, "bytes 0-0/" + full},
		{"middle", "GET", map[string]string{"Range": "bytes=13-29"}, 206, 13, 17, "bytes 13-29/" + full},
		{"open end", "GET", map[string]string{"Range": "bytes=99990-"}, 206, 99990, 13, "bytes 99990-100002/" + full},
		{"suffix", "GET", map[string]string{"Range": "bytes=-10"}, 206, size - 10, 10, "bytes 99993-100002/" + full},
		{"suffix longer than the file", "GET", map[string]string{"Range": "bytes=-200000"}, 206, 0, size, "bytes 0-100002/" + full},
		{"end clamped", "GET", map[string]string{"Range": "bytes=5-999999"}, 206, 5, size - 5, "bytes 5-100002/" + full},
		{"last byte", "GET", map[string]string{"Range": "bytes=100002-100002"}, 206, size - 1, 1, "bytes 100002-100002/" + full},
		{"start at size", "GET", map[string]string{"Range": "bytes=100003-"}, 416, 0, 0, "bytes */" + full},
		{"start past size", "GET", map[string]string{"Range": "bytes=200000-200005"}, 416, 0, 0, "bytes */" + full},
		{"suffix of zero", "GET", map[string]string{"Range": "bytes=-0"}, 416, 0, 0, "bytes */" + full},
		{"multi-range is ignored", "GET", map[string]string{"Range": "bytes=0-1,5-6"}, 200, 0, size, ""},
		{"garbage is ignored", "GET", map[string]string{"Range": "bytes=abc"}, 200, 0, size, ""},
		{"reversed is ignored", "GET", map[string]string{"Range": "bytes=5-3"}, 200, 0, size, ""},
		{"other unit is ignored", "GET", map[string]string{"Range": "items=0-5"}, 200, 0, size, ""},
		{"sign is ignored", "GET", map[string]string{"Range": "bytes=+1-2"}, 200, 0, size, ""},
		{"If-Range matching ETag", "GET", map[string]string{"Range": "bytes=1-2", "If-Range": fx.etag}, 206, 1, 2, "bytes 1-2/" + full},
		{"If-Range other ETag", "GET", map[string]string{"Range": "bytes=1-2", "If-Range": `"0000"`}, 200, 0, size, ""},
		{"If-Range weak ETag", "GET", map[string]string{"Range": "bytes=1-2", "If-Range": "W/" + fx.etag}, 200, 0, size, ""},
		{"If-Range matching date", "GET", map[string]string{"Range": "bytes=1-2", "If-Range": lastMod}, 206, 1, 2, "bytes 1-2/" + full},
		{"If-Range older date", "GET", map[string]string{"Range": "bytes=1-2", "If-Range": "Mon, 02 Jan 2006 15:04:05 GMT"}, 200, 0, size, ""},
		{"HEAD", "HEAD", nil, 200, 0, size, ""},
		{"HEAD with range", "HEAD", map[string]string{"Range": "bytes=10-19"}, 206, 10, 10, "bytes 10-19/" + full},
		{"HEAD unsatisfiable", "HEAD", map[string]string{"Range": "bytes=100003-"}, 416, 0, 0, "bytes */" + full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			got := do(t, fx.s.c, tc.method, fx.link, h, nil)
			if got.status != tc.status {
				t.Fatalf("unexpected status; got %d; want %d", got.status, tc.status)
			}
			if cr := got.header.Get("Content-Range"); cr != tc.contentRang {
				t.Fatalf("unexpected Content-Range; got %q; want %q", cr, tc.contentRang)
			}
			if tc.status == 416 {
				if tc.method == "GET" && xmlError(t, got).Code != "InvalidRange" {
					t.Fatalf("unexpected 416 body; got %s; want InvalidRange", got.raw)
				}
				return
			}
			wantHeaders := map[string]string{
				"Content-Type":   "application/octet-stream",
				"Content-Length": strconv.FormatInt(tc.n, 10),
				"Accept-Ranges":  "bytes",
				"ETag":           fx.etag,
				"Last-Modified":  lastMod,
			}
			for k, v := range wantHeaders {
				if got.header.Get(k) != v {
					t.Fatalf("unexpected %s; got %q; want %q", k, got.header.Get(k), v)
				}
			}
			want := syntheticBytes(t, fx.path, size, tc.start, tc.n)
			if tc.method == "HEAD" {
				want = nil
			}
			if !bytes.Equal(got.raw, want) {
				t.Fatalf("unexpected body; got %d bytes; want %d bytes from offset %d", len(got.raw), len(want), tc.start)
			}
		})
	}
}

// TestOSSRanges: with Options.OSSRanges a Range not wholly inside the
// object is ignored (200 with the whole object), as OSS does by default;
// one inside it is served as always.
func TestOSSRanges(t *testing.T) {
	const size = 1000
	f := startFake(t, Options{OSSRanges: true})
	id := f.AddSynthetic("/a.bin", size)
	link := login(t, f).link(t, id, 900)
	for _, c := range []struct {
		rng      string
		status   int
		start, n int64
	}{
		{"bytes=0-999", 206, 0, size},
		{"bytes=500-", 206, 500, 500},
		{"bytes=-1000", 206, 0, size},
		{"bytes=10-19", 206, 10, 10},
		{"bytes=0-1000", 200, 0, size},    // the end past the object
		{"bytes=1000-", 200, 0, size},     // the start at its end
		{"bytes=1000-2000", 200, 0, size}, // wholly past it
		{"bytes=-2000", 200, 0, size},     // a suffix longer than it
	} {
		got := do(t, testClient(t), http.MethodGet, link, http.Header{"Range": {c.rng}}, nil)
		if got.status != c.status || !bytes.Equal(got.raw, syntheticBytes(t, "/a.bin", size, c.start, c.n)) {
			t.Fatalf("%s: unexpected answer; got %d, %d bytes; want %d with bytes %d-%d", c.rng, got.status, len(got.raw), c.status, c.start, c.start+c.n-1)
		}
	}
}

func TestPreconditions(t *testing.T) {
	fx := newCDNFixture(t, 1000)
	past := fx.clock.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := fx.clock.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"If-None-Match current", map[string]string{"If-None-Match": fx.etag}, 304},
		{"If-None-Match weak current", map[string]string{"If-None-Match": "W/" + fx.etag}, 304},
		{"If-None-Match other", map[string]string{"If-None-Match": `"abc"`}, 200},
		{"If-Modified-Since later", map[string]string{"If-Modified-Since": future}, 304},
		{"If-Modified-Since earlier", map[string]string{"If-Modified-Since": past}, 200},
		{"If-Match current", map[string]string{"If-Match": fx.etag}, 200},
		{"If-Match other", map[string]string{"If-Match": `"abc"`}, 412},
		{"If-Unmodified-Since earlier", map[string]string{"If-Unmodified-Since": past}, 412},
		{"If-None-Match wins over If-Modified-Since", map[string]string{"If-None-Match": `"abc"`, "If-Modified-Since": future}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := do(t, fx.s.c, http.MethodGet, fx.link, h, nil); got.status != tc.status {
				t.Fatalf("unexpected status; got %d; want %d", got.status, tc.status)
			}
		})
	}
}

func TestCDNMethods(t *testing.T) {
	fx := newCDNFixture(t, 10)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		got := do(t, fx.s.c, m, fx.link, nil, nil)
		if got.status != http.StatusMethodNotAllowed || xmlError(t, got).Code != "MethodNotAllowed" {
			t.Fatalf("unexpected answer to %s; got %d %s; want 405 MethodNotAllowed", m, got.status, got.raw)
		}
	}
}

// readBody GETs a link and reads the body to the end, returning what
// arrived and the read error.
func readBody(t *testing.T, c *http.Client, link string, h http.Header) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("unexpected request error; got %v; want nil", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestCutAfter(t *testing.T) {
	const size = 300_000
	fx := newCDNFixture(t, size)
	fx.f.CutCDNAfter(70_001, 2)
	tests := []struct {
		name     string
		rng      string
		start    int64
		wantLen  int64
		wantsErr bool
	}{
		{"full body cut", "", 0, 70_001, true},
		{"range cut counts body bytes", "bytes=1000-", 1000, 70_001, true},
		{"third response arrives whole", "", 0, size, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.rng != "" {
				h.Set("Range", tc.rng)
			}
			resp, body, err := readBody(t, fx.s.c, fx.link, h)
			if tc.wantsErr != (err != nil) {
				t.Fatalf("unexpected read error; got %v; want error %v", err, tc.wantsErr)
			}
			if tc.wantsErr && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind; got %v; want io.ErrUnexpectedEOF", err)
			}
			if int64(len(body)) != tc.wantLen || resp.ContentLength <= int64(len(body)) && tc.wantsErr {
				t.Fatalf("unexpected body length; got %d of %d; want %d", len(body), resp.ContentLength, tc.wantLen)
			}
			if !bytes.Equal(body, syntheticBytes(t, fx.path, size, tc.start, tc.wantLen)) {
				t.Fatalf("unexpected bytes before the cut")
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	const size = 60_000
	fx := newCDNFixture(t, size)
	fx.f.SetCDNThrottle(100_000) // 0.6 s for the body
	began := time.Now()
	_, body, err := readBody(t, fx.s.c, fx.link, nil)
	elapsed := time.Since(began)
	if err != nil || int64(len(body)) != size {
		t.Fatalf("unexpected download; got %d bytes, %v; want %d bytes", len(body), err, size)
	}
	if elapsed < 500*time.Millisecond {
		t.Fatalf("unexpected speed; got %v for %d bytes; want at least 500ms at 100 kB/s", elapsed, size)
	}
	fx.f.SetCDNThrottle(0)
	began = time.Now()
	if _, _, err := readBody(t, fx.s.c, fx.link, nil); err != nil || time.Since(began) > 400*time.Millisecond {
		t.Fatalf("unexpected unthrottled download; got %v in %v; want fast", err, time.Since(began))
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("unexpected timeout waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startSlowDownload begins a throttled download and reads its first n bytes.
func startSlowDownload(t *testing.T, fx *cdnFixture, n int) io.ReadCloser {
	t.Helper()
	fx.f.SetCDNThrottle(64 << 10)
	resp, err := fx.s.c.Get(fx.link)
	if err != nil {
		t.Fatalf("unexpected request error; got %v; want nil", err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, n)); err != nil {
		t.Fatalf("unexpected early read error; got %v; want nil", err)
	}
	return resp.Body
}

func TestCutOnExpiry(t *testing.T) {
	fx := newCDNFixture(t, 4<<20)
	fx.f.SetCDNCutOnExpiry(true)
	body := startSlowDownload(t, fx, 10_000)
	defer body.Close()
	fx.clock.Advance(901 * time.Second)
	rest, err := io.ReadAll(body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("unexpected end of an expired stream; got %v after %d more bytes; want io.ErrUnexpectedEOF", err, len(rest))
	}
}

func TestStreamGauges(t *testing.T) {
	fx := newCDNFixture(t, 4<<20)
	body := startSlowDownload(t, fx, 1000)
	if got := fx.f.ActiveCDNStreams(); got != 1 {
		t.Fatalf("unexpected ActiveCDNStreams during a download; got %d; want 1", got)
	}
	if got := fx.f.OpenCDNConns(); got != 1 {
		t.Fatalf("unexpected OpenCDNConns during a download; got %d; want 1", got)
	}
	body.Close() // the client goes away mid-body
	waitFor(t, "the stream to stop after the client left", func() bool { return fx.f.ActiveCDNStreams() == 0 })
	fx.s.c.Transport.(*http.Transport).CloseIdleConnections()
	waitFor(t, "the CDN connection to close", func() bool { return fx.f.OpenCDNConns() == 0 })
}

func TestCloseMidStream(t *testing.T) {
	fx := newCDNFixture(t, 4<<20)
	fx.f.SetLatency(EndpointFileList, time.Hour)
	body := startSlowDownload(t, fx, 1000)
	defer body.Close()
	listDone := make(chan int)
	go func() {
		// A call stuck in injected latency must be released by Close too.
		req, _ := http.NewRequest(http.MethodPost, fx.f.APIURL()+"/v2/file/list", strings.NewReader("{}"))
		resp, err := fx.s.c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		listDone <- 0
	}()
	waitFor(t, "the list call to arrive", func() bool { return fx.f.Calls(EndpointFileList) == 1 })

	began := time.Now()
	fx.f.Close()
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("unexpected Close duration; got %v; want under 2s", d)
	}
	if _, err := io.ReadAll(body); err == nil {
		t.Fatalf("unexpected clean end of a body cut by Close; got nil; want an error")
	}
	<-listDone
	if got := fx.f.ActiveCDNStreams(); got != 0 {
		t.Fatalf("unexpected ActiveCDNStreams after Close; got %d; want 0", got)
	}
	if got := fx.f.OpenCDNConns(); got != 0 {
		t.Fatalf("unexpected OpenCDNConns after Close; got %d; want 0", got)
	}
}
