package streamer

import (
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

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

// spoolErr is a failure to write the spool file (a full disk: ENOSPC, a
// quota, an I/O error): the server's fault, 507, never "the body ended
// early".
type spoolErr struct{ err error }

func (e *spoolErr) Error() string {
	return "writing the spool file (is the spool dir's disk full?): " + e.err.Error()
}
func (e *spoolErr) Unwrap() error        { return e.err }
func (e *spoolErr) Is(target error) bool { return target == errSpoolFull }

func isSpoolErr(err error) bool {
	var se *spoolErr
	return errors.As(err, &se)
}

// spoolWriter is where a spool's bytes go: f, or what a test wrapped it in.
func (s *Server) spoolWriter(f *os.File) io.Writer {
	if s.spoolWrap != nil {
		return s.spoolWrap(f)
	}
	return f
}
