package streamer

import (
	"errors"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
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
// CDN, but for a link that serves a part of the file (Link.Part), whose size
// only the CDN tells (openPart). link is the already resolved link (auto
// mode, or a file that MayLinkPart) or nil. It reports whether a body stream
// took over (and will count and log the request).
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
	var rangeHeader string
	if rangeHolds && (ctx.IsGet() || ctx.IsHead()) {
		rangeHeader = string(ctx.Request.Header.Peek("Range"))
	}
	// p is the stream of a part (a live photo's movie), opened first to
	// learn its size; nil for a file served as itself.
	var p *proxyStream
	if link != nil && link.Part != "" {
		if p = s.openPart(ctx, it, link, rangeHeader); p == nil {
			return false
		}
		it = p.item
	}
	r, kind := byteRange{0, it.Size - 1}, rangeWhole
	if pr, k := parseRange(rangeHeader, it.Size); k != rangeWhole {
		r, kind = pr, k
	}
	if kind == rangeUnsatisfiable {
		p.close()
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
		p.close()
		h.SetContentType(contentType(it.Name, it.MimeType, ""))
		h.SetContentLength(int(r.length()))
		ctx.SetStatusCode(status)
		return false
	}
	if p == nil {
		if p = s.startStream(ctx, it, link, r); p == nil {
			return false
		}
	} else {
		p.seek(r)
	}
	if p.up == nil && !s.connectStream(ctx, p) {
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

// openPart opens the stream of the part of it that link serves (Link.Part:
// a live photo's movie, spec §13.8), whose size is in no listing: the
// CDN's first answer tells it, and the returned stream's item is the part,
// with that size and the part's name. That first request asks from where
// the client's Range starts, when it says so without the size, so that its
// answer is usually the body to send; a HEAD asks for one byte. On failure
// the error is answered and openPart returns nil.
func (s *Server) openPart(ctx *fasthttp.RequestCtx, it resolver.Item, link *resolver.Link, rangeHeader string) *proxyStream {
	p := s.startStream(ctx, partItem(it, link.Part), link, byteRange{rangeStart(rangeHeader), math.MaxInt64})
	if p == nil {
		return nil
	}
	p.sizing, p.sizeOnly = true, ctx.IsHead()
	if !s.connectStream(ctx, p) {
		return nil
	}
	return p
}

// startStream takes a stream slot for a stream of it's bytes r; when all
// are taken it answers 503 and returns nil.
func (s *Server) startStream(ctx *fasthttp.RequestCtx, it resolver.Item, link *resolver.Link, r byteRange) *proxyStream {
	if !s.acquireStream() {
		dropFileHeaders(&ctx.Response.Header)
		s.writeError(ctx, errStreamsFull)
		return nil
	}
	return s.newProxyStream(it, link, r)
}

// connectStream makes p's first CDN request; on failure it closes p (its
// slot with it) and answers the error.
func (s *Server) connectStream(ctx *fasthttp.RequestCtx, p *proxyStream) bool {
	if err := p.connect(); err != nil {
		_ = p.Close()
		dropFileHeaders(&ctx.Response.Header)
		s.writeError(ctx, err)
		return false
	}
	return true
}

// partItem is it as the part of it named part ("mov") is served: named
// after it with the part's extension, of no type the drive gave (that is
// the whole file's), its size still the whole file's.
func partItem(it resolver.Item, part string) resolver.Item {
	it.Name = strings.TrimSuffix(it.Name, path.Ext(it.Name)) + "." + part
	it.MimeType = ""
	return it
}

// seek points the stream at r: the body it holds is kept if it starts at
// r's start (it then covers r: it runs to the part's end).
func (p *proxyStream) seek(r byteRange) {
	if p.up != nil && p.next != r.start {
		p.dropUpstream()
	}
	p.next, p.end = r.start, r.end
}

// close closes a part's stream that will send no body; nil is none.
func (p *proxyStream) close() {
	if p != nil {
		_ = p.Close()
	}
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
