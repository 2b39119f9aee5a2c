package streamer

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// signJSON is the answer of /-/api/sign.
type signJSON struct {
	Path      string     `json:"path"`
	Sign      string     `json:"sign"`
	ExpiresAt *time.Time `json:"expires_at"` // null: never
	URL       string     `json:"url"`
}

// linkJSON is the answer of /-/api/link: what an external download proxy needs
// to fetch the file itself.
type linkJSON struct {
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Size        int64             `json:"size"`
	Name        string            `json:"name"`
	ContentHash string            `json:"content_hash"`
}

// serveAPI answers the admin endpoints. They exist only when ALILINK_ADMIN_TOKEN
// is set and need it as a bearer token, compared in constant time.
func (s *Server) serveAPI(ctx *fasthttp.RequestCtx, endpoint string) {
	if s.cfg.AdminToken == "" {
		s.writeError(ctx, errAPIOff)
		return
	}
	if !s.authorized(ctx) {
		s.writeError(ctx, withHeader(errAdminToken, "WWW-Authenticate", bearerChallenge))
		return
	}
	if !ctx.IsGet() {
		s.writeError(ctx, withHeader(errMethod, "Allow", "GET"))
		return
	}
	raw := string(ctx.QueryArgs().Peek("path"))
	if raw == "" {
		s.writeError(ctx, errPathMissing)
		return
	}
	p, err := resolver.CleanPath([]byte(resolver.EscapePath(raw)))
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	switch endpoint {
	case "/-/api/sign":
		s.apiSign(ctx, p)
	default:
		s.apiLink(ctx, p)
	}
}

// authorized compares the bearer token by hash, so neither its content nor its
// length leaks through timing.
func (s *Server) authorized(ctx *fasthttp.RequestCtx) bool {
	return s.authorizedHeader(&ctx.Request.Header)
}

func (s *Server) apiSign(ctx *fasthttp.RequestCtx, p string) {
	if !s.signer.Enabled() {
		s.writeError(ctx, errNoSignSecret)
		return
	}
	ttl, err := parseTTL(string(ctx.QueryArgs().Peek("ttl")))
	if err != nil {
		s.writeError(ctx, errBadTTL)
		return
	}
	out := signJSON{Path: p}
	var unix int64 // 0: never expires
	if ttl > 0 {
		exp := time.Now().Add(ttl).Truncate(time.Second)
		out.ExpiresAt = &exp
		unix = exp.Unix()
	}
	out.Sign = s.signer.SignUnix(p, unix)
	scheme := "http"
	if string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https" || ctx.IsTLS() {
		scheme = "https"
	}
	out.URL = s.signer.URL(scheme+"://"+string(ctx.Host()), p, unix)
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) apiLink(ctx *fasthttp.RequestCtx, p string) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	it, err := s.res.Stat(dc, p)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if it.Folder {
		s.writeError(ctx, errNotAFile)
		return
	}
	l, err := s.res.Link(dc, it)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	out := linkJSON{URL: l.URL, Headers: map[string]string{}, ExpiresAt: l.Expires.UTC(), Size: it.Size, Name: it.Name, ContentHash: it.ContentHash}
	if l.Referer != "" {
		out.Headers["Referer"] = l.Referer
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// maxTTL is the longest sign /-/api/sign hands out with an expiry; "never"
// must be asked for as 0, not reached by overflowing a huge ttl.
const maxTTL = 10 * 365 * 24 * time.Hour

// parseTTL reads a Go duration or whole seconds, 1s to maxTTL; "" and "0"
// mean never.
func parseTTL(v string) (time.Duration, error) {
	if v == "" || v == "0" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 1 || n > int64(maxTTL/time.Second) {
			return 0, strconv.ErrRange
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > maxTTL {
		return 0, strconv.ErrSyntax
	}
	return d, nil
}

// writeJSON answers v as JSON, uncached. Our own types always marshal.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, _ := json.Marshal(v)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.SetStatusCode(status)
	ctx.SetBody(body)
}
