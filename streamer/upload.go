package streamer

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// ByteSize is a size in a variable: "20GiB", "500MB", "1048576".
type ByteSize int64

// UnmarshalText reads a number with an optional B, KB/KiB, MB/MiB, GB/GiB, TB/TiB suffix.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a size (e.g. 20GiB)", string(text))
	}
	*b = ByteSize(n * mult)
	return nil
}

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
	existed := false
	if it, err := s.res.Stat(ctx, p); err == nil {
		if it.Folder || !overwrite {
			writeText(ctx, fasthttp.StatusConflict, "a file or folder of that name exists; PUT with ?overwrite=1 (or Overwrite: T) to replace a file")
			return actError, p
		}
		existed = true
	} else if !errors.Is(err, resolver.ErrNotFound) {
		s.writeError(ctx, err)
		return actError, p
	}
	size := int64(ctx.Request.Header.ContentLength()) // -1: chunked
	f, err := os.CreateTemp(s.spoolDir(), spoolPattern)
	if err != nil {
		s.log.Error("cannot create an upload spool file", "dir", s.spoolDir(), "err", err)
		writeText(ctx, fasthttp.StatusInsufficientStorage, "cannot spool the upload")
		return actError, p
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sp.f, sp.w = f, s.spoolWriter(f)
	status := fasthttp.StatusCreated
	if existed {
		status = fasthttp.StatusOK
	}
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
			s.bodyError(ctx, p, sp, err)
			return actError, p
		}
		if err := sp.verify(size, want); err != nil {
			s.bodyError(ctx, p, sp, err)
			return actError, p
		}
		src = resolver.UploadSource{Size: sp.n, SHA1: hex.EncodeToString(sp.h.Sum(nil)), Data: f}
	}
	rctx, cancel := requestContext(ctx)
	defer cancel()
	it, rapid, err := s.res.Upload(rctx, p, src, overwrite)
	if err != nil {
		var be *bodyErr
		switch {
		case isSpoolErr(err):
			s.spoolFailed(ctx, p, err)
		case errors.As(err, &be):
			s.bodyError(ctx, p, sp, be.err)
		case want != "" && errors.Is(err, resolver.ErrContentMismatch):
			s.bodyError(ctx, p, sp, errBadHash)
		default:
			s.uploadError(ctx, err)
		}
		return actError, p
	}
	writeJSON(ctx, status, uploadJSON{Path: p, Size: src.Size, ContentHash: it.ContentHash, Rapid: rapid})
	return actUpload, p
}

// bodyErr is a fault of the request body, not of the drive.
type bodyErr struct{ err error }

func (e *bodyErr) Error() string { return e.err.Error() }
func (e *bodyErr) Unwrap() error { return e.err }

var (
	errShortBody = errors.New("the body does not match Content-Length")
	errBadHash   = errors.New("the body does not match X-Content-Sha1")
)

// bodyError answers a body that broke off, ran over the cap or did not match
// its headers (serveUpload closes the connection if the body cannot be read
// to its end).
func (s *Server) bodyError(ctx *fasthttp.RequestCtx, p string, sp *spool, err error) {
	switch {
	case isSpoolErr(err):
		s.spoolFailed(ctx, p, err)
	case errors.Is(err, errTooLarge):
		writeText(ctx, fasthttp.StatusRequestEntityTooLarge, "larger than ALILINK_UPLOAD_MAX")
	case errors.Is(err, errShortBody), errors.Is(err, errBadHash):
		writeText(ctx, fasthttp.StatusBadRequest, err.Error())
	default:
		s.log.Info("upload body broke off", "path", p, "after", sp.n, "err", err)
		writeText(ctx, fasthttp.StatusBadRequest, "the body ended early")
	}
}

func (s *Server) uploadError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, resolver.ErrExists):
		writeText(ctx, fasthttp.StatusConflict, "a file of that name exists")
	case errors.Is(err, resolver.ErrNotFolder):
		writeText(ctx, fasthttp.StatusConflict, "a parent of that path is a file")
	case errors.Is(err, resolver.ErrUnsupported):
		writeText(ctx, fasthttp.StatusMethodNotAllowed, "this drive is read-only")
	default:
		s.writeError(ctx, err)
	}
}

// spoolPattern names spool files; sweepSpool finds a crash's leftovers by it.
const spoolPattern = "alilink-upload-*"

// sweepSpool removes spool files a killed process left behind: those not
// written for a day (a live upload writes to its file until its body ends, and
// no upload takes a day to go on to the drive).
func (s *Server) sweepSpool() {
	names, _ := filepath.Glob(filepath.Join(s.spoolDir(), spoolPattern))
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > 24*time.Hour {
			if os.Remove(n) == nil {
				s.log.Info("removed a stale upload spool file", "file", n)
			}
		}
	}
}

func (s *Server) spoolDir() string {
	if s.cfg.SpoolDir != "" {
		return s.cfg.SpoolDir
	}
	return os.TempDir()
}

// spool copies the request body into a file on demand, hashing it, so that an
// upload can read parts of the body as they arrive, and again on a retry.
type spool struct {
	mu   sync.Mutex
	w    io.Writer // f, or a test's wrapper of it
	f    *os.File
	body io.Reader
	n    int64
	max  int64
	h    hash.Hash
	done bool
	err  error
	buf  *[]byte
	// conn gets a fresh read deadline before each read: the server's
	// ReadTimeout covers the whole request, too short for a large body.
	conn net.Conn
	idle time.Duration
}

// ensure reads the body until upto bytes are in the file or it ends; a read
// error sticks.
func (s *spool) ensure(upto int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.buf == nil && !s.done && s.n < upto {
		s.buf = largeBuffers.get()
	}
	for !s.done && s.n < upto {
		if s.conn != nil && s.idle > 0 {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.idle))
		}
		m, err := s.body.Read(*s.buf)
		if m > 0 {
			if s.n+int64(m) > s.max {
				s.err = &bodyErr{errTooLarge}
				return s.err
			}
			if _, werr := s.w.Write((*s.buf)[:m]); werr != nil {
				s.err = &spoolErr{werr}
				return s.err
			}
			s.h.Write((*s.buf)[:m])
			s.n += int64(m)
		}
		if errors.Is(err, io.EOF) {
			s.done = true
			break
		}
		if err != nil {
			s.err = &bodyErr{err}
			return s.err
		}
	}
	return nil
}

func (s *spool) fill() error { return s.ensure(math.MaxInt64) }

// drainMax is how much of a body left unread (by a refusal, a rapid upload)
// is still read and thrown away, so that the client, still sending, reads the
// answer (closing on unread bytes can reset the connection before it does)
// and the connection stays usable.
const drainMax = 64 << 20

// discard reads and drops up to max more bytes of the body; it tells whether
// the body ended.
func (s *spool) discard(max int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if isSpoolErr(s.err) {
		s.err = nil // the body itself is fine: read the rest and drop it
	}
	if s.done || s.err != nil {
		return s.done
	}
	if s.buf == nil {
		s.buf = largeBuffers.get()
	}
	for n := int64(0); s.err == nil && !s.done && n < max; {
		if s.conn != nil && s.idle > 0 {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.idle))
		}
		m, err := s.body.Read(*s.buf)
		n += int64(m)
		switch {
		case errors.Is(err, io.EOF):
			s.done = true
		case err != nil:
			s.err = &bodyErr{err}
		}
	}
	return s.done
}

// ReadAt reads bytes of the body, waiting for them to arrive; past the end of
// a body that ended early it fails with a bodyErr.
func (s *spool) ReadAt(b []byte, off int64) (int, error) {
	if err := s.ensure(off + int64(len(b))); err != nil {
		return 0, err
	}
	m, err := s.f.ReadAt(b, off)
	if m < len(b) && s.done {
		return m, &bodyErr{errShortBody}
	}
	return m, err
}

// verify checks the whole body against its Content-Length (-1: none) and
// X-Content-Sha1 ("" none).
func (s *spool) verify(size int64, sha1Hex string) error {
	if size >= 0 && s.n != size {
		return &bodyErr{errShortBody}
	}
	if sha1Hex != "" && hex.EncodeToString(s.h.Sum(nil)) != sha1Hex {
		return &bodyErr{errBadHash}
	}
	return nil
}

func (s *spool) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf != nil {
		largeBuffers.put(s.buf)
		s.buf = nil
	}
}
