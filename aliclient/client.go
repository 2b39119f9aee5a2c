// Package aliclient is the drive's HTTP API client for the three drivers
// (drive, open, share): it owns an account's tokens and their renewal, the
// device session, the rate governor, the one retry loop and error decoder, and
// the calls themselves (listing, lookups, links, uploads, file management). It
// knows nothing about caching or serving.
package aliclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alilink/alilink/aliclient/tokenstore"
)

// Drive is what the rest of alilink needs from a drive, whichever driver
// (legacy refresh token, Open platform, share link) is behind it.
type Drive interface {
	// List returns every child of a folder, across all pages.
	List(ctx context.Context, folderID string) ([]File, error)
	Get(ctx context.Context, fileID string) (File, error)
	// GetByPath looks a path up from the drive's own root.
	GetByPath(ctx context.Context, path string) (File, error)
	// Link asks for a fresh download URL.
	Link(ctx context.Context, fileID string) (Link, error)
	// Health tells whether the drive can be reached with a valid token.
	Health(ctx context.Context) Health
}

// Health is the drive's state for /-/readyz. Problems are safe to show.
type Health struct {
	Ready    bool
	Problems []string
}

// Deps are the collaborators of a client that are not configuration.
type Deps struct {
	Logger *slog.Logger
	// HTTP is the client for API calls; nil means a tuned default.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Store keeps the rotated refresh token; nil means a file in cfg.StateDir
	// (StateFile names it).
	Store *tokenstore.Store
	// Observer is told about calls, waits and refreshes; nil means nobody.
	Observer Observer
	// Shared, when set, is the token state replicas share; Limiter counts the
	// account's calls across them; ReplicaLease is how long a replica may hold
	// the refresh lock (0: 15 s).
	Shared       ReplicaTokens
	Limiter      ReplicaLimiter
	ReplicaLease time.Duration
}

// New builds the driver cfg.Driver names. It fails when there is no refresh
// token to start from.
func New(cfg Config, deps Deps) (Drive, error) {
	switch cfg.Driver {
	case "open":
		return NewOpen(cfg, deps)
	case "share":
		return NewShare(cfg, deps)
	default:
		return NewDrive(cfg, deps)
	}
}

// TokenFile is the state file of a driver's refresh token. The drive and
// share drivers use the same kind of token (the legacy one), so they share it.
func TokenFile(driver string) string {
	if driver == "open" {
		return "open-token.json"
	}
	return "drive-token.json"
}

// core is what every driver has: configuration, the HTTP client, the clock,
// one account's rate governor and tokens, and the call loop (transport.go).
type core struct {
	cfg    Config
	log    *slog.Logger
	http   *http.Client
	now    func() time.Time
	obs    Observer
	limits limits
	tokens *tokens
	// dev and createSession are the legacy device session (drive driver only).
	dev           *device
	createSession func(ctx context.Context, seenGen uint64) error
	// shareToken is the share token (share driver only).
	shareToken *shareToken
	// replicas, when set, is the token state shared with other replicas
	// (replicas.go); replicaLease bounds a replica's hold of its refresh lock.
	replicas     ReplicaTokens
	replicaLease time.Duration
}

// newCore fills the defaults of deps and loads the refresh token to start from.
func newCore(cfg Config, deps Deps) (*core, string, *tokenstore.Store, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.HTTP == nil {
		deps.HTTP = newHTTPClient()
	}
	if deps.Store == nil {
		deps.Store = tokenstore.New(cfg.StateDir, StateFile(cfg))
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	for _, u := range []*string{&cfg.APIURL, &cfg.AuthURL, &cfg.OpenURL} {
		*u = strings.TrimRight(*u, "/")
	}
	if deps.ReplicaLease <= 0 {
		deps.ReplicaLease = defaultReplicaLease
	}
	c := &core{cfg: cfg, log: deps.Logger, http: deps.HTTP, now: deps.Now, obs: deps.Observer, limits: newLimits(cfg),
		replicas: deps.Shared, replicaLease: deps.ReplicaLease}
	c.limits.replicas = deps.Limiter
	rt, fromState, err := deps.Store.Load(cfg.RefreshToken)
	if errors.Is(err, tokenstore.ErrEmpty) {
		return nil, "", nil, fmt.Errorf("ALILINK_REFRESH_TOKEN: not set and no saved token in %s (get one with `alilink login`): %w", cfg.StateDir, ErrNoToken)
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("ALILINK_STATE_DIR: %w", err)
	}
	if fromState {
		c.log.Info("using the saved refresh token", "state", deps.Store.Path())
	}
	return c, rt, deps.Store, nil
}

// newHTTPClient keeps connections to the API alive; the drive closes idle ones
// after about 60 s (spec §5.3), so ours go first.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       50 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		// API calls never redirect; a redirect would carry the Authorization header elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// health reports the user token and, for the share driver, the share token.
func (c *core) health(ctx context.Context) Health {
	h := Health{Ready: true}
	if _, err := c.tokens.accessToken(ctx); err != nil {
		h.Ready = false
		h.Problems = append(h.Problems, describe(err))
	}
	if err := c.tokens.stateError(); err != nil {
		h.Problems = append(h.Problems, "the rotated refresh token could not be saved ("+err.Error()+"); it lives only in memory and a restart will need a new token")
	}
	if c.replicas != nil {
		if err := c.replicas.Ping(ctx); err != nil {
			h.Problems = append(h.Problems, "the shared state (Redis) is unreachable: serving with the tokens and links at hand, refreshing nothing")
		}
	}
	if c.shareToken != nil {
		if _, err := c.shareToken.get(ctx); err != nil {
			h.Ready = false
			h.Problems = append(h.Problems, "the share link cannot be opened: "+err.Error())
		}
	}
	return h
}

// describe turns a token failure into advice a user can act on.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrTokenDead):
		why := ""
		var ae *APIError
		if errors.As(err, &ae) && ae.Code != "" {
			why = " (" + ae.Code + ")"
		}
		return "re-authorise: the drive rejected the refresh token" + why + "; log in again (alilink login) and set ALILINK_REFRESH_TOKEN"
	case errors.Is(err, ErrBadApp):
		return err.Error()
	case errors.Is(err, ErrRateLimited):
		return "the drive is rate limiting the token refresh"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "the token refresh did not finish in time"
	default:
		return "the token refresh failed: " + err.Error()
	}
}
