package bench

import (
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

const hotPath = "/Movies/Big Buck Bunny (2008).mkv"

// newRedirectServer is alilink in redirect mode in front of the fake drive,
// with the hot file's path and link already cached.
func newRedirectServer(b *testing.B) *streamer.Server {
	b.Helper()
	fake, c := aliclienttest.Start(b, alifake.Options{}, nil)
	fake.AddFile(hotPath, []byte("film"))
	res, err := resolver.New(resolver.Config{
		RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: time.Hour, ListCacheSize: 100,
		NegativeTTL: time.Second, LinkCacheSize: 1000, LinkMargin: time.Minute, ResolveTimeout: 5 * time.Second,
	}, c, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := streamer.New(streamer.Config{Mode: streamer.ModeRedirect, ReadyTimeout: time.Second, StreamIdleTimeout: 10 * time.Second, ResumeAttempts: 5}, res, nil)
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkRedirectHandler is the handler alone on a cache hit: what alilink
// itself allocates per request (the goal is at most 2).
func BenchmarkRedirectHandler(b *testing.B) {
	srv := newRedirectServer(b)
	var req fasthttp.Request
	req.SetRequestURI(resolver.EscapePath(hotPath))
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	srv.Handle(&ctx) // warm the caches
	if ctx.Response.StatusCode() != fasthttp.StatusFound {
		b.Fatalf("unexpected status %d", ctx.Response.StatusCode())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ctx.Response.Reset()
		srv.Handle(&ctx)
	}
	if ctx.Response.StatusCode() != fasthttp.StatusFound {
		b.Fatalf("unexpected status %d", ctx.Response.StatusCode())
	}
}

// BenchmarkRedirectEndToEnd goes through fasthttp's server and client over an
// in-memory listener, in parallel: request parsing and writing included.
func BenchmarkRedirectEndToEnd(b *testing.B) {
	srv := newRedirectServer(b)
	ln := fasthttputil.NewInmemoryListener()
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	defer func() { _ = hs.Shutdown(); _ = ln.Close() }()
	client := &fasthttp.HostClient{Addr: "alilink", Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConns: 64}
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
