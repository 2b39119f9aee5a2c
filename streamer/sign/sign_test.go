package sign

import (
	"errors"
	"testing"
	"time"
)

// TestAListVectors: signs computed independently of this package (Python's
// hmac and base64.urlsafe_b64encode, which is what AList's Go code produces:
// HMAC-SHA256 over "<path>:<expiry>", URL-safe base64 with padding).
//
//	python3 -c 'import hmac,hashlib,base64;print(base64.urlsafe_b64encode(hmac.new(b"alist-secret",
//	  b"/ali/\xe7\x94\xb5\xe5\xbd\xb1/a b.mkv:0",hashlib.sha256).digest()).decode())'
func TestAListVectors(t *testing.T) {
	f := func(secret, path string, exp int64, want string) {
		t.Helper()
		s := New(secret)
		if got := s.SignUnix(path, exp); got != want {
			t.Fatalf("unexpected sign for %q:%d; got %s; want %s", path, exp, got, want)
		}
		if _, err := s.Verify(path, want, time.Unix(exp-1, 0)); err != nil {
			t.Fatalf("the vector does not verify: %v", err)
		}
	}
	f("alist-secret", "/ali/电影/a b.mkv", 0, "oxLCeKs29x7_H96o23KCFADxNm_NcWalaC9LGuOGxA4=:0")
	f("alist-secret", "/Movies/Film.mkv", 1893456000, "rMZtb0F2F_SBmuQxgKMoRYjEGfjiNZ4H6c8KZOaIjt4=:1893456000")
	f("k", "/", 1, "9CO2tANCLeW5jzwspS8sF_8fe4GcuzpmtgxtvwlGu3Y=:1")
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := New("old-secret, new-secret")
	rotated := New("new-secret")
	never := s.Sign("/a.mkv", time.Time{})
	later := s.Sign("/a.mkv", now.Add(time.Hour))
	past := s.Sign("/a.mkv", now.Add(-time.Second))
	f := func(name, path, sign string, v *Signer, want error) {
		t.Helper()
		if _, err := v.Verify(path, sign, now); !errors.Is(err, want) {
			t.Fatalf("%s: unexpected result %v; want %v", name, err, want)
		}
	}
	f("never expires", "/a.mkv", never, s, nil)
	f("not yet expired", "/a.mkv", later, s, nil)
	f("expired", "/a.mkv", past, s, ErrExpired)
	f("missing", "/a.mkv", "", s, ErrMissing)
	f("other path", "/b.mkv", never, s, ErrInvalid)
	f("signed with the old secret, rotated away", "/a.mkv", never, rotated, ErrInvalid)
	f("signed with the new secret, both configured", "/a.mkv", rotated.Sign("/a.mkv", time.Time{}), s, nil)
	f("no colon", "/a.mkv", "abc", s, ErrInvalid)
	f("expiry not a number", "/a.mkv", never[:len(never)-1]+"x", s, ErrInvalid)
	f("leading zero", "/a.mkv", never[:len(never)-1]+"00", s, ErrInvalid)
	f("plus sign", "/a.mkv", never[:len(never)-1]+"+0", s, ErrInvalid)
	f("negative", "/a.mkv", never[:len(never)-1]+"-1", s, ErrInvalid)
	f("bad base64", "/a.mkv", "!!!!:0", s, ErrInvalid)
	f("short mac", "/a.mkv", "AAAA:0", s, ErrInvalid)
	f("expiry moved", "/a.mkv", later[:len(later)-1]+"9", s, ErrInvalid)
	if New(" , ").Enabled() || New("").Enabled() || !s.Enabled() {
		t.Fatalf("unexpected Enabled")
	}
}

// FuzzVerify: never panics, and a valid sign stops verifying when any byte of
// the path, the sign or the expiry changes.
func FuzzVerify(f *testing.F) {
	f.Add("/a.mkv", int64(0), 3, byte(1))
	f.Add("/电影/x y.mp4", int64(1893456000), 50, byte(7))
	f.Fuzz(func(t *testing.T, path string, exp int64, pos int, delta byte) {
		if exp < 0 || delta == 0 {
			return
		}
		s := New("fuzz-secret")
		now := time.Unix(0, 0)
		good := s.SignUnix(path, exp)
		if _, err := s.Verify(path, good, now); err != nil {
			t.Fatalf("a fresh sign does not verify: %v", err)
		}
		// Arbitrary input never panics.
		_, _ = s.Verify(path, path, now)
		// Change one byte of the sign (the MAC or the expiry).
		b := []byte(good)
		i := (pos%len(b) + len(b)) % len(b)
		b[i] += delta
		if _, err := s.Verify(path, string(b), now); err == nil {
			t.Fatalf("a sign with byte %d changed (%q → %q) still verifies", i, good, b)
		}
		// Change one byte of the path.
		if len(path) > 0 {
			p := []byte(path)
			j := (pos%len(p) + len(p)) % len(p)
			p[j] += delta
			if _, err := s.Verify(string(p), good, now); err == nil {
				t.Fatalf("the sign still verifies for a path with byte %d changed", j)
			}
		}
	})
}
