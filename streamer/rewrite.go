package streamer

import (
	"time"

	"github.com/valyala/fasthttp"
)

// serveRewrite answers 302 to the download proxy (ALILINK_PROXY_URL) with the
// path and a fresh sign that lives ALILINK_REWRITE_TTL, but never longer than
// the incoming sign (expiry exp, unix seconds; 0: never expires): another
// alilink in proxy mode, sharing the secret, streams the bytes. This instance
// never asks the drive for a link.
func (s *Server) serveRewrite(ctx *fasthttp.RequestCtx, p string, exp int64) int {
	out := time.Now().Add(s.cfg.RewriteTTL).Unix()
	if exp > 0 {
		out = min(out, exp)
	}
	loc := s.signer.URL(s.cfg.ProxyURL, p, out)
	h := &ctx.Response.Header
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusFound)
	return actRewrite
}
