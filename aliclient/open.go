package aliclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Open platform endpoints (spec §3.3).
var (
	epOpenToken     = endpoint{name: "open/token", host: hostOpen, path: "/oauth/access_token"}
	epOpenBroker    = endpoint{name: "open/token", host: hostBroker}
	epDriveInfo     = endpoint{name: "open/drive_info", host: hostOpen, path: "/adrive/v1.0/user/getDriveInfo", class: classOther, auth: authOpen}
	epOpenList      = endpoint{name: "open/list", host: hostOpen, path: "/adrive/v1.0/openFile/list", class: classList, auth: authOpen}
	epOpenGet       = endpoint{name: "open/get", host: hostOpen, path: "/adrive/v1.0/openFile/get", class: classOther, auth: authOpen}
	epOpenGetByPath = endpoint{name: "open/get_by_path", host: hostOpen, path: "/adrive/v1.0/openFile/get_by_path", class: classOther, auth: authOpen}
	epOpenLink      = endpoint{name: "open/download_url", host: hostOpen, path: "/adrive/v1.0/openFile/getDownloadUrl", class: classLink, auth: authOpen}
)

// openPageSize is the Open API's largest page.
const openPageSize = 100

var _ Drive = (*OpenClient)(nil)

// OpenClient is the `open` driver: the Aliyundrive Open platform with the
// user's own app (spec §3). Its links need no Referer, and the CDN refuses
// one (spec §5.3).
type OpenClient struct {
	*core

	driveMu sync.Mutex
	driveID string // of kind, once getDriveInfo answered

	// kind is which of the account's drives this is (cfg.OpenDriveType, or
	// the account's choice, account.go); infos is the account's
	// getDriveInfo answer, asked once for all its drives.
	kind  string
	infos *driveInfos
}

// NewOpen builds the open driver.
func NewOpen(cfg Config, deps Deps) (*OpenClient, error) {
	c, rt, store, err := newCore(cfg, deps)
	if err != nil {
		return nil, err
	}
	o := &OpenClient{core: c, kind: cfg.OpenDriveType, infos: &driveInfos{}}
	c.tokens = newTokens(c, store, rt, c.refreshOpen)
	return o, nil
}

// refreshOpen trades the refresh token at the Open platform with the user's
// app, or at the token broker the user named (never an implicit one). The
// new refresh token must belong to the same user as the old one (the JWT
// "sub", as AList checks): a broker that hands back someone else's token must
// not replace ours.
func (c *core) refreshOpen(ctx context.Context, rt string) (tokenResponse, error) {
	req := openTokenRequest{ClientID: c.cfg.OpenClientID, ClientSecret: c.cfg.OpenClientSecret, GrantType: "refresh_token", RefreshToken: rt}
	ep := &epOpenToken
	broker := c.usesBroker()
	if broker {
		// A broker adds its own app; a secret of ours never leaves for it
		// (spec §13.4; config validation refuses the combination anyway).
		ep, req.ClientID, req.ClientSecret = &epOpenBroker, "", ""
	}
	var resp tokenResponse
	if err := c.call(ctx, ep, req, &resp); err != nil {
		return resp, badAppError(err, broker)
	}
	if old, ok := jwtSubject(rt); ok {
		if sub, ok := jwtSubject(resp.RefreshToken); !ok || sub != old {
			return tokenResponse{}, errorf(ErrUpstream, "refresh: the new refresh token belongs to another user (sub does not match); it was not saved")
		}
	}
	return resp, nil
}

// usesBroker tells whether the refresh goes to ALILINK_OPEN_TOKEN_URL: only
// when no app of the user's own is configured, as AList does (spec §13.4).
func (c *core) usesBroker() bool { return c.cfg.OpenTokenURL != "" && c.cfg.OpenClientID == "" }

// badAppError names the variable behind a refusal of the app (spec §13.3).
func badAppError(err error, broker bool) error {
	var ae *APIError
	if !errors.Is(err, ErrBadApp) || !errors.As(err, &ae) {
		return err
	}
	switch {
	case broker:
		return fmt.Errorf("ALILINK_OPEN_TOKEN_URL: the token broker's app was refused by the Open platform (%s); use another broker or an app of your own: %w", ae.Code, err)
	case ae.Code == "InvalidClientSecret":
		return fmt.Errorf("ALILINK_OPEN_CLIENT_SECRET: the Open platform refused the client secret (%s); set the secret of your app: %w", ae.Code, err)
	default:
		return fmt.Errorf("ALILINK_OPEN_CLIENT_ID: the Open platform does not know this app (%s); set the client id of your app: %w", ae.Code, err)
	}
}

// jwtSubject reads the "sub" claim of a JWT-shaped token without checking its
// signature (we only compare two tokens' subjects). AList decodes the payload
// with standard raw base64 (spec §3.1); URL-safe is accepted too.
func jwtSubject(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[1])
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return "", false
		}
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Sub == "" {
		return "", false
	}
	return claims.Sub, true
}

// Health implements Drive.
func (o *OpenClient) Health(ctx context.Context) Health {
	return withDrive(ctx, o.health(ctx), o.kind, o.drive)
}

// drive returns the id of the drive kind names (ALILINK_OPEN_DRIVE_TYPE, or
// the mount's drive), from the account's getDriveInfo (spec §3.2, §16).
func (o *OpenClient) drive(ctx context.Context) (string, error) {
	o.driveMu.Lock()
	defer o.driveMu.Unlock()
	if o.driveID != "" {
		return o.driveID, nil
	}
	info, err := o.infos.get(ctx, o.core)
	if err != nil {
		return "", err
	}
	id, err := openDriveOf(info, o.kind, o.cfg)
	if err != nil {
		return "", err
	}
	o.driveID = id
	return id, nil
}

// List implements Drive.
func (o *OpenClient) List(ctx context.Context, folderID string) ([]File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return nil, err
	}
	req := openListRequest{DriveID: d, ParentFileID: folderID, Limit: openPageSize, OrderBy: "name", OrderDirection: "ASC"}
	return o.listPages(ctx, folderID, func(marker string) (listResponse, error) {
		req.Marker = marker
		var resp listResponse
		err := o.call(ctx, &epOpenList, &req, &resp)
		return resp, err
	})
}

// Get implements Drive.
func (o *OpenClient) Get(ctx context.Context, fileID string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	var resp fileJSON
	if err := o.call(ctx, &epOpenGet, getRequest{DriveID: d, FileID: fileID}, &resp); err != nil {
		return File{}, fmt.Errorf("get %s: %w", fileID, err)
	}
	return resp.file(), nil
}

// GetByPath implements Drive.
func (o *OpenClient) GetByPath(ctx context.Context, path string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	var resp fileJSON
	if err := o.call(ctx, &epOpenGetByPath, getByPathRequest{DriveID: d, FilePath: path}, &resp); err != nil {
		return File{}, fmt.Errorf("get_by_path: %w", err)
	}
	return resp.file(), nil
}

// Link implements Drive.
func (o *OpenClient) Link(ctx context.Context, fileID string) (Link, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return Link{}, err
	}
	var resp openLinkResponse
	req := downloadURLRequest{DriveID: d, FileID: fileID, ExpireSec: o.cfg.LinkExpireSec}
	if err := o.call(ctx, &epOpenLink, req, &resp); err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	raw, size, part := resp.URL, resp.Size, ""
	if raw == "" {
		if u, format, ok := livePhotoPart(resp); ok {
			raw, size, part = u, 0, format // the part's size is not in the answer
		}
	}
	l, err := newLink(raw, resp.Expiration, size, "", o.now())
	if err != nil {
		return Link{}, fmt.Errorf("link %s: %w", fileID, err)
	}
	l.Part = part
	return l, nil
}

// livePhotoPart picks the part of a live photo to play (spec §13.8): the
// mov, a real movie a player can stream; the jpeg only when there is no
// mov. AList picks by its livp_download_format option (jpeg by default);
// power721's fork takes mov, as alilink does, since it serves playback.
func livePhotoPart(resp openLinkResponse) (u, format string, ok bool) {
	for _, streams := range []map[string]string{resp.StreamsURL, resp.StreamsURL2} {
		for _, format := range []string{"mov", "jpeg"} {
			if u := streams[format]; u != "" {
				return u, format, true
			}
		}
	}
	return "", "", false
}
