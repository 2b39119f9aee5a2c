package streamer

import (
	"context"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
)

type readyJSON struct {
	Ready    bool     `json:"ready"`
	Problems []string `json:"problems"`
}

// serveReady reports whether the drive can be used: a valid access token at
// hand (refreshing it if needed). Problems that do not stop serving, such as a
// state dir that cannot be written, are listed while the status stays 200.
func (s *Server) serveReady(ctx *fasthttp.RequestCtx) {
	if s.draining.Load() {
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, readyJSON{Ready: false, Problems: []string{"shutting down: finishing what is running"}})
		return
	}
	c, cancel := context.WithTimeout(context.Background(), s.cfg.ReadyTimeout)
	defer cancel()
	h := s.res.Health(c)
	out := readyJSON{Ready: h.Ready, Problems: h.Problems}
	if out.Problems == nil {
		out.Problems = []string{}
	}
	status := fasthttp.StatusOK
	if !h.Ready {
		status = fasthttp.StatusServiceUnavailable
	}
	writeJSON(ctx, status, out)
}

// serveMetrics writes the metrics in the Prometheus text format, with the
// process's own (CPU, memory, file descriptors, Go runtime).
func (s *Server) serveMetrics(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	s.obs.set.WritePrometheus(ctx)
	metrics.WriteProcessMetrics(ctx)
}
