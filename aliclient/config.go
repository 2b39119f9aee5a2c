package aliclient

import (
	"fmt"
	"net/url"
	"time"
)

// Config is the drive client's configuration, read from ALILINK_* variables by main.
type Config struct {
	Driver       string `env:"DRIVER" envDefault:"drive"`
	RefreshToken string `env:"REFRESH_TOKEN"`
	// StateDir holds the rotated refresh token; main fills the default
	// ($XDG_STATE_HOME/alilink or ./state).
	StateDir string        `env:"STATE_DIR"`
	APIURL   string        `env:"API_URL" envDefault:"https://api.alipan.com"`
	AuthURL  string        `env:"AUTH_URL" envDefault:"https://auth.alipan.com"`
	Timeout  time.Duration `env:"API_TIMEOUT" envDefault:"30s"`
	// Per-account request rates (spec §3.4); the drive answers 429 above them.
	RateList  float64 `env:"RATE_LIST" envDefault:"4"`
	RateLink  float64 `env:"RATE_LINK" envDefault:"1"`
	RateOther float64 `env:"RATE_OTHER" envDefault:"15"`
	// LinkExpireSec is the download-URL lifetime asked for (the drive caps it at 14400).
	LinkExpireSec int `env:"LINK_EXPIRE_SEC" envDefault:"14400"`
	// MaxRetries bounds retries of one call on 429, 5xx and transport errors.
	MaxRetries int `env:"API_RETRIES" envDefault:"4"`
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	switch c.Driver {
	case "drive":
	case "open", "share":
		return fmt.Errorf("ALILINK_DRIVER: %q is not implemented yet (only \"drive\" is)", c.Driver)
	default:
		return fmt.Errorf("ALILINK_DRIVER: %q is not one of drive, open, share", c.Driver)
	}
	for _, u := range []struct{ name, v string }{{"ALILINK_API_URL", c.APIURL}, {"ALILINK_AUTH_URL", c.AuthURL}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	if c.StateDir == "" {
		return fmt.Errorf("ALILINK_STATE_DIR: empty")
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
