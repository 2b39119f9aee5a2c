package aliclient

import (
	"fmt"
	"net/url"
	"time"

	"github.com/alilink/alilink/internal/defaults"
)

// Config is the drive client's configuration, read from ALILINK_* variables by main.
type Config struct {
	Driver       string `env:"DRIVER" envDefault:"drive"`
	RefreshToken string `env:"REFRESH_TOKEN"`
	// StateDir holds the rotated refresh token; main fills the default
	// ($XDG_STATE_HOME/alilink or ./state).
	StateDir string `env:"STATE_DIR"`
	APIURL   string `env:"API_URL" envDefault:"https://api.alipan.com"`
	AuthURL  string `env:"AUTH_URL" envDefault:"https://auth.alipan.com"`
	// The Open platform (driver open): its base URL (the /oauth/... calls
	// too), the user's own app, an optional hosted token broker the user
	// names explicitly, and which of the user's drives to serve.
	OpenURL          string `env:"OPEN_URL" envDefault:"https://openapi.alipan.com"`
	OpenClientID     string `env:"OPEN_CLIENT_ID"`
	OpenClientSecret string `env:"OPEN_CLIENT_SECRET"`
	OpenTokenURL     string `env:"OPEN_TOKEN_URL"`
	OpenDriveType    string `env:"OPEN_DRIVE_TYPE" envDefault:"default"`
	// ShareID and SharePwd name the share link (driver share).
	ShareID  string `env:"SHARE_ID"`
	SharePwd string `env:"SHARE_PWD"`
	// The share driver plays a file by copying it into the user's own drive
	// (spec §15): into ShareTempFolderID, or else a folder named
	// ShareTempFolderName it creates in the root of the user's resource drive
	// (the default drive when the account names none). Each copy is deleted
	// for good ShareDeleteAfter after the link handed out for it expires.
	ShareTempFolderID string        `env:"SHARE_TEMP_FOLDER_ID"`
	ShareDeleteAfter  time.Duration `env:"SHARE_DELETE_AFTER" envDefault:"1m"`
	// RapidUpload tries the drive's "second pass" (the content is already
	// there: create the file without sending it, spec §7); InternalUpload
	// sends parts to the internal endpoint (inside Aliyun's Beijing network;
	// drive driver only: the open API has none, spec §13.8).
	RapidUpload    bool `env:"RAPID_UPLOAD" envDefault:"true"`
	InternalUpload bool `env:"INTERNAL_UPLOAD" envDefault:"false"`
	// PassportURL is the legacy QR login's host (alilink login without Open
	// platform credentials).
	PassportURL string        `env:"PASSPORT_URL" envDefault:"https://passport.alipan.com"`
	Timeout     time.Duration `env:"API_TIMEOUT" envDefault:"30s"`
	// Per-account request rates (spec §3.4); the drive answers 429 above them.
	RateList  float64 `env:"RATE_LIST" envDefault:"4"`
	RateLink  float64 `env:"RATE_LINK" envDefault:"1"`
	RateOther float64 `env:"RATE_OTHER" envDefault:"15"`
	// LinkExpireSec is the download-URL lifetime asked for (the drive caps it at 14400).
	LinkExpireSec int `env:"LINK_EXPIRE_SEC" envDefault:"14400"`
	// MaxRetries bounds retries of one call on 429, 5xx and transport errors.
	MaxRetries int `env:"API_RETRIES" envDefault:"4"`

	// StateKey names the account's state: its file in StateDir
	// (<key>-drive-token.json, <key>-open-token.json) and its Redis keys
	// (redisstate.AccountPrefix). Empty: today's names (drive-token.json…),
	// for the one account of an env-only configuration.
	StateKey string `env:"STATE_KEY"`
	// AccountName is how errors and logs name the account (a mounts file's
	// account name; empty for the env-only account). Not from the environment.
	AccountName string `env:"-"`
}

// DefaultConfig is Config with the defaults of its env tags (no refresh
// token, no state dir), for callers that build a Config in code.
func DefaultConfig() Config { return defaults.FromTags[Config]() }

// Validate names the first bad variable.
func (c *Config) Validate() error {
	switch c.Driver {
	case "drive":
	case "open":
		if c.OpenTokenURL != "" && (c.OpenClientID != "" || c.OpenClientSecret != "") {
			// AList uses its broker only without a client id (spec §13.4);
			// refusing the mix keeps a secret from ever reaching a third party.
			return fmt.Errorf("ALILINK_OPEN_TOKEN_URL: a token broker is only for setups without an app of their own, and a client secret never goes to a third party; unset ALILINK_OPEN_TOKEN_URL, or ALILINK_OPEN_CLIENT_ID and ALILINK_OPEN_CLIENT_SECRET")
		}
		if c.InternalUpload {
			return fmt.Errorf("ALILINK_INTERNAL_UPLOAD: the open API hands out no internal upload URLs (spec §13.8); unset it for the open driver")
		}
		if c.OpenTokenURL == "" && (c.OpenClientID == "" || c.OpenClientSecret == "") {
			return fmt.Errorf("ALILINK_OPEN_CLIENT_ID: the open driver needs your Open platform app (ALILINK_OPEN_CLIENT_ID and ALILINK_OPEN_CLIENT_SECRET), or a token broker you choose in ALILINK_OPEN_TOKEN_URL")
		}
		switch c.OpenDriveType {
		case "default", "resource", "backup":
		default:
			return fmt.Errorf("ALILINK_OPEN_DRIVE_TYPE: %q is not one of default, resource, backup", c.OpenDriveType)
		}
	case "share":
		if c.ShareID == "" {
			return fmt.Errorf("ALILINK_SHARE_ID: the share driver needs the share link's id")
		}
		if c.ShareDeleteAfter < 0 {
			return fmt.Errorf("ALILINK_SHARE_DELETE_AFTER: negative")
		}
	default:
		return fmt.Errorf("ALILINK_DRIVER: %q is not one of drive, open, share", c.Driver)
	}
	urls := []struct{ name, v string }{{"ALILINK_API_URL", c.APIURL}, {"ALILINK_AUTH_URL", c.AuthURL},
		{"ALILINK_OPEN_URL", c.OpenURL}, {"ALILINK_PASSPORT_URL", c.PassportURL}}
	if c.OpenTokenURL != "" {
		urls = append(urls, struct{ name, v string }{"ALILINK_OPEN_TOKEN_URL", c.OpenTokenURL})
	}
	for _, u := range urls {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	if c.StateDir == "" {
		return fmt.Errorf("ALILINK_STATE_DIR: empty")
	}
	if err := ValidStateKey(c.StateKey); err != nil {
		return fmt.Errorf("ALILINK_STATE_KEY: %w", err)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("ALILINK_API_TIMEOUT: must be positive, got %s", c.Timeout)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"ALILINK_RATE_LIST", c.RateList}, {"ALILINK_RATE_LINK", c.RateLink}, {"ALILINK_RATE_OTHER", c.RateOther}} {
		if r.v <= 0 {
			return fmt.Errorf("%s: must be positive, got %v", r.name, r.v)
		}
	}
	if c.LinkExpireSec < 60 || c.LinkExpireSec > 14400 {
		return fmt.Errorf("ALILINK_LINK_EXPIRE_SEC: must be within 60..14400, got %d", c.LinkExpireSec)
	}
	if c.MaxRetries < 0 || c.MaxRetries > 10 {
		return fmt.Errorf("ALILINK_API_RETRIES: must be within 0..10, got %d", c.MaxRetries)
	}
	return nil
}
