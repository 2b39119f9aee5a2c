// Package resolver turns drive paths into items and items into download links,
// and owns every cache on the way: path → item, folder → children, missing
// paths, and file → link until the link's real expiry minus a margin.
// Concurrent misses for the same key make one drive call (single-flight).
package resolver

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/alilink/alilink/aliclient"
)

// Item, Link and Health are the drive's types; streamer sees them through here.
type (
	Item   = aliclient.File
	Link   = aliclient.Link
	Health = aliclient.Health
)

// The error kinds callers map to HTTP statuses.
var (
	ErrNotFound    = aliclient.ErrNotFound
	ErrIsFolder    = aliclient.ErrIsFolder
	ErrTokenDead   = aliclient.ErrTokenDead
	ErrRateLimited = aliclient.ErrRateLimited
	// ErrDriveFull: the user's drive has no room for the share driver's copy.
	ErrDriveFull = aliclient.ErrDriveFull
	// ErrLinkTooShort: the drive handed out a link that has expired already.
	ErrLinkTooShort = errors.New("download link expires within the safety margin")
)

// RetryAfter reports the wait a rate-limit error asks for.
func RetryAfter(err error) (time.Duration, bool) { return aliclient.RetryAfter(err) }

// Drive is what the resolver needs from aliclient.
type Drive interface {
	List(ctx context.Context, folderID string) ([]aliclient.File, error)
	Link(ctx context.Context, fileID string) (aliclient.Link, error)
	Health(ctx context.Context) aliclient.Health
}

var _ Drive = aliclient.Drive(nil)

// Config sizes the caches. Entries expire lazily on read, so no goroutine
// lives as long as a cache (the expirable LRU's cleanup goroutine never stops).
type Config struct {
	RootFolderID  string        `env:"ROOT_FOLDER_ID" envDefault:"root"`
	PathCacheSize int           `env:"PATH_CACHE_SIZE" envDefault:"20000"`
	PathCacheTTL  time.Duration `env:"PATH_CACHE_TTL" envDefault:"10m"`
	ListCacheSize int           `env:"LIST_CACHE_SIZE" envDefault:"1000"`
	NegativeTTL   time.Duration `env:"NEGATIVE_CACHE_TTL" envDefault:"10s"`
	LinkCacheSize int           `env:"LINK_CACHE_SIZE" envDefault:"10000"`
	// LinkMargin is how long a handed-out link must still live at least.
	LinkMargin time.Duration `env:"LINK_MARGIN" envDefault:"60s"`
	// ResolveTimeout bounds the drive calls behind one cache miss, waits for
	// the rate governor included; past it the request fails (503 or 504).
	ResolveTimeout time.Duration `env:"RESOLVE_TIMEOUT" envDefault:"20s"`
}

// DefaultConfig is Config with the defaults of its env tags (main's test
// keeps the two in step), for callers that build a Config in code.
func DefaultConfig() Config {
	return Config{
		RootFolderID: "root", PathCacheSize: 20000, PathCacheTTL: 10 * time.Minute, ListCacheSize: 1000,
		NegativeTTL: 10 * time.Second, LinkCacheSize: 10000, LinkMargin: time.Minute, ResolveTimeout: 20 * time.Second,
	}
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	switch {
	case c.RootFolderID == "":
		return fmt.Errorf("ALILINK_ROOT_FOLDER_ID: empty")
	case c.PathCacheSize < 1:
		return fmt.Errorf("ALILINK_PATH_CACHE_SIZE: must be at least 1, got %d", c.PathCacheSize)
	case c.PathCacheTTL < 0:
		return fmt.Errorf("ALILINK_PATH_CACHE_TTL: negative")
	case c.ListCacheSize < 1:
		return fmt.Errorf("ALILINK_LIST_CACHE_SIZE: must be at least 1, got %d", c.ListCacheSize)
	case c.NegativeTTL < 0:
		return fmt.Errorf("ALILINK_NEGATIVE_CACHE_TTL: negative")
	case c.LinkCacheSize < 1:
		return fmt.Errorf("ALILINK_LINK_CACHE_SIZE: must be at least 1, got %d", c.LinkCacheSize)
	case c.LinkMargin < 0:
		return fmt.Errorf("ALILINK_LINK_MARGIN: negative")
	case c.ResolveTimeout <= 0:
		return fmt.Errorf("ALILINK_RESOLVE_TIMEOUT: must be positive")
	}
	return nil
}

type pathEntry struct {
	item    Item
	expires time.Time
}

type listEntry struct {
	items   []Item
	expires time.Time
}

// Observer is told about cache lookups and the drive calls behind misses, for
// metrics. Its methods are called on every request and must be cheap.
type Observer interface {
	// Cache reports a lookup in one of the caches: "path", "list", "link".
	Cache(name string, hit bool)
	// Fetched reports the drive work behind a miss ("list" or "link"): the
	// resolve latency a client waits for.
	Fetched(kind string, took time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) Cache(string, bool)                   {}
func (nopObserver) Fetched(string, time.Duration, error) {}

// SharedLinks is a link cache that replicas share (Redis, aliclient/redisstate),
// with a lock per file so that N replicas still make one drive call per file
// and link lifetime.
type SharedLinks interface {
	GetLink(ctx context.Context, fileID string) (Link, bool, error)
	PutLink(ctx context.Context, fileID string, l Link, ttl time.Duration) error
	LockLink(ctx context.Context, fileID string, lease time.Duration) (release func(), ok bool, err error)
	DeleteLink(ctx context.Context, fileID string) error
}

// Deps are a resolver's collaborators that are not configuration.
type Deps struct {
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
	Observer Observer         // nil: nobody
	Shared   SharedLinks      // nil: links are this process's own
}

// Resolver is safe for concurrent use.
type Resolver struct {
	cfg   Config
	drive Drive
	log   *slog.Logger
	now   func() time.Time
	obs   Observer
	// replicas is the replicas' link cache (optional).
	replicas SharedLinks

	paths *lru.Cache[string, pathEntry]
	lists *lru.Cache[string, listEntry]
	// neg holds missing paths by a seeded 64-bit hash, so that an entry costs
	// the same few dozen bytes however long the path (20,000 missing 4 KiB
	// paths would hold 110 MiB as strings).
	neg     *lru.Cache[uint64, time.Time]
	negSeed maphash.Seed
	links   *lru.Cache[string, cachedLink]

	listFlight singleflight.Group
	linkFlight singleflight.Group
}

// New builds a resolver. now may be nil (time.Now).
func New(cfg Config, drive Drive, log *slog.Logger, now func() time.Time) (*Resolver, error) {
	return NewWith(cfg, drive, Deps{Log: log, Now: now})
}

// NewWith is New with every collaborator.
func NewWith(cfg Config, drive Drive, deps Deps) (*Resolver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	r := &Resolver{cfg: cfg, drive: drive, log: deps.Log, now: deps.Now, obs: deps.Observer, replicas: deps.Shared,
		negSeed: maphash.MakeSeed()}
	var err error
	if r.paths, err = lru.New[string, pathEntry](cfg.PathCacheSize); err != nil {
		return nil, err
	}
	if r.lists, err = lru.New[string, listEntry](cfg.ListCacheSize); err != nil {
		return nil, err
	}
	if r.neg, err = lru.New[uint64, time.Time](cfg.PathCacheSize); err != nil {
		return nil, err
	}
	if r.links, err = lru.New[string, cachedLink](cfg.LinkCacheSize); err != nil {
		return nil, err
	}
	return r, nil
}

// Health passes the drive's health through, for /-/readyz.
func (r *Resolver) Health(ctx context.Context) Health { return r.drive.Health(ctx) }

// root is the item "/" maps to.
func (r *Resolver) root() Item {
	return Item{ID: r.cfg.RootFolderID, Name: "", Folder: true}
}

// Stat resolves a clean path (see CleanPath) to its item, walking from the root
// folder one listing per uncached level.
func (r *Resolver) Stat(ctx context.Context, p string) (Item, error) {
	return r.stat(ctx, p, r.now())
}

// Resolve is Stat then, for a file, Link: the redirect hot path, reading the
// clock once (on some virtual machines a clock read costs as much as the
// rest of a cache hit).
func (r *Resolver) Resolve(ctx context.Context, p string) (Item, Link, error) {
	now := r.now()
	it, err := r.stat(ctx, p, now)
	if err != nil || it.Folder {
		return it, Link{}, err
	}
	l, err := r.link(ctx, it, now)
	return it, l, err
}

func (r *Resolver) stat(ctx context.Context, p string, now time.Time) (Item, error) {
	if p == "/" {
		return r.root(), nil
	}
	if e, ok := r.paths.Get(p); ok && now.Before(e.expires) {
		r.obs.Cache("path", true)
		return e.item, nil
	}
	r.obs.Cache("path", false)
	if exp, ok := r.neg.Get(r.negKey(p)); ok && now.Before(exp) {
		return Item{}, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	dir, name := splitPath(p)
	parent, err := r.stat(ctx, dir, now)
	if err != nil {
		return Item{}, err
	}
	if !parent.Folder {
		return Item{}, fmt.Errorf("%w: %s (a parent is a file)", ErrNotFound, p)
	}
	children, err := r.children(ctx, dir, parent.ID)
	if err != nil {
		return Item{}, err
	}
	for i := range children {
		if children[i].Name == name {
			return children[i], nil
		}
	}
	if r.cfg.NegativeTTL > 0 {
		r.neg.Add(r.negKey(p), r.now().Add(r.cfg.NegativeTTL))
	}
	return Item{}, fmt.Errorf("%w: %s", ErrNotFound, p)
}

// List returns the children of the folder at a clean path.
func (r *Resolver) List(ctx context.Context, p string) (Item, []Item, error) {
	it, err := r.Stat(ctx, p)
	if err != nil {
		return Item{}, nil, err
	}
	if !it.Folder {
		return it, nil, fmt.Errorf("list %s: %w", p, aliclient.ErrNotFolder)
	}
	children, err := r.children(ctx, p, it.ID)
	return it, children, err
}

// children lists a folder through the listing cache, single-flight per folder,
// and files every child under its path so siblings are hits.
func (r *Resolver) children(ctx context.Context, dir, folderID string) ([]Item, error) {
	if e, ok := r.lists.Get(dir); ok && r.now().Before(e.expires) {
		r.obs.Cache("list", true)
		return e.items, nil
	}
	r.obs.Cache("list", false)
	// A listing walks every page at the drive's list rate (4/s): a folder of
	// 20,000 files takes 25 s. It gets ten times the budget of a link.
	v, err := r.sharedFor(ctx, 10*r.cfg.ResolveTimeout, &r.listFlight, dir, func(ctx context.Context) (any, error) {
		began := time.Now()
		items, err := r.drive.List(ctx, folderID)
		r.obs.Fetched("list", time.Since(began), err)
		if err != nil {
			return nil, err
		}
		exp := r.now().Add(r.cfg.PathCacheTTL)
		r.lists.Add(dir, listEntry{items: items, expires: exp})
		prefix := dir
		if prefix != "/" {
			prefix += "/"
		}
		for _, it := range items {
			r.paths.Add(prefix+it.Name, pathEntry{item: it, expires: exp})
		}
		return items, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]Item), nil
}

// Link returns a download link for a file that still has at least the margin
// to live, from the cache or with one drive call however many ask at once.
func (r *Resolver) Link(ctx context.Context, it Item) (Link, error) {
	return r.link(ctx, it, r.now())
}

func (r *Resolver) link(ctx context.Context, it Item, now time.Time) (Link, error) {
	if it.Folder {
		return Link{}, fmt.Errorf("link %s: %w", it.Name, ErrIsFolder)
	}
	if c, ok := r.links.Get(it.ID); ok && c.freshAt(now) {
		r.obs.Cache("link", true)
		return c.Link, nil
	}
	r.obs.Cache("link", false)
	return r.fetchLink(ctx, it.ID)
}

// fetchLink is Link's miss path, kept apart so that the hit path captures
// nothing in a closure (a captured parameter would be moved to the heap on
// every call).
func (r *Resolver) fetchLink(ctx context.Context, id string) (Link, error) {
	v, err := r.shared(ctx, &r.linkFlight, id, func(ctx context.Context) (any, error) {
		// Another caller may have filled the cache while this one waited.
		if c, ok := r.links.Get(id); ok && c.freshAt(r.now()) {
			return c.Link, nil
		}
		if r.replicas != nil {
			if l, handled, err := r.sharedLink(ctx, id); handled {
				return l, err
			}
		}
		return r.driveLink(ctx, id)
	})
	if err != nil {
		return Link{}, err
	}
	return v.(Link), nil
}

// driveLink asks the drive and caches the answer.
func (r *Resolver) driveLink(ctx context.Context, id string) (Link, error) {
	began := time.Now()
	l, err := r.drive.Link(ctx, id)
	r.obs.Fetched("link", time.Since(began), err)
	if err != nil {
		return Link{}, err
	}
	c := r.cached(l, r.now())
	if !c.freshAt(r.now()) {
		r.log.Error("the drive's download link has expired already; is the clock right?",
			"left", l.Expires.Sub(r.now()).Round(time.Second).String())
		return Link{}, fmt.Errorf("link %s: %w", id, ErrLinkTooShort)
	}
	if c.margin < r.cfg.LinkMargin {
		r.log.Debug("the drive's link lives less than twice ALILINK_LINK_MARGIN; using half its life as the margin",
			"left", l.Expires.Sub(r.now()).Round(time.Second).String(), "margin", c.margin.String())
	}
	r.links.Add(id, c)
	return l, nil
}

// sharedLink gets a link through the replicas' cache: a fresh one another
// replica stored; else, holding the file's lock, one from the drive that is
// then stored for the others; while another replica holds the lock, its link.
// handled is false when the shared cache is unreachable: the caller then asks
// the drive itself (serving beats counting).
func (r *Resolver) sharedLink(ctx context.Context, id string) (l Link, handled bool, err error) {
	for {
		if l, ok, err := r.replicas.GetLink(ctx, id); err != nil {
			return Link{}, false, nil
		} else if c := r.cached(l, r.now()); ok && c.freshAt(r.now()) {
			r.links.Add(id, c)
			return l, true, nil
		}
		release, got, err := r.replicas.LockLink(ctx, id, r.cfg.ResolveTimeout)
		if err != nil {
			return Link{}, false, nil
		}
		if got {
			defer release()
			if l, ok, err := r.replicas.GetLink(ctx, id); err == nil && ok {
				if c := r.cached(l, r.now()); c.freshAt(r.now()) {
					r.links.Add(id, c)
					return l, true, nil
				}
			}
			l, err := r.driveLink(ctx, id)
			if err != nil {
				return Link{}, true, err
			}
			if ttl := l.Expires.Sub(r.now()) - r.cached(l, r.now()).margin; ttl > 0 {
				_ = r.replicas.PutLink(ctx, id, l, ttl)
			}
			return l, true, nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return Link{}, true, ctx.Err()
		case <-t.C:
		}
	}
}

// DropLink forgets a cached link that turned out dead (expired early, 403)
// so the next Link asks the drive again. A newer link is kept.
func (r *Resolver) DropLink(fileID, url string) {
	if c, ok := r.links.Peek(fileID); ok && c.URL == url {
		r.links.Remove(fileID)
	}
}

// negKey is p's key in the negative cache. The seed is random per process,
// so nobody can craft a path that collides with another.
func (r *Resolver) negKey(p string) uint64 { return maphash.String(r.negSeed, p) }

// cachedLink is a link with the margin it is handed out with.
type cachedLink struct {
	Link
	margin time.Duration
}

// cached gives l, got at now, its margin: ALILINK_LINK_MARGIN, or half the
// link's life when it lives less than twice the margin (a drive or share
// that hands out short links), so that a fresh link is always served.
// (A link another replica stored is judged by the life it has left; the
// shared cache already dropped it at its own margin.)
func (r *Resolver) cached(l Link, now time.Time) cachedLink {
	return cachedLink{Link: l, margin: min(r.cfg.LinkMargin, l.Expires.Sub(now)/2)}
}

func (c cachedLink) freshAt(now time.Time) bool {
	return now.Add(c.margin).Before(c.Expires)
}

// shared runs fn once for all concurrent callers of key. fn runs detached from
// the callers (a client hanging up must not fail the others, and the caller's
// context may be a *fasthttp.RequestCtx that is recycled when its handler
// returns), bounded by ResolveTimeout or the first caller's earlier deadline.
// Each caller still stops waiting when its own context ends.
func (r *Resolver) shared(ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	return r.sharedFor(ctx, r.cfg.ResolveTimeout, g, key, fn)
}

// sharedFor is shared with its own budget.
func (r *Resolver) sharedFor(ctx context.Context, budget time.Duration, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	deadline := time.Now().Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ch := g.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		return fn(fctx)
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
