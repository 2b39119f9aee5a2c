package streamer_test

import (
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// davEnv is alilink with WebDAV on a loopback TCP port (for the real
// clients) in front of a writable fake drive.
type davEnv struct {
	driver string
	fake   *alifake.Fake
	res    *resolver.Resolver
	srv    *streamer.Server
	base   string // http://127.0.0.1:port
	url    string // base + /dav/
	logs   *aliclienttest.LogBuffer
	client *http.Client // no redirects followed
}

const (
	davUser  = "alice"
	davPass  = "s3cret pass:word"
	davAdmin = "admin-token-0123456789abcdef"
)

// htpasswd writes an htpasswd file with bcrypt hashes of user:password pairs.
func htpasswd(t *testing.T, pairs ...string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		h, err := bcrypt.GenerateFromPassword([]byte(pairs[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(pairs[i] + ":" + string(h) + "\n")
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newDAVEnv starts a fake drive and alilink in front of it. scfg.DAV is used
// as given, with the prefix, burst and an htpasswd of davUser defaulted;
// loopback is the server's Loopback dep.
func newDAVEnv(t *testing.T, driver string, opts alifake.Options, scfg streamer.Config, loopback bool) *davEnv {
	t.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	return newDAVEnvOn(t, driver, fake, opts, scfg, streamer.Deps{Loopback: loopback})
}

// newDAVEnvOn is another alilink on an existing fake drive, with deps (its
// Log is set here).
func newDAVEnvOn(t *testing.T, driver string, fake *alifake.Fake, opts alifake.Options, scfg streamer.Config, deps streamer.Deps) *davEnv {
	t.Helper()
	log, logs := aliclienttest.Logger()
	c, err := aliclient.New(aliclienttest.ConfigFor(t, fake, driver), aliclient.Deps{Logger: log, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resolver.DefaultConfig()
	rcfg.ResolveTimeout = 5 * time.Second
	res, err := resolver.New(rcfg, c, resolver.Deps{Log: log, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	def := streamer.DefaultConfig()
	if scfg.Mode == "" {
		scfg.Mode = streamer.ModeRedirect
	}
	scfg.ReadyTimeout, scfg.StreamIdleTimeout, scfg.ResumeAttempts = 2*time.Second, 5*time.Second, def.ResumeAttempts
	scfg.RewriteTTL, scfg.AccelLocation, scfg.AccessLog = def.RewriteTTL, def.AccelLocation, true
	scfg.SpoolDir = t.TempDir()
	if scfg.DAV.Prefix == "" {
		scfg.DAV.Prefix = "/dav"
	}
	if scfg.DAV.Mode == "" {
		scfg.DAV.Mode = streamer.ModeAuto
	}
	if scfg.DAV.LoginBurst == 0 {
		scfg.DAV.LoginBurst = 10
	}
	if scfg.DAV.Htpasswd == "-" {
		scfg.DAV.Htpasswd = ""
	} else if scfg.DAV.Htpasswd == "" {
		scfg.DAV.Htpasswd = htpasswd(t, davUser, davPass, "viewer", "viewer-pass")
	}
	deps.Log = log
	srv, err := streamer.New(scfg, res, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + streamertest.ServeTCP(t, srv)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &davEnv{driver: driver, fake: fake, res: res, srv: srv, base: base, url: base + scfg.DAV.Prefix + "/", logs: logs,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// req sends a request to a WebDAV path (escaped) as davUser; hdr are
// header pairs ("Authorization", "" sends none).
func (e *davEnv) req(t *testing.T, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	r.SetBasicAuth(davUser, davPass)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(r)
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

// assertClean fails if a secret or the WebDAV password reached the log.
func (e *davEnv) assertClean(t *testing.T) {
	t.Helper()
	l := e.logs.String()
	for _, tok := range e.fake.Secrets() {
		if strings.Contains(l, tok) {
			t.Fatal("the log contains a drive token")
		}
	}
	for _, s := range []string{davPass, davAdmin, "Basic ", "Authorization"} {
		if strings.Contains(l, s) {
			t.Fatalf("the log contains %q", s)
		}
	}
}

func sha1Sum(b []byte) [20]byte { return sha1.Sum(b) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
