package aliclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/alilink/alilink/aliclient/tokenstore"
	"github.com/alilink/alilink/internal/wait"
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
	dead     error  // the refresh token was refused: permanent until restart
	saveErr  error  // the last rotation could not be saved
	rejected string // an access token the drive refused: never adopt it again

	flight singleflight.Group
}

func newTokens(c *core, store *tokenstore.Store, current string, refresh func(context.Context, string) (tokenResponse, error)) *tokens {
	t := &tokens{c: c, store: store, current: current, refresh: refresh}
	// The access token saved with this very refresh token is still good
	// for the rest of its life: a restart inside it refreshes nothing.
	if saved, ok := store.Saved(); ok && saved.Refresh == current && c.now().Before(saved.Expires) {
		t.access, t.expires, t.lifetime = saved.Access, saved.Expires, saved.Expires.Sub(saved.Issued)
		if t.lifetime <= 0 {
			t.lifetime = saved.Expires.Sub(c.now())
		}
		c.log.Info("using the saved access token", "expires_in", saved.Expires.Sub(c.now()).Round(time.Second).String())
	}
	return t
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
	if t.c.shared != nil {
		return t.refreshShared()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*t.c.cfg.Timeout)
	defer cancel()
	t.mu.Lock()
	rt := t.current
	t.mu.Unlock()

	resp, err := t.refresh(ctx, rt)
	if err != nil {
		t.c.obs.TokenRefreshed(time.Time{}, err)
		if t.permanent(err) {
			return "", err
		}
		t.c.log.Warn("token refresh failed", "err", err)
		return "", fmt.Errorf("refresh access token: %w", err)
	}
	if resp.AccessToken == "" || resp.RefreshToken == "" {
		return "", errorf(ErrUpstream, "refresh access token: the answer has no tokens")
	}
	lifetime := time.Duration(resp.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = 2 * time.Hour
	}
	issued := t.c.now()
	// Durable first: from here on the old refresh token is spent. The
	// access token goes into the same write, so a restart can use it.
	saveErr := t.store.SaveTokens(tokenstore.Tokens{Refresh: resp.RefreshToken, Access: resp.AccessToken,
		Issued: issued, Expires: issued.Add(lifetime)})
	t.mu.Lock()
	t.current = resp.RefreshToken
	t.access = resp.AccessToken
	t.lifetime = lifetime
	t.expires = issued.Add(lifetime)
	t.saveErr = saveErr
	t.mu.Unlock()
	t.c.obs.TokenRefreshed(issued, nil)
	if saveErr != nil {
		t.c.log.Error("COULD NOT SAVE THE ROTATED REFRESH TOKEN: serving on with it in memory, but a restart will need a new token",
			"state", t.store.Path(), "err", saveErr)
	} else {
		t.c.log.Info("access token refreshed", "expires_in", lifetime.String())
	}
	return resp.AccessToken, nil
}

// permanent records a refusal that no retry of the same refresh token can
// turn around (spec §13.3): a dead token (log in again) or a refused app
// (fix the configuration). From then on every caller fails at once with it,
// without asking the drive again, until a restart with a new token or
// configuration: a dead token must not cause a storm of refreshes.
func (t *tokens) permanent(err error) bool {
	if !errors.Is(err, ErrTokenDead) && !errors.Is(err, ErrBadApp) {
		return false
	}
	t.mu.Lock()
	t.dead = err
	t.access = ""
	t.mu.Unlock()
	if errors.Is(err, ErrBadApp) {
		t.c.log.Error("the Open platform refused the app's credentials; fix the variable named and restart", "err", err)
	} else {
		t.c.log.Error("the drive rejected the refresh token: re-authorise (alilink login) and set ALILINK_REFRESH_TOKEN", "err", err)
	}
	return true
}

// invalidate drops an access token the drive refused, unless a newer one
// already replaced it (many requests may fail on the same token).
func (t *tokens) invalidate(access string) {
	t.mu.Lock()
	if t.access == access {
		t.access = ""
	}
	t.rejected = access
	t.mu.Unlock()
}

// refreshShared is doRefresh when replicas share the token (SharedTokens):
// adopt a fresh pair another replica stored; else take the lock, look again,
// refresh with the shared refresh token and store the rotated pair before
// anyone uses it; while another replica holds the lock, wait for its pair.
// When the shared state is unreachable nothing is refreshed: the caller keeps
// its still-valid token, or fails.
func (t *tokens) refreshShared() (string, error) {
	sh := t.c.shared
	ctx, cancel := context.WithTimeout(context.Background(), t.c.sharedLease+2*t.c.cfg.Timeout)
	defer cancel()
	st, ok, err := sh.Load(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSharedDown, err)
	}
	if !ok || st.Refresh == "" {
		t.mu.Lock()
		rt := t.current
		t.mu.Unlock()
		if st, err = sh.Seed(ctx, rt, t.store.Seed()); err != nil {
			return "", fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
	}
	for {
		if tok, done, err := t.adoptShared(st); done {
			return tok, err
		}
		release, got, err := sh.Lock(ctx, t.c.sharedLease)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
		if got {
			return t.refreshLocked(ctx, release)
		}
		// Another replica is refreshing: its pair will appear, or its lease end.
		if !wait.Sleep(ctx, 100*time.Millisecond) {
			return "", fmt.Errorf("refresh access token: waiting for another replica: %w", ctx.Err())
		}
		if st, _, err = sh.Load(ctx); err != nil {
			return "", fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
	}
}

// adoptShared uses the shared state if it holds a usable token, or a dead mark.
func (t *tokens) adoptShared(st SharedToken) (string, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st.Dead {
		t.dead = errorf(ErrTokenDead, "refresh access token: another replica found the refresh token dead")
		t.access = ""
		return "", true, t.dead
	}
	now := t.c.now()
	life := st.Expires.Sub(st.Issued)
	if st.Access == "" || st.Access == t.rejected || !now.Before(st.Expires.Add(-refreshAhead(life))) {
		return "", false, nil
	}
	t.current, t.access, t.expires, t.lifetime = st.Refresh, st.Access, st.Expires, life
	return st.Access, true, nil
}

// refreshLocked refreshes with the lock held: look once more (another replica
// may have finished just before), then rotate, store, adopt.
func (t *tokens) refreshLocked(ctx context.Context, release func()) (string, error) {
	defer release()
	sh := t.c.shared
	st, _, err := sh.Load(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSharedDown, err)
	}
	if tok, done, err := t.adoptShared(st); done {
		return tok, err
	}
	resp, err := t.refresh(ctx, st.Refresh)
	if err != nil {
		t.c.obs.TokenRefreshed(time.Time{}, err)
		if errors.Is(err, ErrTokenDead) {
			// Every replica must stop trying it: mark it dead for all.
			st.Dead, st.Access = true, ""
			if serr := sh.Store(ctx, st); serr != nil {
				t.c.log.Warn("could not mark the dead refresh token in the shared state", "err", serr)
			}
		}
		// A refused app is this replica's configuration, not the shared
		// token's fault: it stops here and the shared state stays as it is.
		if t.permanent(err) {
			return "", err
		}
		return "", fmt.Errorf("refresh access token: %w", err)
	}
	if resp.AccessToken == "" || resp.RefreshToken == "" {
		return "", errorf(ErrUpstream, "refresh access token: the answer has no tokens")
	}
	issued := t.c.now()
	lifetime := time.Duration(resp.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = 2 * time.Hour
	}
	next := SharedToken{Refresh: resp.RefreshToken, Access: resp.AccessToken, Issued: issued, Expires: issued.Add(lifetime)}
	// Shared first (the other replicas read it), then the local file as a
	// backup for a restart while the shared state is gone.
	shareErr := sh.Store(ctx, next)
	saveErr := t.store.SaveTokens(tokenstore.Tokens{Refresh: next.Refresh, Access: next.Access, Issued: next.Issued, Expires: next.Expires})
	t.mu.Lock()
	t.current, t.access, t.expires, t.lifetime = next.Refresh, next.Access, next.Expires, lifetime
	t.saveErr = saveErr
	if shareErr != nil {
		t.saveErr = fmt.Errorf("shared state: %w", shareErr)
	}
	t.mu.Unlock()
	t.c.obs.TokenRefreshed(issued, nil)
	if shareErr != nil {
		t.c.log.Error("COULD NOT STORE THE ROTATED REFRESH TOKEN IN THE SHARED STATE: the other replicas hold a spent one",
			"err", shareErr)
	} else {
		t.c.log.Info("access token refreshed for all replicas", "expires_in", lifetime.String())
	}
	return resp.AccessToken, nil
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
