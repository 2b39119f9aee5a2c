package streamer

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// The write requests of AList's fsmanage.go.
type (
	alistRenameReq struct {
		Path      string `json:"path"`
		Name      string `json:"name"`
		Overwrite bool   `json:"overwrite"`
	}
	alistMoveCopyReq struct {
		SrcDir    string   `json:"src_dir"`
		DstDir    string   `json:"dst_dir"`
		Names     []string `json:"names"`
		Overwrite bool     `json:"overwrite"`
	}
	alistRemoveReq struct {
		Dir   string   `json:"dir"`
		Names []string `json:"names"`
	}
)

// alistMaxNames bounds the names of one move, copy or remove.
const alistMaxNames = 1000

// alistDeny refuses a write as AList does: a guest or a read-only user gets
// 403 "permission denied" (a disabled guest was already refused with 401 by
// alistAuth); a drive that cannot write (a share) gets 403 as well.
func (s *Server) alistDeny(ctx *fasthttp.RequestCtx, u alistUser) (Manager, bool) {
	m, ok := s.res.(Manager)
	if !u.canWrite() || !ok || !m.CanManage() {
		s.alistFail(ctx, errAListDenied)
		return nil, true
	}
	return m, false
}

// alistName checks one name of a request: no separators, no dot segments.
func alistName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\\\x00")
}

func (s *Server) alistManage(ctx *fasthttp.RequestCtx, u alistUser, endpoint string) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	if !ctx.IsPost() {
		s.writeError(ctx, errMethod)
		return
	}
	m, denied := s.alistDeny(ctx, u)
	if denied {
		return
	}
	switch endpoint {
	case "/api/fs/mkdir":
		var req alistPathReq
		p, ok := s.alistBindPath(ctx, &req, &req.Path)
		if !ok {
			return
		}
		if p, err := s.alistMkdirAll(dc, m, p); err != nil {
			s.alistManageFail(ctx, err, p)
			return
		}
	case "/api/fs/rename":
		var req alistRenameReq
		if !s.alistBind(ctx, &req) {
			return
		}
		p, err := alistPath(req.Path)
		if err == nil && (p == "/" || !alistName(req.Name)) {
			err = resolver.ErrBadPath
		}
		if err != nil {
			s.alistFail(ctx, err)
			return
		}
		dst := joinChild(parentDir(p), req.Name)
		if !s.alistMove(ctx, dc, m, p, dst, req.Overwrite, false) {
			return
		}
	case "/api/fs/move", "/api/fs/copy":
		var req alistMoveCopyReq
		if !s.alistBind(ctx, &req) {
			return
		}
		src, err1 := alistPath(req.SrcDir)
		dst, err2 := alistPath(req.DstDir)
		if err := errors.Join(err1, err2); err != nil || len(req.Names) > alistMaxNames {
			s.alistFail(ctx, resolver.ErrBadPath)
			return
		}
		for _, n := range req.Names {
			if !alistName(n) {
				s.alistFail(ctx, errAListBadName)
				return
			}
			if !s.alistMove(ctx, dc, m, joinChild(src, n), joinChild(dst, n), req.Overwrite, endpoint == "/api/fs/copy") {
				return
			}
		}
	case "/api/fs/remove":
		var req alistRemoveReq
		if !s.alistBind(ctx, &req) {
			return
		}
		dir, err := alistPath(req.Dir)
		if err != nil || len(req.Names) > alistMaxNames {
			s.alistFail(ctx, resolver.ErrBadPath)
			return
		}
		if len(req.Names) == 0 {
			s.alistFail(ctx, errAListNoNames)
			return
		}
		for _, n := range req.Names {
			if !alistName(n) {
				s.alistFail(ctx, errAListBadName)
				return
			}
			if err := m.Trash(dc, joinChild(dir, n)); err != nil {
				s.alistManageFail(ctx, err, joinChild(dir, n))
				return
			}
		}
	}
	alistOKResp(ctx, nil)
}

// alistMkdirAll creates p and the folders missing above it, as AList's
// MakeDir does; a folder that exists is success. It answers the path that
// failed.
func (s *Server) alistMkdirAll(ctx context.Context, m Manager, p string) (string, error) {
	if p == "/" {
		return p, nil
	}
	it, err := s.res.Stat(ctx, p)
	switch {
	case err == nil && it.Folder:
		return p, nil
	case err == nil:
		return p, resolver.ErrExists
	case !errors.Is(err, resolver.ErrNotFound):
		return p, err
	}
	if q, err := s.alistMkdirAll(ctx, m, parentDir(p)); err != nil {
		return q, err
	}
	if _, err := m.Mkdir(ctx, p); err != nil && !errors.Is(err, resolver.ErrExists) {
		return p, err
	}
	return p, nil
}

// alistMove moves (or copies) src to dst; a taken dst is refused unless
// overwrite, which trashes it first (a file onto a file only). On failure it
// has answered.
func (s *Server) alistMove(ctx *fasthttp.RequestCtx, dc context.Context, m Manager, src, dst string, overwrite, copy bool) bool {
	if src == dst {
		return true
	}
	if it, err := s.res.Stat(dc, dst); err == nil {
		if !overwrite || it.Folder {
			s.alistFail(ctx, named(errAListNameTaken, it.Name))
			return false
		}
		if err := m.Trash(dc, dst); err != nil {
			s.alistManageFail(ctx, err, dst)
			return false
		}
	} else if !errors.Is(err, resolver.ErrNotFound) {
		s.alistManageFail(ctx, err, dst)
		return false
	}
	var err error
	if copy {
		_, err = m.Copy(dc, src, dst)
	} else {
		_, err = m.Move(dc, src, dst)
	}
	if err != nil {
		s.alistManageFail(ctx, err, src)
		return false
	}
	return true
}

func (s *Server) alistManageFail(ctx *fasthttp.RequestCtx, err error, p string) {
	s.log.Debug("alist api: write failed", "path", p, "err", err)
	s.alistFail(ctx, err)
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// alistHeaderReceived judges a PUT to the AList door from its headers, in
// fasthttp's HeaderReceived hook (see refuse.go): one its token may not make
// is made bodiless and marked, so that it is refused before a byte of its
// body is read.
func (s *Server) alistHeaderReceived(h *fasthttp.RequestHeader) {
	u, err := s.alistUserOf(h.Peek("Authorization"))
	if err == nil && u.canWrite() && s.res.CanUpload() && int64(h.ContentLength()) <= int64(s.cfg.UploadMax) {
		return
	}
	h.Del(fasthttp.HeaderExpect)
	h.SetContentLength(0)
	h.Set(refusedHeader, "alist")
}

// alistPut answers PUT /api/fs/put (AList's FsStream): the body is the file,
// File-Path its URL-encoded path, Overwrite: false refuses a taken name. The
// body goes through the upload spool as alilink's own PUT; a refusal is
// answered before the body is read.
func (s *Server) alistPut(ctx *fasthttp.RequestCtx, u alistUser) {
	if len(ctx.Request.Header.Peek(refusedHeader)) > 0 {
		// Refused from its headers: its body is still on the wire.
		ctx.SetConnectionClose()
		if !u.canWrite() || !s.res.CanUpload() {
			s.alistFail(ctx, errAListDenied)
		} else {
			s.alistFail(ctx, errTooLarge)
		}
		return
	}
	sp := &spool{body: ctx.RequestBodyStream(), max: int64(s.cfg.UploadMax), h: sha1.New(),
		conn: ctx.Conn(), idle: s.cfg.StreamIdleTimeout}
	defer sp.release()
	s.alistPutBody(ctx, u, sp)
	if !sp.discard(drainMax) {
		ctx.SetConnectionClose()
	}
}

func (s *Server) alistPutBody(ctx *fasthttp.RequestCtx, u alistUser, sp *spool) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	if !ctx.IsPut() {
		s.writeError(ctx, errMethod)
		return
	}
	if !u.canWrite() || !s.res.CanUpload() {
		s.alistFail(ctx, errAListDenied)
		return
	}
	raw, err := url.PathUnescape(string(ctx.Request.Header.Peek("File-Path")))
	if err != nil {
		s.alistFail(ctx, errAListBadFile)
		return
	}
	p, err := alistPath(raw)
	if err != nil || p == "/" {
		s.alistFail(ctx, errAListBadFile)
		return
	}
	if s.readOnlyAt(p) { // a read-only mount (mounts.go): refused before the body is read
		s.alistFail(ctx, resolver.ErrReadOnly)
		return
	}
	overwrite := !strings.EqualFold(string(ctx.Request.Header.Peek("Overwrite")), "false")
	if it, err := s.res.Stat(dc, p); err == nil {
		if !overwrite || it.Folder {
			s.alistFail(ctx, resolver.ErrExists)
			return
		}
	} else if !errors.Is(err, resolver.ErrNotFound) {
		s.alistFail(ctx, err)
		return
	}
	size := int64(ctx.Request.Header.ContentLength())
	if size > int64(s.cfg.UploadMax) {
		s.alistFail(ctx, errTooLarge)
		return
	}
	_ = os.MkdirAll(s.spoolDir(), 0o700)
	f, err := os.CreateTemp(s.spoolDir(), spoolPattern)
	if err != nil {
		s.log.Error("cannot create an upload spool file", "dir", s.spoolDir(), "err", err)
		s.alistFail(ctx, errSpool)
		return
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sp.f, sp.w = f, s.spoolWriter(f)
	if err := sp.fill(); err != nil {
		s.alistFail(ctx, errAListBodyRead)
		return
	}
	if err := sp.verify(size, ""); err != nil {
		s.alistFail(ctx, errShortBody)
		return
	}
	src := resolver.UploadSource{Size: sp.n, SHA1: hex.EncodeToString(sp.h.Sum(nil)), Data: f}
	if _, _, err := s.res.Upload(dc, p, src, overwrite); err != nil {
		s.alistManageFail(ctx, err, p)
		return
	}
	alistOKResp(ctx, nil)
}
