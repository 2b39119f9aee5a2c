package streamer

import (
	"errors"
	"io"
	"os"

	"github.com/valyala/fasthttp"
)

// spoolErr is a failure to write the spool file (a full disk: ENOSPC, a
// quota, an I/O error): the server's fault, 507, never "the body ended
// early".
type spoolErr struct{ err error }

func (e *spoolErr) Error() string { return "writing the spool file: " + e.err.Error() }
func (e *spoolErr) Unwrap() error { return e.err }

func isSpoolErr(err error) bool {
	var se *spoolErr
	return errors.As(err, &se)
}

func (s *Server) spoolFailed(ctx *fasthttp.RequestCtx, p string, err error) {
	s.log.Error("cannot spool an upload (is the spool dir's disk full?)", "dir", s.spoolDir(), "path", p, "err", err)
	writeText(ctx, fasthttp.StatusInsufficientStorage, "cannot spool the upload: insufficient storage on alilink")
}

// spoolWriter is where a spool's bytes go: f, or what a test wrapped it in.
func (s *Server) spoolWriter(f *os.File) io.Writer {
	if s.spoolWrap != nil {
		return s.spoolWrap(f)
	}
	return f
}
