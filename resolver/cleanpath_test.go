package resolver

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanPath(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		got, err := CleanPath([]byte(raw))
		if err != nil {
			t.Fatalf("unexpected error for %q: %v", raw, err)
		}
		if got != want {
			t.Fatalf("unexpected clean path for %q; got %q; want %q", raw, got, want)
		}
	}
	f("/", "/")
	f("/Movies/Film.mkv", "/Movies/Film.mkv")
	f("/Movies/", "/Movies")
	f("//Movies//Film.mkv", "/Movies/Film.mkv")
	f("/Movies/./Film.mkv", "/Movies/Film.mkv")
	f("/Movies/x/../Film.mkv", "/Movies/Film.mkv")
	f("/a/b/../..", "/")
	f("/a/..", "/")
	f("/a%20b.mkv", "/a b.mkv")
	f("/%E7%94%B5%E5%BD%B1/x.mp4", "/电影/x.mp4")
	f("/电影/x.mp4", "/电影/x.mp4")
	f("/a%23b%3Fc%25d.mkv", "/a#b?c%d.mkv")
	f("/a%2Fb", "/a/b") // an encoded slash is a separator: drive names cannot hold one
	f("/a+b", "/a+b")   // "+" is literal in a path
	f("/...", "/...")
	f("/.hidden", "/.hidden")
	f("/a/%2E%2E/b", "/b")
	f("/a.", "/a.")
}

func TestCleanPathRefuses(t *testing.T) {
	f := func(raw string) {
		t.Helper()
		if got, err := CleanPath([]byte(raw)); !errors.Is(err, ErrBadPath) {
			t.Fatalf("unexpected result for %q; got %q, %v; want ErrBadPath", raw, got, err)
		}
	}
	f("")
	f("Movies")
	f("/..")
	f("/../etc/passwd")
	f("/a/../../b")
	f("/%2E%2E/x")
	f("/a%00b")
	f("/a%0Ab")
	f("/a\x00b")
	f("/a%ZZ")
	f("/a%4")
	f("/a%")
	f("/%FF%FE")
	f("/\xff")
	f("/" + strings.Repeat("a", MaxPathLen))
}

// FuzzCleanPath: never panics, never escapes the root, and the result is
// canonical (cleaning it again, escaped, gives it back).
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/../..", "/%2e%2e/", "//x//y/", "/电影", "/a%20b", "/%", "/a/./b/."} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := CleanPath(raw)
		want, wantOK := referenceClean(raw)
		if (err == nil) != wantOK || err == nil && got != want {
			t.Fatalf("differs from the reference for %q; got %q, %v; want %q, ok=%v", raw, got, err, want, wantOK)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "//") || (len(got) > 1 && strings.HasSuffix(got, "/")) {
			t.Fatalf("not canonical: %q from %q", got, raw)
		}
		for seg := range strings.SplitSeq(got[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("dot segment survived: %q from %q", got, raw)
			}
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\x00\r\n") {
			t.Fatalf("unsafe result %q from %q", got, raw)
		}
		again, err := CleanPath([]byte(EscapePath(got)))
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q (%v)", got, again, err)
		}
	})
}

func TestEscapePath(t *testing.T) {
	f := func(p, want string) {
		t.Helper()
		if got := EscapePath(p); got != want {
			t.Fatalf("unexpected escape of %q; got %q; want %q", p, got, want)
		}
	}
	f("/a b/c#d?e%f.mkv", "/a%20b/c%23d%3Fe%25f.mkv")
	f("/电影", "/%E7%94%B5%E5%BD%B1")
	f("/a+b&c=d", "/a+b&c=d")
}

// referenceClean is the slow, obvious version CleanPath must agree with.
func referenceClean(raw []byte) (string, bool) {
	if len(raw) == 0 || len(raw) > MaxPathLen || raw[0] != '/' {
		return "", false
	}
	dec, err := url.PathUnescape(string(raw))
	if err != nil || !utf8.ValidString(dec) {
		return "", false
	}
	for _, c := range []byte(dec) {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	var segs []string
	for _, seg := range strings.Split(dec, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, seg)
		}
	}
	return "/" + strings.Join(segs, "/"), true
}
