// Command alilink makes an Aliyundrive (alipan) drive playable over plain HTTP.
// Package main only reads the configuration, wires the packages together and
// dispatches the sub-commands (serve, demo, sign, strm, login, healthcheck).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/redis/go-redis/v9"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/redisstate"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/davlocks"
)

const usage = `usage: alilink [command]

commands:
  serve        serve the drive over HTTP (the default)
  demo         start a fake drive with sample content and serve it (not in the Docker image)
  sign PATH    print a signed URL for PATH [--ttl 24h] [--base URL]
  strm         write .strm files for a media server: --out DIR [--path /Movies] [--base URL]
               [--ttl 0] [--ext mkv,mp4,…] [--prune]
  login        get a refresh token by QR code and save it in the state dir
  healthcheck  exit 0 when the local server answers /-/healthz

Configuration comes from ALILINK_* environment variables; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one sub-command until it is done or ctx ends (SIGINT/SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(ctx, args, stderr)
	case "demo":
		err = demoCmd(ctx, args, stdout, stderr)
	case "sign":
		err = signCmd(args, stdout, stderr)
	case "strm":
		err = strmCmd(ctx, args, stdout, stderr)
	case "login":
		err = loginCmd(ctx, args, stdout, stderr)
	case "healthcheck":
		err = healthcheckCmd(args)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "alilink: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "alilink:", err)
		return 1
	}
	return 0
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments (configuration is in ALILINK_* variables)")
	}
	a, err := openApp(stderr)
	if err != nil {
		return err
	}
	return serve(ctx, a, nil)
}

// The replicas' Redis state is the resolver's shared link cache; redisstate
// may not import resolver (resolver sits above aliclient), so the check is here.
var _ resolver.SharedLinks = (*redisstate.State)(nil)

// app is a configured alilink: the drive client and what it reports to.
type app struct {
	cfg   Config
	drive aliclient.Drive
	log   *slog.Logger
	// logOut is where log writes; the access log writes there too.
	logOut io.Writer
	obs    *observer
	// shared is the replicas' state in Redis (nil without ALILINK_REDIS_URL).
	shared *redisstate.State
	// mounts is what ALILINK_MOUNTS_FILE describes (nil without it: drive
	// is the one drive, mounted at /).
	mounts *mounts
}

// openApp loads the configuration and logs in to the configured drive.
func openApp(stderr io.Writer) (*app, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	a, err := newApp(cfg, newLogger(cfg, stderr))
	if a != nil {
		a.logOut = stderr
	}
	return a, err
}

// newApp builds the drive client for cfg, sharing its state through Redis
// when ALILINK_REDIS_URL is set.
func newApp(cfg Config, log *slog.Logger) (*app, error) {
	if cfg.MountsFile != "" {
		a := &app{cfg: cfg, log: log, obs: newLabelledObserver(metrics.NewSet(), "")}
		if err := a.openMounts(); err != nil { // mounts.go
			a.close()
			return nil, err
		}
		if a.shared != nil {
			a.obs.set.NewGauge("alilink_redis_up", a.mounts.redisUp)
		}
		return a, nil
	}
	a := &app{cfg: cfg, log: log, obs: newObserver(metrics.NewSet())}
	deps := aliclient.Deps{Logger: log, Observer: a.obs}
	if cfg.RedisURL != "" {
		// AccountPrefix is Prefix(…) unless ALILINK_STATE_KEY names the account.
		st, err := redisstate.Open(cfg.RedisURL, redisstate.AccountPrefix(cfg.RedisPrefix, cfg.Client))
		if err != nil {
			return nil, fmt.Errorf("ALILINK_REDIS_URL: %w", err)
		}
		a.shared = st
		deps.Shared, deps.Limiter, deps.ReplicaLease = st, st, cfg.RedisLease
		a.obs.set.NewGauge("alilink_redis_up", func() float64 {
			if st.Up() {
				return 1
			}
			return 0
		})
	}
	drive, err := aliclient.New(cfg.Client, deps)
	if err != nil {
		a.close()
		return nil, err
	}
	a.drive = drive
	return a, nil
}

func (a *app) close() {
	if c, ok := a.drive.(interface{ Close() }); ok { // the share driver's planned deletions
		c.Close()
	}
	if a.mounts != nil {
		a.mounts.close()
	}
	if a.shared != nil {
		_ = a.shared.Close()
	}
}

// resolver builds the resolver over the app's drive, or is the router over
// the mounts.
func (a *app) resolver() (streamer.Resolver, error) {
	if a.mounts != nil {
		return a.mounts.mux, nil
	}
	deps := resolver.Deps{Log: a.log, Observer: a.obs}
	if a.shared != nil {
		deps.Shared = a.shared
	}
	return resolver.New(a.cfg.Resolver, a.drive, deps)
}

// davRedis is the Redis client of WebDAV's shared locks.
func davRedis(cfg Config) (*redis.Client, error) {
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("ALILINK_REDIS_URL: %w", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = 2*time.Second, time.Second, time.Second, 1
	opt.PoolSize = 4
	return redis.NewClient(opt), nil
}

// serve wires resolver and streamer in front of a drive and runs until ctx ends
// (SIGINT or SIGTERM), then shuts down within the configured time. ready, if
// set, is told the listening address.
func serve(ctx context.Context, a *app, ready func(addr string)) error {
	defer a.close()
	cfg, log := a.cfg, a.log
	res, err := a.resolver()
	if err != nil {
		return err
	}
	// The access log is slog's INFO line in slog's format, written by its own
	// buffered writer; like slog's lines it is off below LOG_LEVEL=info. It
	// closes (flushes) after the server and its streams stopped.
	var alog *streamer.AccessLog
	if cfg.Streamer.AccessLog && a.logOut != nil && log.Enabled(ctx, slog.LevelInfo) {
		alog = streamer.NewAccessLog(a.logOut, cfg.LogFormat == "json", a.obs.set)
		defer alog.Close()
	}
	sdeps := streamer.Deps{Log: log, Metrics: a.obs.set, AccessLog: alog, Loopback: isLoopback(cfg.Listen)}
	if cfg.RedisURL != "" && cfg.Streamer.DAV.On() {
		// WebDAV's locks are shared by the replicas (its own small pool).
		rdb, err := davRedis(cfg)
		if err != nil {
			return err
		}
		defer rdb.Close()
		sdeps.DAVLocks = davlocks.NewRedis(rdb, davLockPrefix(cfg))
	}
	srv, err := streamer.New(cfg.Streamer, res, sdeps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("ALILINK_LISTEN: %w", err)
	}
	defer srv.Close()
	hs := srv.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if a.mounts != nil {
		log.Info("alilink listening", "addr", ln.Addr().String(), "mode", cfg.Streamer.Mode, "mounts", strings.Join(a.mounts.mux.Paths(), " "))
	} else {
		log.Info("alilink listening", "addr", ln.Addr().String(), "mode", cfg.Streamer.Mode, "driver", cfg.Client.Driver)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	go warmUp(res, log)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: readiness fails at once so that load balancers stop sending; new
	// requests are still served for ALILINK_DRAIN_DELAY (while they notice),
	// then the listener closes and in-flight streams get up to
	// ALILINK_SHUTDOWN_TIMEOUT to finish.
	srv.Drain()
	log.Info("draining", "delay", cfg.DrainDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	if cfg.DrainDelay > 0 {
		time.Sleep(cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = hs.ShutdownWithContext(sctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		log.Warn("shutdown timeout reached; cutting the streams still running", "active", srv.ActiveStreams())
	case err != nil:
		return err
	}
	log.Info("stopped")
	return nil
}

// warmUp refreshes the token at start so that the first request is fast and a
// dead token is reported at once, not on the first play.
func warmUp(res interface {
	Health(context.Context) resolver.Health
}, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := res.Health(ctx)
	if h.Ready {
		log.Info("drive ready")
		return
	}
	for _, p := range h.Problems {
		log.Error("drive not ready", "problem", p)
	}
}
