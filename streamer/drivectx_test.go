package streamer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// ctxSpy is a resolver with one folder /Movies holding film.mkv that keeps
// the contexts its look-ups were given and, as a drive call would, asks
// each for Done (a cache miss).
type ctxSpy struct {
	Resolver // nil: the methods the test does not reach
	mu       sync.Mutex
	ctxs     []context.Context
}

var (
	spyFolder = resolver.Item{ID: "d", Name: "Movies", Folder: true}
	spyFile   = resolver.Item{ID: "f", Name: "film.mkv", Size: 10, ContentHash: "da39a3ee5e6b4b0d3255bfef95601890afd80709"}
)

const spyAdmin = "admin-token-of-the-spy"

func (r *ctxSpy) saw(ctx context.Context) {
	r.mu.Lock()
	r.ctxs = append(r.ctxs, ctx)
	r.mu.Unlock()
	_ = ctx.Done()
}

func (r *ctxSpy) Stat(ctx context.Context, p string) (resolver.Item, error) {
	r.saw(ctx)
	switch p {
	case "/", "/Movies":
		return spyFolder, nil
	case "/Movies/film.mkv":
		return spyFile, nil
	}
	return resolver.Item{}, resolver.ErrNotFound
}

func (r *ctxSpy) Resolve(ctx context.Context, p string) (resolver.Item, resolver.Link, error) {
	it, err := r.Stat(ctx, p)
	if err != nil || it.Folder {
		return it, resolver.Link{}, err
	}
	return it, resolver.Link{URL: "https://cdn.example/film.mkv", Expires: time.Now().Add(time.Hour)}, nil
}

func (r *ctxSpy) List(ctx context.Context, p string) (resolver.Item, []resolver.Item, error) {
	it, err := r.Stat(ctx, p)
	if err != nil {
		return it, nil, err
	}
	return it, []resolver.Item{spyFile}, nil
}

// Link fails: a proxied GET then answers 502 without a CDN.
func (r *ctxSpy) Link(ctx context.Context, _ resolver.Item) (resolver.Link, error) {
	r.saw(ctx)
	return resolver.Link{}, errors.New("no link here")
}

func (r *ctxSpy) DropLink(string, string) {}
func (r *ctxSpy) CanUpload() bool         { return false }

// TestDriveCallsDetached: the drive calls of a GET, at every door (a file,
// a folder's listing and index, HEAD, AList's /d/ and /p/, WebDAV's GET
// and folder page), never get the RequestCtx as their context (net/http's
// dialer may read a context's values after fasthttp reset the request): a
// context of their own, holding no values, cancelled once the handler has
// returned.
func TestDriveCallsDetached(t *testing.T) {
	for _, mode := range []string{ModeRedirect, ModeProxy, ModeAuto} {
		cfg := DefaultConfig()
		cfg.Mode = mode
		cfg.AdminToken = spyAdmin
		spy := &ctxSpy{}
		s, err := New(cfg, spy, Deps{Loopback: true})
		if err != nil {
			t.Fatal(err)
		}
		var reqs []string // "METHOD target"
		for _, target := range []string{
			"/Movies/film.mkv", "/Movies/", "/Movies/?format=json", "/Movies/?format=m3u",
			"/d/Movies/film.mkv", "/p/Movies/", "/dav/Movies/film.mkv", "/dav/Movies/",
			"/Movies/film.mkv?play", "/nothing.mkv",
		} {
			reqs = append(reqs, "GET "+target, "HEAD "+target)
		}
		// The JSON doors: AList's (a guest: no sign secret) and the admin API.
		reqs = append(reqs, "GET /api/fs/list?path=/Movies", "GET /api/fs/get?path=/Movies/film.mkv",
			"GET /api/fs/dirs?path=/Movies", "GET /-/api/link?path=/Movies/film.mkv")
		for _, r := range reqs {
			method, target, _ := strings.Cut(r, " ")
			{
				spy.ctxs = nil
				var req fasthttp.Request
				req.Header.SetMethod(method)
				req.SetRequestURI(target)
				req.Header.Set("Authorization", "Bearer "+spyAdmin)
				var ctx fasthttp.RequestCtx
				ctx.Init(&req, nil, nil)
				s.Handle(&ctx)
				if len(spy.ctxs) == 0 {
					t.Fatalf("%s %s %s: no drive call", mode, method, target)
				}
				for _, c := range spy.ctxs {
					if _, ok := c.(*fasthttp.RequestCtx); ok {
						t.Errorf("%s %s %s: a drive call got the RequestCtx", mode, method, target)
						continue
					}
					if c.Value(fasthttp.RequestCtx{}) != nil || c.Value("alilink") != nil {
						t.Errorf("%s %s %s: the context holds values", mode, method, target)
					}
					if !errors.Is(c.Err(), context.Canceled) {
						t.Errorf("%s %s %s: the context outlived the handler (%v)", mode, method, target, c.Err())
					}
				}
			}
		}
		s.Close()
	}
}
