package streamer

import "io"

// SetSpoolWrap makes s write its upload spool files through wrap, so that a
// test can fail the writes (a full disk) without filling one.
func SetSpoolWrap(s *Server, wrap func(io.Writer) io.Writer) { s.spoolWrap = wrap }
