// Package sign makes and checks alilink's signs and builds the signed URLs
// that carry them, in AList's format (spec §8.2) so that tools which mint
// AList signs keep working:
//
//	sign = base64url-with-padding(HMAC-SHA256(secret, "<path>:<expiry>")) + ":" + expiry
//
// where path is the cleaned drive path (resolver.CleanPath, not URL-encoded)
// and expiry is Unix seconds, 0 meaning never. Several secrets may verify (key
// rotation); the first one signs.
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The ways a sign can fail, each answered with its own status and message.
var (
	ErrMissing = errors.New("sign missing")
	ErrInvalid = errors.New("sign invalid")
	ErrExpired = errors.New("sign expired")
)

// Signer holds the secrets. The zero value (no secrets) is disabled.
type Signer struct {
	keys [][]byte
}

// New takes the comma-separated secrets of ALILINK_SIGN_SECRET; empty items
// are ignored. The first secret signs, every one verifies.
func New(secrets string) *Signer {
	s := &Signer{}
	for k := range strings.SplitSeq(secrets, ",") {
		if k = strings.TrimSpace(k); k != "" {
			s.keys = append(s.keys, []byte(k))
		}
	}
	return s
}

// Enabled reports whether signs are required (a secret is set).
func (s *Signer) Enabled() bool { return s != nil && len(s.keys) > 0 }

// Sign signs path until expiry (the zero time: never).
func (s *Signer) Sign(path string, expiry time.Time) string {
	exp := int64(0)
	if !expiry.IsZero() {
		exp = expiry.Unix()
	}
	return string(s.appendSign(nil, path, exp))
}

// SignUnix signs path until the Unix second exp (0: never).
func (s *Signer) SignUnix(path string, exp int64) string {
	return string(s.appendSign(nil, path, exp))
}

func (s *Signer) appendSign(dst []byte, path string, exp int64) []byte {
	mac := macOf(s.keys[0], path, exp)
	dst = base64.URLEncoding.AppendEncode(dst, mac[:])
	dst = append(dst, ':')
	return strconv.AppendInt(dst, exp, 10)
}

func macOf(key []byte, path string, exp int64) [sha256.Size]byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(path))
	var buf [24]byte
	b := append(buf[:0], ':')
	h.Write(strconv.AppendInt(b, exp, 10))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Verify checks sign for path at now and returns its expiry (0: never). The
// MAC is compared in constant time against every secret.
func (s *Signer) Verify(path, sign string, now time.Time) (int64, error) {
	if sign == "" {
		return 0, ErrMissing
	}
	i := strings.LastIndexByte(sign, ':')
	if i < 0 {
		return 0, ErrInvalid
	}
	exp, err := strconv.ParseInt(sign[i+1:], 10, 64)
	if err != nil || exp < 0 || strconv.FormatInt(exp, 10) != sign[i+1:] {
		return 0, ErrInvalid // only the canonical decimal, as AList compares strings
	}
	got, err := base64.URLEncoding.Strict().DecodeString(sign[:i])
	if err != nil || len(got) != sha256.Size {
		return 0, ErrInvalid
	}
	ok := false
	for _, k := range s.keys {
		want := macOf(k, path, exp)
		if hmac.Equal(got, want[:]) {
			ok = true
		}
	}
	if !ok {
		return 0, ErrInvalid
	}
	if exp != 0 && exp < now.Unix() {
		return exp, ErrExpired
	}
	return exp, nil
}
