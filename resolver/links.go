package resolver

import (
	"context"
	"fmt"
	"time"

	"github.com/alilink/alilink/internal/wait"
)

// The link cache: file → download link until the link's real expiry minus a
// margin, this process's own (an LRU) and, optionally, the replicas' (Redis).

// SharedLinks is a link cache that replicas share (Redis, aliclient/redisstate),
// with a lock per file so that N replicas still make one drive call per file
// and link lifetime.
type SharedLinks interface {
	GetLink(ctx context.Context, fileID string) (Link, bool, error)
	PutLink(ctx context.Context, fileID string, l Link, ttl time.Duration) error
	LockLink(ctx context.Context, fileID string, lease time.Duration) (release func(), ok bool, err error)
	DeleteLink(ctx context.Context, fileID string) error
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
	v, err := r.flight(ctx, &r.linkFlight, id, func(ctx context.Context) (any, error) {
		// Another caller may have filled the cache while this one waited.
		if c, ok := r.links.Get(id); ok && c.freshAt(r.now()) {
			return c.Link, nil
		}
		if r.replicas != nil {
			if l, handled, err := r.replicaLink(ctx, id); handled {
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

// replicaLink gets a link through the replicas' cache (SharedLinks): a fresh one another
// replica stored; else, holding the file's lock, one from the drive that is
// then stored for the others; while another replica holds the lock, its link.
// handled is false when the shared cache is unreachable: the caller then asks
// the drive itself (serving beats counting).
func (r *Resolver) replicaLink(ctx context.Context, id string) (l Link, handled bool, err error) {
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
		if !wait.Sleep(ctx, 50*time.Millisecond) {
			return Link{}, true, ctx.Err()
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
