package aliclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alilink/alilink/aliclient/tokenstore"
	"github.com/alilink/alilink/internal/wait"
)

// tokens owns the refresh and access tokens of one account.
//
// The drive rotates the refresh token on every refresh (spec §1.1), so a refresh
// is never cancelled by a caller (the answer would be lost with the only valid
// token in it), runs at most once at a time, and saves the new refresh token
// before the new access token is handed to anyone: the access token is an
// expiring (expiring.go), and renew is its renewal.
type tokens struct {
	c     *core
	store *tokenstore.Store
	// refresh trades a refresh token for a new pair at the driver's endpoint.
	refresh func(ctx context.Context, refreshToken string) (tokenResponse, error)
	access  expiring

	mu      sync.Mutex
	current string // the refresh token
	saveErr error  // the last rotation could not be saved
}

func newTokens(c *core, store *tokenstore.Store, current string, refresh func(context.Context, string) (tokenResponse, error)) *tokens {
	t := &tokens{c: c, store: store, current: current, refresh: refresh}
	budget := 2 * c.cfg.Timeout
	if c.replicas != nil {
		budget += c.replicaLease // it may wait for another replica's refresh
	}
	t.access = expiring{now: c.now, budget: budget, renew: t.renew}
	// The access token saved with this very refresh token is still good
	// for the rest of its life: a restart inside it refreshes nothing.
	if saved, ok := store.Saved(); ok && saved.Refresh == current && c.now().Before(saved.Expires) {
		g := grant{value: saved.Access, issued: saved.Issued, expires: saved.Expires}
		if g.lifetime() <= 0 {
			g.issued = c.now()
		}
		t.access.set(g)
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

// accessToken returns a usable access token, refreshing when it is missing or
// close to expiry. A failed early refresh falls back to the still-valid token.
func (t *tokens) accessToken(ctx context.Context) (string, error) { return t.access.get(ctx) }

// invalidate drops an access token the drive refused.
func (t *tokens) invalidate(access string) { t.access.invalidate(access) }

// renew trades the refresh token for a new pair, on the access token's
// detached context: alone, or with the other replicas (renewWithReplicas).
func (t *tokens) renew(ctx context.Context) (grant, error) {
	if t.c.replicas != nil {
		return t.renewWithReplicas(ctx)
	}
	resp, err := t.refresh(ctx, t.currentRefresh())
	return t.adopt(ctx, resp, err)
}

// adopt is the one step after a refresh answered, on either path: a refusal
// that no retry can turn around ends the chain (permanent), an answer
// without both tokens is refused, and a good pair is made durable (in the
// replicas' shared state first, then the local file) before its access token
// is handed out.
func (t *tokens) adopt(ctx context.Context, resp tokenResponse, err error) (grant, error) {
	if err != nil {
		t.c.obs.TokenRefreshed(time.Time{}, err)
		if t.permanent(err) {
			return grant{}, err
		}
		t.c.log.Warn("token refresh failed", "err", err)
		return grant{}, fmt.Errorf("refresh access token: %w", err)
	}
	g, err := newGrant("refresh access token", resp.ExpiresIn, t.c.now(), resp.AccessToken, resp.RefreshToken)
	if err != nil {
		return grant{}, err
	}
	var replicaErr error
	if t.c.replicas != nil {
		// The other replicas read it from there; the caller holds the lock.
		replicaErr = t.c.replicas.Store(ctx, TokenState{Refresh: resp.RefreshToken, Access: g.value, Issued: g.issued, Expires: g.expires})
	}
	// Durable first: from here on the old refresh token is spent. The
	// access token goes into the same write, so a restart can use it.
	saveErr := t.store.SaveTokens(tokenstore.Tokens{Refresh: resp.RefreshToken, Access: g.value, Issued: g.issued, Expires: g.expires})
	t.mu.Lock()
	t.current = resp.RefreshToken
	t.saveErr = saveErr
	if replicaErr != nil {
		t.saveErr = fmt.Errorf("shared state: %w", replicaErr)
	}
	t.mu.Unlock()
	t.c.obs.TokenRefreshed(g.issued, nil)
	switch {
	case replicaErr != nil:
		t.c.log.Error("COULD NOT STORE THE ROTATED REFRESH TOKEN IN THE SHARED STATE: the other replicas hold a spent one",
			"err", replicaErr)
	case t.c.replicas != nil:
		t.c.log.Info("access token refreshed for all replicas", "expires_in", g.lifetime().String())
	case saveErr != nil:
		t.c.log.Error("COULD NOT SAVE THE ROTATED REFRESH TOKEN: serving on with it in memory, but a restart will need a new token",
			"state", t.store.Path(), "err", saveErr)
	default:
		t.c.log.Info("access token refreshed", "expires_in", g.lifetime().String())
	}
	return g, nil
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
	t.access.fail(err)
	if errors.Is(err, ErrBadApp) {
		t.c.log.Error("the Open platform refused the app's credentials; fix the variable named and restart", "err", err)
	} else {
		t.c.log.Error("the drive rejected the refresh token: re-authorise (alilink login) and set ALILINK_REFRESH_TOKEN", "err", err)
	}
	return true
}

// renewWithReplicas is renew when replicas share the token (ReplicaTokens):
// adopt a fresh pair another replica stored; else take the lock, look again,
// refresh with the shared refresh token and store the rotated pair before
// anyone uses it; while another replica holds the lock, wait for its pair.
// When the shared state is unreachable nothing is refreshed: the caller keeps
// its still-valid token, or fails.
func (t *tokens) renewWithReplicas(ctx context.Context) (grant, error) {
	rs := t.c.replicas
	st, ok, err := rs.Load(ctx)
	if err != nil {
		return grant{}, fmt.Errorf("%w: %v", ErrSharedDown, err)
	}
	if !ok || st.Refresh == "" {
		if st, err = rs.Seed(ctx, t.currentRefresh(), t.store.Seed()); err != nil {
			return grant{}, fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
	}
	for {
		if g, done, err := t.adoptShared(st); done {
			return g, err
		}
		release, got, err := rs.Lock(ctx, t.c.replicaLease)
		if err != nil {
			return grant{}, fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
		if got {
			return t.refreshLocked(ctx, release)
		}
		// Another replica is refreshing: its pair will appear, or its lease end.
		if !wait.Sleep(ctx, 100*time.Millisecond) {
			return grant{}, fmt.Errorf("refresh access token: waiting for another replica: %w", ctx.Err())
		}
		if st, _, err = rs.Load(ctx); err != nil {
			return grant{}, fmt.Errorf("%w: %v", ErrSharedDown, err)
		}
	}
}

// adoptShared uses the shared state if it holds a usable token, or a dead mark.
func (t *tokens) adoptShared(st TokenState) (grant, bool, error) {
	if st.Dead {
		err := errorf(ErrTokenDead, "refresh access token: another replica found the refresh token dead")
		t.access.fail(err)
		return grant{}, true, err
	}
	g := grant{value: st.Access, issued: st.Issued, expires: st.Expires}
	if !g.fresh(t.c.now()) || t.access.refused(st.Access) {
		return grant{}, false, nil
	}
	t.mu.Lock()
	t.current = st.Refresh
	t.mu.Unlock()
	return g, true, nil
}

// refreshLocked refreshes with the lock held: look once more (another replica
// may have finished just before), then rotate and adopt.
func (t *tokens) refreshLocked(ctx context.Context, release func()) (grant, error) {
	defer release()
	rs := t.c.replicas
	st, _, err := rs.Load(ctx)
	if err != nil {
		return grant{}, fmt.Errorf("%w: %v", ErrSharedDown, err)
	}
	if g, done, err := t.adoptShared(st); done {
		return g, err
	}
	resp, err := t.refresh(ctx, st.Refresh)
	if errors.Is(err, ErrTokenDead) {
		// Every replica must stop trying it: mark it dead for all. A
		// refused app is this replica's configuration, not the shared
		// token's fault: the shared state stays as it is.
		st.Dead, st.Access = true, ""
		if serr := rs.Store(ctx, st); serr != nil {
			t.c.log.Warn("could not mark the dead refresh token in the shared state", "err", serr)
		}
	}
	return t.adopt(ctx, resp, err)
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
