// Package flight runs one call for all the callers that need it at the same
// moment, detached from each of them: the one single-flight of the client's
// tokens and copies and of the resolver's lookups.
package flight

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"
)

// Detached runs fn once for all concurrent callers of key in g, on a context
// of its own that ends at deadline. A caller whose ctx ends stops waiting with
// ctx.Err(), but fn runs on for the others: one client hanging up must not
// fail the rest, and a caller's context may be a *fasthttp.RequestCtx that is
// recycled when its handler returns. Only the caller that starts fn chooses
// the deadline. On an error the value is T's zero.
func Detached[T any](ctx context.Context, g *singleflight.Group, key string, deadline time.Time, fn func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		return fn(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			var zero T
			return zero, r.Err
		}
		v, _ := r.Val.(T) // a nil interface when T is one and fn returned nil
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Deadline is the earlier of now+budget and ctx's deadline: a flight bounded
// both by its own budget and by the deadline of the caller that starts it.
func Deadline(ctx context.Context, budget time.Duration) time.Time {
	deadline := time.Now().Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		return d
	}
	return deadline
}
