package streamer

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// errStreamsFull: ALILINK_MAX_STREAMS streams are running.
var errStreamsFull = errors.New("too many concurrent streams")

// serveProxy streams a file through alilink. Range, If-Range and the other
// conditional headers are judged here against the drive's metadata (size,
// content hash, mtime), with net/http's ServeContent semantics; the CDN is then
// asked for exactly the bytes to send. HEAD, 304, 412 and 416 never touch the
// CDN. link is the already resolved link (auto mode) or nil. It reports
// whether a body stream took over (and will count and log the request).
func (s *Server) serveProxy(ctx *fasthttp.RequestCtx, it resolver.Item, link *resolver.Link, path string, start time.Time) bool {
	v := validators{modTime: it.Modified}
	if it.ContentHash != "" {
		v.etag = `"` + it.ContentHash + `"`
	}
	h := &ctx.Response.Header
	if v.etag != "" {
		h.Set("ETag", v.etag)
	}
	if !isZeroTime(v.modTime) {
		h.Set("Last-Modified", v.modTime.UTC().Format(http.TimeFormat))
	}
	pre, rangeHolds := checkPreconditions(&ctx.Request.Header, v)
	switch pre {
	case precondNotModified:
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return false
	case precondFailed:
		s.writeError(ctx, errPrecondition)
		return false
	}

	h.Set("Accept-Ranges", "bytes")
	r, kind := byteRange{0, it.Size - 1}, rangeWhole
	if rangeHolds && (ctx.IsGet() || ctx.IsHead()) {
		if pr, k := parseRange(string(ctx.Request.Header.Peek("Range")), it.Size); k != rangeWhole {
			r, kind = pr, k
		}
	}
	if kind == rangeUnsatisfiable {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(it.Size, 10))
		s.writeError(ctx, errRange)
		return false
	}
	h.Set("Content-Disposition", contentDisposition(it.Name))
	status := fasthttp.StatusOK
	if kind == rangePart {
		status = fasthttp.StatusPartialContent
		h.SetBytesV("Content-Range", contentRange(nil, r, it.Size))
	}
	if ctx.IsHead() || it.Size == 0 {
		h.SetContentType(contentType(it.Name, it.MimeType, ""))
		h.SetContentLength(int(r.length()))
		ctx.SetStatusCode(status)
		return false
	}
	if !s.acquireStream() {
		dropFileHeaders(h)
		s.writeError(ctx, errStreamsFull)
		return false
	}
	p := s.newProxyStream(it, link, r)
	if err := p.connect(); err != nil {
		_ = p.Close()
		dropFileHeaders(h)
		s.writeError(ctx, err)
		return false
	}
	h.SetContentType(contentType(it.Name, it.MimeType, p.up.contentType))
	ctx.SetStatusCode(status)
	p.report = streamReport{method: string(ctx.Method()), path: path, status: status, start: start}
	// Each write to the client gets ClientWriteTimeout (WriteTo moves the
	// deadline on); fasthttp clears it once the response is done.
	p.conn = ctx.Conn()
	_ = ctx.SetWriteDeadline(time.Now().Add(s.cfg.ClientWriteTimeout))
	// The status line and headers go out as soon as the CDN answered, not
	// with the first 4 KiB of body.
	ctx.Response.ImmediateHeaderFlush = true
	ctx.Response.SetBodyStream(p, int(r.length()))
	return true
}

// fileHeaders describe the file; an error answer must not carry them (a
// cache would take the error page for the file).
var fileHeaders = [...]string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Disposition", "Content-Range", "Content-Type"}

func dropFileHeaders(h *fasthttp.ResponseHeader) {
	for _, k := range fileHeaders {
		h.Del(k)
	}
}

// acquireStream takes one of ALILINK_MAX_STREAMS slots (0 = no cap).
func (s *Server) acquireStream() bool {
	n := s.streams.Add(1)
	if s.cfg.MaxStreams > 0 && n > int64(s.cfg.MaxStreams) {
		s.streams.Add(-1)
		return false
	}
	return true
}

func (s *Server) releaseStream() { s.streams.Add(-1) }
