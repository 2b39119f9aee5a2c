package aliclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Share link endpoints (spec §6).
var (
	epShareToken = endpoint{name: "share/token", path: "/v2/share_link/get_share_token", class: classOther, web: true}
	epShareList  = endpoint{name: "share/list", path: "/adrive/v3/file/list", class: classList, web: true, share: true}
	epShareLink  = endpoint{name: "share/download_url", path: "/v2/file/get_share_link_download_url", class: classLink,
		auth: authLegacy, web: true, share: true}
)

// maxShareExpireSec is the service's cap on share download links (spec §6).
const maxShareExpireSec = 600

var _ Drive = (*ShareClient)(nil)

// ShareClient is the `share` driver: someone's share link, read with a share
// token, its files downloaded with the user's own access token as well
// (spec §6). ALILINK_ROOT_FOLDER_ID "root" is the shared folder.
type ShareClient struct {
	*core

	driveMu sync.Mutex
	driveID string // the sharer's drive, learnt from a listing
}

// NewShare builds the share driver.
func NewShare(cfg Config, deps Deps) (*ShareClient, error) {
	c, rt, store, err := newCore(cfg, deps)
	if err != nil {
		return nil, err
	}
	s := &ShareClient{core: c}
	c.tokens = newTokens(c, store, rt, c.refreshLegacy)
	c.share = &shareTokens{c: c, id: cfg.ShareID, pwd: cfg.SharePwd}
	return s, nil
}

// Health implements Drive: the user's token and the share token.
func (s *ShareClient) Health(ctx context.Context) Health { return s.health(ctx) }

// List implements Drive.
func (s *ShareClient) List(ctx context.Context, folderID string) ([]File, error) {
	req := shareListRequest{ShareID: s.cfg.ShareID, ParentFileID: folderID, Limit: openPageSize, OrderBy: "name", OrderDirection: "ASC"}
	return s.listPages(ctx, folderID, func(marker string) (listResponse, error) {
		req.Marker = marker
		var resp listResponse
		if err := s.call(ctx, &epShareList, &req, &resp); err != nil {
			return resp, err
		}
		if len(resp.Items) > 0 {
			s.setDrive(resp.Items[0].DriveID)
		}
		return resp, nil
	})
}

func (s *ShareClient) setDrive(id string) {
	s.driveMu.Lock()
	if s.driveID == "" {
		s.driveID = id
	}
	s.driveMu.Unlock()
}

// drive returns the sharer's drive id, listing the share's root to learn it
// if no listing has yet (AList remembers it the same way).
func (s *ShareClient) drive(ctx context.Context) (string, error) {
	s.driveMu.Lock()
	id := s.driveID
	s.driveMu.Unlock()
	if id != "" {
		return id, nil
	}
	if _, err := s.List(ctx, "root"); err != nil {
		return "", err
	}
	s.driveMu.Lock()
	defer s.driveMu.Unlock()
	if s.driveID == "" {
		return "", errorf(ErrNotFound, "the share is empty")
	}
	return s.driveID, nil
}

// Get implements Drive; a share has no lookup by id that AList relies on.
func (s *ShareClient) Get(context.Context, string) (File, error) {
	return File{}, fmt.Errorf("share driver: get by id: %w", errors.ErrUnsupported)
}

// GetByPath implements Drive; paths are resolved by listing instead.
func (s *ShareClient) GetByPath(context.Context, string) (File, error) {
	return File{}, fmt.Errorf("share driver: get by path: %w", errors.ErrUnsupported)
}

// Link implements Drive: a download link that lives at most 600 s.
func (s *ShareClient) Link(ctx context.Context, fileID string) (Link, error) {
	d, err := s.drive(ctx)
	if err != nil {
		return Link{}, err
	}
	req := shareLinkRequest{DriveID: d, FileID: fileID, ShareID: s.cfg.ShareID, ExpireSec: min(s.cfg.LinkExpireSec, maxShareExpireSec)}
	var resp shareLinkResponse
	if err := s.call(ctx, &epShareLink, req, &resp); err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	raw := resp.DownloadURL
	if raw == "" {
		raw = resp.URL
	}
	l, err := newLink(raw, "", 0, "", s.now())
	if err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	return l, nil
}

// shareTokens keeps the share token: fetched without the user's token,
// renewed ahead of its expiry and when the drive refuses it, once for many
// requests.
type shareTokens struct {
	c       *core
	id, pwd string

	mu      sync.Mutex
	token   string
	expires time.Time
	life    time.Duration
	flight  singleflight.Group
}

func (t *shareTokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.token != "" && t.c.now().Before(t.expires.Add(-refreshAhead(t.life))) {
		tok := t.token
		t.mu.Unlock()
		return tok, nil
	}
	t.mu.Unlock()
	ch := t.flight.DoChan("share", func() (any, error) { return t.fetch() })
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// fetch asks for a new share token, detached from any one caller.
func (t *shareTokens) fetch() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*t.c.cfg.Timeout)
	defer cancel()
	var resp shareTokenResponse
	if err := t.c.call(ctx, &epShareToken, shareTokenRequest{ShareID: t.id, SharePwd: t.pwd}, &resp); err != nil {
		return "", fmt.Errorf("share token: %w", err)
	}
	if resp.ShareToken == "" {
		return "", errorf(ErrUpstream, "share token: the answer has no token")
	}
	life := time.Duration(resp.ExpiresIn) * time.Second
	if life <= 0 {
		life = 2 * time.Hour
	}
	t.mu.Lock()
	t.token, t.life, t.expires = resp.ShareToken, life, t.c.now().Add(life)
	t.mu.Unlock()
	t.c.log.Info("share token renewed", "expires_in", life.String())
	return resp.ShareToken, nil
}

// invalidate drops a share token the drive refused, unless already replaced.
func (t *shareTokens) invalidate(tok string) {
	t.mu.Lock()
	if t.token == tok {
		t.token = ""
	}
	t.mu.Unlock()
}
