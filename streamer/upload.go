package streamer

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// uploadJSON is the answer of a PUT.
type uploadJSON struct {
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	ContentHash string `json:"content_hash"`
	Rapid       bool   `json:"rapid"`
}

var errTooLarge = errors.New("larger than ALILINK_UPLOAD_MAX")

// serveUpload writes the request body to the drive at the request's path
// (PUT, with the admin token). The body is spooled once to a temporary file in
// the state dir, hashed on the way (SHA-1: the drive's content hash), then
// uploaded from the file part by part, rapidly when the drive already has the
// content. The spool file is removed on every path; a client that hangs up
// leaves nothing on the drive. With X-Content-Sha1 a rapid upload is tried
// before most of the body is read.
func (s *Server) serveUpload(ctx *fasthttp.RequestCtx, raw []byte) (int, string) {
	r := markedRefusal(&ctx.Request.Header)
	if r == refuseNone {
		r = s.putRefusal(&ctx.Request.Header, raw) // a server without headerReceived
	}
	if r != refuseNone {
		s.answerRefused(ctx, r)
		return actError, ""
	}
	sp := &spool{body: ctx.RequestBodyStream(), max: int64(s.cfg.UploadMax), h: sha1.New(),
		conn: ctx.Conn(), idle: s.cfg.StreamIdleTimeout}
	defer sp.release()
	act, p := s.upload(ctx, raw, sp)
	if !sp.discard(drainMax) {
		// Much of the body is left unread (a conflict, a rapid upload): close
		// rather than read it all.
		ctx.SetConnectionClose()
	}
	return act, p
}

func (s *Server) upload(ctx *fasthttp.RequestCtx, raw []byte, sp *spool) (int, string) {
	p, err := resolver.CleanPath(raw)
	if err != nil {
		s.writeError(ctx, err)
		return actError, ""
	}
	want := strings.ToLower(strings.TrimSpace(string(ctx.Request.Header.Peek("X-Content-Sha1"))))
	args := ctx.QueryArgs()
	overwrite := string(args.Peek("overwrite")) == "1" || string(args.Peek("overwrite")) == "true" ||
		strings.EqualFold(string(ctx.Request.Header.Peek("Overwrite")), "T")
	rctx, cancel := requestContext(ctx)
	defer cancel()
	// What the caches know refuses early, before the body is read; whether
	// a file was replaced is the drive's to say (put).
	if it, err := s.res.Stat(rctx, p); err == nil {
		switch {
		case it.Folder:
			s.writeError(ctx, errPutFolder)
			return actError, p
		case !overwrite:
			s.writeError(ctx, errNameTaken)
			return actError, p
		}
	} else if !errors.Is(err, resolver.ErrNotFound) {
		s.writeError(ctx, err)
		return actError, p
	}
	size := int64(ctx.Request.Header.ContentLength()) // -1: chunked
	f, err := os.CreateTemp(s.spoolDir(), spoolPattern)
	if err != nil {
		s.log.Error("cannot create an upload spool file", "dir", s.spoolDir(), "err", err)
		s.writeError(ctx, errSpool)
		return actError, p
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sp.f, sp.w = f, s.spoolWriter(f)
	var src resolver.UploadSource
	if want != "" && size >= 0 {
		// The hash is known up front: the drive may have the content (then
		// only the proof's bytes are read), else the parts go out as the
		// body arrives; Check refuses a body that does not match before the
		// upload is completed.
		src = resolver.UploadSource{Size: size, SHA1: want, Data: sp, Check: func() error {
			if err := sp.fill(); err != nil {
				return err
			}
			return sp.verify(size, want)
		}}
	} else {
		if err := sp.fill(); err != nil {
			s.writeError(ctx, err)
			return actError, p
		}
		if err := sp.verify(size, want); err != nil {
			s.writeError(ctx, err)
			return actError, p
		}
		src = resolver.UploadSource{Size: sp.n, SHA1: hex.EncodeToString(sp.h.Sum(nil)), Data: f}
	}
	it, rapid, replaced, err := s.put(rctx, p, src, overwrite)
	if err != nil {
		if want != "" && errors.Is(err, resolver.ErrContentMismatch) {
			err = errBadHash // the body did not match its X-Content-Sha1
		}
		s.writeError(ctx, err)
		return actError, p
	}
	status := fasthttp.StatusCreated
	if replaced {
		status = fasthttp.StatusOK
	}
	writeJSON(ctx, status, uploadJSON{Path: p, Size: src.Size, ContentHash: it.ContentHash, Rapid: rapid})
	return actUpload, p
}

// put uploads src at p and tells whether it replaced a file, which only
// overwrite does. Whether a file was there is the drive's to say, not the
// caches': a file made elsewhere after its folder was listed (the caches
// say no such name), or removed elsewhere since (they say there is), would
// make a 201 of a replacement or a 200/204 of a creation (RFC 9110
// §9.3.4). So the first create refuses a taken name (spec §13.2: exist:
// true, nothing uploaded) and only then is the file in the way
// overwritten, never a folder: one create call more for each overwrite.
func (s *Server) put(ctx context.Context, p string, src resolver.UploadSource, overwrite bool) (it resolver.Item, rapid, replaced bool, err error) {
	it, rapid, err = s.res.Upload(ctx, p, src, false)
	if errors.Is(err, resolver.ErrExists) && errors.Is(err, resolver.ErrIsFolder) {
		return it, rapid, false, errPutFolder // a folder in the way, known to the caches or not
	}
	if !overwrite || !errors.Is(err, resolver.ErrExists) {
		return it, rapid, false, err
	}
	it, rapid, err = s.res.Upload(ctx, p, src, true)
	return it, rapid, err == nil, err
}

// bodyErr is a fault of the request body, not of the drive: it is an
// errBodyBroke, or what it wraps (errTooLarge, errShortBody, errBadHash).
type bodyErr struct{ err error }

func (e *bodyErr) Error() string        { return e.err.Error() }
func (e *bodyErr) Unwrap() error        { return e.err }
func (e *bodyErr) Is(target error) bool { return target == errBodyBroke }

var (
	errShortBody = errors.New("the body does not match Content-Length")
	errBadHash   = errors.New("the body does not match X-Content-Sha1")
)
