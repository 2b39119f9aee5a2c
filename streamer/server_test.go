package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// testEnv is alilink in front of the fake drive, served over an in-memory
// listener, with a net/http client that does not follow redirects.
type testEnv struct {
	driver string
	fake   *alifake.Fake
	srv    *streamer.Server
	client *http.Client // to alilink (in memory)
	cdn    *http.Client // to the fake CDN (loopback)
	logs   *aliclienttest.LogBuffer
	dial   func() (net.Conn, error) // a raw connection to alilink
}

func newEnv(t *testing.T, opts alifake.Options, scfg streamer.Config) *testEnv {
	t.Helper()
	return newEnvFor(t, "drive", opts, scfg)
}

// newEnvFor is alilink with the given driver in front of a new fake drive.
func newEnvFor(t *testing.T, driver string, opts alifake.Options, scfg streamer.Config) *testEnv {
	t.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	return envOn(t, driver, fake, opts, scfg)
}

// forDrivers runs a test once per driver.
func forDrivers(t *testing.T, test func(t *testing.T, driver string)) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) { test(t, driver) })
	}
}

// envOn is another alilink, with its own client, on an existing fake drive.
func envOn(t *testing.T, driver string, fake *alifake.Fake, opts alifake.Options, scfg streamer.Config) *testEnv {
	t.Helper()
	log, logs := aliclienttest.Logger()
	c, err := aliclient.New(aliclienttest.ConfigFor(t, fake, driver), aliclient.Deps{Logger: log, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	if cl, ok := c.(interface{ Close() }); ok { // the share driver's planned deletions
		t.Cleanup(cl.Close)
	}
	rcfg := resolver.Config{
		RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: time.Minute, ListCacheSize: 100,
		NegativeTTL: time.Second, LinkCacheSize: 1000, LinkMargin: time.Minute, ResolveTimeout: 2 * time.Second,
	}
	// Short-lived test links (LinkTTL of seconds) are served under this
	// margin too: the resolver then uses half their life.
	res, err := resolver.New(rcfg, c, resolver.Deps{Log: log, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	def := streamer.DefaultConfig()
	if scfg.Mode == "" {
		scfg.Mode = streamer.ModeRedirect
	}
	if scfg.ReadyTimeout == 0 {
		scfg.ReadyTimeout = 2 * time.Second
	}
	if scfg.StreamIdleTimeout == 0 {
		scfg.StreamIdleTimeout = 5 * time.Second
	}
	if scfg.ResumeAttempts == 0 {
		scfg.ResumeAttempts = def.ResumeAttempts
	}
	if scfg.RewriteTTL == 0 {
		scfg.RewriteTTL = def.RewriteTTL
	}
	if scfg.AccelLocation == "" {
		scfg.AccelLocation = def.AccelLocation
	}
	srv, err := streamer.New(scfg, res, streamer.Deps{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ln := streamertest.ServeInMemory(t, srv)
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}
	t.Cleanup(tr.CloseIdleConnections)
	env := &testEnv{
		driver: driver,
		fake:   fake,
		srv:    srv,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cdn:    &http.Client{Transport: &http.Transport{}},
		logs:   logs,
		dial:   ln.Dial,
	}
	t.Cleanup(env.cdn.CloseIdleConnections)
	return env
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *testEnv) do(t *testing.T, method, rawPath string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://alilink/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = rawPath // send the path exactly as written, bad escapes too
	return send(t, e.client, req, hdr)
}

// follow fetches a Location from the fake CDN, as a player would (one that
// can send the Referer a bound link needs: share links are bound).
func (e *testEnv) follow(t *testing.T, location string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, location, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(location, "x-oss-additional-headers=referer") {
		req.Header.Set("Referer", "https://www.alipan.com/")
	}
	return send(t, e.cdn, req, hdr)
}

// ep names the env's driver's calls in the fake's counters.
func (e *testEnv) ep() aliclienttest.Endpoints { return aliclienttest.EndpointsOf(e.driver) }

// send sets the header pairs in hdr, does the request and reads the whole body.
func send(t *testing.T, c *http.Client, req *http.Request, hdr []string) response {
	t.Helper()
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *testEnv) assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, tok := range e.fake.Secrets() {
		if strings.Contains(s, tok) {
			t.Fatalf("%s contains a token", what)
		}
	}
}

func TestRedirect(t *testing.T) { forDrivers(t, redirect) }

func redirect(t *testing.T, driver string) {
	env := newEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	names := []string{"/Movies/Film.mkv", "/Movies/a b.mkv", "/电影/千与千寻.mp4", "/x/#1.mkv", "/x/100%.mkv", "/x/why?.mkv", "/x/a+b&c=d;e.mkv"}
	for _, n := range names {
		env.fake.AddFile(n, []byte("content of "+n))
	}
	for _, n := range names {
		// HEAD answers from the drive's metadata, with no link (issue 14).
		links := env.fake.Calls(env.ep().Link)
		if h := env.do(t, http.MethodHead, resolver.EscapePath(n)); h.status != http.StatusOK ||
			h.header.Get("Content-Length") != fmt.Sprint(len("content of "+n)) || env.fake.Calls(env.ep().Link) != links {
			t.Fatalf("HEAD %s: unexpected answer %d %v (link calls %d → %d)", n, h.status, h.header, links, env.fake.Calls(env.ep().Link))
		}
		for _, method := range []string{http.MethodGet} {
			r := env.do(t, method, resolver.EscapePath(n))
			if r.status != http.StatusFound {
				t.Fatalf("%s %s: unexpected status; got %d; want 302 (%s)", method, n, r.status, r.body)
			}
			if r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s %s: unexpected headers %v", method, n, r.header)
			}
			loc := r.header.Get("Location")
			if strings.ContainsAny(loc, " \r\n") || !strings.HasPrefix(loc, env.fake.CDNURL()+"/") {
				t.Fatalf("%s %s: unexpected Location %q", method, n, loc)
			}
			got := env.follow(t, loc)
			if got.status != http.StatusOK || got.body != "content of "+n {
				t.Fatalf("%s %s: following the redirect gave %d %q", method, n, got.status, got.body)
			}
			if rng := env.follow(t, loc, "Range", "bytes=0-6"); rng.status != http.StatusPartialContent || rng.body != "content" {
				t.Fatalf("%s %s: a Range through the redirect gave %d %q", method, n, rng.status, rng.body)
			}
		}
	}
	env.assertNoSecrets(t, "the log", env.logs.String())
}

func TestOneLinkCallPerFile(t *testing.T) { forDrivers(t, oneLinkCallPerFile) }

func oneLinkCallPerFile(t *testing.T, driver string) {
	env := newEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/hot.mkv", []byte("hot"))
	env.fake.AddFile("/cold.mkv", []byte("cold"))
	for range 200 {
		if r := env.do(t, http.MethodGet, "/hot.mkv"); r.status != http.StatusFound {
			t.Fatalf("unexpected status %d", r.status)
		}
	}
	if got := env.fake.Calls(env.ep().Link); got != 1 {
		t.Fatalf("unexpected link calls for 200 sequential GETs; got %d; want 1", got)
	}
	env.fake.SetLatency(env.ep().Link, 100*time.Millisecond)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if r := env.do(t, http.MethodGet, "/cold.mkv"); r.status != http.StatusFound {
				t.Errorf("unexpected status %d", r.status)
			}
		})
	}
	wg.Wait()
	if got := env.fake.Calls(env.ep().Link); got != 2 {
		t.Fatalf("unexpected link calls after 50 concurrent cold GETs; got %d; want 2", got)
	}
}

func TestFolderListing(t *testing.T) { forDrivers(t, folderListing) }

func folderListing(t *testing.T, driver string) {
	env := newEnvFor(t, driver, alifake.Options{PageSize: 7}, streamer.Config{})
	for i := range 150 {
		env.fake.AddFile(fmt.Sprintf("/Photos/IMG %03d #.jpg", i), []byte("x"))
	}
	env.fake.AddFolder("/Photos/Sub folder")
	for _, p := range []string{"/Photos", "/Photos/", "/./Photos//", "/x/../Photos"} {
		r := env.do(t, http.MethodGet, p, "Accept", "application/json")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: unexpected answer %d %s", p, r.status, r.header.Get("Content-Type"))
		}
		var out struct {
			Path  string `json:"path"`
			Items []struct {
				Name, Type, Href string
				Size             int64
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		if out.Path != "/Photos" || len(out.Items) != 151 {
			t.Fatalf("%s: unexpected listing of %q with %d items; want 151", p, out.Path, len(out.Items))
		}
		for _, it := range out.Items {
			if it.Type == "file" && it.Href != resolver.EscapePath("/Photos/"+it.Name) {
				t.Fatalf("unexpected href %q for %q", it.Href, it.Name)
			}
			if it.Type == "folder" && it.Href != "/Photos/Sub%20folder/" {
				t.Fatalf("unexpected folder href %q", it.Href)
			}
		}
	}
	if r := env.do(t, http.MethodGet, "/?format=json"); r.status != http.StatusOK || !strings.Contains(r.body, `"Photos"`) {
		t.Fatalf("unexpected root listing %d %s", r.status, r.body)
	}
}

func TestErrorStatuses(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a/b.mkv", []byte("b"))
	f := func(method, path string, want int) {
		t.Helper()
		r := env.do(t, method, path)
		if r.status != want {
			t.Fatalf("%s %s: unexpected status; got %d; want %d (%q)", method, path, r.status, want, r.body)
		}
	}
	f(http.MethodGet, "/a/missing.mkv", http.StatusNotFound)
	f(http.MethodGet, "/missing/b.mkv", http.StatusNotFound)
	f(http.MethodGet, "/a/b.mkv/c", http.StatusNotFound)
	f(http.MethodGet, "/../a/b.mkv", http.StatusBadRequest)
	f(http.MethodGet, "/a/../../b.mkv", http.StatusBadRequest)
	f(http.MethodGet, "/a/%2e%2e/%2e%2e/x", http.StatusBadRequest)
	f(http.MethodGet, "/a%00b", http.StatusBadRequest)
	f(http.MethodGet, "/a%FF", http.StatusBadRequest)
	f(http.MethodGet, "/a%zz", http.StatusBadRequest)
	f(http.MethodGet, "/"+strings.Repeat("x", 5000), http.StatusBadRequest)
	f(http.MethodPost, "/a/b.mkv", http.StatusMethodNotAllowed)
	f(http.MethodDelete, "/a/b.mkv", http.StatusMethodNotAllowed)
	f(http.MethodGet, "/-/nope", http.StatusNotFound)
	f(http.MethodGet, "/-/healthz", http.StatusOK)
	f(http.MethodGet, "/-/readyz", http.StatusOK)
	f(http.MethodGet, "/a/b.mkv", http.StatusFound)
}

// TestRateLimitedGives503: a drive that asks for a wait longer than the
// request can take gives a 503 whose Retry-After is the drive's wait, read
// in milliseconds (spec §13.1), and never more than a few seconds, whoever
// asked for more (the drive, or a CDN saying "come back in an hour").
func TestRateLimitedGives503(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a.mkv", []byte("a"))
	env.fake.AddFile("/b.mkv", []byte("b"))
	env.do(t, http.MethodGet, "/") // warm the token and the session
	f := func(what string, fault alifake.Fault, want string) {
		t.Helper()
		env.fake.FailNext("get_download_url", 5, fault)
		r := env.do(t, http.MethodGet, "/a.mkv")
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != want {
			t.Fatalf("%s: unexpected answer to a rate-limited drive; got %d Retry-After %q; want 503 %q", what, r.status, r.header.Get("Retry-After"), want)
		}
		env.fake.ClearFaults("get_download_url")
	}
	// A wait that fits the request: served after about 1.5 s.
	env.fake.FailNext("get_download_url", 1, alifake.Fault{Status: 429, RetryAfter: 1500 * time.Millisecond})
	start := time.Now()
	if r := env.do(t, http.MethodGet, "/b.mkv"); r.status != http.StatusFound {
		t.Fatalf("unexpected answer after a 1500 ms x-retry-after; got %d %q; want 302", r.status, r.body)
	}
	if waited := time.Since(start); waited < 1400*time.Millisecond || waited > 4*time.Second {
		t.Fatalf("unexpected wait for x-retry-after 1500; got %v; want about 1.5s", waited)
	}
	f("x-retry-after 30000 ms", alifake.Fault{Status: 429, RetryAfter: 30 * time.Second}, "5")
	f("Retry-After 3600 s", alifake.Fault{Status: 429, RetryAfter: time.Hour, RetryAfterHeader: "Retry-After"}, "5")
	f("x-retry-after 3500 ms", alifake.Fault{Status: 429, RetryAfter: 3500 * time.Millisecond}, "4")

	proxied := newEnv(t, alifake.Options{}, streamer.Config{Mode: "proxy"})
	proxied.fake.AddFile("/a.mkv", []byte("a"))
	proxied.fake.FailNext("cdn", 10, alifake.Fault{Status: 503, RetryAfter: time.Hour, RetryAfterHeader: "Retry-After"})
	r := proxied.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" {
		t.Fatalf("unexpected answer to a busy CDN; got %d Retry-After %q; want 503 \"5\"", r.status, r.header.Get("Retry-After"))
	}
}

func TestDeadTokenGives502AndUnready(t *testing.T) { forDrivers(t, deadTokenGives502AndUnready) }

func deadTokenGives502AndUnready(t *testing.T, driver string) {
	env := newEnvFor(t, driver, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a.mkv", []byte("a"))
	env.do(t, http.MethodGet, "/")
	env.fake.RevokeRefreshTokens()
	env.fake.ExpireAccessTokens()
	r := env.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "refresh token") {
		t.Fatalf("unexpected answer with a dead token; got %d %q", r.status, r.body)
	}
	ready := env.do(t, http.MethodGet, "/-/readyz")
	if ready.status != http.StatusServiceUnavailable || !strings.Contains(ready.body, "ALILINK_REFRESH_TOKEN") {
		t.Fatalf("unexpected readiness with a dead token; got %d %s", ready.status, ready.body)
	}
	if h := env.do(t, http.MethodGet, "/-/healthz"); h.status != http.StatusOK {
		t.Fatalf("unexpected liveness; got %d", h.status)
	}
	env.assertNoSecrets(t, "the body", r.body+ready.body)
	env.assertNoSecrets(t, "the log", env.logs.String())
}

func TestDriveFailureGives502(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a.mkv", []byte("a"))
	env.do(t, http.MethodGet, "/")
	env.fake.FailNext("get_download_url", 10, alifake.Fault{Status: 500, Code: "InternalError", Message: "secret-ish detail"})
	r := env.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusBadGateway || strings.Contains(r.body, "secret-ish") {
		t.Fatalf("unexpected answer to a failing drive; got %d %q", r.status, r.body)
	}
}

// TestOpenBurst: 30 cold files at once on the open driver, with the drive's
// real quotas on both sides. Every answer is a 302 or a 503 with Retry-After,
// and the drive never sees more than its quota in any second.
func TestOpenBurst(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.SetOpenRateLimits()
	for i := range 30 {
		fake.AddFile(fmt.Sprintf("/Burst/f%02d.mkv", i), []byte{byte(i)})
	}
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	cfg.RateList, cfg.RateLink, cfg.RateOther = 4, 1, 15 // the defaults: the drive's quotas
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resolver.DefaultConfig()
	rcfg.ResolveTimeout = 3 * time.Second
	res, err := resolver.New(rcfg, c, resolver.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	scfg := streamer.DefaultConfig()
	scfg.Mode = streamer.ModeRedirect
	srv, err := streamer.New(scfg, res, streamer.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	env := &testEnv{driver: "open", fake: fake, srv: srv}
	base := serveTCP(t, env)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)

	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for i := range 30 {
		wg.Go(func() {
			resp, err := client.Get(fmt.Sprintf("%s/Burst/f%02d.mkv", base, i))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Errorf("a 503 without Retry-After")
			}
		})
	}
	wg.Wait()
	if counts[http.StatusFound] == 0 || counts[http.StatusFound]+counts[http.StatusServiceUnavailable] != 30 {
		t.Fatalf("unexpected answers to a burst: %v; want only 302 and 503", counts)
	}
	quota := map[string]int{"open/download_url": 1, "open/list": 4, "open/drive_info": 15}
	for ep, q := range quota {
		if got := fake.MaxPerSecond(ep); got > q {
			t.Fatalf("the drive saw %d %s calls in one second; quota %d", got, ep, q)
		}
		if got := fake.Rejected(ep); got != 0 {
			t.Fatalf("the drive refused %d %s calls with 429", got, ep)
		}
	}
	t.Logf("burst of 30 cold files: %v", counts)
}
