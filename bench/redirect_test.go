package bench

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

const hotPath = "/Movies/Big Buck Bunny (2008).mkv"

// newServer is alilink in the given mode in front of the fake drive holding
// one file, its path and link cached by a first resolution.
func newServer(b testing.TB, mode, path string, content []byte) *streamer.Server {
	b.Helper()
	return newServerLog(b, mode, path, content, nil)
}

// newServerLog is newServer with its access log on, written by alog (nil:
// off, as nginx's peers run with access_log off).
func newServerLog(b testing.TB, mode, path string, content []byte, alog *streamer.AccessLog) *streamer.Server {
	b.Helper()
	fake, c := aliclienttest.Start(b, alifake.Options{}, nil)
	fake.AddFile(path, content)
	res, err := resolver.New(resolver.Config{
		RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: time.Hour, ListCacheSize: 100,
		NegativeTTL: time.Second, LinkCacheSize: 1000, LinkMargin: time.Minute, ResolveTimeout: 5 * time.Second,
	}, c, resolver.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := res.Resolve(context.Background(), path); err != nil {
		b.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.Mode = mode
	cfg.AccessLog = alog != nil
	srv, err := streamer.New(cfg, res, streamer.Deps{AccessLog: alog})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

// serveInMemory serves srv over fasthttp's in-memory listener and returns a
// client for it.
func serveInMemory(b testing.TB, srv *streamer.Server, stream bool) *fasthttp.HostClient {
	b.Helper()
	ln := streamertest.ServeInMemory(b, srv)
	return &fasthttp.HostClient{
		Addr: "alilink", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		StreamResponseBody: stream, MaxConns: 64, ReadBufferSize: 64 << 10,
	}
}

// BenchmarkRedirectHandler is the handler alone on a cache hit: what alilink
// itself allocates per request (the goal is at most 2).
func BenchmarkRedirectHandler(b *testing.B) {
	benchRedirectHandler(b, newServer(b, streamer.ModeRedirect, hotPath, []byte("film")))
}

// BenchmarkRedirectHandlerAccessLog is the same with the access log on,
// writing text lines to a file: the goal is the allocations of the log off.
func BenchmarkRedirectHandlerAccessLog(b *testing.B) {
	benchRedirectHandler(b, newServerLog(b, streamer.ModeRedirect, hotPath, []byte("film"), fileAccessLog(b)))
}

func benchRedirectHandler(b *testing.B, srv *streamer.Server) {
	handle := redirectHandler(b, srv)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		handle()
	}
}

// redirectHandler warms srv's caches for hotPath and returns one 302 request
// through its handler.
func redirectHandler(tb testing.TB, srv *streamer.Server) func() {
	var req fasthttp.Request
	req.SetRequestURI(resolver.EscapePath(hotPath))
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	srv.Handle(&ctx) // warm the caches
	if ctx.Response.StatusCode() != fasthttp.StatusFound {
		tb.Fatalf("unexpected status %d", ctx.Response.StatusCode())
	}
	return func() {
		ctx.Response.Reset()
		srv.Handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusFound {
			tb.Fatalf("unexpected status %d", ctx.Response.StatusCode())
		}
	}
}

// fileAccessLog is an access log writing text lines to a file, as a user
// running alilink with its log on writes to a file or a pipe.
func fileAccessLog(tb testing.TB) *streamer.AccessLog {
	f, err := os.Create(filepath.Join(tb.TempDir(), "access.log"))
	if err != nil {
		tb.Fatal(err)
	}
	l := streamer.NewAccessLog(f, false, nil)
	tb.Cleanup(func() { l.Close(); _ = f.Close() })
	return l
}

// TestRedirectAllocsLogOnEqualsOff: the access log costs a 302 on a cache
// hit no allocation (issue #16), and its lines reach the file.
func TestRedirectAllocsLogOnEqualsOff(t *testing.T) {
	off := testing.AllocsPerRun(2000, redirectHandler(t, newServer(t, streamer.ModeRedirect, hotPath, []byte("film"))))
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alog := streamer.NewAccessLog(f, false, nil)
	on := testing.AllocsPerRun(2000, redirectHandler(t, newServerLog(t, streamer.ModeRedirect, hotPath, []byte("film"), alog)))
	alog.Close()
	if on != off {
		t.Fatalf("a 302 allocates %v times with the access log on, %v with it off", on, off)
	}
	b, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	// A slow disk (or the race detector) may make the log drop lines rather
	// than hold requests up; each is then counted.
	n := strings.Count(string(b), ` msg=request method=GET path="/Movies/Big Buck Bunny (2008).mkv" status=302 action=redirect bytes=0 duration=`)
	if n == 0 || uint64(n)+alog.Dropped() < 2000 {
		t.Fatalf("%d access lines in the file and %d dropped; want 2000 or more in all", n, alog.Dropped())
	}
}

// BenchmarkRedirectEndToEnd goes through fasthttp's server and client over an
// in-memory listener, in parallel: request parsing and writing included.
func BenchmarkRedirectEndToEnd(b *testing.B) {
	client := serveInMemory(b, newServer(b, streamer.ModeRedirect, hotPath, []byte("film")), false)
	uri := "http://alilink" + resolver.EscapePath(hotPath)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(uri)
		for pb.Next() {
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != fasthttp.StatusFound {
				b.Errorf("unexpected status %d", resp.StatusCode())
				return
			}
		}
	})
}

// TestBenchmarkSetups runs each benchmark's setup and one request, so that a
// benchmark broken by a change fails CI (which runs no benchmarks).
func TestBenchmarkSetups(t *testing.T) {
	for _, mode := range []string{streamer.ModeRedirect, streamer.ModeProxy} {
		client := serveInMemory(t, newServer(t, mode, hotPath, []byte("film")), true)
		if n, err := getPath(client, resolver.EscapePath(hotPath), ""); err != nil || (mode == streamer.ModeProxy && n != 4) {
			t.Fatalf("%s: %d bytes, %v", mode, n, err)
		}
	}
}

// TestRedirectAllocsOne: a 302 on a cache hit allocates once (the one the
// benchmark reports), so a regression that hits the log on and off alike is
// caught too.
func TestRedirectAllocsOne(t *testing.T) {
	if n := testing.AllocsPerRun(2000, redirectHandler(t, newServer(t, streamer.ModeRedirect, hotPath, []byte("film")))); n > 1 {
		t.Fatalf("a 302 on a cache hit allocates %v times, want at most 1", n)
	}
}
