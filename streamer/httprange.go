package streamer

import (
	"strconv"
	"strings"
)

// byteRange is an inclusive range of bytes, as in Content-Range.
type byteRange struct{ start, end int64 }

func (r byteRange) length() int64 { return r.end - r.start + 1 }

// rangeKind is what a Range header asks of a representation.
type rangeKind int

const (
	rangeWhole         rangeKind = iota // no Range, or one that is ignored: 200 with the whole body
	rangePart                           // one satisfiable range: 206
	rangeUnsatisfiable                  // 416 with Content-Range: bytes */size
)

// parseRange reads a Range header the way net/http's ServeContent does
// (RFC 9110 §14), for a representation of size bytes:
//   - "bytes=a-b", "bytes=a-" and the suffix "bytes=-n"; an end past the size is clamped;
//   - a malformed header (wrong unit, missing "-", non-numbers, b < a) is 416;
//   - ranges starting at or past the size are dropped, and if none is left: 416;
//   - ranges that together ask for more than the size are ignored: 200 whole;
//   - several satisfiable ranges: 200 whole. net/http would answer
//     multipart/byteranges, which no media player needs and which would make
//     one request fetch several pieces from the CDN; a whole body is always a
//     valid answer to a Range request (RFC 9110 §14.2).
//
// Deliberate differences from net/http, all RFC 9110 §14.1.2: a suffix of
// zero ("bytes=-0") is unsatisfiable (net/http answers a 206 of nothing), any
// Range on an empty representation is 416, and positions are digits only
// (net/http's strconv.ParseInt also takes "+5" and "-0").
func parseRange(h string, size int64) (byteRange, rangeKind) {
	if h == "" {
		return byteRange{}, rangeWhole
	}
	const unit = "bytes="
	if !strings.HasPrefix(h, unit) {
		return byteRange{}, rangeUnsatisfiable
	}
	var (
		first     byteRange
		count     int
		sum       int64
		noOverlap bool
	)
	for spec := range strings.SplitSeq(h[len(unit):], ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue
		}
		startS, endS, ok := strings.Cut(spec, "-")
		if !ok {
			return byteRange{}, rangeUnsatisfiable
		}
		startS, endS = strings.Trim(startS, " \t"), strings.Trim(endS, " \t")
		var r byteRange
		if startS == "" {
			n, ok := parseDigits(endS)
			if !ok {
				return byteRange{}, rangeUnsatisfiable
			}
			if n == 0 || size == 0 {
				noOverlap = true
				continue
			}
			r = byteRange{start: max(size-n, 0), end: size - 1}
		} else {
			start, ok := parseDigits(startS)
			if !ok {
				return byteRange{}, rangeUnsatisfiable
			}
			if start >= size { // as net/http: no overlap, whatever the end says
				noOverlap = true
				continue
			}
			end := size - 1
			if endS != "" {
				if end, ok = parseDigits(endS); !ok || end < start {
					return byteRange{}, rangeUnsatisfiable
				}
				end = min(end, size-1)
			}
			r = byteRange{start: start, end: end}
		}
		if count == 0 {
			first = r
		}
		count++
		sum += r.length()
	}
	switch {
	case count == 0 && noOverlap:
		return byteRange{}, rangeUnsatisfiable
	case count == 1 && sum <= size:
		return first, rangePart
	default:
		return byteRange{}, rangeWhole
	}
}

// rangeStart is where a Range header's first range starts, when it says so
// without the size ("bytes=a-b", "bytes=a-"); else 0. It is only a guess
// of parseRange's answer, made before the size is known.
func rangeStart(h string) int64 {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return 0
	}
	spec, _, _ = strings.Cut(spec, ",")
	startS, _, ok := strings.Cut(spec, "-")
	if n, digits := parseDigits(strings.Trim(startS, " \t")); ok && digits {
		return n
	}
	return 0
}

// parseDigits accepts only ASCII digits (no sign, no spaces inside) that fit an int64.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// contentRange formats "bytes a-b/size".
func contentRange(dst []byte, r byteRange, size int64) []byte {
	dst = append(dst, "bytes "...)
	dst = strconv.AppendInt(dst, r.start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.end, 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, size, 10)
}

// parseContentRange reads "bytes a-b/size" from an upstream 206.
func parseContentRange(s string) (r byteRange, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return r, 0, false
	}
	span, total, found := strings.Cut(rest, "/")
	if !found {
		return r, 0, false
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return r, 0, false
	}
	var ok1, ok2, ok3 bool
	r.start, ok1 = parseDigits(a)
	r.end, ok2 = parseDigits(b)
	size, ok3 = parseDigits(total)
	return r, size, ok1 && ok2 && ok3 && r.start <= r.end && r.end < size
}
