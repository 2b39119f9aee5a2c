package aliclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/alilink/alilink/aliclient/tokenstore"
)

// tokens owns the refresh and access tokens of one account.
//
// The drive rotates the refresh token on every refresh (spec §1.1), so a refresh
// is never cancelled by a caller (the answer would be lost with the only valid
// token in it), runs at most once at a time (single-flight), and saves the new
// refresh token before the new access token is handed to anyone.
type tokens struct {
	c     *core
	store *tokenstore.Store
	// refresh trades a refresh token for a new pair at the driver's endpoint.
	refresh func(ctx context.Context, refreshToken string) (tokenResponse, error)

	mu       sync.Mutex
	current  string // the refresh token
	access   string
	expires  time.Time
	lifetime time.Duration
	dead     error // the refresh token was refused: permanent until restart
	saveErr  error // the last rotation could not be saved

	flight singleflight.Group
}

func newTokens(c *core, store *tokenstore.Store, current string, refresh func(context.Context, string) (tokenResponse, error)) *tokens {
	return &tokens{c: c, store: store, current: current, refresh: refresh}
}

// refreshLegacy is the refresh of the drive and share drivers (spec §1.1).
func (c *core) refreshLegacy(ctx context.Context, rt string) (tokenResponse, error) {
	var resp tokenResponse
	err := c.call(ctx, &epToken, tokenRequest{RefreshToken: rt, GrantType: "refresh_token"}, &resp)
	return resp, err
}

// refreshAhead is how long before expiry a refresh starts: a fifth of the
// token's life, at most 10 minutes, so requests never meet an expired token.
func refreshAhead(lifetime time.Duration) time.Duration {
	return min(lifetime/5, 10*time.Minute)
}

// accessToken returns a usable access token, refreshing when it is missing or
// close to expiry. A failed early refresh falls back to the still-valid token.
func (t *tokens) accessToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.dead != nil {
		err := t.dead
		t.mu.Unlock()
		return "", err
	}
	now := t.c.now()
	if t.access != "" && now.Before(t.expires.Add(-refreshAhead(t.lifetime))) {
		a := t.access
		t.mu.Unlock()
		return a, nil
	}
	stale := ""
	if t.access != "" && now.Before(t.expires) {
		stale = t.access
	}
	t.mu.Unlock()

	ch := t.flight.DoChan("refresh", func() (any, error) { return t.doRefresh() })
	select {
	case r := <-ch:
		if r.Err != nil {
			if stale != "" && !errors.Is(r.Err, ErrTokenDead) {
				return stale, nil
			}
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// doRefresh trades the refresh token for a new pair. It runs detached from any
// request so that a client hanging up cannot lose the rotated token.
func (t *tokens) doRefresh() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*t.c.cfg.Timeout)
	defer cancel()
	t.mu.Lock()
	rt := t.current
	t.mu.Unlock()

	resp, err := t.refresh(ctx, rt)
	if err != nil {
		if errors.Is(err, ErrTokenDead) {
			t.mu.Lock()
			t.dead = err
			t.access = ""
			t.mu.Unlock()
			t.c.log.Error("the drive rejected the refresh token; get a new one (alilink login) and set ALILINK_REFRESH_TOKEN",
				"err", err)
			return "", err
		}
		t.c.log.Warn("token refresh failed", "err", err)
		return "", fmt.Errorf("refresh access token: %w", err)
	}
	if resp.AccessToken == "" || resp.RefreshToken == "" {
		return "", errorf(ErrUpstream, "refresh access token: the answer has no tokens")
	}
	// Durable first: from here on the old refresh token is spent.
	saveErr := t.store.Save(resp.RefreshToken)
	lifetime := time.Duration(resp.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = 2 * time.Hour
	}
	t.mu.Lock()
	t.current = resp.RefreshToken
	t.access = resp.AccessToken
	t.lifetime = lifetime
	t.expires = t.c.now().Add(lifetime)
	t.saveErr = saveErr
	t.mu.Unlock()
	if saveErr != nil {
		t.c.log.Error("COULD NOT SAVE THE ROTATED REFRESH TOKEN: serving on with it in memory, but a restart will need a new token",
			"state", t.store.Path(), "err", saveErr)
	} else {
		t.c.log.Info("access token refreshed", "expires_in", lifetime.String())
	}
	return resp.AccessToken, nil
}

// invalidate drops an access token the drive refused, unless a newer one
// already replaced it (many requests may fail on the same token).
func (t *tokens) invalidate(access string) {
	t.mu.Lock()
	if t.access == access {
		t.access = ""
	}
	t.mu.Unlock()
}

func (t *tokens) currentRefresh() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

func (t *tokens) stateError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.saveErr
}
