package streamer

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/sign"
)

// The data path every door shares. A door (alilink's own paths in route,
// AList's /d/ and /p/, WebDAV's GET and HEAD) cleans and authorises the
// path, decides the mode a file is answered in and how a folder is; then
// serveDrive looks the path up once and answers with one switch on the mode.

// driveReq is a door's GET or HEAD of a drive path.
type driveReq struct {
	p   string // clean and authorised
	exp int64  // expiry of the request's sign, passed on to a listing's links (0: none)
	// mode answers a file: ModeProxy or ModeRewrite from the metadata,
	// ModeRedirect, ModeAuto or ModeAccel with the link.
	mode string
	// views: ?play and ?format=vtt answer a file's player page and WebVTT.
	views bool
	// folder answers a folder; nil: serveFolder (the listing in the format
	// the request asks for).
	folder func(s *Server, ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64)
	start  time.Time
}

// authorisedPath is the clean path of a raw (percent-encoded) request path,
// with the expiry of its sign when signs are on, checked by v.
func (s *Server) authorisedPath(ctx *fasthttp.RequestCtx, raw []byte, v *sign.Signer) (p string, exp int64, err error) {
	p, err = resolver.CleanPath(raw)
	if err != nil || !s.signer.Enabled() {
		return p, 0, err
	}
	exp, err = v.Verify(p, string(ctx.QueryArgs().Peek("sign")), time.Now())
	return p, exp, err
}

// lookup finds p: a Stat when the answer needs only the metadata, else a
// Resolve (Stat and, for a file, its link). linked tells whether l is the
// file's link.
func (s *Server) lookup(ctx context.Context, p string, meta bool) (it resolver.Item, l resolver.Link, linked bool, err error) {
	if meta {
		it, err = s.res.Stat(ctx, p)
		return it, l, false, err
	}
	it, l, err = s.res.Resolve(ctx, p)
	return it, l, err == nil && !it.Folder, err
}

// metaOnly tells the modes that answer a file from its metadata.
func metaOnly(mode string) bool { return mode == ModeProxy || mode == ModeRewrite }

// serveDrive answers r: one look-up (Stat for proxy and rewrite and a
// view, Resolve otherwise), then an error, the folder, a view, or the file
// by one switch on the mode. It tells the action for the metrics and the
// access log; streaming means a proxied body now reports for itself. The
// drive calls run on a driveCtx, never on the RequestCtx.
func (s *Server) serveDrive(ctx *fasthttp.RequestCtx, r *driveReq) (act int, streaming bool) {
	dc := acquireDriveCtx(ctx)
	defer dc.release()
	view := r.views && wantsView(ctx)
	it, l, linked, err := s.lookup(dc, r.p, view || metaOnly(r.mode))
	file := err == nil && !it.Folder
	if file && view && s.serveFileView(ctx, dc, r.p, r.exp, it) {
		return actListing, false
	}
	if file && !linked && (!metaOnly(r.mode) || r.mode == ModeProxy && it.MayLinkPart()) {
		// A view that was none (?format=) in a link mode: the Stat gave
		// no link. A file whose link may serve a part of it (a live
		// photo's movie) is proxied by what the link serves.
		l, err = s.res.Link(dc, it)
		linked = err == nil
	}
	switch {
	case err != nil:
		s.writeError(ctx, err)
		return actError, false
	case it.Folder && r.folder != nil:
		r.folder(s, ctx, dc, r.p, r.exp)
		return actListing, false
	case it.Folder:
		s.serveFolder(ctx, dc, r.p, r.exp)
		return actListing, false
	}
	switch r.mode {
	case ModeProxy:
		if linked {
			return actProxy, s.serveProxy(ctx, it, &l, r.p, r.start)
		}
		return actProxy, s.serveProxy(ctx, it, nil, r.p, r.start)
	case ModeRewrite:
		return s.serveRewrite(ctx, r.p, r.exp), false
	case ModeAccel:
		return s.serveAccel(ctx, it, l), false
	case ModeAuto:
		if l.RefererBound() {
			// A player following a 302 cannot send the Referer the CDN wants.
			s.log.Debug("auto: proxying a Referer-bound link", "path", r.p)
			return actProxy, s.serveProxy(ctx, it, &l, r.p, r.start)
		}
		s.log.Debug("auto: redirecting", "path", r.p)
	}
	return s.serveRedirect(ctx, l), false
}
