package streamer_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// curlStatus runs the real curl and returns the status and the headers.
func curlStatus(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin := streamertest.NeedTool(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hdr := filepath.Join(t.TempDir(), "h")
	full := append([]string{"-s", "-o", "/dev/null", "-D", hdr, "-w", "%{http_code}"}, args...)
	out, err := exec.CommandContext(ctx, bin, full...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	var code int
	if _, err := fmt.Sscan(string(out), &code); err != nil {
		t.Fatalf("curl %v printed %q", args, out)
	}
	h, _ := os.ReadFile(hdr)
	return code, string(h)
}

// TestDAVMethodsWithCurl checks the status of every method, as curl sees it,
// with RFC 4918's Overwrite and Depth rules, against both writing drivers.
func TestDAVMethodsWithCurl(t *testing.T) { forDrivers(t, davMethodsWithCurl) }

func davMethodsWithCurl(t *testing.T, driver string) {
	if driver == "share" {
		t.Skip("the share driver is read-only: TestDAVReadOnly")
	}
	env := newDAVEnv(t, driver, alifake.Options{}, streamer.Config{}, false)
	env.fake.AddFile("/Movies/Film.mkv", []byte("film bytes"))
	u := env.url
	auth := []string{"-u", davUser + ":" + davPass}
	c := func(want int, args ...string) string {
		t.Helper()
		got, hdr := curlStatus(t, append(append([]string{}, auth...), args...)...)
		if got != want {
			t.Fatalf("curl %v: unexpected status; got %d; want %d\n%s", args, got, want, hdr)
		}
		return hdr
	}
	// OPTIONS needs no credentials.
	if got, hdr := curlStatus(t, "-X", "OPTIONS", u); got != 200 || !strings.Contains(hdr, "\nDAV: 1, 2") || !strings.Contains(hdr, "MS-Author-Via: DAV") {
		t.Fatalf("OPTIONS: %d\n%s", got, hdr)
	}
	if got, hdr := curlStatus(t, "-X", "PROPFIND", "-H", "Depth: 1", u); got != 401 || !strings.Contains(strings.ToLower(hdr), `www-authenticate: basic realm="alilink"`) {
		t.Fatalf("PROPFIND without credentials: %d\n%s", got, hdr)
	}
	c(403, "-X", "PROPFIND", "-H", "Depth: infinity", u)
	c(403, "-X", "PROPFIND", u)
	c(207, "-X", "PROPFIND", "-H", "Depth: 1", u)
	c(207, "-X", "PROPFIND", "-H", "Depth: 0", u+"Movies/Film.mkv")
	c(404, "-X", "PROPFIND", "-H", "Depth: 0", u+"nothing")

	c(201, "-X", "MKCOL", u+"new")
	c(405, "-X", "MKCOL", u+"new")
	c(409, "-X", "MKCOL", u+"missing/x")

	local := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(local, []byte("hello webdav"), 0o600); err != nil {
		t.Fatal(err)
	}
	c(201, "-T", local, u+"new/a.txt")
	c(204, "-T", local, u+"new/a.txt")
	c(409, "-T", local, u+"nope/a.txt")
	c(201, "-T", local, "-H", "Transfer-Encoding: chunked", u+"new/chunked.txt")
	if b, err := env.fake.ReadFile("/new/chunked.txt"); err != nil || string(b) != "hello webdav" {
		t.Fatalf("the chunked PUT stored %q, %v", b, err)
	}
	for _, junk := range []string{".DS_Store", "._a.txt", "Thumbs.db", "desktop.ini"} {
		c(201, "-T", local, u+"new/"+junk)
		if _, ok := env.fake.FileID("/new/" + junk); ok {
			t.Fatalf("%s was uploaded", junk)
		}
	}

	c(201, "-X", "COPY", "-H", "Destination: "+u+"new/b.txt", u+"new/a.txt")
	c(412, "-X", "COPY", "-H", "Overwrite: F", "-H", "Destination: "+u+"new/b.txt", u+"new/a.txt")
	c(204, "-X", "COPY", "-H", "Overwrite: T", "-H", "Destination: "+u+"new/b.txt", u+"new/a.txt")
	c(409, "-X", "COPY", "-H", "Destination: "+u+"nope/b.txt", u+"new/a.txt")
	copyEP := alifake.EndpointFileCopy
	if driver == "open" {
		copyEP = alifake.EndpointOpenCopy
	}
	copies := env.fake.Calls(copyEP)
	c(201, "-X", "COPY", "-H", "Destination: "+u+"copied", u+"new")
	if got := env.fake.Calls(copyEP) - copies; got != 1 {
		t.Fatalf("a folder COPY made %d drive copies; want 1 (the drive copies the folder)", got)
	}
	c(412, "-X", "COPY", "-H", "Overwrite: F", "-H", "Destination: "+u+"copied", u+"new")
	c(204, "-X", "COPY", "-H", "Destination: "+u+"copied", u+"new")
	if b, err := env.fake.ReadFile("/copied/a.txt"); err != nil || string(b) != "hello webdav" {
		t.Fatalf("the folder COPY gave %q, %v", b, err)
	}
	c(400, "-X", "COPY", "-H", "Depth: 1", "-H", "Destination: "+u+"copied2", u+"new")

	c(201, "-X", "MOVE", "-H", "Destination: "+u+"new/c.txt", u+"new/b.txt")
	c(412, "-X", "MOVE", "-H", "Overwrite: F", "-H", "Destination: "+u+"new/c.txt", u+"new/a.txt")
	c(204, "-X", "MOVE", "-H", "Destination: "+u+"new/c.txt", u+"new/a.txt") // no Overwrite: T
	c(409, "-X", "MOVE", "-H", "Destination: "+u+"nope/c.txt", u+"new/c.txt")
	c(201, "-X", "MOVE", "-H", "Destination: "+u+"Movies/moved.txt", u+"new/c.txt")
	if b, err := env.fake.ReadFile("/Movies/moved.txt"); err != nil || string(b) != "hello webdav" {
		t.Fatalf("MOVE across folders gave %q, %v", b, err)
	}
	c(404, "-X", "GET", u+"new/c.txt")

	id, _ := env.fake.FileID("/Movies/moved.txt")
	c(204, "-X", "DELETE", u+"Movies/moved.txt")
	if !env.fake.InTrash(id) {
		t.Fatal("DELETE did not move the file to the drive's trash")
	}
	c(404, "-X", "DELETE", u+"Movies/moved.txt")

	c(207, "-X", "PROPPATCH", "-H", "Content-Type: application/xml", "--data-binary",
		`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>`,
		u+"Movies/Film.mkv")

	hdr := c(200, "-X", "LOCK", "-H", "Content-Type: application/xml", "--data-binary",
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>`,
		u+"new/chunked.txt")
	tok := regexp.MustCompile(`(?i)Lock-Token: (<[^>]+>)`).FindStringSubmatch(hdr)
	if tok == nil {
		t.Fatalf("LOCK gave no Lock-Token:\n%s", hdr)
	}
	c(423, "-T", local, u+"new/chunked.txt")
	c(204, "-T", local, "-H", "If: ("+tok[1]+")", u+"new/chunked.txt")
	c(204, "-X", "UNLOCK", "-H", "Lock-Token: "+tok[1], u+"new/chunked.txt")
	c(204, "-T", local, u+"new/chunked.txt")
	c(405, "-X", "BREW", u)
	env.assertClean(t)
}

// TestDAVPropfindProperties reads the properties a PROPFIND answers.
func TestDAVPropfindProperties(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{}, false)
	content := []byte("film bytes")
	env.fake.AddFile("/Movies/Film.mkv", content)
	r := env.req(t, "PROPFIND", "/dav/Movies/", "", "Depth", "1")
	if r.status != 207 {
		t.Fatalf("PROPFIND: %d %s", r.status, r.body)
	}
	for _, want := range []string{
		"<D:href>/dav/Movies/</D:href>", "<D:href>/dav/Movies/Film.mkv</D:href>", "<D:collection",
		"<D:getcontentlength>10</D:getcontentlength>", "<D:getcontenttype>video/x-matroska</D:getcontenttype>",
		"<D:displayname>Film.mkv</D:displayname>", "creationdate>",
		fmt.Sprintf(`<D:getetag>"%x"</D:getetag>`, sha1Sum(content)),
	} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("PROPFIND lacks %s:\n%s", want, r.body)
		}
	}
	// getlastmodified, RFC 1123, for the folder too.
	lm := regexp.MustCompile(`<D:getlastmodified>([^<]+)</D:getlastmodified>`).FindAllStringSubmatch(r.body, -1)
	if len(lm) != 2 {
		t.Fatalf("getlastmodified: want one for the folder and one for the file:\n%s", r.body)
	}
	for _, m := range lm {
		if _, err := time.Parse(http.TimeFormat, m[1]); err != nil {
			t.Fatalf("getlastmodified %q is not RFC 1123: %v", m[1], err)
		}
	}
	// No link was asked for: a PROPFIND never opens a file.
	if got := env.fake.Calls("get_download_url"); got != 0 {
		t.Fatalf("PROPFIND made %d link calls", got)
	}
}

// TestDAVGetPolicy: auto redirects only listed agents and never a
// Referer-bound link; forced modes; HEAD never touches the CDN.
func TestDAVGetPolicy(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{RedirectAgents: "MyPlayer"}}, false)
	env.fake.AddFile("/a.mkv", []byte("plain link"))
	bound := env.fake.AddFile("/bound.mkv", []byte("bound link"))
	env.fake.SetRefererBound(bound, true)
	for _, tc := range []struct {
		ua, path string
		want     int
	}{
		{"Infuse-Direct/7.7", "/dav/a.mkv", 302},
		{"Kodi/21.0 (X11; Linux x86_64)", "/dav/a.mkv", 302},
		{"rclone/v1.60.1", "/dav/a.mkv", 302},
		{"MyPlayer/1.0", "/dav/a.mkv", 302},
		{"cadaver/0.23.3 neon/0.32.2", "/dav/a.mkv", 200},
		{"Microsoft-WebDAV-MiniRedir/10.0.19045", "/dav/a.mkv", 200},
		{"WebDAVFS/3.0.0 (03008000) Darwin/22.1.0", "/dav/a.mkv", 200},
		{"", "/dav/a.mkv", 200},
		{"Infuse-Direct/7.7", "/dav/bound.mkv", 200},
	} {
		r := env.req(t, http.MethodGet, tc.path, "", "User-Agent", tc.ua)
		if r.status != tc.want {
			t.Fatalf("GET %s as %q: got %d; want %d", tc.path, tc.ua, r.status, tc.want)
		}
		if tc.want == 200 && !strings.HasSuffix(r.body, "link") {
			t.Fatalf("GET %s as %q: body %q", tc.path, tc.ua, r.body)
		}
	}
	forced := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{Mode: streamer.ModeRedirect}}, false)
	forced.fake.AddFile("/a.mkv", []byte("plain link"))
	b := forced.fake.AddFile("/bound.mkv", []byte("bound link"))
	forced.fake.SetRefererBound(b, true)
	if r := forced.req(t, http.MethodGet, "/dav/a.mkv", "", "User-Agent", "cadaver/0.23"); r.status != 302 {
		t.Fatalf("redirect mode: %d", r.status)
	}
	if r := forced.req(t, http.MethodGet, "/dav/bound.mkv", "", "User-Agent", "Infuse"); r.status != 200 || r.body != "bound link" {
		t.Fatalf("redirect mode, a Referer-bound link: %d %q; want it proxied", r.status, r.body)
	}
	before := cdnRequests(forced.fake)
	for _, ua := range []string{"Infuse", "cadaver/0.23"} {
		r := forced.req(t, http.MethodHead, "/dav/a.mkv", "", "User-Agent", ua)
		if r.status != 200 || r.header.Get("Content-Length") != "10" || r.header.Get("ETag") == "" {
			t.Fatalf("HEAD as %s: %d %v", ua, r.status, r.header)
		}
	}
	if after := cdnRequests(forced.fake); after != before {
		t.Fatalf("HEAD made %d CDN requests", after-before)
	}
	if got := forced.fake.Calls("get_download_url"); got != 2 {
		t.Fatalf("link calls: got %d; want 2 (the two GETs, none for HEAD)", got)
	}
}

func cdnRequests(f *alifake.Fake) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Endpoint == alifake.EndpointCDN {
			n++
		}
	}
	return n
}

// TestDAVRangeGetsOneLink: 100 Range GETs of one file through WebDAV in
// proxy mode make one link call.
func TestDAVRangeGetsOneLink(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{Mode: streamer.ModeProxy}}, false)
	content := testContent(64 << 10)
	env.fake.AddFile("/v.mp4", content)
	for i := range 100 {
		from := i * 500
		r := env.req(t, http.MethodGet, "/dav/v.mp4", "", "Range", fmt.Sprintf("bytes=%d-%d", from, from+99), "User-Agent", "Lavf/60.3.100")
		if r.status != 206 || r.body != string(content[from:from+100]) {
			t.Fatalf("Range GET %d: %d (%d bytes)", i, r.status, len(r.body))
		}
	}
	if got := env.fake.Calls("get_download_url"); got != 1 {
		t.Fatalf("100 Range GETs made %d link calls; want 1", got)
	}
}

// TestDAVBigFolder: a PROPFIND of a 5,000-item folder walks the listing
// once (every page), is streamed, and a second one within the cache TTL
// makes no drive call.
func TestDAVBigFolder(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{}, false)
	const n = 5000
	for i := range n {
		env.fake.AddFile(fmt.Sprintf("/big/file %04d.mkv", i), nil)
	}
	// The first drive call also logs in and opens a device session (a list
	// call answered "session needed" and retried): done here, uncounted.
	if r := env.req(t, "PROPFIND", "/dav/big/", "", "Depth", "0"); r.status != 207 {
		t.Fatalf("PROPFIND Depth 0: %d", r.status)
	}
	env.fake.ResetCounters()
	for round := range 2 {
		req, _ := http.NewRequest("PROPFIND", env.url+"big/", nil)
		req.SetBasicAuth(davUser, davPass)
		req.Header.Set("Depth", "1")
		resp, err := env.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 207 {
			t.Fatalf("PROPFIND: %d %v", resp.StatusCode, err)
		}
		if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
			t.Fatalf("a PROPFIND of %d bytes was not streamed (Content-Length %d)", body.Len(), resp.ContentLength)
		}
		if got := strings.Count(body.String(), "<D:response>"); got != n+1 {
			t.Fatalf("PROPFIND: %d responses; want %d", got, n+1)
		}
		pages := (n + 199) / 200
		if got := env.fake.Calls("file/list"); got != pages {
			t.Fatalf("round %d: %d list calls; want %d (one walk of %d pages, none the second time)", round, got, pages, pages)
		}
	}
}

// TestDAVAuth: htpasswd users, read-only users, the admin token as a
// bearer, 429 after a burst of failed logins, and no credential configured.
func TestDAVAuth(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{},
		streamer.Config{AdminToken: davAdmin, DAV: streamer.DAVConfig{ReadOnlyUsers: "viewer", LoginBurst: 3}}, false)
	env.fake.AddFile("/a.txt", []byte("a"))
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "0", "Authorization", "Bearer "+davAdmin); r.status != 207 {
		t.Fatalf("bearer admin: %d", r.status)
	}
	if r := env.req(t, "MKCOL", "/dav/byadmin", "", "Authorization", "Bearer "+davAdmin); r.status != 201 {
		t.Fatalf("bearer admin MKCOL: %d", r.status)
	}
	viewer := "Basic " + b64("viewer:viewer-pass")
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "0", "Authorization", viewer); r.status != 207 {
		t.Fatalf("read-only user PROPFIND: %d", r.status)
	}
	for _, m := range []string{"PUT", "MKCOL", "DELETE", "PROPPATCH"} {
		if r := env.req(t, m, "/dav/a.txt", "x", "Authorization", viewer); r.status != 403 {
			t.Fatalf("read-only user %s: %d", m, r.status)
		}
	}
	bad := "Basic " + b64(davUser+":wrong")
	var got []int
	for range 5 {
		got = append(got, env.req(t, "PROPFIND", "/dav/", "", "Depth", "0", "Authorization", bad).status)
	}
	if fmt.Sprint(got) != "[401 401 429 429 429]" {
		t.Fatalf("failed logins gave %v; want 401 401 then 429", got)
	}
	// The limit is per address and holds good credentials back too while it lasts.
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "0"); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("after the burst: %d %v", r.status, r.header)
	}
	env.assertClean(t)

	open := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{Htpasswd: "-"}}, true)
	open.fake.AddFile("/a.txt", []byte("a"))
	if r := open.req(t, "PROPFIND", "/dav/", "", "Depth", "1", "Authorization", ""); r.status != 207 {
		t.Fatalf("no credential on loopback: PROPFIND %d", r.status)
	}
	if r := open.req(t, "OPTIONS", "/dav/", "", "Authorization", ""); r.header.Get("DAV") != "1" {
		t.Fatalf("read-only OPTIONS: DAV %q; want class 1 only", r.header.Get("DAV"))
	}
	if r := open.req(t, "PUT", "/dav/b.txt", "b", "Authorization", ""); r.status != 403 {
		t.Fatalf("no credential on loopback: PUT %d; want 403", r.status)
	}
	closed := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{Htpasswd: "-"}}, false)
	if r := closed.req(t, "PROPFIND", "/dav/", "", "Depth", "1", "Authorization", ""); r.status != 403 {
		t.Fatalf("no credential, not loopback: PROPFIND %d; want 403", r.status)
	}
}

// TestDAVReadOnly: the share driver cannot write; WebDAV says so.
func TestDAVReadOnly(t *testing.T) {
	env := newDAVEnv(t, "share", alifake.Options{}, streamer.Config{}, false)
	env.fake.AddFile("/a.txt", []byte("a"))
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "1"); r.status != 207 {
		t.Fatalf("PROPFIND: %d", r.status)
	}
	if r := env.req(t, "MKCOL", "/dav/x", ""); r.status != 403 {
		t.Fatalf("MKCOL on a share: %d", r.status)
	}
}

// TestDAVConfig: bad WebDAV settings stop start-up naming the variable.
func TestDAVConfig(t *testing.T) {
	md5 := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(md5, []byte("carol:$apr1$abcdefgh$0123456789abcdefghijkl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dav  streamer.DAVConfig
		want string
	}{
		{streamer.DAVConfig{Prefix: "dav", Mode: "auto", LoginBurst: 1}, "ALILINK_DAV_PREFIX"},
		{streamer.DAVConfig{Prefix: "/dav/", Mode: "auto", LoginBurst: 1}, "ALILINK_DAV_PREFIX"},
		{streamer.DAVConfig{Prefix: "/-/dav", Mode: "auto", LoginBurst: 1}, "ALILINK_DAV_PREFIX"},
		{streamer.DAVConfig{Prefix: "/dav", Mode: "accel", LoginBurst: 1}, "ALILINK_DAV_MODE"},
		{streamer.DAVConfig{Prefix: "/dav", Mode: "rewrite", LoginBurst: 1}, "ALILINK_DAV_MODE"},
		{streamer.DAVConfig{Prefix: "/dav", Mode: "auto", LoginBurst: 0}, "ALILINK_DAV_LOGIN_BURST"},
		{streamer.DAVConfig{Prefix: "/dav", Mode: "auto", LoginBurst: 1, Htpasswd: md5}, "line 1 (user \"carol\") is not a bcrypt hash"},
		{streamer.DAVConfig{Prefix: "/dav", Mode: "auto", LoginBurst: 1, Htpasswd: "/nonexistent"}, "ALILINK_DAV_HTPASSWD"},
	} {
		cfg := streamer.DefaultConfig()
		cfg.DAV = tc.dav
		_, err := streamer.New(cfg, nil, streamer.Deps{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%+v: got %v; want an error naming %s", tc.dav, err, tc.want)
		}
	}
	cfg := streamer.DefaultConfig()
	cfg.DAV.Prefix = "off"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("ALILINK_DAV_PREFIX=off: %v", err)
	}
}

// TestDAVDriveFailures: a drive that fails behind a PROPFIND, MKCOL or
// DELETE is answered as the drive's failure (502, or 503 with Retry-After
// when it rate-limits), not as whatever x/net/webdav makes of an error.
func TestDAVDriveFailures(t *testing.T) {
	env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{}, false)
	env.fake.AddFile("/a/b.txt", []byte("b"))
	env.fake.AddFile("/c/d.txt", []byte("d"))
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "0"); r.status != 207 {
		t.Fatalf("warm-up: %d", r.status)
	}
	env.fake.FailNext("file/list", 10, alifake.Fault{Status: 500, Code: "InternalError", Message: "secret-ish detail"})
	if r := env.req(t, "PROPFIND", "/dav/a/", "", "Depth", "1"); r.status != 502 || strings.Contains(r.body, "secret-ish") {
		t.Fatalf("PROPFIND with the drive failing: %d %q; want 502", r.status, r.body)
	}
	env = newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{}, false)
	env.fake.AddFile("/c/d.txt", []byte("d"))
	if r := env.req(t, "PROPFIND", "/dav/", "", "Depth", "0"); r.status != 207 {
		t.Fatalf("warm-up: %d", r.status)
	}
	env.fake.FailNext("file/list", 10, alifake.Fault{Status: 429, RetryAfter: time.Second})
	if r := env.req(t, "MKCOL", "/dav/c/new", ""); r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("MKCOL with the drive rate-limiting: %d %v; want 503 with Retry-After", r.status, r.header)
	}
}

// TestDAVPutRapid: a WebDAV PUT goes through the upload path: content the
// drive already has is not sent again (rapid upload), on both drivers.
func TestDAVPutRapid(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			env := newDAVEnv(t, driver, alifake.Options{}, streamer.Config{}, false)
			data := string(testContent(3 << 20))
			if r := env.req(t, "PUT", "/dav/one.bin", data); r.status != 201 {
				t.Fatalf("first PUT: %d %s", r.status, r.body)
			}
			parts := env.fake.Calls("upload/part")
			if parts == 0 {
				t.Fatal("the first PUT sent no part")
			}
			if r := env.req(t, "PUT", "/dav/two.bin", data); r.status != 201 {
				t.Fatalf("second PUT: %d %s", r.status, r.body)
			}
			if got := env.fake.Calls("upload/part"); got != parts {
				t.Fatalf("the second PUT of the same content sent %d parts; want 0 (rapid upload)", got-parts)
			}
			if b, err := env.fake.ReadFile("/two.bin"); err != nil || string(b) != data {
				t.Fatalf("the rapid upload stored %d bytes, %v", len(b), err)
			}
		})
	}
}
