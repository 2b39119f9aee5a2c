// Package streamer speaks HTTP to clients: routes, the error→status map, folder
// listings, the /-/ endpoints, and the data path of each mode.
package streamer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
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
}

var _ Resolver = (*resolver.Resolver)(nil)

// Modes.
const (
	ModeRedirect = "redirect"
)

// Config is the serving configuration.
type Config struct {
	Mode string `env:"MODE" envDefault:"redirect"`
	// ReadyTimeout bounds the token check behind /-/readyz.
	ReadyTimeout time.Duration `env:"READY_TIMEOUT" envDefault:"5s"`
}

// Validate names the first bad variable.
func (c *Config) Validate() error {
	switch c.Mode {
	case ModeRedirect:
	case "auto", "proxy", "rewrite", "accel":
		return fmt.Errorf("ALILINK_MODE: %q is not implemented yet (only redirect is)", c.Mode)
	default:
		return fmt.Errorf("ALILINK_MODE: %q is not one of auto, redirect, proxy, rewrite, accel", c.Mode)
	}
	if c.ReadyTimeout <= 0 {
		return fmt.Errorf("ALILINK_READY_TIMEOUT: must be positive")
	}
	return nil
}

// Server is the HTTP front of alilink.
type Server struct {
	cfg Config
	res Resolver
	log *slog.Logger
}

// New builds a server.
func New(cfg Config, res Resolver, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, res: res, log: log}, nil
}

// HTTPServer wraps s in a fasthttp server with alilink's limits: the read buffer
// is large enough that a too-long path gets our clear 400, not fasthttp's 431.
func (s *Server) HTTPServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               s.Handle,
		Name:                  "alilink",
		ReadBufferSize:        16 << 10,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          0, // streams may run for hours
		IdleTimeout:           90 * time.Second,
		MaxRequestBodySize:    1 << 20,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		LazyRequestTime:       true, // nothing reads ctx.Time(): skip a clock read per request
		Logger:                slogPrinter{s.log},
	}
}

var internalPrefix = []byte("/-/")

// Handle routes a request: /-/ endpoints, else a drive path.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	raw := requestPath(ctx)
	if bytes.HasPrefix(raw, internalPrefix) {
		s.serveInternal(ctx, raw)
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writeText(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
		return
	}
	p, err := resolver.CleanPath(raw)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	it, l, err := s.res.Resolve(ctx, p)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if it.Folder {
		s.serveListing(ctx, p)
		return
	}
	s.serveRedirect(ctx, l)
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
	default:
		writeText(ctx, fasthttp.StatusNotFound, "not found")
	}
}

// slogPrinter routes fasthttp's own log lines into slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.log.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
