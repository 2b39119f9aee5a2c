package alifake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// accessKeyID looks like an Alibaba Cloud AccessKey id; OSS puts it in every
// pre-signed URL. It means nothing to the fake.
const accessKeyID = "LTAI5tFakeAliLinkDemoKey0"

// Link query parameters the CDN interprets.
const (
	paramSignature   = "x-oss-signature"
	paramExpires     = "x-oss-expires"
	paramAddHeaders  = "x-oss-additional-headers"
	paramDisposition = "response-content-disposition"
	// paramNoReferer marks Open API links: the CDN refuses them when the
	// request carries any Referer (§5.3, AList #5013). It is signed like every
	// parameter, so a client cannot strip it; no real URL carries it.
	paramNoReferer = "x-alifake-no-referer"
)

var errMarker = errors.New("invalid marker")

// mac is HMAC-SHA256 under the fake's secret, with a purpose label so a list
// marker can never pass as a link signature.
func (f *Fake) mac(purpose, data string) []byte {
	h := hmac.New(sha256.New, f.secret)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(data))
	return h.Sum(nil)
}

// makeMarker encodes the offset of the next page, authenticated together
// with the listing it belongs to (scope names the drive and the folder):
// base64url(offset ‖ 12-byte MAC). Real markers are opaque too, so clients
// must pass them back verbatim.
func (f *Fake) makeMarker(offset int, scope, orderBy, dir string) string {
	var b [20]byte
	binary.BigEndian.PutUint64(b[:8], uint64(offset))
	copy(b[8:], f.mac("marker", markerScope(offset, scope, orderBy, dir)))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseMarker returns the offset in a marker made by makeMarker for the same
// folder and order, or errMarker.
func (f *Fake) parseMarker(marker, scope, orderBy, dir string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil || len(b) != 20 {
		return 0, errMarker
	}
	off := binary.BigEndian.Uint64(b[:8])
	if off > 1<<31 {
		return 0, errMarker
	}
	want := f.mac("marker", markerScope(int(off), scope, orderBy, dir))[:12]
	if !hmac.Equal(b[8:], want) {
		return 0, errMarker
	}
	return int(off), nil
}

func markerScope(offset int, scope, orderBy, dir string) string {
	return strconv.Itoa(offset) + "\n" + scope + "\n" + orderBy + "\n" + dir
}

// ossEscape percent-encodes everything but RFC 3986 unreserved characters,
// the way OSS pre-signed URLs are written (a space is %20, never +).
func ossEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(3 * len(s)) // one allocation: the CDN checks every link with this
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// queryParam is one decoded query parameter.
type queryParam struct{ key, value string }

// canonical is the string a link signature covers: the path and every
// parameter but the signature, sorted, each escaped so the form is unique.
func canonical(path string, params []queryParam) string {
	var b strings.Builder
	b.WriteString("GET\n")
	b.WriteString(path)
	for _, p := range params {
		if p.key == paramSignature {
			continue
		}
		b.WriteString("\n")
		b.WriteString(ossEscape(p.key))
		b.WriteString("=")
		b.WriteString(ossEscape(p.value))
	}
	return b.String()
}

// linkSignature is the value of x-oss-signature: standard base64 of an HMAC,
// as OSS signature version 2 writes it ('+', '/' and '=' are escaped in the
// URL, a classic trap for clients that rebuild URLs by hand).
func (f *Fake) linkSignature(path string, params []queryParam) string {
	return base64.StdEncoding.EncodeToString(f.mac("link", canonical(path, params)))
}

// encodeLink writes base+path?params with the parameters sorted by key.
func encodeLink(base, path string, params []queryParam) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(path)
	for i, p := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(ossEscape(p.key))
		b.WriteByte('=')
		b.WriteString(ossEscape(p.value))
	}
	return b.String()
}

// sortParams orders parameters by key, as OSS URLs list them.
func sortParams(params []queryParam) {
	slices.SortFunc(params, func(a, b queryParam) int { return strings.Compare(a.key, b.key) })
}

// parseLinkQuery decodes a raw query into sorted parameters, rejecting
// malformed escapes and repeated keys (either would make the signed form
// ambiguous).
func parseLinkQuery(raw string) ([]queryParam, bool) {
	var params []queryParam
	seen := make(map[string]bool)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || seen[key] {
			return nil, false
		}
		seen[key] = true
		params = append(params, queryParam{key, value})
	}
	sortParams(params)
	return params, true
}

// verifyLink reports whether the signature in params covers path and all
// other parameters.
func (f *Fake) verifyLink(path string, params []queryParam) bool {
	var got string
	for _, p := range params {
		if p.key == paramSignature {
			got = p.value
		}
	}
	if got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(f.linkSignature(path, params)))
}

// paramValue returns the value of key, or "".
func paramValue(params []queryParam, key string) string {
	for _, p := range params {
		if p.key == key {
			return p.value
		}
	}
	return ""
}
