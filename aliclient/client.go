// Package aliclient is the drive's HTTP API client: token refresh and rotation,
// the device session, listing, lookups and download links, typed errors and one
// retry policy. It knows nothing about caching or serving.
package aliclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
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

// Deps are the collaborators of a Client that are not configuration.
type Deps struct {
	Logger *slog.Logger
	// HTTP is the client for API calls; nil means a tuned default.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Store keeps the rotated refresh token; nil means a file in cfg.StateDir.
	Store *tokenstore.Store
}

var _ Drive = (*Client)(nil)

// Client is the `drive` driver: the legacy API with a refresh token and a device
// session (spec §1, §2, §4, §5).
type Client struct {
	cfg    Config
	log    *slog.Logger
	http   *http.Client
	now    func() time.Time
	tokens *tokens
	limits limits
	dev    device

	userMu sync.Mutex
	user   userResponse // zero until /v2/user/get succeeded
}

// New builds a client. It fails when there is no refresh token to start from.
func New(cfg Config, deps Deps) (*Client, error) {
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
		deps.Store = tokenstore.New(cfg.StateDir, cfg.Driver+"-token.json")
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.AuthURL = strings.TrimRight(cfg.AuthURL, "/")
	c := &Client{cfg: cfg, log: deps.Logger, http: deps.HTTP, now: deps.Now, limits: newLimits(cfg)}
	rt, fromState, err := deps.Store.Load(cfg.RefreshToken)
	if errors.Is(err, tokenstore.ErrEmpty) {
		return nil, fmt.Errorf("ALILINK_REFRESH_TOKEN: not set and no saved token in %s (get one with `alilink login`): %w", cfg.StateDir, ErrNoToken)
	}
	if err != nil {
		return nil, fmt.Errorf("ALILINK_STATE_DIR: %w", err)
	}
	if fromState {
		c.log.Info("using the saved refresh token", "state", deps.Store.Path())
	}
	c.tokens = newTokens(c, deps.Store, rt)
	return c, nil
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

// Health implements Drive: ready when a valid access token is at hand.
func (c *Client) Health(ctx context.Context) Health {
	h := Health{Ready: true}
	if _, err := c.tokens.accessToken(ctx); err != nil {
		h.Ready = false
		h.Problems = append(h.Problems, describe(err))
	}
	if err := c.tokens.stateError(); err != nil {
		h.Problems = append(h.Problems, "the rotated refresh token could not be saved ("+err.Error()+"); it lives only in memory and a restart will need a new token")
	}
	return h
}

// describe turns a token failure into advice a user can act on.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrTokenDead):
		return "the drive rejected the refresh token: get a new one (alilink login) and set ALILINK_REFRESH_TOKEN"
	case errors.Is(err, ErrRateLimited):
		return "the drive is rate limiting the token refresh"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "the token refresh did not finish in time"
	default:
		return "the token refresh failed: " + err.Error()
	}
}

// ensureUser fetches the user id and drive id once (spec §2.1 step 1).
func (c *Client) ensureUser(ctx context.Context) (userResponse, error) {
	c.userMu.Lock()
	defer c.userMu.Unlock()
	if c.user.UserID != "" {
		return c.user, nil
	}
	var u userResponse
	if err := c.call(ctx, &epUser, struct{}{}, &u); err != nil {
		return u, err
	}
	if u.UserID == "" || u.DefaultDriveID == "" {
		return u, errorf(ErrUpstream, "user/get: no user_id or default_drive_id in the answer")
	}
	c.user = u
	c.dev.init(u.UserID)
	return u, nil
}
