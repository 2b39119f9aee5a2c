package alifake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rangeResult says what to do with a Range header.
type rangeResult int

const (
	// rangeIgnored: the header is malformed or asks for several ranges; OSS
	// then serves the whole object with 200, and so does the fake.
	rangeIgnored rangeResult = iota
	rangeSatisfiable
	// rangeUnsatisfiable: the range starts at or past the end (or is "-0"):
	// 416 with Content-Range: bytes */size.
	rangeUnsatisfiable
)

// parseRange interprets a single "bytes=a-b", "bytes=a-" or "bytes=-n" for
// an object of size bytes, returning the start and length to serve. An end
// past the object is clamped (RFC 9110 §14.1.2); "a-b" with b < a is invalid
// syntax and therefore ignored, not refused.
func parseRange(h string, size int64) (start, length int64, res rangeResult) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, 0, rangeIgnored
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, rangeIgnored
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, ok := parseDigits(last)
		switch {
		case !ok:
			return 0, 0, rangeIgnored
		case n == 0 || size == 0:
			return 0, 0, rangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, rangeSatisfiable
	}
	s, ok := parseDigits(first)
	if !ok {
		return 0, 0, rangeIgnored
	}
	e := size - 1
	if last != "" {
		if e, ok = parseDigits(last); !ok || e < s {
			return 0, 0, rangeIgnored
		}
	}
	if s >= size {
		return 0, 0, rangeUnsatisfiable
	}
	e = min(e, size-1)
	return s, e - s + 1, rangeSatisfiable
}

// wholeInside tells whether a satisfiable spec (parsed as start s, length n)
// asked for no byte past an object of size bytes: its end, or its suffix,
// was not clamped. OSS by default ignores a Range that was (Options.OSSRanges).
func wholeInside(spec string, s, n, size int64) bool {
	first, last, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(spec, "bytes=")), "-")
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if last == "" {
		return true // "a-": to the end, whatever it is
	}
	want, _ := parseDigits(last)
	if first == "" {
		return want <= size // a suffix no longer than the object
	}
	return want == s+n-1
}

// parseDigits parses a non-empty run of ASCII digits; strconv alone would
// accept a sign.
func parseDigits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ifRangeHolds reports whether a Range may be honoured given If-Range: an
// entity tag must match the current one strongly, a date must equal
// Last-Modified to the second; otherwise the whole object is sent (RFC 9110
// §13.1.5).
func ifRangeHolds(ifRange, etag string, modTime time.Time) bool {
	ifRange = strings.TrimSpace(ifRange)
	switch {
	case ifRange == "":
		return true
	case strings.HasPrefix(ifRange, `"`):
		return ifRange == etag
	case strings.HasPrefix(ifRange, "W/"):
		return false // a weak tag never matches strongly
	}
	t, err := http.ParseTime(ifRange)
	return err == nil && t.Unix() == modTime.Unix()
}

// precondition is the outcome of the conditional request headers.
type precondition int

const (
	preconditionNone precondition = iota
	preconditionNotModified
	preconditionFailed
)

// checkPreconditions evaluates If-Match, If-Unmodified-Since, If-None-Match
// and If-Modified-Since in the order of RFC 9110 §13.2.2, as net/http's
// checkPreconditions does.
func checkPreconditions(r *http.Request, etag string, modTime time.Time) precondition {
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagListMatches(im, etag, true) {
			return preconditionFailed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modTime.Unix() > t.Unix() {
			return preconditionFailed
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagListMatches(inm, etag, false) {
			return preconditionNotModified
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && modTime.Unix() <= t.Unix() {
			return preconditionNotModified
		}
	}
	return preconditionNone
}

// etagListMatches reports whether a comma-separated list of entity tags (or
// "*") matches etag, with the strong or the weak comparison.
func etagListMatches(list, etag string, strong bool) bool {
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if !strong {
			tag = strings.TrimPrefix(tag, "W/")
		}
		if tag == etag {
			return true
		}
	}
	return false
}
