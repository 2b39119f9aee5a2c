package aliclient

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/alilink/alilink/internal/flight"
)

// expiring is a token that runs out: the access token (tokens) and the share
// token (shareToken) are each one. It is handed out while fresh and renewed
// ahead of its expiry (refreshAhead) or when the drive refused it
// (invalidate). A renewal runs once for all the callers that need it at the
// same moment, on a context of its own bounded by budget: a caller that gives
// up stops waiting, but neither cancels the renewal nor fails the others (the
// answer of an access-token refresh holds the only valid refresh token). A
// failed early renewal falls back to the token still valid, unless it was
// permanent (fail): then every caller fails at once, and nothing is asked
// again until a restart.
type expiring struct {
	now    func() time.Time
	budget time.Duration
	// renew asks for a new token; the flight adopts what it returns.
	renew func(ctx context.Context) (grant, error)

	mu       sync.Mutex
	held     grant
	dead     error  // set by fail
	rejected string // a token the drive refused: never adopt it again

	flight singleflight.Group
}

// grant is a token with its life.
type grant struct {
	value           string
	issued, expires time.Time
}

// newGrant is a token answered with expires_in seconds; an answer without
// one lasts 2 hours, the life of every token the drive issues (spec §1.1).
// what names the answer in the error when a token is missing from it:
// every one of value and also must be there.
func newGrant(what string, expiresIn int64, issued time.Time, value string, also ...string) (grant, error) {
	for _, v := range append(also, value) {
		if v == "" {
			return grant{}, errorf(ErrUpstream, "%s: the answer has no token", what)
		}
	}
	life := time.Duration(expiresIn) * time.Second
	if life <= 0 {
		life = 2 * time.Hour
	}
	return grant{value: value, issued: issued, expires: issued.Add(life)}, nil
}

func (g grant) lifetime() time.Duration { return g.expires.Sub(g.issued) }

// fresh tells whether g is still far enough from its expiry to hand out
// without renewing it.
func (g grant) fresh(now time.Time) bool {
	return g.value != "" && now.Before(g.expires.Add(-refreshAhead(g.lifetime())))
}

// refreshAhead is how long before expiry a renewal starts: a fifth of the
// token's life, at most 10 minutes, so requests never meet an expired token.
func refreshAhead(lifetime time.Duration) time.Duration {
	return min(lifetime/5, 10*time.Minute)
}

// get returns a usable token, renewing it when it is missing or close to
// expiry.
func (e *expiring) get(ctx context.Context) (string, error) {
	e.mu.Lock()
	if e.dead != nil {
		err := e.dead
		e.mu.Unlock()
		return "", err
	}
	now := e.now()
	if e.held.fresh(now) {
		v := e.held.value
		e.mu.Unlock()
		return v, nil
	}
	stale := ""
	if e.held.value != "" && now.Before(e.held.expires) {
		stale = e.held.value
	}
	e.mu.Unlock()

	v, err := flight.Detached(ctx, &e.flight, "renew", time.Now().Add(e.budget), e.renewAndAdopt)
	if err != nil && stale != "" && ctx.Err() == nil && e.failure() == nil {
		return stale, nil
	}
	return v, err
}

// renewAndAdopt is the flight: the new token replaces the old one before any
// caller sees it.
func (e *expiring) renewAndAdopt(ctx context.Context) (string, error) {
	g, err := e.renew(ctx)
	if err != nil {
		return "", err
	}
	e.set(g)
	return g.value, nil
}

// set adopts g.
func (e *expiring) set(g grant) {
	e.mu.Lock()
	e.held = g
	e.mu.Unlock()
}

// current is the token held ("" if none).
func (e *expiring) current() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.held.value
}

// invalidate drops a token the drive refused, unless a newer one already
// replaced it (many requests may fail on the same token).
func (e *expiring) invalidate(v string) {
	e.mu.Lock()
	if e.held.value == v {
		e.held.value = ""
	}
	e.rejected = v
	e.mu.Unlock()
}

// refused tells whether the drive refused v: it must not be adopted again.
func (e *expiring) refused(v string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return v == e.rejected
}

// fail makes err permanent: the token is dropped and every caller fails
// with err from now on.
func (e *expiring) fail(err error) {
	e.mu.Lock()
	e.dead = err
	e.held.value = ""
	e.mu.Unlock()
}

// failure is the error fail made permanent, or nil.
func (e *expiring) failure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dead
}
