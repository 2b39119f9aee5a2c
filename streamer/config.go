package streamer

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alilink/alilink/internal/defaults"
	"github.com/alilink/alilink/streamer/sign"
)

// Config is the serving configuration.
type Config struct {
	Mode string `env:"MODE" envDefault:"auto"`
	// ReadyTimeout bounds the token check behind /-/readyz.
	ReadyTimeout time.Duration `env:"READY_TIMEOUT" envDefault:"5s"`
	// MaxStreams caps concurrent proxied streams (0 = no cap); over it: 503.
	MaxStreams int `env:"MAX_STREAMS" envDefault:"0"`
	// StreamIdleTimeout fails a CDN read that waits this long for a byte.
	StreamIdleTimeout time.Duration `env:"STREAM_IDLE_TIMEOUT" envDefault:"30s"`
	// ClientWriteTimeout closes a proxied stream whose client accepts no
	// byte for this long (a paused player that stopped reading), freeing its
	// slot and its CDN connection.
	ClientWriteTimeout time.Duration `env:"CLIENT_WRITE_TIMEOUT" envDefault:"60s"`
	// ResumeAttempts bounds consecutive reconnection attempts of a stream
	// that makes no progress.
	ResumeAttempts int `env:"RESUME_ATTEMPTS" envDefault:"5"`
	// SignSecret holds comma-separated HMAC secrets; when set, every data
	// request needs a valid sign. The first secret signs.
	SignSecret string `env:"SIGN_SECRET"`
	// AdminToken enables /-/api/* for callers that send it as a bearer token.
	AdminToken string `env:"ADMIN_TOKEN"`
	// ProxyURL is the download proxy rewrite mode redirects to.
	ProxyURL string `env:"PROXY_URL"`
	// RewriteTTL is how long the signs of rewrite mode's redirects live.
	RewriteTTL time.Duration `env:"REWRITE_TTL" envDefault:"1h"`
	// AccelLocation is the nginx internal location accel mode redirects to.
	AccelLocation string `env:"ACCEL_LOCATION" envDefault:"/_alilink/"`
	// AccessLog writes one line per request.
	AccessLog bool `env:"ACCESS_LOG" envDefault:"true"`
	// UploadMax caps the body of a PUT (0: the default, 20GiB).
	UploadMax ByteSize `env:"UPLOAD_MAX" envDefault:"20GiB"`
	// SpoolDir holds upload bodies while they go to the drive (main's
	// default: the state dir; empty here: the system's temporary dir).
	SpoolDir string `env:"SPOOL_DIR"`
	// DAV is WebDAV (ALILINK_DAV_*).
	DAV DAVConfig `envPrefix:"DAV_"`
	// AList is the AList v3 API door (ALILINK_ALIST_*).
	AList AListConfig
}

// DefaultConfig is Config with the defaults of its env tags, for callers
// that build a Config in code.
func DefaultConfig() Config { return defaults.FromTags[Config]() }

// Validate names the first bad variable.
func (c *Config) Validate() error {
	switch c.Mode {
	case ModeAuto, ModeRedirect, ModeProxy, ModeAccel:
	case ModeRewrite:
		u, err := url.Parse(c.ProxyURL)
		if c.ProxyURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("ALILINK_PROXY_URL: rewrite mode needs the download proxy's base URL (http[s]://host[:port][/prefix])")
		}
		if !sign.New(c.SignSecret).Enabled() {
			return fmt.Errorf("ALILINK_SIGN_SECRET: rewrite mode signs its redirects; set the secret the download proxy shares")
		}
	default:
		return fmt.Errorf("ALILINK_MODE: %q is not one of auto, redirect, proxy, rewrite, accel", c.Mode)
	}
	switch {
	case c.ReadyTimeout <= 0:
		return fmt.Errorf("ALILINK_READY_TIMEOUT: must be positive")
	case c.MaxStreams < 0:
		return fmt.Errorf("ALILINK_MAX_STREAMS: must be 0 (no cap) or more, got %d", c.MaxStreams)
	case c.StreamIdleTimeout <= 0:
		return fmt.Errorf("ALILINK_STREAM_IDLE_TIMEOUT: must be positive")
	case c.ClientWriteTimeout < 0:
		return fmt.Errorf("ALILINK_CLIENT_WRITE_TIMEOUT: must be positive")
	case c.ResumeAttempts < 1 || c.ResumeAttempts > 100:
		return fmt.Errorf("ALILINK_RESUME_ATTEMPTS: must be within 1..100, got %d", c.ResumeAttempts)
	case c.RewriteTTL < time.Minute:
		return fmt.Errorf("ALILINK_REWRITE_TTL: must be at least 1m, got %s", c.RewriteTTL)
	case !strings.HasPrefix(c.AccelLocation, "/") || strings.ContainsAny(c.AccelLocation, "?# \t\r\n"):
		return fmt.Errorf("ALILINK_ACCEL_LOCATION: must be a path starting with /, got %q", c.AccelLocation)
	case c.UploadMax < 0:
		return fmt.Errorf("ALILINK_UPLOAD_MAX: negative")
	case c.AdminToken != "" && len(c.AdminToken) < 16:
		return fmt.Errorf("ALILINK_ADMIN_TOKEN: too short to be a secret (use 16 characters or more)")
	}
	return c.DAV.validate(c)
}

// ByteSize is a size in a variable: "20GiB", "500MB", "1048576".
type ByteSize int64

// UnmarshalText reads a number with an optional B, KB/KiB, MB/MiB, GB/GiB, TB/TiB suffix.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a size (e.g. 20GiB)", string(text))
	}
	*b = ByteSize(n * mult)
	return nil
}

// DoorAt names the door that answers the clean path p (and the paths below
// it) before the drive does, with the variable that moves or turns it off:
// WebDAV at its prefix, the AList API at /api, /d, /p and /ping. "" when p
// is a drive path. A mount there would be out of reach (main refuses it).
func (c *Config) DoorAt(p string) (door, variable string) {
	under := func(prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
	if c.DAV.On() && under(c.DAV.Prefix) {
		return "WebDAV (at " + c.DAV.Prefix + ")", "ALILINK_DAV_PREFIX"
	}
	if !c.AList.Off {
		for _, prefix := range []string{"/api", "/d", "/p"} {
			if under(prefix) {
				return "the AList API (at " + prefix + ")", "ALILINK_ALIST_OFF"
			}
		}
		if p == "/ping" {
			return "the AList API (at /ping)", "ALILINK_ALIST_OFF"
		}
	}
	return "", ""
}
