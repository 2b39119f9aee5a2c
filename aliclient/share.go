package aliclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/alilink/alilink/internal/flight"
	"github.com/alilink/alilink/internal/wait"
)

// Share link endpoints (spec §6). The share download endpoint
// (get_share_link_download_url) is offline (spec §13.7) and no longer
// called: files are played from copies (sharecopy.go).
var (
	epShareToken = endpoint{name: "share/token", path: "/v2/share_link/get_share_token", class: classOther, web: true}
	epShareList  = endpoint{name: "share/list", path: "/adrive/v3/file/list", class: classList, web: true, share: true}
)

// paramFlowRetries bounds the retries of a share listing the service
// refuses with ParamFlowException (power721 retries ten times, spec §13.5);
// the call loop already retries it when it comes as a 429.
const paramFlowRetries = 3

var _ Drive = (*ShareClient)(nil)

// ShareClient is the `share` driver: someone's share link, listed with a
// share token, its files played by copying them into the user's own drive
// and linking the copy (spec §6, §15). ALILINK_ROOT_FOLDER_ID "root" is the
// shared folder.
type ShareClient struct {
	*core
	// own is the user's own drive (the legacy API, with the device
	// session): the temp folder, the copies' links and their deletion.
	own *Client

	targetMu sync.Mutex
	tgt      shareTarget // zero until found

	// copyFlight makes one copy per file however many ask at once.
	copyFlight singleflight.Group

	pendMu  sync.Mutex
	pending map[string]*time.Timer // copy id → its deletion
	closed  bool

	// sweepOnce starts the sweep of the temp folder on the first healthy
	// Health (serve's warm-up at start); stop ends it early (Close).
	sweepOnce sync.Once
	stopCtx   context.Context
	stop      context.CancelFunc
}

// NewShare builds the share driver.
func NewShare(cfg Config, deps Deps) (*ShareClient, error) {
	c, rt, store, err := newCore(cfg, deps)
	if err != nil {
		return nil, err
	}
	own := &Client{core: c}
	c.dev = &device{}
	c.createSession = own.createSession
	c.tokens = newTokens(c, store, rt, c.refreshLegacy)
	c.shareToken = newShareToken(c, cfg.ShareID, cfg.SharePwd)
	s := &ShareClient{core: c, own: own, pending: make(map[string]*time.Timer)}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Health implements Drive: the user's token and the share token. The first
// healthy answer (alilink checks at start) starts the sweep of the temp
// folder in the background.
func (s *ShareClient) Health(ctx context.Context) Health {
	h := s.health(ctx)
	if h.Ready {
		s.sweepOnce.Do(func() { go s.sweepAtStart() })
	}
	return h
}

func (s *ShareClient) sweepAtStart() {
	ctx, cancel := context.WithTimeout(s.stopCtx, 4*s.cfg.Timeout)
	defer cancel()
	if err := s.Sweep(ctx); err != nil && s.stopCtx.Err() == nil {
		s.log.Warn("share temp folder: the sweep at start failed; leftovers stay until the next start", "err", err)
	}
}

// List implements Drive. A share listing refused with AccessTokenInvalid
// (it carries no access token: the share token is meant) renews the share
// token and starts again, as AList does (spec §13.5).
func (s *ShareClient) List(ctx context.Context, folderID string) ([]File, error) {
	items, err := s.list(ctx, folderID)
	if errors.Is(err, ErrUnauthorized) {
		s.shareToken.invalidate(s.shareToken.current())
		items, err = s.list(ctx, folderID)
	}
	return items, err
}

func (s *ShareClient) list(ctx context.Context, folderID string) ([]File, error) {
	req := shareListRequest{ShareID: s.cfg.ShareID, ParentFileID: folderID, Limit: openPageSize, OrderBy: "name", OrderDirection: "ASC"}
	return s.listPages(ctx, folderID, func(marker string) (listResponse, error) {
		req.Marker = marker
		var resp listResponse
		for n := 0; ; n++ {
			err := s.call(ctx, &epShareList, &req, &resp)
			var ae *APIError
			if err != nil && n < paramFlowRetries && errors.As(err, &ae) && ae.Code == "ParamFlowException" && wait.Sleep(ctx, backoff(n)) {
				continue
			}
			return resp, err
		}
	})
}

// Get implements Drive; a share has no lookup by id that AList relies on.
func (s *ShareClient) Get(context.Context, string) (File, error) {
	return File{}, fmt.Errorf("share driver: get by id: %w", errors.ErrUnsupported)
}

// GetByPath implements Drive; paths are resolved by listing instead.
func (s *ShareClient) GetByPath(context.Context, string) (File, error) {
	return File{}, fmt.Errorf("share driver: get by path: %w", errors.ErrUnsupported)
}

// Link implements Drive: the file is copied into the user's temp folder and
// the copy linked (spec §15); the copy is deleted ALILINK_SHARE_DELETE_AFTER
// after the link expires. Concurrent calls for one file make one copy; the
// resolver's link cache (and its Redis lock across replicas) keeps it to
// one per link lifetime.
func (s *ShareClient) Link(ctx context.Context, fileID string) (Link, error) {
	return flight.Detached(ctx, &s.copyFlight, fileID, flight.Deadline(ctx, 4*s.cfg.Timeout), func(ctx context.Context) (Link, error) {
		return s.play(ctx, fileID)
	})
}

// shareToken is the share token (spec §6): an expiring fetched without the
// user's token, renewed ahead of its expiry and when the drive refuses it,
// once for many requests.
type shareToken struct {
	expiring
	c       *core
	id, pwd string
}

func newShareToken(c *core, id, pwd string) *shareToken {
	t := &shareToken{c: c, id: id, pwd: pwd}
	t.expiring = expiring{now: c.now, budget: 2 * c.cfg.Timeout, renew: t.fetch}
	return t
}

// fetch asks for a new share token.
func (t *shareToken) fetch(ctx context.Context) (grant, error) {
	var resp shareTokenResponse
	if err := t.c.call(ctx, &epShareToken, shareTokenRequest{ShareID: t.id, SharePwd: t.pwd}, &resp); err != nil {
		return grant{}, fmt.Errorf("share token: %w", err)
	}
	g, err := newGrant("share token", resp.ExpiresIn, t.c.now(), resp.ShareToken)
	if err != nil {
		return grant{}, err
	}
	t.c.log.Info("share token renewed", "expires_in", g.lifetime().String())
	return g, nil
}
