package streamer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// The bridge from fasthttp to x/net/webdav's net/http handler, for every
// WebDAV method but GET, HEAD and PUT (which alilink serves itself).
//
// Why not fasthttpadaptor: it aliases fasthttp's reused buffers into the
// strings it hands over (names got corrupted in a trial) and reads the whole
// body, which a PUT must never do. Why not a net/http server on the same
// listener: one port would need a connection sniffer in front of both
// servers, and every WebDAV client would lose alilink's fasthttp data path
// for GET. The bridge is small instead: it copies what the handler reads
// out of the request (method, path, host, headers but Authorization and
// Cookie, a body of at most 1 MiB: these methods carry XML at most), runs
// the handler on its own goroutine with a context of its own (a
// *fasthttp.RequestCtx must not outlive its handler), and answers from
// memory when the whole answer fits in davSpill, else streams it through a
// pipe: a PROPFIND of a folder of thousands of items is sent as it is
// encoded, one <response> at a time.

// davSpill is the answer size past which the bridge streams.
const davSpill = 256 << 10

// davMaxBody bounds the XML body of a WebDAV request.
const davMaxBody = 1 << 20

var errDAVClientGone = errors.New("webdav: the client went away")

// bridge runs x/net/webdav for the request; urlPath is its clean path. A
// PUT's body is handed over as the stream it is (the file system spools it
// to disk); any other body is read first, up to davMaxBody.
func (d *dav) bridge(ctx *fasthttp.RequestCtx, urlPath string, start time.Time) (int, bool) {
	put := ctx.IsPut()
	var body io.Reader
	size := int64(ctx.Request.Header.ContentLength())
	stream := ctx.RequestBodyStream()
	switch {
	case put && stream != nil:
		body = readerOnly{stream}
	case put:
		// Hidden behind readerOnly: io.Copy would prefer a bytes.Reader's
		// WriteTo to the file's ReadFrom (the upload).
		body = readerOnly{bytes.NewReader(ctx.Request.Body())}
	default:
		if size > davMaxBody {
			d.s.writeError(ctx, errBodyTooLarge)
			ctx.SetConnectionClose()
			return actError, false
		}
		var b []byte
		if stream != nil {
			var err error
			if b, err = io.ReadAll(io.LimitReader(stream, davMaxBody+1)); err != nil {
				d.s.writeError(ctx, &bodyErr{err})
				ctx.SetConnectionClose()
				return actError, false
			}
		} else {
			b = append([]byte(nil), ctx.Request.Body()...)
		}
		if len(b) > davMaxBody {
			d.s.writeError(ctx, errBodyTooLarge)
			ctx.SetConnectionClose()
			return actError, false
		}
		body, size = bytes.NewReader(b), int64(len(b))
	}
	if size < 0 {
		size = -1
	}
	note := &davNote{conn: ctx.Conn(), size: size}
	rctx, cancel := context.WithCancel(context.WithValue(context.Background(), davNoteKey{}, note))
	req := &http.Request{
		Method:        string(ctx.Method()),
		URL:           &url.URL{Path: urlPath},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header),
		Host:          string(ctx.Host()),
		ContentLength: size,
		Body:          io.NopCloser(body),
		RemoteAddr:    ctx.RemoteAddr().String(),
		RequestURI:    urlPath,
	}
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		key := http.CanonicalHeaderKey(string(k))
		if key == "Authorization" || key == "Cookie" {
			return
		}
		req.Header.Add(key, string(v))
	})
	req = req.WithContext(rctx)

	w := &davWriter{hdr: make(http.Header), stream: make(chan *io.PipeReader)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.handler.ServeHTTP(w, req)
		if w.pw != nil {
			_ = w.pw.Close()
		} else {
			cancel()
		}
	}()
	act := actListing
	if put {
		act = actUpload
	}
	select {
	case <-done:
		status := w.status
		if status == 0 {
			status = http.StatusOK
		}
		note.mu.Lock()
		derr, replaced := note.err, note.replaced
		note.mu.Unlock()
		if put {
			d.drain(ctx, body)
		}
		if derr != nil && (status == http.StatusForbidden || status == http.StatusMethodNotAllowed ||
			status == http.StatusInternalServerError || status == http.StatusConflict || status == http.StatusNotFound) {
			// The drive or the body failed: say so, not what x/net/webdav
			// made of it.
			d.s.writeError(ctx, derr)
			return actError, false
		}
		if put && status == http.StatusCreated && replaced {
			status = http.StatusNoContent // RFC 4918 §9.7.1: a replaced resource
		}
		d.writeHead(ctx, w, status)
		if status != http.StatusNoContent {
			ctx.SetBody(w.buf)
		}
	case pr := <-w.stream:
		d.writeHead(ctx, w, w.status)
		// The body reports for itself when it ends: reading the response
		// body to count it would buffer it all.
		ctx.Response.SetBodyStream(&davBody{pr: pr, cancel: cancel, o: d.s.obs, act: act, status: w.status,
			method: req.Method, path: logPath([]byte(urlPath)), start: start}, -1)
		return act, true
	}
	if ctx.Response.StatusCode() >= 400 {
		return actError, false
	}
	return act, false
}

// drain reads and drops what is left of a PUT's body (a refusal, a
// discarded Finder file) up to drainMax, so that the client reads the
// answer; past that the connection is closed.
func (d *dav) drain(ctx *fasthttp.RequestCtx, body io.Reader) {
	if body == nil {
		return
	}
	sp := &spool{body: body, conn: ctx.Conn(), idle: d.s.cfg.StreamIdleTimeout}
	defer sp.release()
	if !sp.discard(drainMax) {
		ctx.SetConnectionClose()
	}
}

func (d *dav) writeHead(ctx *fasthttp.RequestCtx, w *davWriter, status int) {
	h := &ctx.Response.Header
	for k, vs := range w.hdr {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if len(w.hdr.Values("Content-Type")) == 0 {
		h.SetContentType("text/plain; charset=utf-8")
	}
	h.Del("Content-Length")
	ctx.SetStatusCode(status)
}

// davWriter is the handler's http.ResponseWriter: a buffer, then a pipe.
// Once the pipe is handed over the handler writes only the body.
type davWriter struct {
	hdr    http.Header
	status int
	buf    []byte
	pw     *io.PipeWriter
	stream chan *io.PipeReader
}

func (w *davWriter) Header() http.Header { return w.hdr }

func (w *davWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *davWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.pw != nil {
		return w.pw.Write(b)
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) < davSpill {
		return len(b), nil
	}
	pr, pw := io.Pipe()
	w.pw = pw
	w.stream <- pr
	buf := w.buf
	w.buf = nil
	if _, err := pw.Write(buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// davBody is a streamed answer as fasthttp reads it; Close (at the end, or
// when the client went away) stops the handler.
type davBody struct {
	pr           *io.PipeReader
	cancel       context.CancelFunc
	o            *observer
	act, status  int
	method, path string
	start        time.Time
	written      int64
	closed       bool
}

func (b *davBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	b.written += int64(n)
	return n, err
}

func (b *davBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	_ = b.pr.CloseWithError(errDAVClientGone)
	b.cancel()
	b.o.requestAt(b.path, b.act, b.status)
	b.o.access(b.method, b.path, b.status, b.act, b.written, b.start)
	return nil
}

// readerOnly hides every method of a reader but Read.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }
