// Package streamer speaks HTTP to clients: routes, the error→status map, folder
// listings, the /-/ endpoints, and the data path of each mode.
package streamer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/webdav"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/htpasswd"
	"github.com/alilink/alilink/streamer/sign"
)

// Resolver is what the streamer needs from the resolver.
type Resolver interface {
	Stat(ctx context.Context, p string) (resolver.Item, error)
	List(ctx context.Context, p string) (resolver.Item, []resolver.Item, error)
	Link(ctx context.Context, it resolver.Item) (resolver.Link, error)
	// Resolve is Stat and, for a file, Link in one step.
	Resolve(ctx context.Context, p string) (resolver.Item, resolver.Link, error)
	DropLink(fileID, url string)
	Health(ctx context.Context) resolver.Health
	// CanUpload tells whether PUT can write to the drive.
	CanUpload() bool
	// Upload writes src at p; rapid tells whether the drive had the content.
	Upload(ctx context.Context, p string, src resolver.UploadSource, overwrite bool) (it resolver.Item, rapid bool, err error)
}

var _ Resolver = (*resolver.Resolver)(nil)

// Modes.
const (
	// ModeAuto redirects unless the link is Referer-bound, then proxies.
	ModeAuto = "auto"
	// ModeRedirect answers 302 to the CDN URL.
	ModeRedirect = "redirect"
	// ModeProxy streams the bytes through alilink.
	ModeProxy = "proxy"
	// ModeRewrite answers 302 to a download proxy with a fresh sign.
	ModeRewrite = "rewrite"
	// ModeAccel hands the CDN URL to nginx (or Caddy) to stream.
	ModeAccel = "accel"
)

// Server is the HTTP front of alilink.
type Server struct {
	cfg     Config
	res     Resolver
	log     *slog.Logger
	cdn     *cdnClient
	signer  *sign.Signer
	admin   [32]byte     // SHA-256 of the admin token, compared in constant time
	streams atomic.Int64 // proxied streams running now
	obs     *observer
	alist   *alistAPI // nil: the AList door is off
	// draining is set once shutdown began: /-/readyz answers 503 while
	// in-flight requests finish.
	draining atomic.Bool
	// spoolWrap, set only by tests, wraps the writer of upload spool files.
	spoolWrap func(io.Writer) io.Writer
	dav       *dav   // nil: no WebDAV
	mounts    Mounts // the resolver's, when it has mounts (mounts.go)
}

// Deps are a server's collaborators that are not configuration.
type Deps struct {
	Log *slog.Logger
	// Metrics receives the server's metrics and is served on /-/metrics (with
	// whatever else the caller registered in it); nil means a private set.
	Metrics *metrics.Set
	// AccessLog writes the per-request lines (when Config.AccessLog is on);
	// nil sends them through Log, at slog's cost. The caller closes it after
	// the HTTP server stopped.
	AccessLog *AccessLog
	// Loopback: the server only listens on loopback addresses, so WebDAV
	// without any credential configured is served (read-only).
	Loopback bool
	// DAVLocks is WebDAV's lock system; nil: one in memory (this process's
	// own). Replicas share one through Redis (streamer/davlocks).
	DAVLocks webdav.LockSystem
}

// New builds a server over res with its collaborators (the zero Deps: a
// silent log, a private metric set). Close releases its CDN connections.
func New(cfg Config, res Resolver, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.NewSet()
	}
	cfg.ProxyURL = strings.TrimRight(cfg.ProxyURL, "/")
	if cfg.UploadMax == 0 {
		cfg.UploadMax = DefaultConfig().UploadMax
	}
	if cfg.ClientWriteTimeout == 0 { // a Config built in code
		cfg.ClientWriteTimeout = DefaultConfig().ClientWriteTimeout
	}
	s := &Server{cfg: cfg, res: res, log: log, cdn: newCDNClient(cfg.StreamIdleTimeout), signer: sign.New(cfg.SignSecret)}
	var users *htpasswd.File // WebDAV's and the AList door's, loaded once
	if !cfg.AList.Off || cfg.DAV.On() {
		var err error
		if users, err = cfg.DAV.loadUsers(); err != nil {
			return nil, err
		}
	}
	if !cfg.AList.Off {
		a, err := newAListAPI(cfg.AList, cfg.DAV, users, cfg.SignSecret, cfg.AdminToken)
		if err != nil {
			return nil, err
		}
		s.alist = a
	}
	// Without an AccessLog the lines are slog records at INFO: a level above
	// it turns them off.
	accessLog := cfg.AccessLog && (deps.AccessLog != nil || log.Enabled(context.Background(), slog.LevelInfo))
	s.obs = newObserver(deps.Metrics, log, accessLog, deps.AccessLog, func() float64 { return float64(s.streams.Load()) })
	if cfg.AdminToken != "" {
		s.admin = sha256.Sum256([]byte(cfg.AdminToken))
		if res.CanUpload() {
			if err := os.MkdirAll(s.spoolDir(), 0o700); err != nil {
				log.Warn("uploads will fail: the spool dir cannot be created", "dir", s.spoolDir(), "err", err)
			}
			s.sweepSpool()
		}
	}
	if cfg.DAV.On() {
		var err error
		if s.dav, err = newDAV(s, cfg.DAV, users, deps.Loopback, deps.DAVLocks); err != nil {
			return nil, err
		}
		if s.dav.mgr != nil && !s.dav.auth.readOnly {
			if err := os.MkdirAll(s.spoolDir(), 0o700); err != nil {
				log.Warn("WebDAV uploads will fail: the spool dir cannot be created", "dir", s.spoolDir(), "err", err)
			}
		}
	}
	s.useMounts() // mounts.go
	return s, nil
}

// Signer is the server's signer (disabled without a secret).
func (s *Server) Signer() *sign.Signer { return s.signer }

// Close drops idle CDN connections; call it after the HTTP server stopped.
func (s *Server) Close() { s.cdn.close() }

// Drain makes /-/readyz answer 503 so that load balancers stop sending new
// requests, while everything already running goes on.
func (s *Server) Drain() { s.draining.Store(true) }

// ActiveStreams is the number of proxied streams running now.
func (s *Server) ActiveStreams() int { return int(s.streams.Load()) }

// HTTPServer wraps s in a fasthttp server with alilink's limits. The read buffer
// (held by every connection, streaming ones too) fits a request line with a path
// over the 4 KiB limit plus ordinary headers, so a too-long path gets our clear
// 400, not fasthttp's 431.
func (s *Server) HTTPServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler: s.Handle,
		// A PUT its headers refuse is answered before its body is read.
		HeaderReceived: s.headerReceived,
		Name:           "alilink",
		ReadBufferSize: 8 << 10,
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   0, // streams may run for hours
		IdleTimeout:    90 * time.Second,
		// A PUT body over 1 MiB reaches serveUpload as a stream, which
		// spools it to disk; nothing else reads a body.
		MaxRequestBodySize: 1 << 20,
		StreamRequestBody:  true,
		// A PUT's body is the file, whatever its Content-Type.
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		LazyRequestTime:              true, // nothing reads ctx.Time(): skip a clock read per request
		// ReduceMemoryUsage would give a connection's buffers back while it
		// streams (12 KiB less per slow player) but costs an extra read per
		// keep-alive request: 30% of the 302 rate (bench/README.md).
		ReduceMemoryUsage: false,
		Logger:            slogPrinter{s.log},
	}
}

var internalPrefix = []byte("/-/")

// Handle routes a request to its door: the AList door, the /-/ endpoints,
// WebDAV, else a drive path. Every answer is counted and, with the access
// log on, logged once: here, or for a proxied body when it ends.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	var start time.Time
	if s.obs.accessLog {
		start = ctx.Time()
	}
	raw := requestPath(ctx)
	var (
		act       int
		p         string // the clean path; "": logPath(raw)
		streaming bool
	)
	switch {
	case s.isAListPath(raw):
		act, p, streaming = s.serveAList(ctx, raw, start)
	case bytes.HasPrefix(raw, internalPrefix):
		s.serveInternal(ctx, raw)
		act = actInternal
	case s.dav != nil && s.dav.match(raw):
		act, streaming = s.dav.serve(ctx, raw, start)
	default:
		act, p, streaming = s.route(ctx, raw, start)
	}
	if streaming {
		return
	}
	if p == "" {
		p = logPath(raw)
	}
	s.finish(ctx, act, p, start)
}

// route answers a drive path at alilink's own door and tells what it
// answered with and the clean path; streaming means a proxied body now
// reports for itself.
func (s *Server) route(ctx *fasthttp.RequestCtx, raw []byte, start time.Time) (act int, p string, streaming bool) {
	if ctx.IsPut() {
		act, p := s.serveUpload(ctx, raw)
		return act, p, false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		s.writeError(ctx, withHeader(errMethod, "Allow", "GET, HEAD, PUT"))
		return actError, "", false
	}
	p, exp, err := s.authorisedPath(ctx, raw, s.signer)
	if err != nil {
		s.writeError(ctx, err)
		return actError, p, false
	}
	mode := s.modeFor(p)
	if ctx.IsHead() && mode != ModeRewrite {
		// HEAD of a file is answered from the drive's metadata, as proxy
		// mode would (rclone's http backend sends a HEAD per file): the
		// size, type and validators a GET gets, without fetching a link.
		mode = ModeProxy
	}
	act, streaming = s.serveDrive(ctx, &driveReq{p: p, exp: exp, mode: mode, views: true, start: start})
	return act, p, streaming
}

// requestPath is the path of the request line, still percent-encoded. Reading
// the raw request URI skips fasthttp's own path normalisation: CleanPath is the
// only canonicalisation.
func requestPath(ctx *fasthttp.RequestCtx) []byte {
	uri := ctx.Request.Header.RequestURI()
	if len(uri) == 0 || uri[0] != '/' {
		return ctx.URI().PathOriginal() // absolute-form request target
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

func (s *Server) serveInternal(ctx *fasthttp.RequestCtx, p []byte) {
	switch string(p) {
	case "/-/healthz":
		writeText(ctx, fasthttp.StatusOK, "ok")
	case "/-/readyz":
		s.serveReady(ctx)
	case "/-/metrics":
		s.serveMetrics(ctx)
	case "/-/api/sign", "/-/api/link":
		s.serveAPI(ctx, string(p))
	default:
		s.serveBrowseInternal(ctx, p)
	}
}
