package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/redis/go-redis/v9"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
)

const envPrefix = "ALILINK_"

// Config is every setting, parsed once from ALILINK_* variables.
type Config struct {
	Listen          string        `env:"LISTEN" envDefault:"127.0.0.1:8080"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"text"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	// DrainDelay keeps serving new requests this long after SIGTERM, with
	// readiness already failing, so that load balancers can take the replica out.
	DrainDelay time.Duration `env:"DRAIN_DELAY" envDefault:"0s"`
	// RedisURL makes several replicas share the token, the links and the
	// rate buckets of one account; RedisPrefix starts its keys; RedisLease is
	// how long a replica may hold the refresh lock.
	RedisURL    string        `env:"REDIS_URL"`
	RedisPrefix string        `env:"REDIS_PREFIX" envDefault:"alilink"`
	RedisLease  time.Duration `env:"REDIS_LOCK_LEASE" envDefault:"15s"`
	// Public allows a non-loopback listen address without a sign secret.
	Public bool `env:"PUBLIC" envDefault:"false"`
	// MountsFile names the mounts file (package mount): accounts and the
	// drives and shares mounted at path prefixes. Unset, the variables
	// describe one drive mounted at /, as ever.
	MountsFile string `env:"MOUNTS_FILE"`

	Client   aliclient.Config
	Resolver resolver.Config
	Streamer streamer.Config
}

// loadConfig parses the environment and validates every part. Its error is one
// line naming the variable.
func loadConfig() (Config, error) {
	opts := env.Options{Prefix: envPrefix}
	cfg, err := env.ParseAsWithOptions[Config](opts)
	if err != nil {
		return cfg, envError(err)
	}
	if cfg.Client.StateDir == "" {
		cfg.Client.StateDir = defaultStateDir()
	}
	if cfg.Streamer.AList.Provider == "" {
		cfg.Streamer.AList.Provider = streamer.ProviderFor(cfg.Client.Driver)
	}
	if cfg.Streamer.SpoolDir == "" {
		cfg.Streamer.SpoolDir = cfg.Client.StateDir
	}
	return cfg, cfg.Validate()
}

// Validate checks the top-level settings, then each package's.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return errors.New("ALILINK_LISTEN: empty")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("ALILINK_LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("ALILINK_SHUTDOWN_TIMEOUT: must be positive")
	}
	if c.DrainDelay < 0 {
		return errors.New("ALILINK_DRAIN_DELAY: negative")
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			return fmt.Errorf("ALILINK_REDIS_URL: %v", err)
		}
		if c.RedisLease < time.Second {
			return errors.New("ALILINK_REDIS_LOCK_LEASE: must be at least 1s")
		}
	}
	if !c.Public && !sign.New(c.Streamer.SignSecret).Enabled() && !isLoopback(c.Listen) {
		return fmt.Errorf("ALILINK_LISTEN: %s is reachable from other machines and no ALILINK_SIGN_SECRET is set, "+
			"so anyone who finds it can read the drive; set ALILINK_SIGN_SECRET, or ALILINK_PUBLIC=true to serve it open", c.Listen)
	}
	if err := c.Client.Validate(); err != nil {
		return err
	}
	if err := c.Resolver.Validate(); err != nil {
		return err
	}
	return c.Streamer.Validate()
}

// isLoopback tells whether a listen address only accepts local connections.
// An empty host or an unspecified address listens everywhere; a name counts
// as loopback only if every address it resolves to is.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// defaultStateDir is $XDG_STATE_HOME/alilink, else ./state.
func defaultStateDir() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "alilink")
	}
	return "state"
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("ALILINK_LOG_LEVEL: %q is not debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(cfg.LogLevel)
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// envError rewrites caarlos0/env's "parse error on field X" into
// "ALILINK_VAR: what is wrong", the one line a user needs.
func envError(err error) error {
	var agg env.AggregateError
	if errors.As(err, &agg) && len(agg.Errors) > 0 {
		err = agg.Errors[0]
	}
	var pe env.ParseError
	if errors.As(err, &pe) {
		if name := envNameOf(reflect.TypeFor[Config](), pe.Name); name != "" {
			return fmt.Errorf("%s: %v", name, pe.Err)
		}
	}
	return err
}

// envNameOf finds the variable behind a struct field name in the Config tree.
func envNameOf(t reflect.Type, field string) string {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" && f.Type != reflect.TypeFor[time.Duration]() {
			if n := envNameOf(f.Type, field); n != "" {
				return n
			}
			continue
		}
		if f.Name == field {
			key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			return envPrefix + key
		}
	}
	return ""
}
