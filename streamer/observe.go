package streamer

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
)

// Actions label what a request was answered with, in metrics and the access
// log: the effective answer, not the configured mode (auto answers with
// redirect or proxy).
const (
	actRedirect = iota
	actProxy
	actRewrite
	actAccel
	actListing
	actError
	actInternal
	actUpload
	nActions
)

var actionNames = [nActions]string{"redirect", "proxy", "rewrite", "accel", "listing", "error", "internal", "upload"}

// observer holds the server's metrics and access log. Counters per action and
// status are created on first use and then found without a lock or an
// allocation, so counting costs a request two atomic operations.
type observer struct {
	set       *metrics.Set
	log       *slog.Logger
	accessLog bool
	// alog writes the access lines; nil sends them through log (slow: for
	// callers that gave no AccessLog).
	alog *AccessLog

	requests [nActions][600]atomic.Pointer[metrics.Counter]
	// With mounts (mounts.go), the request counters are per mount instead.
	mountOf     func(p string) int
	mountLabels []string
	byMount     [][nActions][600]atomic.Pointer[metrics.Counter]
	bytes       *metrics.Counter
	resumes     *metrics.Counter
	aborts      *metrics.Counter
}

func newObserver(set *metrics.Set, log *slog.Logger, accessLog bool, alog *AccessLog, streams func() float64) *observer {
	o := &observer{set: set, log: log, accessLog: accessLog, alog: alog}
	o.bytes = set.NewCounter("alilink_bytes_streamed_total")
	o.resumes = set.NewCounter("alilink_stream_resumes_total")
	o.aborts = set.NewCounter("alilink_stream_aborts_total")
	set.NewGauge("alilink_active_streams", streams)
	return o
}

// request counts one answer.
func (o *observer) request(act, status int) {
	if o.mountOf != nil {
		o.count(-1, act, status)
		return
	}
	if status < 100 || status >= 600 {
		status = 599
	}
	slot := &o.requests[act][status]
	c := slot.Load()
	if c == nil {
		c = o.set.GetOrCreateCounter(`alilink_requests_total{action="` + actionNames[act] + `",status="` + strconv.Itoa(status) + `"}`)
		slot.Store(c)
	}
	c.Inc()
}

// access writes the access line: method, path (the cleaned path, never the
// query, which may hold a sign), status, action, bytes and duration.
func (o *observer) access(method, path string, status, act int, n int64, start time.Time) {
	if !o.accessLog {
		return
	}
	if o.alog != nil {
		// One monotonic clock read (~65 ns here) instead of time.Now's wall
		// and monotonic reads (~150 ns on this project's VM): the same instant.
		var now time.Time
		if start.IsZero() {
			now = time.Now()
		} else {
			now = start.Add(time.Since(start))
		}
		o.alog.Line(now, method, path, status, actionNames[act], n, now.Sub(start))
		return
	}
	o.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", method), slog.String("path", path), slog.Int("status", status),
		slog.String("action", actionNames[act]), slog.Int64("bytes", n), slog.Duration("duration", time.Since(start)))
}

// logPath is a path fit for the log: bounded, and only what the client asked
// for before any query.
func logPath(raw []byte) string {
	const maxLen = 256
	if len(raw) > maxLen {
		return string(raw[:maxLen]) + "…"
	}
	return string(raw)
}

// finish counts and logs a request whose answer is complete when the handler
// returns (everything but a proxied body, which reports from its Close).
func (s *Server) finish(ctx *fasthttp.RequestCtx, act int, path string, start time.Time) {
	status := ctx.Response.StatusCode()
	s.obs.requestAt(path, act, status)
	if s.obs.accessLog {
		s.obs.access(methodName(ctx), path, status, act, int64(len(ctx.Response.Body())), start)
	}
}

// methodName is the request's method without allocating for the usual ones.
func methodName(ctx *fasthttp.RequestCtx) string {
	switch {
	case ctx.IsGet():
		return fasthttp.MethodGet
	case ctx.IsHead():
		return fasthttp.MethodHead
	case ctx.IsPut():
		return fasthttp.MethodPut
	case ctx.IsPost():
		return fasthttp.MethodPost
	case ctx.IsOptions():
		return fasthttp.MethodOptions
	}
	return string(ctx.Method())
}
