package aliclient

import (
	"context"
	"fmt"
	"sync"
)

var _ Drive = (*Client)(nil)

// Client is the `drive` driver: the legacy API with a refresh token and a device
// session (spec §1, §2, §4, §5).
type Client struct {
	*core

	userMu sync.Mutex
	user   userResponse // zero until /v2/user/get succeeded

	// kind is which of the account's drives this is (account.go); owner,
	// when set, is the account's first Client, which holds /v2/user/get
	// and the device session for every drive of the account.
	kind  string
	owner *Client
}

// NewDrive builds the drive driver.
func NewDrive(cfg Config, deps Deps) (*Client, error) {
	c, rt, store, err := newCore(cfg, deps)
	if err != nil {
		return nil, err
	}
	d := &Client{core: c}
	c.dev = &device{}
	c.createSession = d.createSession
	c.tokens = newTokens(c, store, rt, c.refreshLegacy)
	return d, nil
}

// Health implements Drive: ready when a valid access token is at hand (and
// the account has the drive, account.go).
func (c *Client) Health(ctx context.Context) Health {
	return withDrive(ctx, c.health(ctx), c.kind, c.drive)
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

// pageSize is what AList and the other clients ask for (spec §4.1); the drive
// may return fewer.
const pageSize = 200

// maxPages stops a listing whose markers never end (a drive bug or a loop).
const maxPages = 10000

// List implements Drive, following next_marker until it is empty.
func (c *Client) List(ctx context.Context, folderID string) ([]File, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return nil, err
	}
	req := listRequest{
		DriveID: driveID, ParentFileID: folderID, Limit: pageSize,
		OrderBy: "name", OrderDirection: "ASC", Fields: "*", URLExpireSec: 14400,
	}
	return c.listPages(ctx, folderID, func(marker string) (listResponse, error) {
		req.Marker = marker
		var resp listResponse
		err := c.call(ctx, &epList, &req, &resp)
		return resp, err
	})
}

// listPages follows next_marker until it is empty, for every driver's listing.
func (c *core) listPages(ctx context.Context, folderID string, page func(marker string) (listResponse, error)) ([]File, error) {
	var out []File
	seen := map[string]bool{}
	marker := ""
	for range maxPages {
		resp, err := page(marker)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", folderID, err)
		}
		for i := range resp.Items {
			out = append(out, resp.Items[i].file())
		}
		if resp.NextMarker == "" {
			return out, nil
		}
		if seen[resp.NextMarker] {
			return nil, errorf(ErrUpstream, "list %s: the drive repeated a page marker", folderID)
		}
		seen[resp.NextMarker] = true
		marker = resp.NextMarker
	}
	return nil, errorf(ErrUpstream, "list %s: more than %d pages", folderID, maxPages)
}

// Get implements Drive.
func (c *Client) Get(ctx context.Context, fileID string) (File, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	var resp fileJSON
	if err := c.call(ctx, &epGet, getRequest{DriveID: driveID, FileID: fileID}, &resp); err != nil {
		return File{}, fmt.Errorf("get %s: %w", fileID, err)
	}
	return resp.file(), nil
}

// GetByPath implements Drive. The path is absolute from the drive's own root,
// not from ALILINK_ROOT_FOLDER_ID.
func (c *Client) GetByPath(ctx context.Context, path string) (File, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	var resp fileJSON
	if err := c.call(ctx, &epGetByPath, getByPathRequest{DriveID: driveID, FilePath: path}, &resp); err != nil {
		return File{}, fmt.Errorf("get_by_path: %w", err)
	}
	return resp.file(), nil
}

// Link implements Drive: a fresh download URL with its real expiry.
func (c *Client) Link(ctx context.Context, fileID string) (Link, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return Link{}, err
	}
	var resp downloadURLResponse
	req := downloadURLRequest{DriveID: driveID, FileID: fileID, ExpireSec: c.cfg.LinkExpireSec}
	if err := c.call(ctx, &epLink, req, &resp); err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	raw := resp.URL
	if raw == "" {
		raw = resp.CDNURL
	}
	l, err := newLink(raw, resp.Expiration, resp.Size, resp.ContentHash, c.now())
	if err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	return l, nil
}
