package streamer

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// Browsing: a folder answers as an HTML index (the default, what browsers,
// rclone's http backend, wget -r and Kodi's HTTP directory source read), as
// JSON (Accept: application/json or ?format=json) or as an M3U8 playlist
// (?format=m3u). A media file answers with a player page on ?play. Issue 14.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the HTML templates, parsed once, on the first page served: a
// server that never renders one (a player's sidecar) does not pay for the
// parse at start (~1,000 allocations and the template packages' code pages
// in its resident memory, issue 16).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"url": func(s string) template.URL { return template.URL(s) }, //nolint:gosec // built by hrefEscape/absURL only
	}).ParseFS(templateFS, "templates/*.html"))
})

// contentSecurityPolicy goes on every HTML answer: scripts, styles and images
// only from alilink's own /-/static/, nothing inline, no frames, no forms
// elsewhere. Media may come from any http(s) origin because in redirect mode
// the file's own URL answers 302 to the drive's CDN, whose host varies.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' http: https:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Formats a folder or file can be asked for.
const (
	formatHTML = "html"
	formatJSON = "json"
	formatM3U  = "m3u"
	formatVTT  = "vtt"
)

// folderFormat picks a folder's answer: ?format= first, then the Accept
// header (JSON only when it prefers application/json to text/html, so a
// browser's */* and curl's default get the page), HTML otherwise.
func folderFormat(ctx *fasthttp.RequestCtx) (string, bool) {
	switch f := string(ctx.QueryArgs().Peek("format")); f {
	case "":
	case formatHTML, formatJSON:
		return f, true
	case formatM3U, "m3u8":
		return formatM3U, true
	default:
		return "", false
	}
	if acceptQ(ctx.Request.Header.Peek("Accept"), "application/json") > acceptQ(ctx.Request.Header.Peek("Accept"), "text/html") {
		return formatJSON, true
	}
	return formatHTML, true
}

// acceptQ is the quality an Accept header gives the exact media type (RFC 9110
// §12.5.1); wildcards count for nobody, so "*/*" prefers neither.
func acceptQ(accept []byte, mediaType string) float64 {
	best := 0.0
	for part := range bytes.SplitSeq(accept, []byte(",")) {
		fields := bytes.Split(part, []byte(";"))
		if !strings.EqualFold(string(bytes.TrimSpace(fields[0])), mediaType) {
			continue
		}
		q := 1.0
		for _, f := range fields[1:] {
			if v, ok := bytes.CutPrefix(bytes.TrimSpace(f), []byte("q=")); ok {
				if n, err := strconv.ParseFloat(string(v), 64); err == nil {
					q = n
				}
			}
		}
		best = max(best, q)
	}
	return best
}

// serveFolder answers a folder in the format the request asks for. All three
// come from one cached listing (resolver.List), so none costs a drive call
// the others would not.
func (s *Server) serveFolder(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64) {
	format, ok := folderFormat(ctx)
	if !ok {
		s.writeError(ctx, errBadFormat)
		return
	}
	ctx.Response.Header.Set("Vary", "Accept")
	switch format {
	case formatJSON:
		s.serveListing(ctx, dc, p, exp)
	case formatM3U:
		s.servePlaylist(ctx, dc, p, exp)
	default:
		// Relative links need the folder's URL to end in "/", as nginx does.
		if raw := requestPath(ctx); p != "/" && !bytes.HasSuffix(raw, []byte("/")) {
			loc := append(append([]byte{}, raw...), '/')
			if q := ctx.URI().QueryString(); len(q) > 0 {
				loc = append(append(loc, '?'), q...)
			}
			ctx.Response.Header.SetBytesV("Location", loc)
			ctx.Response.Header.Set("Cache-Control", "no-store")
			ctx.SetStatusCode(fasthttp.StatusMovedPermanently)
			return
		}
		s.serveIndex(ctx, dc, p, exp)
	}
}

// serveFileView answers what a file's URL gives besides its bytes: the player
// page (?play) and a subtitle as WebVTT (?format=vtt). It reports false when
// the request is for the bytes.
func (s *Server) serveFileView(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64, it resolver.Item) bool {
	q := ctx.QueryArgs()
	switch {
	case q.Has("play"):
		s.servePlayer(ctx, dc, p, exp, it, pageDir(requestPath(ctx)), !s.signer.Enabled())
	case len(q.Peek("format")) == 0:
		return false
	case string(q.Peek("format")) == formatVTT:
		s.serveSubtitle(ctx, dc, it)
	default:
		s.writeError(ctx, errBadFileFormat)
	}
	return true
}

// wantsView tells whether a file request asks for a page or a conversion
// rather than the bytes; route then stats the path instead of resolving a link.
func wantsView(ctx *fasthttp.RequestCtx) bool {
	q := ctx.QueryArgs()
	return q.Has("play") || q.Has("format")
}

// hrefEscape percent-encodes a path for an href: everything but unreserved
// characters and "/" (and ":", which a "./" prefix makes safe) is escaped, so
// that html/template has nothing to turn into an entity. Kodi cuts an href at
// "#" before it decodes entities, so "'" as &#39; would lose the file.
func hrefEscape(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 16)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/:", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// relName is a child's href relative to its folder: the escaped name, with a
// "./" in front when it holds a colon (RFC 3986 §4.2: "a:b" would read as a
// scheme), as nginx's autoindex writes it.
func relName(name string, folder bool) string {
	h := hrefEscape(name)
	if strings.Contains(name, ":") {
		h = "./" + h
	}
	if folder {
		h += "/"
	}
	return h
}

// pageDir is the directory of a page's URL path, which its relative links
// start from.
func pageDir(raw []byte) string {
	i := bytes.LastIndexByte(raw, '/')
	return string(raw[:i+1])
}

// dirSlash is a folder's path ending in "/", the prefix of its children.
func dirSlash(p string) string {
	if p == "/" {
		return p
	}
	return p + "/"
}

// rootFrom is the relative path from a page's directory back to the root, so
// that pages work under any prefix a reverse proxy mounts alilink at.
func rootFrom(dir string) string {
	n := strings.Count(dir, "/") - 1
	if n <= 0 {
		return "./"
	}
	return strings.Repeat("../", n)
}

// absBase is scheme://host of the request, for links that leave the browser
// (a playlist, "open in" a player app).
func absBase(ctx *fasthttp.RequestCtx) string {
	scheme := "http"
	if string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https" || ctx.IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + string(ctx.Host())
}

// writeHTML renders a page with the headers every HTML answer carries.
func (s *Server) writeHTML(ctx *fasthttp.RequestCtx, name string, data any) {
	var buf bytes.Buffer
	if err := pages().ExecuteTemplate(&buf, name, data); err != nil {
		s.writeError(ctx, fmt.Errorf("%w: %w", errPage, err))
		return
	}
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store") // pages hold signs
	h.SetContentType("text/html; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(buf.Bytes())
}

// serveStatic answers /-/static/*: the embedded CSS, script and icon.
func (s *Server) serveStatic(ctx *fasthttp.RequestCtx, name string) {
	b, err := fs.ReadFile(staticFS, path.Join("static", name))
	if err != nil || strings.Contains(name, "..") {
		s.writeError(ctx, resolver.ErrNotFound)
		return
	}
	ct := contentType(name, "", "")
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.SetContentType(ct)
	ctx.SetStatusCode(fasthttp.StatusOK)
	if !ctx.IsHead() {
		ctx.SetBody(b)
	}
}

// Media kinds, by extension: what gets a player, an icon and a playlist line.
func mediaKind(name string) string {
	ext := strings.ToLower(path.Ext(name))
	t := mediaTypes[ext]
	switch {
	case ext == ".iso" || ext == ".rmvb":
		return "video"
	case strings.HasPrefix(t, "video/"):
		return "video"
	case strings.HasPrefix(t, "audio/"):
		return "audio"
	case strings.HasPrefix(t, "image/"):
		return "image"
	case ext == ".srt" || ext == ".vtt" || ext == ".ass" || ext == ".ssa" || ext == ".sub":
		return "sub"
	case strings.HasPrefix(t, "text/"):
		return "text"
	}
	switch ext {
	case ".zip", ".rar", ".7z", ".tar", ".gz", ".xz", ".zst":
		return "archive"
	case ".pdf", ".epub", ".doc", ".docx":
		return "doc"
	}
	return "file"
}

// playable: the kinds a player page and a playlist are for.
func playable(name string) bool {
	k := mediaKind(name)
	return (k == "video" || k == "audio") && !strings.EqualFold(path.Ext(name), ".iso")
}

// nginxTime is the date of nginx's autoindex, which Kodi's regex reads.
func nginxTime(t time.Time) string {
	if isZeroTime(t) {
		return ""
	}
	return t.UTC().Format("02-Jan-2006 15:04")
}

// humanSize is a size for people (binary units).
func humanSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i:i+1] + "iB"
}

// serveBrowseInternal answers the /-/ paths of browsing: the static assets,
// the player and the playlist, and 404 for anything else.
func (s *Server) serveBrowseInternal(ctx *fasthttp.RequestCtx, raw []byte) {
	switch {
	case bytes.HasPrefix(raw, []byte("/-/static/")) && (ctx.IsGet() || ctx.IsHead()):
		s.serveStatic(ctx, string(raw[len("/-/static/"):]))
	case bytes.HasPrefix(raw, []byte("/-/play/")) && (ctx.IsGet() || ctx.IsHead()):
		s.servePlayerAt(ctx, raw)
	case bytes.HasPrefix(raw, []byte("/-/playlist/")) && (ctx.IsGet() || ctx.IsHead()):
		s.servePlaylistAt(ctx, raw)
	default:
		s.writeError(ctx, resolver.ErrNotFound)
	}
}
