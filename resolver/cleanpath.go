package resolver

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxPathLen bounds a request path, raw or decoded; longer ones are refused.
const MaxPathLen = 4096

// ErrBadPath: the path cannot name anything in the drive (bad escape, NUL or
// control character, invalid UTF-8, escapes the root, too long).
var ErrBadPath = errors.New("bad path")

// CleanPath is the one canonicalisation of a drive path. raw is the path as it
// came in the request line, still percent-encoded. The result starts with "/",
// has no empty, "." or ".." segments and no trailing slash, and is what every
// cache, the API walk and (later) the sign check see.
func CleanPath(raw []byte) (string, error) {
	if len(raw) > MaxPathLen {
		return "", errBadPath("longer than 4096 bytes")
	}
	if len(raw) == 0 || raw[0] != '/' {
		return "", errBadPath("must start with /")
	}
	if isClean(raw) {
		return string(raw), nil
	}
	// Decode and drop segments in one pass over a stack buffer, so that the
	// only allocation is the resulting string.
	var stack [512]byte
	out := stack[:0]
	if len(raw) > len(stack) {
		out = make([]byte, 0, len(raw))
	}
	segStart := 0 // index in out of the "/" that opened the current segment
	out = append(out, '/')
	for i := 1; i <= len(raw); i++ {
		var c byte = '/'
		if i < len(raw) {
			c = raw[i]
			if c == '%' {
				if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
					return "", errBadPath("bad percent escape")
				}
				c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
				i += 2
			}
			if c < 0x20 || c == 0x7f {
				return "", errBadPath("control character")
			}
		}
		if c != '/' {
			out = append(out, c)
			continue
		}
		// A segment ended: out[segStart] is its "/", the name follows. It is
		// checked before ".." may drop it: bad input is refused wherever it is.
		seg := out[segStart+1:]
		if !utf8.Valid(seg) {
			return "", errBadPath("not valid UTF-8")
		}
		switch {
		case len(seg) == 0 || len(seg) == 1 && seg[0] == '.':
			out = out[:segStart+1]
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			if segStart == 0 {
				return "", errBadPath("escapes the root")
			}
			out = out[:segStart]
			segStart = bytes.LastIndexByte(out, '/')
			out = out[:segStart+1]
		default:
			segStart = len(out)
			out = append(out, '/')
		}
	}
	if len(out) > 1 {
		out = out[:len(out)-1] // the trailing "/" of the last segment
	}
	return string(out), nil
}

// isClean is the fast path for the common request: nothing to decode, nothing
// to drop, so the result is raw itself.
func isClean(raw []byte) bool {
	if len(raw) > 1 && raw[len(raw)-1] == '/' {
		return false
	}
	for i, c := range raw {
		switch {
		case c == '%' || c < 0x20 || c == 0x7f || c >= 0x80:
			return false // escapes, controls and non-ASCII take the careful path
		case c == '/' && i+1 < len(raw):
			if raw[i+1] == '/' || raw[i+1] == '.' && dotSegment(raw[i+1:]) {
				return false
			}
		}
	}
	return true
}

// dotSegment tells whether s starts with a "." or ".." segment.
func dotSegment(s []byte) bool {
	n := 1
	if len(s) > 1 && s[1] == '.' {
		n = 2
	}
	return len(s) == n || s[n] == '/'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

type badPathError string

func (e badPathError) Error() string { return "bad path: " + string(e) }
func (e badPathError) Unwrap() error { return ErrBadPath }

func errBadPath(why string) error { return badPathError(why) }

// EscapePath percent-encodes a clean path for a URL, segment by segment, so a
// name with "#", "?", "%" or spaces survives the round trip.
func EscapePath(p string) string {
	var b strings.Builder
	b.Grow(len(p) + 16)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if shouldEscape(c) {
			const hexDigits = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// shouldEscape keeps unreserved characters, "/" and the sub-delims that are safe
// in a path (RFC 3986 §3.3) and escapes the rest, including "%", "?", "#" and ";".
func shouldEscape(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return false
	}
	switch c {
	case '-', '.', '_', '~', '/', '!', '$', '&', '\'', '(', ')', '*', '+', ',', '=', ':', '@':
		return false
	}
	return true
}
