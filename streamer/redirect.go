package streamer

import (
	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// serveRedirect answers 302 to the drive's download URL: the cheapest mode, the
// player fetches the bytes itself. Referrer-Policy keeps browsers from sending a
// Referer the CDN would refuse (spec §5.3, AList commit e75f19e9); no-store keeps
// a short-lived URL out of every cache.
func (s *Server) serveRedirect(ctx *fasthttp.RequestCtx, l resolver.Link) int {
	h := &ctx.Response.Header
	h.Set("Location", l.URL)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusFound)
	return actRedirect
}
