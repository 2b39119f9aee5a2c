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
	"github.com/alilink/alilink/internal/defaults"
	"github.com/alilink/alilink/internal/flight"
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

// DefaultConfig is Config with the defaults of its env tags, for callers
// that build a Config in code.
func DefaultConfig() Config { return defaults.FromTags[Config]() }

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

// New builds a resolver over drive; every field of deps may be left zero.
func New(cfg Config, drive Drive, deps Deps) (*Resolver, error) {
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
	v, err := r.flightFor(ctx, 10*r.cfg.ResolveTimeout, &r.listFlight, dir, func(ctx context.Context) (any, error) {
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

// negKey is p's key in the negative cache. The seed is random per process,
// so nobody can craft a path that collides with another.
func (r *Resolver) negKey(p string) uint64 { return maphash.String(r.negSeed, p) }

// flight runs fn once for all concurrent callers of key. fn runs detached from
// the callers (a client hanging up must not fail the others, and the caller's
// context may be a *fasthttp.RequestCtx that is recycled when its handler
// returns), bounded by ResolveTimeout or the first caller's earlier deadline.
// Each caller still stops waiting when its own context ends.
func (r *Resolver) flight(ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	return r.flightFor(ctx, r.cfg.ResolveTimeout, g, key, fn)
}

// flightFor is flight with its own budget.
func (r *Resolver) flightFor(ctx context.Context, budget time.Duration, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	return flight.Detached(ctx, g, key, flight.Deadline(ctx, budget), fn)
}
