package aliclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func TestDecodeError(t *testing.T) {
	f := func(status int, body string, want error) {
		t.Helper()
		err := decodeError("ep", status, http.Header{}, []byte(body))
		if !errors.Is(err, want) {
			t.Fatalf("unexpected kind for %d %s; got %v; want %v", status, body, err, want)
		}
	}
	f(401, `{"code":"AccessTokenInvalid","message":"AccessToken is invalid. expired"}`, ErrUnauthorized)
	f(401, `{"code":"AccessTokenExpired","message":""}`, ErrUnauthorized)
	f(400, `{"code":"InvalidParameter.RefreshToken","message":"bad"}`, ErrTokenDead)
	f(400, `{"code":"InvalidParameterMissing.RefreshToken","message":"missing"}`, ErrTokenDead)
	f(400, `{"code":"RefreshTokenExpired","message":"x"}`, ErrTokenDead)
	f(400, `{"code":"DeviceSessionSignatureInvalid","message":"x"}`, ErrDeviceSession)
	f(401, `{"code":"UserDeviceOffline","message":"x"}`, ErrDeviceSession)
	f(403, `{"code":"UserDeviceIllegality","message":"invalid X-Device-Id"}`, ErrDeviceSession)
	f(400, `{"code":"InvalidParameter","message":"not found device info"}`, ErrDeviceSession)
	f(400, `{"code":"NotFound.Device","message":"not found device info"}`, ErrDeviceSession)

	// On the token endpoints (spec §13.3), and only there.
	g := func(endpoint string, status int, code string, want error) {
		t.Helper()
		err := decodeError(endpoint, status, http.Header{}, []byte(`{"code":"`+code+`","message":"x"}`))
		if !errors.Is(err, want) {
			t.Fatalf("unexpected kind for %s %d %s; got %v; want %v", endpoint, status, code, err, want)
		}
	}
	for _, ep := range []string{"token", "open/token"} {
		g(ep, 400, "AccessDenied", ErrTokenDead)
		g(ep, 401, "RefreshTokenExpired", ErrTokenDead)
		g(ep, 400, "RefreshTokenInvalid", ErrTokenDead)
		g(ep, 403, "PermissionDenied", ErrTokenDead)
		g(ep, 400, "InvalidClientId", ErrBadApp)
		g(ep, 400, "InvalidClientSecret", ErrBadApp)
		g(ep, 400, "AppNotExists", ErrBadApp)
	}
	g("open/list", 403, "PermissionDenied", ErrForbidden)
	g("open/list", 400, "AccessDenied", ErrUpstream)
	f(404, `{"code":"NotFound.File","message":"x"}`, ErrNotFound)
	f(400, `{"code":"InvalidResource.FileTypeFolder","message":"x"}`, ErrIsFolder)
	f(429, `{"code":"TooManyRequests","message":"x"}`, ErrRateLimited)
	f(429, `not json`, ErrRateLimited)
	f(403, `{"code":"ForbiddenNoPermission.File","message":"x"}`, ErrForbidden)
	f(500, ``, ErrUpstream)
	f(502, `<html>`, ErrUpstream)
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := func(name, value string, want time.Duration) {
		t.Helper()
		h := http.Header{}
		h.Set(name, value)
		if got := retryAfterHeader(h, now); got != want {
			t.Fatalf("unexpected wait for %s: %s; got %v; want %v", name, value, got, want)
		}
	}
	f("x-retry-after", "2", 2*time.Millisecond)
	f("x-retry-after", "1500", 1500*time.Millisecond)
	f("x-retry-after", "734", 734*time.Millisecond)
	f("x-retry-after", "junk", 0)
	f("Retry-After", "2", 2*time.Second)
	f("Retry-After", "1.5", 1500*time.Millisecond)
	f("Retry-After", now.Add(7*time.Second).Format(http.TimeFormat), 7*time.Second)
	f("Retry-After", "soon", 0)
	f("Retry-After", "-3", 0)
	f("Retry-After", "1e300", 0)

	// x-retry-after wins when both are sent.
	h := http.Header{"X-Retry-After": {"250"}, "Retry-After": {"30"}}
	if got := retryAfterHeader(h, now); got != 250*time.Millisecond {
		t.Fatalf("unexpected wait with both headers; got %v; want 250ms", got)
	}
}

func TestSanitizeMessage(t *testing.T) {
	tok := strings.Repeat("aB3", 20)
	got := sanitizeMessage("refresh token " + tok + " is not valid\r\nX: y")
	if strings.Contains(got, tok) || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("unexpected sanitised message %q", got)
	}
	if want := "AccessToken is invalid. expired"; sanitizeMessage(want) != want {
		t.Fatalf("a plain message was altered: %q", sanitizeMessage(want))
	}
}

func TestNewLink(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := func(raw, expiration string, wantExp time.Time, wantReferer string) {
		t.Helper()
		l, err := newLink(raw, expiration, 1, "ABC", now)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Expires.Equal(wantExp) || l.Referer != wantReferer || l.ContentHash != "abc" {
			t.Fatalf("unexpected link for %s; got %+v", raw, l)
		}
	}
	oss := fmt.Sprintf("https://cdn.example/x?x-oss-expires=%d", now.Unix()+600)
	f(oss, "", now.Add(600*time.Second), "")
	// The earlier of the two expiries wins.
	f(oss, now.Add(300*time.Second).UTC().Format(time.RFC3339), now.Add(300*time.Second), "")
	f(oss, now.Add(900*time.Second).UTC().Format(time.RFC3339), now.Add(600*time.Second), "")
	f(oss+"&x-oss-additional-headers=referer", "", now.Add(600*time.Second), WebReferer)
	f("https://cdn.example/x", "", now.Add(fallbackLinkLife), "")
	if _, err := newLink("ftp://x/y", "", 0, "", now); !errors.Is(err, ErrUpstream) {
		t.Fatalf("unexpected result for a non-http URL: %v", err)
	}
	l, _ := newLink("https://cdn.example/a b/\u00e9?x-oss-expires=1", "", 0, "", now)
	if l.URL != "https://cdn.example/a%20b/%C3%A9?x-oss-expires=1" {
		t.Fatalf("unexpected header-safe URL %q", l.URL)
	}
}

// TestDeviceSignature checks the device keys against the scheme of spec §2
// computed independently: key = SHA-256(user id), signature r‖s‖v over
// SHA-256("<appId>:<deviceId>:<userId>:0"), v recovering the public key.
func TestDeviceSignature(t *testing.T) {
	const userID = "0123456789abcdef0123456789abcdef"
	id, pubHex, sig := deviceKeys(userID)
	sum := sha256.Sum256([]byte(userID))
	if id != hex.EncodeToString(sum[:]) || len(id) != 64 {
		t.Fatalf("unexpected device id %q", id)
	}
	if len(pubHex) != 128 {
		t.Fatalf("unexpected public key length %d; want 128 hex chars (X‖Y, no 04)", len(pubHex))
	}
	pubBytes, _ := hex.DecodeString("04" + pubHex)
	pub, err := secp256k1.ParsePubKey(pubBytes)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != 65 || raw[64] > 3 {
		t.Fatalf("unexpected signature encoding %q", sig)
	}
	digest := sha256.Sum256([]byte("5dde4e1bdf9e4966b387ba58f4b3fdc3:" + id + ":" + userID + ":0"))
	var r, s secp256k1.ModNScalar
	r.SetByteSlice(raw[:32])
	s.SetByteSlice(raw[32:64])
	if s.IsOverHalfOrder() {
		t.Fatalf("signature S is not low")
	}
	if !ecdsa.NewSignature(&r, &s).Verify(digest[:], pub) {
		t.Fatalf("signature does not verify")
	}
	compact := append([]byte{27 + raw[64]}, raw[:64]...)
	rec, _, err := ecdsa.RecoverCompact(compact, digest[:])
	if err != nil || !rec.IsEqual(pub) {
		t.Fatalf("recovery id does not recover the key: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n := range 10 {
		d := backoff(n)
		if d <= 0 || d > 5*time.Second {
			t.Fatalf("unexpected backoff %v for attempt %d", d, n)
		}
	}
}

func TestJWTSubject(t *testing.T) {
	f := func(tok, want string, wantOK bool) {
		t.Helper()
		got, ok := jwtSubject(tok)
		if got != want || ok != wantOK {
			t.Fatalf("jwtSubject(%q) = %q, %v; want %q, %v", tok, got, ok, want, wantOK)
		}
	}
	// {"sub":"user1","exp":1} in standard and URL-safe raw base64.
	f("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyMSIsImV4cCI6MX0.c2ln", "user1", true)
	f("x.eyJzdWIiOiI-Pz8ifQ.y", ">??", true) // {"sub":">??"}: '-' only in the URL-safe alphabet
	f("opaque32hexrefreshtoken0000000000", "", false)
	f("a.b.c", "", false)
	f("a.e30.c", "", false) // {} has no sub
}

func TestBizExtRefreshToken(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString([]byte(`{"pds_login_result":{"refreshToken":"abc123","userId":"u"}}`))
	if rt, err := bizExtRefreshToken(ok); err != nil || rt != "abc123" {
		t.Fatalf("unexpected %q, %v", rt, err)
	}
	for _, bad := range []string{"%%%", base64.StdEncoding.EncodeToString([]byte(`{"pds_login_result":{}}`)), ""} {
		if _, err := bizExtRefreshToken(bad); !errors.Is(err, ErrUpstream) {
			t.Fatalf("bizExt %q: unexpected %v", bad, err)
		}
	}
}

// TestValidStateKey holds the hand-written check to the rule it replaced,
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$, over every string of up to 3 bytes
// from a set that crosses each class boundary, and over lengths 63–66.
func TestValidStateKey(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	alphabet := []byte("aZ09._-/ \x00\xff@[`{:")
	var keys []string
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		keys = append(keys, string(prefix))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 3)
	for n := 63; n <= 66; n++ {
		keys = append(keys, strings.Repeat("a", n), "a"+strings.Repeat("-", n-1), "-"+strings.Repeat("a", n-1))
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if got, want := validStateKey(k), rule.MatchString(k); got != want {
			t.Errorf("validStateKey(%q) = %v, the rule says %v", k, got, want)
		}
	}
	if ValidStateKey("") != nil || ValidStateKey("a.b_c-1") != nil || ValidStateKey(".a") == nil {
		t.Error("ValidStateKey: empty and a.b_c-1 are valid, .a is not")
	}
}

// TestGoverned holds the buckets to the more careful of OpenList's rates
// (the quota less 0.1) and 2% under it.
func TestGoverned(t *testing.T) {
	f := func(q, want float64) {
		t.Helper()
		if got := governed(q); got < want-1e-9 || got > want+1e-9 {
			t.Fatalf("unexpected governed rate for a quota of %v/s; got %v; want %v", q, got, want)
		}
	}
	f(1, 0.9)     // link: 1.111 s between calls
	f(4, 3.9)     // list
	f(15, 14.7)   // other: 2% is the more careful
	f(0.1, 0.098) // a tiny quota keeps 98% rather than going to 0
}

// TestFitsDeadlineLeavesRoom: a wait is refused when it would leave the call
// less than callRoom before the caller's deadline.
func TestFitsDeadlineLeavesRoom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if !fitsDeadline(ctx, 500*time.Millisecond) {
		t.Fatalf("unexpected refusal of a 500 ms wait with 1 s left")
	}
	if fitsDeadline(ctx, time.Second-callRoom/2) {
		t.Fatalf("unexpected: a wait leaving %v of the deadline fits; want it refused (room %v)", callRoom/2, callRoom)
	}
	if !fitsDeadline(context.Background(), time.Hour) {
		t.Fatalf("unexpected refusal without a deadline")
	}
}
