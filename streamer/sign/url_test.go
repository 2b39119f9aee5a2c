package sign

import (
	"net/url"
	"testing"
	"time"
)

// TestURL: a signed link escapes the path the way the server decodes it, its
// sign verifies for the unescaped path, and signs off leave no query at all.
func TestURL(t *testing.T) {
	s := New("url-secret")
	p := "/电影/a b #1?%.mkv"
	got := s.URL("http://127.0.0.1:8080", p, 1893456000)
	u, err := url.Parse(got)
	if err != nil || u.Host != "127.0.0.1:8080" || u.Path != p {
		t.Fatalf("unexpected URL %q (%v)", got, err)
	}
	if exp, err := s.Verify(p, u.Query().Get("sign"), time.Unix(0, 0)); err != nil || exp != 1893456000 {
		t.Fatalf("the URL's sign does not verify: %d %v", exp, err)
	}
	if q := s.Query(p, 0); q != "?sign="+s.SignUnix(p, 0) {
		t.Fatalf("unexpected query %q", q)
	}
	off := New("")
	if got := off.URL("http://h", "/a b.mkv", 0); got != "http://h/a%20b.mkv" {
		t.Fatalf("unexpected URL with signs off %q", got)
	}
	if q := off.Query("/a.mkv", 0); q != "" {
		t.Fatalf("unexpected query with signs off %q", q)
	}
}
