package streamer

import (
	"net/url"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// Headers of accel mode, read by the front server's internal location
// (examples/nginx, examples/caddy) and never passed to the client.
const (
	// HeaderAccelURL is the whole CDN URL (nginx: proxy_pass $upstream_http_x_alilink_url).
	HeaderAccelURL = "X-Alilink-Url"
	// HeaderAccelReferer is the Referer the CDN requires, empty for none.
	HeaderAccelReferer = "X-Alilink-Referer"
	// HeaderAccelHost and HeaderAccelURI split the URL for front servers that
	// need an upstream address and a request URI apart (Caddy).
	HeaderAccelHost = "X-Alilink-Host"
	HeaderAccelURI  = "X-Alilink-Uri"
)

// serveAccel hands the download to the front server: X-Accel-Redirect names
// its internal location, and the CDN URL and Referer travel in their own
// headers (a presigned URL inside X-Accel-Redirect itself gets unescaped by
// nginx and its signature breaks). The front server then streams the bytes
// with the client's Range; alilink only resolves.
func (s *Server) serveAccel(ctx *fasthttp.RequestCtx, it resolver.Item, l resolver.Link) int {
	u, err := url.Parse(l.URL)
	if err != nil {
		s.writeError(ctx, errCDN)
		return actError
	}
	if l.Part != "" {
		it = partItem(it, l.Part) // the front server fetches the part
	}
	h := &ctx.Response.Header
	h.Set("X-Accel-Redirect", s.cfg.AccelLocation)
	h.Set("X-Accel-Buffering", "no")
	h.Set(HeaderAccelURL, l.URL)
	h.Set(HeaderAccelReferer, l.Referer)
	h.Set(HeaderAccelHost, hostPort(u))
	h.Set(HeaderAccelURI, u.RequestURI())
	h.SetContentType(contentType(it.Name, it.MimeType, ""))
	h.Set("Content-Disposition", contentDisposition(it.Name))
	ctx.SetStatusCode(fasthttp.StatusOK)
	return actAccel
}

// hostPort is the URL's host with its port made explicit, as an upstream
// address needs it.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}
