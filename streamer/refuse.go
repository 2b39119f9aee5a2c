package streamer

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// A PUT that its headers alone refuse (no or a wrong admin token, uploads off,
// a read-only drive, a bad path or X-Content-Sha1, a Content-Length over
// ALILINK_UPLOAD_MAX) is answered before a byte of its body is read: an
// unauthenticated client must not make alilink hold buffers for a body it
// will never take. fasthttp reads up to 8 KiB of a streamed body before it
// calls the handler, and answers "Expect: 100-continue" itself; so the check
// runs in its HeaderReceived hook, which makes such a request bodiless (no
// Expect, Content-Length 0) and marks it with the reason, and the handler
// then answers the mark and closes the connection.

// refusal is why a PUT is refused from its headers (0: it is not).
type refusal uint8

const (
	refuseNone refusal = iota
	refuseOff
	refuseToken
	refusePath
	refuseRoot
	refuseReadOnly
	refuseHash
	refuseSize
	refuseMount // a read-only mount (mounts.go)
)

// refusedHeader carries the refusal from the hook to the handler. The hook
// deletes whatever a client sent under that name.
const refusedHeader = "X-Alilink-Refused"

// headerReceived is fasthttp's HeaderReceived hook.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if !h.IsPut() {
		return fasthttp.RequestConfig{}
	}
	h.Del(refusedHeader)
	raw := requestURIPath(h.RequestURI())
	if s.dav != nil && s.dav.match(raw) {
		return fasthttp.RequestConfig{} // WebDAV judges its own PUTs (Basic auth, read-only)
	}
	if s.isAListPath(raw) {
		s.alistHeaderReceived(h) // /api/fs/put: AList's auth
		return fasthttp.RequestConfig{}
	}
	if r := s.putRefusal(h, raw); r != refuseNone {
		h.Del(fasthttp.HeaderExpect)
		h.SetContentLength(0)
		h.Set(refusedHeader, strconv.Itoa(int(r)))
	}
	return fasthttp.RequestConfig{}
}

// requestURIPath is the path of a request target, still percent-encoded
// (absolute-form too), or nil when it is neither form.
func requestURIPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		i := bytes.Index(uri, []byte("://"))
		if i < 0 {
			return nil
		}
		uri = uri[i+3:]
		j := bytes.IndexAny(uri, "/?")
		if j < 0 || uri[j] == '?' {
			return []byte("/")
		}
		uri = uri[j:]
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// putRefusal judges a PUT from its headers, in the order the handler would
// answer. raw is the request path (nil: not judged here).
func (s *Server) putRefusal(h *fasthttp.RequestHeader, raw []byte) refusal {
	switch {
	case s.cfg.AdminToken == "":
		return refuseOff
	case !s.authorizedHeader(h):
		return refuseToken
	}
	if raw != nil {
		p, err := resolver.CleanPath(raw)
		switch {
		case err != nil:
			return refusePath
		case p == "/":
			return refuseRoot
		case s.readOnlyAt(p):
			return refuseMount
		}
	}
	if !s.res.CanUpload() {
		return refuseReadOnly
	}
	if want := strings.ToLower(strings.TrimSpace(string(h.Peek("X-Content-Sha1")))); want != "" &&
		(len(want) != 40 || strings.Trim(want, "0123456789abcdef") != "") {
		return refuseHash
	}
	if int64(h.ContentLength()) > int64(s.cfg.UploadMax) {
		return refuseSize
	}
	return refuseNone
}

// refusalErrs are the errors of the refusals.
var refusalErrs = [...]error{
	refuseOff:      withHeader(errUploadsOff, "WWW-Authenticate", bearerChallenge),
	refuseToken:    withHeader(errAdminToken, "WWW-Authenticate", bearerChallenge),
	refusePath:     resolver.ErrBadPath,
	refuseRoot:     errNoName,
	refuseReadOnly: withHeader(errShareReadOnly, "Allow", "GET, HEAD"),
	refuseHash:     errBadSHA1,
	refuseSize:     errTooLarge,
	refuseMount:    resolver.ErrReadOnly,
}

// bearerChallenge is the WWW-Authenticate of the admin token's refusals.
const bearerChallenge = `Bearer realm="alilink"`

// writeRefusal answers a refused PUT.
func (s *Server) writeRefusal(ctx *fasthttp.RequestCtx, r refusal) {
	if r != refuseNone && int(r) < len(refusalErrs) {
		s.writeError(ctx, refusalErrs[r])
	}
}

// markedRefusal is the refusal headerReceived marked the request with.
func markedRefusal(h *fasthttp.RequestHeader) refusal {
	v := h.Peek(refusedHeader)
	if len(v) == 0 {
		return refuseNone
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n <= 0 || n >= len(refusalErrs) {
		return refuseNone
	}
	return refusal(n)
}

// answerRefused answers a PUT its headers refused and closes the connection
// the way nginx's lingering close does: after the answer went out, the rest of
// what the client is still sending is read and dropped for a short while
// (into a small buffer), so that closing on unread bytes does not reset the
// connection before the client read the answer.
//
// fasthttp closes a connection whose answer says "Connection: close" without
// calling the hijack handler, so the answer is rendered here and written by
// the handler itself (HijackSetNoResponse), which then lingers.
func (s *Server) answerRefused(ctx *fasthttp.RequestCtx, r refusal) {
	s.writeRefusal(ctx, r)
	ctx.Response.Header.SetConnectionClose()
	answer := ctx.Response.String()
	raw := ctx.Conn()
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		if _, err := io.WriteString(c, answer); err == nil {
			lingerClose(raw, c)
		}
	})
}

// Bounds of the lingering close: time only (bytes read into a 1 KiB
// buffer and dropped cost nothing to hold). nginx lingers 30 s with a 5 s
// gap; 2 s with a 500 ms gap was too short for a Go client still writing a
// 1 MiB body under -race on a loaded machine (it saw the close, not the
// answer, in TestUploadRefusals).
const (
	lingerTime    = 5 * time.Second
	lingerTimeout = time.Second
)

func lingerClose(raw, c net.Conn) {
	if cw, ok := raw.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	var buf [1 << 10]byte
	end := time.Now().Add(lingerTime)
	for {
		d := min(time.Until(end), lingerTimeout)
		if d <= 0 || c.SetReadDeadline(time.Now().Add(d)) != nil {
			return
		}
		if _, err := c.Read(buf[:]); err != nil {
			return
		}
	}
}

// authorizedHeader tells whether the request carries the admin token.
func (s *Server) authorizedHeader(h *fasthttp.RequestHeader) bool {
	tok, ok := strings.CutPrefix(string(h.Peek("Authorization")), "Bearer ")
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.admin[:]) == 1
}
