package mount_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/mount"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/streamer/streamertest"
)

const (
	admin  = "mux-test-admin-token-0123"
	secret = "mux-test-sign-secret"
)

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// openDrive is a resolver over one drive of the fake through the open driver
// (at root, or the folder of that id).
func openDrive(t *testing.T, fake *alifake.Fake, kind string, root ...string) *resolver.Resolver {
	t.Helper()
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	cfg.OpenDriveType = kind
	d, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resolver.DefaultConfig()
	if len(root) > 0 {
		rcfg.RootFolderID = root[0]
	}
	r, err := resolver.New(rcfg, d, resolver.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type env struct {
	fake *alifake.Fake
	base string
	mux  *mount.Mux
	srv  *streamer.Server
}

// start serves backup at /Backup and the resource drive (read-only, in
// proxy mode) at /Resource, with signs on when signed.
func start(t *testing.T, signed bool, extra ...mount.Entry) *env {
	t.Helper()
	fake := alifake.New(alifake.Options{PageSize: 3})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddFileTo(alifake.DriveBackup, "/Films/b.mkv", []byte("backup film"))
	fake.AddFileTo(alifake.DriveBackup, "/Films/same.mkv", []byte("same name, backup"))
	fake.AddFileTo(alifake.DriveResource, "/Films/r.mkv", []byte("resource film"))
	fake.AddFileTo(alifake.DriveResource, "/Films/same.mkv", []byte("same name, resource"))
	fake.AddFileTo(alifake.DriveResource, "/Backup/shadowed.txt", []byte("x"))
	entries := append([]mount.Entry{
		{Path: "/Backup", Res: openDrive(t, fake, "backup")},
		{Path: "/Resource", Mode: streamer.ModeProxy, ReadOnly: true, Res: openDrive(t, fake, "resource")},
	}, extra...)
	mux, err := mount.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.AdminToken, cfg.SpoolDir = admin, t.TempDir()
	cfg.AList.Provider = "AliyundriveOpen"
	if signed {
		cfg.SignSecret = secret
	}
	srv, err := streamer.New(cfg, mux, streamer.Deps{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &env{fake: fake, base: "http://" + streamertest.ServeTCP(t, srv), mux: mux, srv: srv}
}

func (e *env) do(t *testing.T, method, p string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+p, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// follow GETs p and follows a redirect as players do, without a Referer
// (the open platform's CDN refuses one; Go's client would send it).
func (e *env) follow(t *testing.T, p string) (int, string) {
	t.Helper()
	resp, err := noFollow.Get(e.base + p)
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && loc != "" {
		resp.Body.Close()
		if resp, err = noFollow.Get(loc); err != nil {
			t.Fatal(err)
		}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func names(t *testing.T, body string) []string {
	t.Helper()
	var l struct {
		Items []struct {
			Name, Type, Href string
		}
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("not a JSON listing: %v %s", err, body)
	}
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Name+":"+it.Type+":"+it.Href)
	}
	return out
}

// TestMuxRoutes: the root lists the mounts in every listing format, each
// mount plays its own drive (the same name in two drives is two files), a
// path outside every mount is 404, each mount has its mode.
func TestMuxRoutes(t *testing.T) {
	e := start(t, false)
	resp, body := e.do(t, "GET", "/?format=json", nil)
	if got := strings.Join(names(t, body), " "); resp.StatusCode != 200 || got != "Backup:folder:/Backup/ Resource:folder:/Resource/" {
		t.Fatalf("unexpected root listing %d %q", resp.StatusCode, got)
	}
	if resp, body := e.do(t, "GET", "/", nil, "Accept", "text/html"); resp.StatusCode != 200 ||
		!strings.Contains(body, `href="Backup/"`) || !strings.Contains(body, `href="Resource/"`) {
		t.Fatalf("unexpected HTML root %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, "GET", "/Resource/Films?format=json", nil)
	if got := strings.Join(names(t, body), " "); !strings.Contains(got, "r.mkv:file:/Resource/Films/r.mkv") || strings.Contains(got, "b.mkv") {
		t.Fatalf("unexpected resource listing %q", got)
	}
	if resp, body := e.do(t, "GET", "/Resource/Films/?format=m3u", nil); resp.StatusCode != 200 || !strings.Contains(body, e.base+"/Resource/Films/r.mkv") {
		t.Fatalf("unexpected M3U %d %s", resp.StatusCode, body)
	}
	// The backup mount redirects (the server's auto mode), the resource
	// mount proxies (its own mode); both give their drive's bytes.
	if resp, _ := e.do(t, "GET", "/Backup/Films/same.mkv", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("unexpected backup status %d; want 302", resp.StatusCode)
	}
	if st, b := e.follow(t, "/Backup/Films/same.mkv"); st != 200 || b != "same name, backup" {
		t.Fatalf("unexpected backup file %d %q", st, b)
	}
	if resp, b := e.do(t, "GET", "/Resource/Films/same.mkv", nil); resp.StatusCode != 200 || b != "same name, resource" {
		t.Fatalf("unexpected resource file %d %q; want 200 proxied", resp.StatusCode, b)
	}
	if resp, b := e.do(t, "GET", "/Resource/Films/r.mkv", nil, "Range", "bytes=9-12"); resp.StatusCode != 206 || b != "film" {
		t.Fatalf("unexpected range %d %q", resp.StatusCode, b)
	}
	// /Resource's own /Backup folder is the resource drive's, not the mount.
	if resp, _ := e.do(t, "GET", "/Resource/Backup/shadowed.txt", nil); resp.StatusCode != 200 {
		t.Fatalf("unexpected status %d for a folder named like a mount", resp.StatusCode)
	}
	for _, p := range []string{"/Nope", "/Nope/x.mkv", "/Backup/Films/r.mkv", "/Backupx", "/Resource/missing"} {
		if resp, _ := e.do(t, "GET", p, nil); resp.StatusCode != 404 {
			t.Fatalf("%s: unexpected status %d; want 404", p, resp.StatusCode)
		}
	}
	// /-/api/link reaches the right drive.
	resp, body = e.do(t, "GET", "/-/api/link?path=/Resource/Films/r.mkv", nil, "Authorization", "Bearer "+admin)
	var l struct{ URL string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &l) != nil {
		t.Fatalf("unexpected /-/api/link %d %s", resp.StatusCode, body)
	}
	if r, err := http.Get(l.URL); err != nil {
		t.Fatal(err)
	} else if b, _ := io.ReadAll(r.Body); string(b) != "resource film" {
		r.Body.Close()
		t.Fatalf("the API's link reads %q", b)
	} else {
		r.Body.Close()
	}
}

// TestMuxDoors: WebDAV and the AList API see the mounts as folders too.
func TestMuxDoors(t *testing.T) {
	e := start(t, false)
	resp, body := e.do(t, "PROPFIND", "/dav/", nil, "Depth", "1", "Authorization", "Bearer "+admin)
	if resp.StatusCode != 207 || !strings.Contains(body, "<D:href>/dav/Backup/</D:href>") || !strings.Contains(body, "<D:href>/dav/Resource/</D:href>") {
		t.Fatalf("unexpected PROPFIND of the root %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "PROPFIND", "/dav/Resource/Films/", nil, "Depth", "1", "Authorization", "Bearer "+admin)
	if resp.StatusCode != 207 || !strings.Contains(body, "/dav/Resource/Films/r.mkv") {
		t.Fatalf("unexpected PROPFIND %d %s", resp.StatusCode, body)
	}
	var write bool
	list := func(p string) []string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"path": p})
		resp, body := e.do(t, "POST", "/api/fs/list", bytes.NewReader(b), "Authorization", admin, "Content-Type", "application/json")
		var out struct {
			Code int
			Data struct {
				Content []struct {
					Name  string
					IsDir bool `json:"is_dir"`
				}
				Write bool
			}
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || out.Code != 200 {
			t.Fatalf("unexpected fs/list %s: %d %s", p, resp.StatusCode, body)
		}
		var n []string
		write = out.Data.Write
		for _, c := range out.Data.Content {
			n = append(n, c.Name+map[bool]string{true: "/"}[c.IsDir])
		}
		return n
	}
	if got := strings.Join(list("/"), " "); got != "Backup/ Resource/" {
		t.Fatalf("unexpected AList root %q", got)
	}
	if got := strings.Join(list("/Backup/Films"), " "); got != "b.mkv same.mkv" || !write {
		t.Fatalf("unexpected AList listing %q (write %v)", got, write)
	}
	if list("/Resource/Films"); write {
		t.Fatal("AList says a read-only mount is writable")
	}
	if st, b := e.follow(t, "/d/Backup/Films/b.mkv"); st != 200 || b != "backup film" {
		t.Fatalf("unexpected /d/ %d %q", st, b)
	}
}

// TestMuxReadOnly: writes to a read-only mount, or outside every mount,
// are a 403 that changes nothing; the writable mount takes them.
func TestMuxReadOnly(t *testing.T) {
	e := start(t, false)
	auth := []string{"Authorization", "Bearer " + admin}
	for _, p := range []string{"/Resource/Films/new.txt", "/new.txt", "/Nope/new.txt"} {
		resp, body := e.do(t, "PUT", p, strings.NewReader("new"), auth...)
		if resp.StatusCode != 403 || !strings.Contains(body, "read-only") {
			t.Fatalf("PUT %s: unexpected %d %q; want 403 read-only", p, resp.StatusCode, body)
		}
	}
	if _, ok := e.fake.FileIDIn(alifake.DriveResource, "/Films/new.txt"); ok {
		t.Fatal("a refused PUT wrote to the read-only mount")
	}
	for _, m := range []string{"MKCOL", "DELETE"} {
		if resp, body := e.do(t, m, "/dav/Resource/Films/x", nil, auth...); resp.StatusCode != 403 {
			t.Fatalf("WebDAV %s on a read-only mount: %d %q; want 403", m, resp.StatusCode, body)
		}
	}
	if resp, _ := e.do(t, "DELETE", "/dav/Resource/Films/r.mkv", nil, auth...); resp.StatusCode != 403 {
		t.Fatalf("WebDAV DELETE on a read-only mount: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "MOVE", "/dav/Backup/Films/b.mkv", nil, append(auth, "Destination", e.base+"/dav/Resource/Films/b.mkv")...); resp.StatusCode < 400 {
		t.Fatalf("a MOVE into a read-only mount succeeded: %d", resp.StatusCode)
	}
	if _, ok := e.fake.FileIDIn(alifake.DriveResource, "/Films/r.mkv"); !ok {
		t.Fatal("a refused DELETE removed the file")
	}
	b, _ := json.Marshal(map[string]any{"path": "/Resource/Films/dir"})
	if _, body := e.do(t, "POST", "/api/fs/mkdir", bytes.NewReader(b), "Authorization", admin, "Content-Type", "application/json"); !strings.Contains(body, `"code":403`) {
		t.Fatalf("AList mkdir on a read-only mount: %s", body)
	}
	if resp, body := e.do(t, "PUT", "/Backup/Films/new.txt", strings.NewReader("new"), auth...); resp.StatusCode != 201 {
		t.Fatalf("PUT on the writable mount: %d %s", resp.StatusCode, body)
	}
	if _, ok := e.fake.FileIDIn(alifake.DriveBackup, "/Films/new.txt"); !ok {
		t.Fatal("the upload did not reach the backup drive")
	}
	if st, b := e.follow(t, "/Backup/Films/new.txt"); st != 200 || b != "new" {
		t.Fatalf("the upload reads back %d %q", st, b)
	}
	if resp, _ := e.do(t, "MKCOL", "/dav/Backup/Made", nil, auth...); resp.StatusCode != 201 {
		t.Fatalf("MKCOL on the writable mount: %d", resp.StatusCode)
	}
}

// TestMuxSigns: a sign covers the full path, mount included.
func TestMuxSigns(t *testing.T) {
	e := start(t, true)
	s := sign.New(secret)
	good := s.Sign("/Resource/Films/same.mkv", time.Now().Add(time.Hour))
	if resp, b := e.do(t, "GET", "/Resource/Films/same.mkv?sign="+good, nil); resp.StatusCode != 200 || b != "same name, resource" {
		t.Fatalf("a good sign: %d %q", resp.StatusCode, b)
	}
	if resp, _ := e.do(t, "GET", "/Backup/Films/same.mkv?sign="+good, nil); resp.StatusCode != 403 {
		t.Fatalf("a sign of /Resource worked on /Backup: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "GET", "/Films/same.mkv?sign="+s.Sign("/Films/same.mkv", time.Time{}), nil); resp.StatusCode != 404 {
		t.Fatalf("a sign of the path inside the mount reached a drive: %d", resp.StatusCode)
	}
}

// sick is a mount whose drive is down.
type sick struct{ *resolver.Resolver }

func (sick) Health(context.Context) resolver.Health {
	return resolver.Health{Problems: []string{"the token refresh failed"}}
}

// TestMuxHealthAndMetrics: /-/readyz names the mount of each problem; the
// request counters carry the mount.
func TestMuxHealthAndMetrics(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	e := start(t, false, mount.Entry{Path: "/Down/Deep", Res: sick{openDrive(t, fake, "default")}})
	resp, body := e.do(t, "GET", "/-/readyz", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"/Down/Deep: the token refresh failed"`) || strings.Contains(body, "/Backup:") {
		t.Fatalf("unexpected readiness %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, "GET", "/?format=json", nil)
	if got := strings.Join(names(t, body), " "); got != "Backup:folder:/Backup/ Down:folder:/Down/ Resource:folder:/Resource/" {
		t.Fatalf("unexpected root %q", got)
	}
	_, body = e.do(t, "GET", "/Down?format=json", nil)
	if got := strings.Join(names(t, body), " "); got != "Deep:folder:/Down/Deep/" {
		t.Fatalf("unexpected made-up folder %q", got)
	}
	e.do(t, "GET", "/Backup/Films/b.mkv", nil)
	e.do(t, "GET", "/Resource/Films/r.mkv", nil)
	e.do(t, "GET", "/Nope", nil)
	_, m := e.do(t, "GET", "/-/metrics", nil)
	for _, want := range []string{
		`alilink_requests_total{action="redirect",status="302",mount="/Backup"} 1`,
		`alilink_requests_total{action="proxy",status="200",mount="/Resource"} 1`,
		`alilink_requests_total{action="error",status="404",mount=""} 1`,
		`alilink_requests_total{action="listing",status="200",mount=""} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Fatalf("the metrics lack %s:\n%s", want, m)
		}
	}
	if strings.Contains(m, `alilink_requests_total{action="redirect",status="302"} `) {
		t.Fatal("a request counter without its mount label")
	}
}

// stub is a drive whose file ids are those of another drive: the router
// must keep them apart.
type stub struct {
	mount.Backend
	url     string
	dropped *[]string
}

func (s stub) DropLink(id, url string) { *s.dropped = append(*s.dropped, s.url+":"+id+":"+url) }

func (s stub) Stat(_ context.Context, p string) (resolver.Item, error) {
	if p == "/f" {
		return resolver.Item{ID: "same-id", Name: "f", Size: 1}, nil
	}
	return resolver.Item{ID: "root", Folder: true}, nil
}

func (stub) CanUpload() bool { return false }
func (stub) CanManage() bool { return false }

func (s stub) Link(_ context.Context, it resolver.Item) (resolver.Link, error) {
	if it.ID != "same-id" {
		return resolver.Link{}, errors.New("unexpected id " + it.ID)
	}
	return resolver.Link{URL: s.url}, nil
}

// TestMuxIDsStayApart: equal file ids in two mounts link and drop apart.
func TestMuxIDsStayApart(t *testing.T) {
	var dropped []string
	x, err := mount.New([]mount.Entry{{Path: "/a", Res: stub{url: "A", dropped: &dropped}}, {Path: "/a/b", Res: stub{url: "B", dropped: &dropped}},
		{Path: "/c", Res: stub{url: "C", dropped: &dropped}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for p, want := range map[string]string{"/a/f": "A", "/a/b/f": "B", "/c/f": "C"} {
		it, err := x.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		l, err := x.Link(ctx, it)
		if err != nil || l.URL != want {
			t.Fatalf("%s: unexpected link %q %v; want %s", p, l.URL, err, want)
		}
		if it.ID == "same-id" {
			t.Fatalf("%s: the item's id does not name its mount", p)
		}
		if x.DropLink(it.ID, l.URL); dropped[len(dropped)-1] != want+":same-id:"+want {
			t.Fatalf("%s: the dead link was dropped in the wrong mount: %v", p, dropped)
		}
	}
	if x.DropLink("same-id", "A"); len(dropped) != 3 {
		t.Fatalf("an id of no mount dropped a link: %v", dropped)
	}
	if _, err := x.Link(ctx, resolver.Item{ID: "same-id"}); !errors.Is(err, resolver.ErrNotFound) {
		t.Fatalf("an id of no mount linked: %v", err)
	}
	if x.MountOf("/a/b/f") != 1 || x.MountOf("/a/bc") != 0 || x.MountOf("/x") != -1 || x.ModeFor("/c") != "" {
		t.Fatal("unexpected mount lookups")
	}
}

func TestMuxBadTables(t *testing.T) {
	r := stub{}
	for _, entries := range [][]mount.Entry{
		nil,
		{{Path: "/a/", Res: r}},
		{{Path: "a", Res: r}},
		{{Path: "/a/../b", Res: r}},
		{{Path: "/a", Res: r}, {Path: "/a", Res: r}},
		{{Path: "/a"}},
	} {
		if _, err := mount.New(entries); err == nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: unexpected %v; want a one-line error", entries, err)
		}
	}
}

// serve serves a router on loopback with the admin token.
func serve(t *testing.T, fake *alifake.Fake, entries []mount.Entry) *env {
	t.Helper()
	mux, err := mount.New(entries)
	if err != nil {
		t.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.AdminToken, cfg.SpoolDir = admin, t.TempDir()
	srv, err := streamer.New(cfg, mux, streamer.Deps{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &env{fake: fake, base: "http://" + streamertest.ServeTCP(t, srv), mux: mux, srv: srv}
}

// TestMuxNested: a mount at / takes what no other does, a deeper mount
// hides the folder of its name, the folders above a deep mount are made up,
// and nothing moves between mounts.
func TestMuxNested(t *testing.T) {
	fake := alifake.New(alifake.Options{PageSize: 3})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddFileTo(alifake.DriveBackup, "/Docs/a.txt", []byte("backup a"))
	fake.AddFileTo(alifake.DriveBackup, "/Films/hidden.mkv", []byte("hidden by the /Films mount"))
	films := fake.AddFolderTo(alifake.DriveResource, "/Films")
	fake.AddFileTo(alifake.DriveResource, "/Films/r.mkv", []byte("resource r"))
	e := serve(t, fake, []mount.Entry{
		{Path: "/", Res: openDrive(t, fake, "backup")},
		{Path: "/Films", Res: openDrive(t, fake, "resource", films)},
		{Path: "/X/Y", Res: openDrive(t, fake, "resource")},
	})
	_, body := e.do(t, "GET", "/?format=json", nil)
	if got := strings.Join(names(t, body), " "); got != "Docs:folder:/Docs/ Films:folder:/Films/ X:folder:/X/" {
		t.Fatalf("unexpected root %q", got)
	}
	_, body = e.do(t, "GET", "/Films?format=json", nil)
	if got := strings.Join(names(t, body), " "); got != "r.mkv:file:/Films/r.mkv" {
		t.Fatalf("unexpected /Films %q", got)
	}
	_, body = e.do(t, "GET", "/X?format=json", nil)
	if got := strings.Join(names(t, body), " "); got != "Y:folder:/X/Y/" {
		t.Fatalf("unexpected /X %q", got)
	}
	for p, want := range map[string]string{"/Docs/a.txt": "backup a", "/Films/r.mkv": "resource r", "/X/Y/Films/r.mkv": "resource r"} {
		if st, b := e.follow(t, p); st != 200 || b != want {
			t.Fatalf("%s: unexpected %d %q; want %q", p, st, b, want)
		}
	}
	if resp, _ := e.do(t, "GET", "/Films/hidden.mkv", nil); resp.StatusCode != 404 {
		t.Fatalf("a file under a mount's path reached the drive mounted above: %d", resp.StatusCode)
	}
	auth := []string{"Authorization", "Bearer " + admin}
	if resp, _ := e.do(t, "PUT", "/X/new.txt", strings.NewReader("x"), auth...); resp.StatusCode != 201 {
		t.Fatalf("PUT into the / mount under a made-up folder's name: %d", resp.StatusCode)
	}
	if _, ok := fake.FileIDIn(alifake.DriveBackup, "/X/new.txt"); !ok {
		t.Fatal("the upload did not reach the / mount")
	}
	resp, _ := e.do(t, "MOVE", "/dav/Docs/a.txt", nil, append(auth, "Destination", e.base+"/dav/Films/a.txt")...)
	if resp.StatusCode < 400 {
		t.Fatalf("a MOVE between two mounts succeeded: %d", resp.StatusCode)
	}
	if _, ok := fake.FileIDIn(alifake.DriveBackup, "/Docs/a.txt"); !ok {
		t.Fatal("a refused MOVE moved the file")
	}
	if resp, _ := e.do(t, "DELETE", "/dav/Films", nil, auth...); resp.StatusCode < 400 {
		t.Fatalf("a mount was deleted: %d", resp.StatusCode)
	}
	if _, ok := fake.FileIDIn(alifake.DriveResource, "/Films/r.mkv"); !ok {
		t.Fatal("deleting a mount removed its files")
	}
	// alilink's own endpoints are no mount's, even with a mount at /.
	e.do(t, "GET", "/-/healthz", nil)
	if _, m := e.do(t, "GET", "/-/metrics", nil); !strings.Contains(m, `alilink_requests_total{action="internal",status="200",mount=""} 1`) ||
		!strings.Contains(m, `alilink_requests_total{action="redirect",status="302",mount="/"}`) {
		t.Fatalf("unexpected request counters:\n%s", m)
	}
}
