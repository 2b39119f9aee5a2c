package bench

import (
	"context"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/mount"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

// BenchmarkRedirectHandlerMounts is BenchmarkRedirectHandler behind the
// router of a mounts file with three mounts (the hot path in the second):
// what routing and the mount-labelled counters add to a 302 on a cache hit.
func BenchmarkRedirectHandlerMounts(b *testing.B) {
	fake, c := aliclienttest.Start(b, alifake.Options{}, nil)
	fake.AddFile(hotPath, []byte("film"))
	var entries []mount.Entry
	for _, p := range []string{"/Backup", "/Movies", "/Resource"} {
		res, err := resolver.New(resolver.Config{
			RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: time.Hour, ListCacheSize: 100,
			NegativeTTL: time.Second, LinkCacheSize: 1000, LinkMargin: time.Minute, ResolveTimeout: 5 * time.Second,
		}, c, resolver.Deps{})
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, mount.Entry{Path: p, Res: res})
	}
	mux, err := mount.New(entries)
	if err != nil {
		b.Fatal(err)
	}
	p := "/Movies" + hotPath
	if _, _, err := mux.Resolve(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.Mode = streamer.ModeRedirect
	cfg.AccessLog = false
	srv, err := streamer.New(cfg, mux, streamer.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	var req fasthttp.Request
	req.SetRequestURI(resolver.EscapePath(p))
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		srv.Handle(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusFound {
			b.Fatalf("unexpected status %d", ctx.Response.StatusCode())
		}
	}
}
