package streamer

import (
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// validators are what a file's conditional requests are judged against: the
// strong ETag from the drive's content hash and the modification time. They
// come from the drive's metadata, so HEAD (which never touches the CDN) and
// GET agree.
type validators struct {
	etag    string // quoted, or "" when the drive gave no hash
	modTime time.Time
}

// precondition is the outcome of checkPreconditions.
type precondition int

const (
	precondProceed precondition = iota
	precondNotModified
	precondFailed
)

// checkPreconditions evaluates the request's conditional headers in the order
// of RFC 9110 §13.2.2, as net/http's checkPreconditions does: If-Match, else
// If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since (304 for
// GET and HEAD). It also tells whether If-Range lets the Range stand.
func checkPreconditions(h *fasthttp.RequestHeader, v validators) (precondition, bool) {
	if im := string(h.Peek("If-Match")); im != "" {
		if !etagListMatches(im, v.etag, true) {
			return precondFailed, false
		}
	} else if ius := string(h.Peek("If-Unmodified-Since")); ius != "" && !isZeroTime(v.modTime) {
		if t, err := http.ParseTime(ius); err == nil && v.modTime.Truncate(time.Second).After(t) {
			return precondFailed, false
		}
	}
	if inm := string(h.Peek("If-None-Match")); inm != "" {
		if etagListMatches(inm, v.etag, false) {
			return precondNotModified, false
		}
	} else if ims := string(h.Peek("If-Modified-Since")); ims != "" && !isZeroTime(v.modTime) {
		if t, err := http.ParseTime(ims); err == nil && !v.modTime.Truncate(time.Second).After(t) {
			return precondNotModified, false
		}
	}
	return precondProceed, ifRangeHolds(string(h.Peek("If-Range")), v)
}

// ifRangeHolds: no If-Range, or one that matches (a strong ETag, or the exact
// modification time to the second); otherwise the Range is ignored.
func ifRangeHolds(ir string, v validators) bool {
	if ir == "" {
		return true
	}
	if etag, _ := scanETag(ir); etag != "" {
		return strongMatch(etag, v.etag)
	}
	if isZeroTime(v.modTime) {
		return false
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Unix() == v.modTime.Unix()
}

// etagListMatches reports whether a comma-separated list of entity tags (or
// "*") matches ours, strongly (If-Match) or weakly (If-None-Match).
func etagListMatches(list, ours string, strong bool) bool {
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true // the file exists: "*" matches it (RFC 9110 §13.1.1)
		}
		etag, rest := scanETag(list)
		if etag == "" {
			return false
		}
		if strong && strongMatch(etag, ours) || !strong && weakMatch(etag, ours) {
			return true
		}
		list = rest
	}
}

// scanETag reads one entity tag (W/"x" or "x") from the start of s.
func scanETag(s string) (etag, rest string) {
	s = strings.TrimLeft(s, " \t")
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s)-start < 2 || s[start] != '"' {
		return "", ""
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:]
		case c == 0x21 || c >= 0x23 && c <= 0x7E || c >= 0x80:
		default:
			return "", ""
		}
	}
	return "", ""
}

func strongMatch(a, b string) bool {
	return a == b && a != "" && a[0] == '"'
}

func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/") && b != ""
}

// isZeroTime: unknown times are zero or the Unix epoch.
func isZeroTime(t time.Time) bool { return t.IsZero() || t.Unix() == 0 }
