package streamer_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
)

const testSecret = "test-secret-one,test-secret-two"

func TestSignRequired(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeRedirect, SignSecret: testSecret})
	env.fake.AddFile("/Movies/a b.mkv", []byte("a"))
	s := sign.New(testSecret)
	other := sign.New("test-secret-two") // the second secret verifies too (rotation)
	p := "/Movies/a%20b.mkv"
	f := func(name, rawQuery string, want int, wantBody string) {
		t.Helper()
		r := env.do(t, http.MethodGet, p+rawQuery)
		if r.status != want || !strings.Contains(r.body, wantBody) {
			t.Fatalf("%s: got %d %q; want %d %q", name, r.status, r.body, want, wantBody)
		}
	}
	f("no sign", "", http.StatusUnauthorized, "sign missing")
	f("empty sign", "?sign=", http.StatusUnauthorized, "sign missing")
	f("garbage", "?sign=abc", http.StatusForbidden, "sign invalid")
	f("another path's sign", "?sign="+s.Sign("/Movies/b.mkv", time.Time{}), http.StatusForbidden, "sign invalid")
	f("expired", "?sign="+s.Sign("/Movies/a b.mkv", time.Now().Add(-time.Minute)), http.StatusForbidden, "sign expired")
	f("valid, never expires", "?sign="+s.Sign("/Movies/a b.mkv", time.Time{}), http.StatusFound, "")
	f("valid, expires later", "?sign="+s.Sign("/Movies/a b.mkv", time.Now().Add(time.Hour)), http.StatusFound, "")
	f("valid, second secret", "?sign="+other.Sign("/Movies/a b.mkv", time.Time{}), http.StatusFound, "")
	// The signed path is the cleaned one: any spelling of it carries the same sign.
	r := env.do(t, http.MethodGet, "/Movies/./x/../a%20b.mkv?sign="+s.Sign("/Movies/a b.mkv", time.Time{}))
	if r.status != http.StatusFound {
		t.Fatalf("a sign did not hold for another spelling of the same path; got %d", r.status)
	}
	// The health endpoints need no sign.
	if r := env.do(t, http.MethodGet, "/-/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz needs no sign; got %d", r.status)
	}
	if strings.Contains(env.logs.String(), "test-secret") {
		t.Fatalf("a secret reached the log")
	}
}

// TestSignedListing: a signed folder link lists children whose hrefs carry
// signs with the same expiry, so a folder can be browsed.
func TestSignedListing(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeRedirect, SignSecret: testSecret})
	env.fake.AddFile("/Shows/S01/e1 #1.mkv", []byte("e1"))
	s := sign.New(testSecret)
	exp := time.Now().Add(time.Hour)
	r := env.do(t, http.MethodGet, "/Shows?sign="+s.Sign("/Shows", exp), "Accept", "application/json")
	var out struct{ Items []struct{ Href string } }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil || len(out.Items) != 1 {
		t.Fatalf("unexpected listing %d %s", r.status, r.body)
	}
	sub := env.do(t, http.MethodGet, out.Items[0].Href, "Accept", "application/json")
	if err := json.Unmarshal([]byte(sub.body), &out); sub.status != http.StatusOK || err != nil {
		t.Fatalf("following a signed folder href failed: %d %s", sub.status, sub.body)
	}
	file := env.do(t, http.MethodGet, out.Items[0].Href)
	if file.status != http.StatusFound {
		t.Fatalf("following a signed file href failed: %d %s (%s)", file.status, file.body, out.Items[0].Href)
	}
	u, _ := url.Parse(out.Items[0].Href)
	if _, err := s.Verify("/Shows/S01/e1 #1.mkv", u.Query().Get("sign"), time.Now()); err != nil {
		t.Fatalf("the href's sign does not verify: %v", err)
	}
	if !strings.HasSuffix(u.Query().Get("sign"), ":"+strconv.FormatInt(exp.Unix(), 10)) {
		t.Fatalf("the href's sign does not keep the folder sign's expiry: %s", u.Query().Get("sign"))
	}
}

func TestAdminAPI(t *testing.T) {
	const token = "admin-token-0123456789"
	env := newEnv(t, alifake.Options{RefererBound: true}, streamer.Config{Mode: streamer.ModeRedirect, SignSecret: testSecret, AdminToken: token})
	env.fake.AddFile("/Movies/a b.mkv", []byte("abc"))
	auth := []string{"Authorization", "Bearer " + token}
	f := func(path string, want int, hdr ...string) response {
		t.Helper()
		r := env.do(t, http.MethodGet, path, hdr...)
		if r.status != want {
			t.Fatalf("%s: got %d %q; want %d", path, r.status, r.body, want)
		}
		return r
	}
	f("/-/api/link?path=/Movies/a%20b.mkv", http.StatusUnauthorized)
	f("/-/api/link?path=/Movies/a%20b.mkv", http.StatusUnauthorized, "Authorization", "Bearer wrong-token-xxxxxxxx")
	f("/-/api/link?path=/Movies/a%20b.mkv", http.StatusUnauthorized, "Authorization", token)
	f("/-/api/link", http.StatusBadRequest, auth...)
	f("/-/api/link?path=/missing.mkv", http.StatusNotFound, auth...)
	f("/-/api/link?path=/../x", http.StatusBadRequest, auth...)
	r := f("/-/api/link?path=/Movies/a%20b.mkv", http.StatusOK, auth...)
	var link struct {
		URL         string            `json:"url"`
		Headers     map[string]string `json:"headers"`
		ExpiresAt   time.Time         `json:"expires_at"`
		Size        int64             `json:"size"`
		Name        string            `json:"name"`
		ContentHash string            `json:"content_hash"`
	}
	if err := json.Unmarshal([]byte(r.body), &link); err != nil {
		t.Fatal(err)
	}
	if link.Size != 3 || link.Name != "a b.mkv" || len(link.ContentHash) != 40 || link.Headers["Referer"] != "https://www.alipan.com/" ||
		time.Until(link.ExpiresAt) < time.Hour {
		t.Fatalf("unexpected link answer %+v", link)
	}
	if got := env.follow(t, link.URL, "Referer", link.Headers["Referer"]); got.body != "abc" {
		t.Fatalf("the link from the API does not fetch the file: %d %q", got.status, got.body)
	}

	r = f("/-/api/sign?path=/Movies/a%20b.mkv&ttl=1h", http.StatusOK, auth...)
	var sg struct {
		Path, Sign, URL string
		ExpiresAt       *time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(r.body), &sg); err != nil {
		t.Fatal(err)
	}
	if sg.Path != "/Movies/a b.mkv" || sg.ExpiresAt == nil || !strings.HasSuffix(sg.URL, resolver.EscapePath(sg.Path)+"?sign="+sg.Sign) {
		t.Fatalf("unexpected sign answer %s", r.body)
	}
	if got := env.do(t, http.MethodGet, resolver.EscapePath(sg.Path)+"?sign="+sg.Sign); got.status != http.StatusFound {
		t.Fatalf("the minted sign does not open the file: %d", got.status)
	}
	r = f("/-/api/sign?path=/Movies/a%20b.mkv&ttl=0", http.StatusOK, auth...)
	if !strings.Contains(r.body, `"expires_at":null`) || !strings.Contains(r.body, `:0"`) {
		t.Fatalf("ttl=0 should sign forever: %s", r.body)
	}
	f("/-/api/sign?path=/a&ttl=soon", http.StatusBadRequest, auth...)
	// A huge ttl is refused, not overflowed into a sign that never expires.
	for _, ttl := range []string{"9999999999", "-5", "2562047h", "87601h", "500ms"} {
		f("/-/api/sign?path=/a&ttl="+ttl, http.StatusBadRequest, auth...)
	}
	if strings.Contains(env.logs.String(), token) {
		t.Fatalf("the admin token reached the log")
	}

	off := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeRedirect})
	if r := off.do(t, http.MethodGet, "/-/api/link?path=/x", auth...); r.status != http.StatusNotFound || !strings.Contains(r.body, "ALILINK_ADMIN_TOKEN") {
		t.Fatalf("the admin API without a token set: got %d %q; want 404 naming ALILINK_ADMIN_TOKEN", r.status, r.body)
	}
}

func TestAccelHeaders(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAccel, AccelLocation: "/_alilink/"})
	bound := env.fake.AddFile("/b.mkv", []byte("bound"))
	env.fake.SetRefererBound(bound, true)
	env.fake.AddFile("/f.mkv", []byte("free"))
	links := env.fake.Calls("get_download_url")
	r := env.do(t, http.MethodGet, "/b.mkv")
	if r.status != http.StatusOK || r.header.Get("X-Accel-Redirect") != "/_alilink/" || r.body != "" {
		t.Fatalf("unexpected accel answer %d %v", r.status, r.header)
	}
	u := r.header.Get(streamer.HeaderAccelURL)
	if r.header.Get(streamer.HeaderAccelReferer) != "https://www.alipan.com/" || !strings.HasPrefix(u, env.fake.CDNURL()) {
		t.Fatalf("unexpected accel headers %v", r.header)
	}
	pu, _ := url.Parse(u)
	if r.header.Get(streamer.HeaderAccelHost) != pu.Host || r.header.Get(streamer.HeaderAccelURI) != pu.RequestURI() {
		t.Fatalf("unexpected split of the URL: %v", r.header)
	}
	if got := env.follow(t, u, "Referer", r.header.Get(streamer.HeaderAccelReferer), "Range", "bytes=1-3"); got.body != "oun" {
		t.Fatalf("the accel URL does not serve the file: %d %q", got.status, got.body)
	}
	if r := env.do(t, http.MethodGet, "/f.mkv"); r.header.Get(streamer.HeaderAccelReferer) != "" {
		t.Fatalf("a free link got a Referer")
	}
	if got := env.fake.Calls("get_download_url") - links; got != 2 {
		t.Fatalf("unexpected link calls; got %d; want 2", got)
	}
}

// TestRewriteTwoInstances: a front alilink in rewrite mode redirects to an edge
// alilink in proxy mode sharing the secret; the client gets the bytes from
// the edge, whole and by Range, and the front never asks for a link.
func TestRewriteTwoInstances(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	content := testContent(200_000)
	fake.AddFile("/Movies/Film #1 (2024).mkv", content)
	edge := envOn(t, "drive", fake, alifake.Options{}, streamer.Config{Mode: streamer.ModeProxy, SignSecret: testSecret})
	edgeURL := serveTCP(t, edge)
	front := envOn(t, "drive", fake, alifake.Options{}, streamer.Config{Mode: streamer.ModeRewrite, SignSecret: "test-secret-one",
		ProxyURL: edgeURL + "/", RewriteTTL: 10 * time.Minute})
	s := sign.New(testSecret)
	p := "/Movies/Film #1 (2024).mkv"

	r := front.do(t, http.MethodGet, resolver.EscapePath(p)+"?sign="+s.Sign(p, time.Time{}))
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, edgeURL+resolver.EscapePath(p)+"?sign=") {
		t.Fatalf("unexpected rewrite answer %d %q", r.status, loc)
	}
	u, _ := url.Parse(loc)
	exp, err := s.Verify(p, u.Query().Get("sign"), time.Now())
	if err != nil || exp < time.Now().Add(9*time.Minute).Unix() || exp > time.Now().Add(11*time.Minute).Unix() {
		t.Fatalf("the rewrite sign is wrong or does not live ALILINK_REWRITE_TTL: exp %d, %v", exp, err)
	}
	whole := edge.follow(t, loc)
	if whole.status != http.StatusOK || whole.body != string(content) {
		t.Fatalf("the edge did not serve the file: %d, %d bytes", whole.status, len(whole.body))
	}
	part := edge.follow(t, loc, "Range", "bytes=1000-1999")
	if part.status != http.StatusPartialContent || part.body != string(content[1000:2000]) {
		t.Fatalf("the edge did not serve the range: %d", part.status)
	}
	if bad := edge.follow(t, edgeURL+resolver.EscapePath(p)); bad.status != http.StatusUnauthorized {
		t.Fatalf("the edge served without a sign: %d", bad.status)
	}
	if got := fake.Calls("get_download_url"); got != 1 {
		t.Fatalf("unexpected link calls; got %d; want 1 (the edge's, cached; none from the front)", got)
	}
	if r := front.do(t, http.MethodGet, resolver.EscapePath(p)); r.status != http.StatusUnauthorized {
		t.Fatalf("the front redirected without a sign: %d", r.status)
	}
	// The new sign never outlives the incoming one.
	short := time.Now().Add(3 * time.Minute).Truncate(time.Second)
	r = front.do(t, http.MethodGet, resolver.EscapePath(p)+"?sign="+s.Sign(p, short))
	u, _ = url.Parse(r.header.Get("Location"))
	if exp, err := s.Verify(p, u.Query().Get("sign"), time.Now()); r.status != http.StatusFound || err != nil || exp != short.Unix() {
		t.Fatalf("a sign expiring at %d was rewritten to one expiring at %d (%d, %v)", short.Unix(), exp, r.status, err)
	}
	// The folder is listed by the front itself, with signed hrefs.
	if r := front.do(t, http.MethodGet, "/Movies?sign="+s.Sign("/Movies", time.Time{}), "Accept", "application/json"); r.status != http.StatusOK {
		t.Fatalf("the front did not list the folder: %d", r.status)
	}
}
