package aliclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// One account, several drives (spec §16): the backup drive, the resource
// drive and any number of shares played through the account are served with
// one refresh-token chain (one state file, one Redis key), one device
// session and one rate governor, since the refresh token rotates per chain
// and the quotas are per account (spec §3.4). drive_id is a field of each
// request; nothing else differs between the drives of an account.

// The drives of an account (spec §16); the default drive is the backup drive.
const (
	DriveDefault  = "default"
	DriveBackup   = "backup"
	DriveResource = "resource"
)

// ErrNoDrive: the account has no drive of the kind asked for, or the user did
// not grant it to the Open app at authorisation.
var ErrNoDrive = errors.New("no such drive on the account")

// Account is one account of the drive: its tokens, device session (legacy)
// and governor, shared by every Drive taken from it.
type Account struct {
	cfg  Config
	core *core
	// legacy is the account's first Client (drivers drive and share): it
	// holds /v2/user/get, whose ids name every drive, and the device
	// session. open is the first OpenClient (driver open), holding the
	// account's getDriveInfo. Exactly one is set.
	legacy *Client
	open   *OpenClient

	mu     sync.Mutex
	drives map[string]Drive
	shares map[string]*ShareClient
}

// NewAccount logs in to one account: the refresh token of cfg (or the one
// saved under its state key) for driver cfg.Driver ("drive" and "share" use
// the legacy token, "open" the Open platform's). Nothing is asked of the
// drive until a Drive is used. It fails when there is no token to start from.
func NewAccount(cfg Config, deps Deps) (*Account, error) {
	if cfg.AccountName != "" && deps.Logger != nil {
		deps.Logger = deps.Logger.With("account", cfg.AccountName)
	}
	a := &Account{cfg: cfg, drives: map[string]Drive{}, shares: map[string]*ShareClient{}}
	if cfg.Driver == "open" {
		o, err := NewOpen(cfg, deps)
		if err != nil {
			return nil, a.startErr(err)
		}
		a.open, a.core = o, o.core
		a.drives[cmp.Or(o.kind, DriveDefault)] = o
		return a, nil
	}
	c, err := NewDrive(cfg, deps)
	if err != nil {
		return nil, a.startErr(err)
	}
	a.legacy, a.core = c, c.core
	a.drives[DriveDefault] = c
	return a, nil
}

// startErr names the account in a start-up failure; the env-only account's
// errors already name their variable.
func (a *Account) startErr(err error) error {
	if a.cfg.AccountName == "" {
		return err
	}
	if errors.Is(err, ErrNoToken) {
		return fmt.Errorf("account %q: no refresh token: none configured and none saved in %s (get one with `alilink login`): %w",
			a.cfg.AccountName, a.cfg.StateDir, ErrNoToken)
	}
	return fmt.Errorf("account %q: %w", a.cfg.AccountName, err)
}

// Name is the account's name ("" for the env-only account).
func (a *Account) Name() string { return a.cfg.AccountName }

// Driver is the account's driver: "drive" or "open" ("share" for the env-only
// share driver's account, a legacy one).
func (a *Account) Driver() string { return a.cfg.Driver }

// Drive returns the account's drive of kind (DriveDefault, DriveBackup,
// DriveResource; "" is DriveDefault), the same one on every call. It lists,
// links, uploads and manages files (Manager, Uploader) on that drive with the
// account's tokens, session and governor. Whether the account has the drive
// (or granted it to the Open app) shows on first use and in its Health, as an
// ErrNoDrive naming the account and the kind.
func (a *Account) Drive(kind string) (Drive, error) {
	kind = cmp.Or(kind, DriveDefault)
	switch kind {
	case DriveDefault, DriveBackup, DriveResource:
	default:
		return nil, fmt.Errorf("%s: drive %q is not one of default, backup, resource", a.label(), kind)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.drives[kind]; d != nil {
		return d, nil
	}
	var d Drive
	if a.open != nil {
		d = &OpenClient{core: a.core, kind: kind, infos: a.open.infos}
	} else {
		d = &Client{core: a.core, kind: kind, owner: a.legacy}
	}
	a.drives[kind] = d
	return d, nil
}

// Share returns the share shareID (password pwd, "" for none) played through
// this account: listed with its share token, its files copied into this
// account's drive and linked there (spec §15). Each share has its own share
// token; the account's refresh token, session and governor serve them all.
// The same share asked twice is the same Drive. An open account cannot play
// shares (CanShare).
func (a *Account) Share(shareID, pwd string) (Drive, error) {
	if err := CanShare(a.cfg.Driver); err != nil {
		return nil, fmt.Errorf("%s: share %s: %w", a.label(), shareID, err)
	}
	if shareID == "" {
		return nil, fmt.Errorf("%s: a share needs its share id", a.label())
	}
	key := shareID + "\x00" + pwd
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.shares[key]; s != nil {
		return s, nil
	}
	// The share's own core: the account's (same tokens, device session,
	// governor, HTTP client, shared state) with the share's id and token.
	sc := *a.core
	sc.cfg.ShareID, sc.cfg.SharePwd = shareID, pwd
	sc.shareToken = newShareToken(&sc, shareID, pwd)
	s := &ShareClient{core: &sc, own: a.legacy, pending: make(map[string]*time.Timer)}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	a.shares[key] = s
	return s, nil
}

// Close ends the planned deletions of the shares' copies (ShareClient.Close).
func (a *Account) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.shares {
		s.Close()
	}
}

// CanShare tells whether an account of driver can play shares: the copy into
// the user's drive is a legacy call with the legacy access token (spec §15.1
// step 4), and the Open platform has no share calls. power721's
// AliyundriveShare2Open, the one public client that plays shares "through"
// an Open account, holds a second, legacy refresh token of the same user
// for the copy (refresh_token2) and only links and deletes with the Open one.
func CanShare(driver string) error {
	if driver == "open" {
		return fmt.Errorf("a share is played by copying its files into your drive, a call of the legacy API that needs the account's legacy refresh token; the Open platform has no share calls: mount shares through a driver \"drive\" account: %w", errors.ErrUnsupported)
	}
	return nil
}

// label names the account in errors: its name, or for the env-only account
// the variable that chose the drive.
func (a *Account) label() string { return accountLabel(a.cfg) }

func accountLabel(cfg Config) string {
	if cfg.AccountName != "" {
		return fmt.Sprintf("account %q", cfg.AccountName)
	}
	if cfg.Driver == "open" {
		return "ALILINK_OPEN_DRIVE_TYPE"
	}
	return "ALILINK_DRIVER"
}

// drive returns the id of the legacy drive c.kind names, from the account's
// /v2/user/get (spec §16).
func (c *Client) drive(ctx context.Context) (string, error) {
	u, err := cmp.Or(c.owner, c).ensureUser(ctx)
	if err != nil {
		return "", err
	}
	switch c.kind {
	case DriveBackup:
		// The default drive is the backup drive ("formerly the file drive");
		// older answers name only it (spec §16, xiaoya's cleaner).
		return cmp.Or(u.BackupDriveID, u.DefaultDriveID), nil
	case DriveResource:
		if u.ResourceDriveID == "" {
			return "", fmt.Errorf("%s: the account has no resource drive (/v2/user/get names no resource_drive_id): %w", accountLabel(c.cfg), ErrNoDrive)
		}
		return u.ResourceDriveID, nil
	default:
		return u.DefaultDriveID, nil
	}
}

// driveInfos is an Open account's getDriveInfo answer, asked once for all
// its drives.
type driveInfos struct {
	mu   sync.Mutex
	info driveInfoResponse
	ok   bool
}

func (d *driveInfos) get(ctx context.Context, c *core) (driveInfoResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ok {
		return d.info, nil
	}
	var info driveInfoResponse
	if err := c.call(ctx, &epDriveInfo, struct{}{}, &info); err != nil {
		return info, err
	}
	d.info, d.ok = info, true
	return info, nil
}

// openDriveOf picks <kind>_drive_id, as AList and OpenList do (spec §3.2,
// §16). Resource and backup are in the answer only if the user granted them
// to the app: no fallback to the default drive, which would serve the wrong
// files under the mount's name.
func openDriveOf(info driveInfoResponse, kind string, cfg Config) (string, error) {
	var id string
	switch kind {
	case DriveResource:
		id = info.ResourceDriveID
	case DriveBackup:
		id = info.BackupDriveID
	default:
		if id = info.DefaultDriveID; id == "" {
			return "", errorf(ErrUpstream, "getDriveInfo: no default_drive_id in the answer")
		}
	}
	if id == "" {
		return "", fmt.Errorf("%s: the Open app was not granted the %s drive (getDriveInfo has no %s_drive_id): authorise again (alilink login) granting it, or mount another drive: %w",
			accountLabel(cfg), kind, kind, ErrNoDrive)
	}
	return id, nil
}

// withDrive adds the drive's own problem to a healthy h: a backup or
// resource drive the account lacks or did not grant (ErrNoDrive). Other
// failures of the look-up are the token's, which h reports already.
func withDrive(ctx context.Context, h Health, kind string, drive func(context.Context) (string, error)) Health {
	if !h.Ready || kind == "" || kind == DriveDefault {
		return h
	}
	if _, err := drive(ctx); errors.Is(err, ErrNoDrive) {
		h.Ready = false
		h.Problems = append(h.Problems, err.Error())
	}
	return h
}

// ValidStateKey checks a state key ("" is the env-only account's): it names
// a file and Redis keys, so it is 1 to 64 of [A-Za-z0-9._-], starting with a
// letter or digit. (Checked by hand: a package-level regexp with {0,63} was
// compiled at every start, 861 allocations and a dozen pages of code and
// tables faulted in for a check made once per account.)
func ValidStateKey(key string) error {
	if key == "" || validStateKey(key) {
		return nil
	}
	return fmt.Errorf("%q is not a state key: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", key)
}

// StateFile is the name of an account's state file in cfg.StateDir:
// TokenFile(cfg.Driver) for the env-only account (empty StateKey), else
// "<state key>-" before it, so that accounts never share a file and a legacy
// token is never read as an Open one.
func StateFile(cfg Config) string {
	if cfg.StateKey == "" {
		return TokenFile(cfg.Driver)
	}
	return cfg.StateKey + "-" + TokenFile(cfg.Driver)
}

func validStateKey(key string) bool {
	if len(key) > 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
