package streamer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/webdav"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/htpasswd"
	"github.com/alilink/alilink/streamer/sign"
)

// WebDAV at ALILINK_DAV_PREFIX (default /dav). The protocol (PROPFIND and
// PROPPATCH XML, locks, the If header, MOVE and COPY rules) is
// golang.org/x/net/webdav over a FileSystem backed by the resolver
// (davfs.go), reached through a bridge that clones the request and streams
// the answer (davbridge.go). GET and HEAD never reach it: they go through
// alilink's own modes with the per-client policy of ALILINK_DAV_MODE, and
// PUT goes through the upload spool (davput.go). Authentication is
// davauth.go.

// Manager is the resolver's file management, which WebDAV's and the AList
// door's writes need besides Upload.
type Manager interface {
	CanManage() bool
	Mkdir(ctx context.Context, p string) (resolver.Item, error)
	Move(ctx context.Context, src, dst string) (resolver.Item, error)
	Copy(ctx context.Context, src, dst string) (resolver.Item, error)
	Trash(ctx context.Context, p string) error
}

var _ Manager = (*resolver.Resolver)(nil)

// DAVConfig configures WebDAV (ALILINK_DAV_*).
type DAVConfig struct {
	// Prefix is where WebDAV is served; "off" (or empty in code) turns it off.
	Prefix string `env:"PREFIX" envDefault:"/dav"`
	// Mode is the GET policy: auto, redirect, proxy or rewrite.
	Mode string `env:"MODE" envDefault:"auto"`
	// RedirectAgents extends the User-Agents auto mode redirects
	// (comma-separated, case-insensitive substrings); a leading "=" replaces
	// the built-in list.
	RedirectAgents string `env:"REDIRECT_AGENTS"`
	// Htpasswd is an htpasswd file of bcrypt hashes (htpasswd -B).
	Htpasswd string `env:"HTPASSWD"`
	// ReadOnlyUsers may read but not write (comma-separated user names).
	ReadOnlyUsers string `env:"READONLY_USERS"`
	// ReadOnly refuses every write.
	ReadOnly bool `env:"READONLY" envDefault:"false"`
	// LoginBurst is how many failed logins a client address may make before
	// it gets 429; one more is allowed every 6 seconds.
	LoginBurst int `env:"LOGIN_BURST" envDefault:"10"`
}

// defaultRedirectAgents follow a 302 to another host safely, without
// sending our Authorization or a Referer of their own to the CDN (matched
// as case-insensitive substrings of the User-Agent). Everything else is
// proxied: neon (cadaver, litmus, davfs2), Microsoft-WebDAV-MiniRedir,
// WebDAVFS (Finder), Go-http-client, sync apps.
var defaultRedirectAgents = []string{
	"Infuse", "nPlayer", "VidHub", "Fileball", "Kodi", "rclone", "okhttp", "VLC", "mpv", "Lavf", "Wget",
}

// On tells whether WebDAV is served.
func (c *DAVConfig) On() bool { return c.Prefix != "" && c.Prefix != "off" }

func (c *DAVConfig) validate(top *Config) error {
	if !c.On() {
		return nil
	}
	if !strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") || strings.ContainsAny(c.Prefix, "?#% \t\r\n") ||
		strings.HasPrefix(c.Prefix, "/-/") || c.Prefix != cleanPrefix(c.Prefix) {
		return fmt.Errorf("ALILINK_DAV_PREFIX: must be a clean path like /dav (no trailing slash, not under /-/), got %q", c.Prefix)
	}
	switch c.Mode {
	case ModeAuto, ModeRedirect, ModeProxy:
	case ModeRewrite:
		u, err := url.Parse(top.ProxyURL)
		if top.ProxyURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			!sign.New(top.SignSecret).Enabled() {
			return fmt.Errorf("ALILINK_DAV_MODE: rewrite needs ALILINK_PROXY_URL (the download proxy) and ALILINK_SIGN_SECRET")
		}
	default:
		return fmt.Errorf("ALILINK_DAV_MODE: %q is not one of auto, redirect, proxy, rewrite", c.Mode)
	}
	if c.LoginBurst < 1 {
		return fmt.Errorf("ALILINK_DAV_LOGIN_BURST: must be at least 1, got %d", c.LoginBurst)
	}
	return nil
}

func cleanPrefix(p string) string {
	c, err := resolver.CleanPath([]byte(p))
	if err != nil {
		return ""
	}
	return c
}

// dav is the WebDAV front door of one server.
type dav struct {
	s       *Server
	prefix  string
	mode    string
	agents  []string
	auth    *davAuth
	mgr     Manager // nil: the resolver cannot manage files
	handler *webdav.Handler
	fs      *davFS
}

func newDAV(s *Server, cfg DAVConfig, users *htpasswd.File, loopback bool, locks webdav.LockSystem) (*dav, error) {
	auth := newDAVAuth(cfg, users, s.cfg.AdminToken, loopback)
	d := &dav{s: s, prefix: cfg.Prefix, mode: cfg.Mode, auth: auth}
	d.agents = defaultRedirectAgents
	if a := strings.TrimSpace(cfg.RedirectAgents); a != "" {
		if rest, ok := strings.CutPrefix(a, "="); ok {
			d.agents, a = nil, rest
		} else {
			d.agents = append([]string(nil), defaultRedirectAgents...)
		}
		for _, n := range strings.Split(a, ",") {
			if n = strings.TrimSpace(n); n != "" {
				d.agents = append(d.agents, n)
			}
		}
	}
	for i := range d.agents {
		d.agents[i] = strings.ToLower(d.agents[i])
	}
	if m, ok := s.res.(Manager); ok && m.CanManage() && s.res.CanUpload() {
		d.mgr = m
	}
	if d.mgr == nil || cfg.ReadOnly || auth.open {
		d.auth.readOnly = true
	}
	d.fs = newDAVFS(s.res, d.mgr, s.log, d.davUpload)
	if locks == nil {
		locks = webdav.NewMemLS()
	}
	d.handler = &webdav.Handler{Prefix: d.prefix, FileSystem: d.fs, LockSystem: davLocks{locks, d.fs}}
	return d, nil
}

// match tells whether a raw request path is under the prefix.
func (d *dav) match(raw []byte) bool {
	// A comparison of string(raw[:n]) allocates nothing; string(raw) as a
	// call argument copies a path over 32 bytes (the 302 path's one alloc).
	if len(raw) < len(d.prefix) || string(raw[:len(d.prefix)]) != d.prefix {
		return false
	}
	rest := raw[len(d.prefix):]
	return len(rest) == 0 || rest[0] == '/'
}

// davWrites are the methods that change the drive (or its locks and props).
var davWrites = map[string]bool{
	"PUT": true, "DELETE": true, "MKCOL": true, "COPY": true, "MOVE": true, "PROPPATCH": true, "LOCK": true, "UNLOCK": true,
}

// serve answers one WebDAV request; streaming means a body reports for itself.
func (d *dav) serve(ctx *fasthttp.RequestCtx, raw []byte, start time.Time) (act int, streaming bool) {
	method := string(ctx.Method())
	if method == fasthttp.MethodOptions {
		d.options(ctx)
		return actListing, false
	}
	user, err := d.auth.check(ctx)
	if err != nil {
		d.s.writeError(ctx, err)
		if ctx.IsPut() {
			ctx.SetConnectionClose() // nobody's body is read before they log in
		}
		return actError, false
	}
	bridged := false
	if ctx.IsPut() {
		// A PUT refused before the bridge leaves its body unread: read
		// some of it so that the client sees the answer (the bridge drains
		// its own).
		defer func() {
			if !bridged && act == actError {
				d.drain(ctx, ctx.RequestBodyStream())
			}
		}()
	}
	urlPath, err := resolver.CleanPath(raw)
	if err != nil {
		d.s.writeError(ctx, err)
		return actError, false
	}
	name, under := strings.CutPrefix(urlPath, d.prefix)
	if !under || (name != "" && name[0] != '/') {
		d.s.writeError(ctx, resolver.ErrNotFound) // a path that left the prefix with ".."
		return actError, false
	}
	if name == "" {
		name = "/"
	}
	if davWrites[method] && user.readOnly {
		d.s.writeError(ctx, errDAVUserReadOnly)
		return actError, false
	}
	if davWrites[method] && method != "COPY" && d.s.readOnlyAt(name) { // a read-only mount (mounts.go)
		d.s.writeError(ctx, resolver.ErrReadOnly)
		return actError, false
	}
	switch method {
	case fasthttp.MethodGet, fasthttp.MethodHead:
		return d.get(ctx, name, start)
	case fasthttp.MethodPut:
		if name == "/" {
			d.s.writeError(ctx, withHeader(errDAVRootPut, "Allow", d.allow()))
			return actError, false
		}
	case "PROPFIND":
		if depth := strings.TrimSpace(string(ctx.Request.Header.Peek("Depth"))); depth != "0" && depth != "1" {
			// RFC 4918 §9.1: a walk of the whole drive is refused, and an
			// absent Depth means infinity.
			d.s.writeError(ctx, errDAVInfinite)
			return actError, false
		}
	case "COPY", "MOVE":
		if method == "MOVE" && len(ctx.Request.Header.Peek("Overwrite")) == 0 {
			// RFC 4918 §10.6: no Overwrite header means T (x/net/webdav's
			// MOVE reads it as F).
			ctx.Request.Header.Set("Overwrite", "T")
		}
		dst, err := d.checkDestination(ctx)
		if err != nil {
			d.s.writeError(ctx, err)
			return actError, false
		}
		if method == "COPY" && dst != "" {
			if act, done := d.copyFolder(ctx, name, dst); done {
				return act, false
			}
		}
	case "PROPPATCH", "MKCOL", "DELETE", "LOCK", "UNLOCK":
	default:
		d.s.writeError(ctx, withHeader(errMethod, "Allow", d.allow()))
		return actError, false
	}
	bridged = true
	return d.bridge(ctx, urlPath, start)
}

// checkDestination refuses with 409 a COPY or MOVE whose destination's
// folder does not exist (RFC 4918 §9.8.5, §9.9.4; x/net/webdav answers
// 403 for a MOVE there); nil lets the request go on, with the destination's
// clean drive path when it is one of ours ("" leaves the answer to
// x/net/webdav: 400 or 502).
func (d *dav) checkDestination(ctx *fasthttp.RequestCtx) (string, error) {
	u, err := url.Parse(string(ctx.Request.Header.Peek("Destination")))
	if err != nil || u.Path == "" || (u.Host != "" && u.Host != string(ctx.Host())) {
		return "", nil
	}
	rest, ok := strings.CutPrefix(u.Path, d.prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", nil
	}
	dst, err := davPath(rest)
	if err != nil {
		return "", errDAVBadDest
	}
	if dst == "/" {
		return "", errDAVDestRoot
	}
	dir, _ := splitClean(dst)
	rctx, cancel := context.WithTimeout(context.Background(), d.s.resolveBudget())
	defer cancel()
	it, err := d.s.res.Stat(rctx, dir)
	switch {
	case errors.Is(err, resolver.ErrNotFound), err == nil && !it.Folder:
		return "", errDAVDestNoParent
	case err != nil:
		return "", err
	}
	return dst, nil
}

// copyFolder answers a COPY of a collection with Depth infinity (or none)
// and no If header with one drive copy of the whole folder, where
// x/net/webdav would make a folder and copy each file on its own. done is
// false when the request is left to x/net/webdav (a file, an If header,
// Depth 0, a target inside the source).
func (d *dav) copyFolder(ctx *fasthttp.RequestCtx, name, dst string) (int, bool) {
	if depth := strings.TrimSpace(string(ctx.Request.Header.Peek("Depth"))); (depth != "" && !strings.EqualFold(depth, "infinity")) ||
		len(ctx.Request.Header.Peek("If")) > 0 || d.mgr == nil || name == dst || strings.HasPrefix(dst, name+"/") ||
		strings.HasPrefix(name, dst+"/") {
		return 0, false
	}
	src, err := davPath(name)
	if err != nil {
		return 0, false
	}
	rctx, cancel := context.WithTimeout(context.Background(), d.s.resolveBudget())
	defer cancel()
	it, err := d.s.res.Stat(rctx, src)
	if err != nil || !it.Folder {
		return 0, false
	}
	// x/net/webdav's rule for a request without If: the destination must not
	// be locked by anyone (a lock held for the time of the copy).
	now := time.Now()
	tok, err := d.handler.LockSystem.Create(now, webdav.LockDetails{Root: dst, Duration: -1, ZeroDepth: true})
	if err != nil {
		if errors.Is(err, webdav.ErrLocked) {
			d.s.writeError(ctx, errDAVLocked)
		} else {
			d.s.writeError(ctx, fmt.Errorf("%w: %w", errDAVLockFailed, err))
		}
		return actError, true
	}
	defer func() { _ = d.handler.LockSystem.Unlock(time.Now(), tok) }()
	status := fasthttp.StatusCreated
	if _, err := d.s.res.Stat(rctx, dst); err == nil {
		if strings.EqualFold(strings.TrimSpace(string(ctx.Request.Header.Peek("Overwrite"))), "F") {
			d.s.writeError(ctx, errDAVDestExistsF)
			return actError, true
		}
		if err := d.mgr.Trash(rctx, dst); err != nil {
			d.s.writeError(ctx, err)
			return actError, true
		}
		status = fasthttp.StatusNoContent
	} else if !errors.Is(err, resolver.ErrNotFound) {
		d.s.writeError(ctx, err)
		return actError, true
	}
	if _, err := d.mgr.Copy(rctx, src, dst); err != nil {
		if errors.Is(err, resolver.ErrExists) {
			err = errDAVDestExists
		}
		d.s.writeError(ctx, err)
		return actError, true
	}
	ctx.SetStatusCode(status)
	return actUpload, true
}

func (d *dav) allow() string {
	if d.auth.readOnly {
		return "OPTIONS, GET, HEAD, PROPFIND"
	}
	return "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
}

// options answers OPTIONS anywhere under the prefix without credentials
// (Windows asks before it authenticates); it says nothing of what exists.
func (d *dav) options(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.DisableNormalizing() // "DAV", as some clients match it
	if d.auth.readOnly {
		// Class 1 only: Finder then mounts read-only instead of failing to lock.
		h.Set("DAV", "1")
	} else {
		h.Set("DAV", "1, 2")
	}
	h.Set("MS-Author-Via", "DAV")
	h.Set("Allow", d.allow())
	h.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// get serves GET and HEAD of a drive path through alilink's modes. HEAD is
// answered from the metadata (serveProxy never touches the CDN for it, but
// for a live photo's movie, whose size only the CDN tells); a
// GET is redirected only for clients known to follow safely and only to a
// link that is not Referer-bound (whatever the client: a player following
// a 302 cannot send the Referer the CDN wants). WebDAV requests carry no
// sign: a rewrite's sign lives the TTL.
func (d *dav) get(ctx *fasthttp.RequestCtx, p string, start time.Time) (int, bool) {
	mode := ModeAuto // redirect unless the link is Referer-bound
	switch {
	case ctx.IsHead() || d.mode == ModeProxy || (d.mode == ModeAuto && !d.redirectable(ctx)):
		mode = ModeProxy
	case d.mode == ModeRewrite:
		mode = ModeRewrite
	}
	return d.s.serveDrive(ctx, &driveReq{p: p, mode: mode, folder: davFolder, start: start})
}

// davFolder answers a GET of a collection with WebDAV's folder page.
func davFolder(s *Server, ctx *fasthttp.RequestCtx, dc context.Context, p string, _ int64) {
	s.dav.folderPage(ctx, dc, p)
}

// redirectable tells whether the client's User-Agent is on the list.
func (d *dav) redirectable(ctx *fasthttp.RequestCtx) bool {
	ua := strings.ToLower(string(ctx.Request.Header.UserAgent()))
	if ua == "" {
		return false
	}
	for _, a := range d.agents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

// folderPage answers a GET of a collection with a plain HTML list of its
// children's WebDAV URLs.
func (d *dav) folderPage(ctx *fasthttp.RequestCtx, dc context.Context, p string) {
	_, children, err := d.s.res.List(dc, p)
	if err != nil {
		d.s.writeError(ctx, err)
		return
	}
	base := d.prefix + resolver.EscapePath(p)
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var b strings.Builder
	b.WriteString("<!doctype html>\n<meta charset=\"utf-8\">\n<ul>\n")
	for _, c := range children {
		href := base + resolver.EscapePath("/" + c.Name)[1:]
		name := c.Name
		if c.Folder {
			href += "/"
			name += "/"
		}
		b.WriteString(`<li><a href="` + htmlEscape(href) + `">` + htmlEscape(name) + "</a>\n")
	}
	b.WriteString("</ul>\n")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	if !ctx.IsHead() {
		ctx.SetBodyString(b.String())
	}
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func htmlEscape(s string) string { return htmlReplacer.Replace(s) }

// isJunk tells the metadata files Finder and Windows Explorer write
// everywhere: accepted and thrown away, never uploaded.
func isJunk(p string) bool {
	i := strings.LastIndexByte(p, '/')
	name := p[i+1:]
	return strings.HasPrefix(name, "._") || name == ".DS_Store" || strings.EqualFold(name, "Thumbs.db") ||
		strings.EqualFold(name, "desktop.ini")
}

// resolveBudget bounds the drive calls of a WebDAV request made outside
// the resolver's own budget.
func (s *Server) resolveBudget() time.Duration { return 30 * time.Second }
