package streamer

import (
	"context"

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
