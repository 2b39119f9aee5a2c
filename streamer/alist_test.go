package streamer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/streamer/streamertest"
)

const alistSecret = "alist-sign-secret-0123456789"

// alistEnv is alilink with signs on, the admin token, and two htpasswd users
// (writer, and viewer who is read-only), served on loopback TCP for curl.
type alistEnv struct {
	*testEnv
	base  string
	media map[string][]byte
}

func newAListEnv(t *testing.T, driver string, mode string, tweak func(*streamer.Config)) *alistEnv {
	t.Helper()
	hp := filepath.Join(t.TempDir(), "htpasswd")
	var lines []string
	for _, up := range [][2]string{{"writer", "writer-pass"}, {"viewer", "viewer-pass"}} {
		h, err := bcrypt.GenerateFromPassword([]byte(up[1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, up[0]+":"+string(h))
	}
	if err := os.WriteFile(hp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := streamer.Config{Mode: mode, SignSecret: alistSecret, AdminToken: adminToken, SpoolDir: t.TempDir()}
	cfg.DAV = streamer.DefaultConfig().DAV
	cfg.DAV.Htpasswd, cfg.DAV.ReadOnlyUsers = hp, "viewer"
	cfg.AList = streamer.AListConfig{TokenTTL: time.Hour, Provider: streamer.ProviderFor(driver)}
	if tweak != nil {
		tweak(&cfg)
	}
	env := newEnvFor(t, driver, alifake.Options{}, cfg)
	e := &alistEnv{testEnv: env, media: map[string][]byte{
		"/Movies/Film (2024)/Film (2024).mkv":    testContent(300_000),
		"/Movies/Film (2024)/Film (2024).zh.srt": []byte("1\n00:00:01,000 --> 00:00:02,000\n你好\n"),
		"/Movies/Film (2024)/poster.jpg":         testContent(1000),
		"/TV/Show/S01/Show S01E01 #1 & 50%.mp4":  testContent(200_000),
		"/Music/Song.flac":                       testContent(5000),
		"/Docs/readme.txt":                       []byte("hello"),
	}}
	for p, b := range e.media {
		env.fake.AddFile(p, b)
	}
	env.fake.AddFolder("/Empty")
	e.base = serveTCP(t, env)
	return e
}

// api POSTs body (JSON) to an /api/ endpoint with the headers the tools send.
func (e *alistEnv) api(t *testing.T, endpoint, token string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.base+endpoint, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("User-Agent", "Emby/4.8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: unexpected HTTP status; got %d; want 200 (AList's envelope): %s", endpoint, resp.StatusCode, raw)
	}
	e.assertNoSecrets(t, endpoint, string(raw))
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", endpoint, err, raw)
	}
	assertKeys(t, endpoint+" envelope", m, map[string]string{"code": "number", "message": "string", "data": "any"})
	return m
}

func (e *alistEnv) ok(t *testing.T, endpoint, token string, body any) any {
	t.Helper()
	m := e.api(t, endpoint, token, body)
	if m["code"] != float64(200) || m["message"] != "success" {
		t.Fatalf("%s: unexpected answer; got %v; want code 200, message success", endpoint, m)
	}
	return m["data"]
}

func (e *alistEnv) code(t *testing.T, endpoint, token string, body any) (float64, string) {
	t.Helper()
	m := e.api(t, endpoint, token, body)
	return m["code"].(float64), m["message"].(string)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// assertKeys checks m has exactly the keys of want, each of its JSON type
// ("any"; "time": an RFC 3339 string; "array|null", "object|null").
func assertKeys(t *testing.T, what string, m map[string]any, want map[string]string) {
	t.Helper()
	var got, exp []string
	for k := range m {
		got = append(got, k)
	}
	for k := range want {
		exp = append(exp, k)
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, ",") != strings.Join(exp, ",") {
		t.Fatalf("%s: unexpected fields; got %v; want %v", what, got, exp)
	}
	for k, typ := range want {
		v := m[k]
		switch typ {
		case "any":
		case "time":
			s, ok := v.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
				t.Fatalf("%s.%s: not an RFC 3339 time: %v", what, k, v)
			}
		default:
			if !strings.Contains("|"+typ+"|", "|"+jsonType(v)+"|") {
				t.Fatalf("%s.%s: unexpected JSON type; got %s (%v); want %s", what, k, jsonType(v), v, typ)
			}
		}
	}
}

// The fields of AList's ObjResp, FsListResp, FsGetResp (server/handles/fsread.go).
var (
	alistObjKeys = map[string]string{"name": "string", "size": "number", "is_dir": "bool", "modified": "time",
		"created": "time", "sign": "string", "thumb": "string", "type": "number", "hashinfo": "string", "hash_info": "object|null"}
	alistListKeys = map[string]string{"content": "array|null", "total": "number", "readme": "string", "header": "string",
		"write": "bool", "provider": "string"}
)

func alistGetKeys() map[string]string {
	m := map[string]string{"raw_url": "string", "readme": "string", "header": "string", "provider": "string", "related": "array|null"}
	for k, v := range alistObjKeys {
		m[k] = v
	}
	return m
}

func (e *alistEnv) login(t *testing.T, user, pass string) string {
	t.Helper()
	d := e.ok(t, "/api/auth/login", "", map[string]string{"username": user, "password": pass}).(map[string]any)
	assertKeys(t, "login", d, map[string]string{"token": "string"})
	return d["token"].(string)
}

// curl fetches u the way a player does (following redirects) and returns the body.
func curl(t *testing.T, u string, args ...string) []byte {
	t.Helper()
	bin := streamertest.NeedTool(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-sS", "-f", "-L", "--max-redirs", "3", u}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", redactSign(u), err)
	}
	return out
}

func redactSign(u string) string {
	if i := strings.Index(u, "sign="); i >= 0 {
		return u[:i] + "sign=[redacted]"
	}
	return u
}

func TestAListEndpointShapes(t *testing.T) {
	forDrivers(t, func(t *testing.T, driver string) {
		e := newAListEnv(t, driver, streamer.ModeRedirect, nil)
		// /ping
		if got := string(curl(t, e.base+"/ping")); got != "pong" {
			t.Fatalf("unexpected /ping; got %q; want pong", got)
		}
		// fs/list
		d := e.ok(t, "/api/fs/list", adminToken, map[string]any{"path": "/Movies/Film (2024)", "password": "", "page": 1, "per_page": 0, "refresh": false}).(map[string]any)
		assertKeys(t, "fs/list", d, alistListKeys)
		if d["total"] != float64(3) || d["write"] != (driver != "share") || d["provider"] != streamer.ProviderFor(driver) {
			t.Fatalf("unexpected fs/list; got %v", d)
		}
		types := map[string]float64{}
		for _, c := range d["content"].([]any) {
			o := c.(map[string]any)
			assertKeys(t, "fs/list content", o, alistObjKeys)
			types[o["name"].(string)] = o["type"].(float64)
			if o["sign"] == "" {
				t.Fatalf("a file without a sign with signs on: %v", o)
			}
		}
		if types["Film (2024).mkv"] != 2 || types["Film (2024).zh.srt"] != 4 || types["poster.jpg"] != 5 {
			t.Fatalf("unexpected AList types; got %v; want mkv 2, srt 4, jpg 5", types)
		}
		// folders: type 1, no sign; paging
		d = e.ok(t, "/api/fs/list", adminToken, map[string]any{"path": "/", "page": 2, "per_page": 2}).(map[string]any)
		if d["total"] != float64(5) || len(d["content"].([]any)) != 2 {
			t.Fatalf("unexpected page 2 of /; got %v", d)
		}
		for _, c := range d["content"].([]any) {
			if o := c.(map[string]any); o["type"] != float64(1) || o["is_dir"] != true || o["sign"] != "" {
				t.Fatalf("unexpected folder object; got %v", o)
			}
		}
		d = e.ok(t, "/api/fs/list", adminToken, map[string]any{"path": "/Empty"}).(map[string]any)
		if d["content"] != nil || d["total"] != float64(0) {
			t.Fatalf("an empty folder: want content null as AList; got %v", d)
		}
		d = e.ok(t, "/api/fs/list", adminToken, map[string]any{"path": "/Music"}).(map[string]any)
		if o := d["content"].([]any)[0].(map[string]any); o["type"] != float64(3) || o["hash_info"].(map[string]any)["sha1"] == "" {
			t.Fatalf("unexpected audio object; got %v", o)
		}
		// fs/get
		g := e.ok(t, "/api/fs/get", adminToken, map[string]any{"path": "/Movies/Film (2024)/Film (2024).mkv", "password": ""}).(map[string]any)
		assertKeys(t, "fs/get", g, alistGetKeys())
		if !strings.HasPrefix(g["raw_url"].(string), e.base+"/d/Movies/Film%20(2024)/Film%20(2024).mkv?sign=") || g["type"] != float64(2) {
			t.Fatalf("unexpected fs/get; got %v", g)
		}
		var rel []string
		for _, r := range g["related"].([]any) {
			assertKeys(t, "fs/get related", r.(map[string]any), alistObjKeys)
			rel = append(rel, r.(map[string]any)["name"].(string))
		}
		if strings.Join(rel, ",") != "Film (2024).zh.srt" {
			t.Fatalf("unexpected related; got %v; want the subtitle", rel)
		}
		g = e.ok(t, "/api/fs/get", adminToken, map[string]any{"path": "/Movies"}).(map[string]any)
		if g["raw_url"] != "" || g["is_dir"] != true || g["type"] != float64(1) {
			t.Fatalf("unexpected fs/get of a folder; got %v", g)
		}
		if c, m := e.code(t, "/api/fs/get", adminToken, map[string]any{"path": "/nope.mkv"}); c != 500 || m != "object not found" {
			t.Fatalf("unexpected missing path; got %v %q; want AList's 500 object not found", c, m)
		}
		// fs/dirs
		dirs := e.ok(t, "/api/fs/dirs", adminToken, map[string]any{"path": "/"}).([]any)
		if len(dirs) != 5 {
			t.Fatalf("unexpected fs/dirs; got %v", dirs)
		}
		assertKeys(t, "fs/dirs", dirs[0].(map[string]any), map[string]string{"name": "string", "modified": "time"})
		// fs/link: admin only, the CDN URL
		l := e.ok(t, "/api/fs/link", adminToken, map[string]any{"path": "/Music/Song.flac"}).(map[string]any)
		assertKeys(t, "fs/link", l, map[string]string{"url": "string", "header": "object", "concurrency": "number", "part_size": "number"})
		if !strings.HasPrefix(l["url"].(string), e.fake.CDNURL()) {
			t.Fatalf("fs/link: want the CDN URL; got %v", l["url"])
		}
		// login, /api/me
		tok := e.login(t, "writer", "writer-pass")
		me := e.ok(t, "/api/me", tok, nil).(map[string]any)
		assertKeys(t, "me", me, map[string]string{"id": "number", "username": "string", "password": "string", "base_path": "string",
			"role": "number", "disabled": "bool", "permission": "number", "sso_id": "string", "otp": "bool"})
		if me["username"] != "writer" || me["role"] != float64(0) || me["password"] != "" {
			t.Fatalf("unexpected /api/me; got %v", me)
		}
		if me := e.ok(t, "/api/me", adminToken, nil).(map[string]any); me["role"] != float64(2) {
			t.Fatalf("admin: want role 2; got %v", me)
		}
		for i := 0; i < 5; i++ {
			if c, _ := e.code(t, "/api/auth/login", "", map[string]string{"username": "writer", "password": "wrong"}); c != 400 {
				t.Fatalf("a wrong password: want code 400; got %v", c)
			}
		}
		// Then, as AList, the address is refused for a while, the right password too.
		if c, _ := e.code(t, "/api/auth/login", "", map[string]string{"username": "writer", "password": "writer-pass"}); c != 429 {
			t.Fatalf("after 5 failures: want code 429; got %v", c)
		}
		if c, _ := e.code(t, "/api/fs/search", tok, map[string]any{"parent": "/", "keywords": "Film"}); c != 500 {
			t.Fatalf("fs/search: want AList's 'search not available'; got %v", c)
		}
	})
}

func TestAListAuth(t *testing.T) {
	e := newAListEnv(t, "drive", streamer.ModeRedirect, nil)
	body := map[string]any{"path": "/Movies/Film (2024)/Film (2024).mkv"}
	// A guest of an AList with its guest disabled.
	if c, m := e.code(t, "/api/fs/get", "", body); c != 401 || m != "Guest user is disabled, login please" {
		t.Fatalf("guest: unexpected answer; got %v %q", c, m)
	}
	if c, _ := e.code(t, "/api/fs/mkdir", "", map[string]any{"path": "/New"}); c != 401 {
		t.Fatalf("guest write: want 401; got %v", c)
	}
	if c, _ := e.code(t, "/api/fs/get", "not-a-token", body); c != 401 {
		t.Fatalf("bad token: want 401; got %v", c)
	}
	// The admin token as "Bearer" too.
	if c, _ := e.code(t, "/api/fs/get", "Bearer "+adminToken, body); c != 200 {
		t.Fatalf("Bearer admin token: want 200; got %v", c)
	}
	viewer := e.login(t, "viewer", "viewer-pass")
	// A token whose user part is changed (viewer → writer) is refused.
	parts := strings.SplitN(viewer, ".", 2)
	forged := base64.RawURLEncoding.EncodeToString([]byte("writer")) + "." + parts[1]
	if c, _ := e.code(t, "/api/me", forged, nil); c != 401 {
		t.Fatalf("a forged login token: want 401; got %v", c)
	}
	g := e.ok(t, "/api/fs/get", viewer, body).(map[string]any)
	raw := g["raw_url"].(string)
	if strings.Contains(raw, e.fake.CDNURL()) || strings.Contains(raw, viewer) || strings.Contains(raw, adminToken) {
		t.Fatalf("raw_url for a user holds a CDN URL or a token: %s", redactSign(raw))
	}
	for _, w := range []struct {
		ep   string
		body any
	}{
		{"/api/fs/mkdir", map[string]any{"path": "/New"}},
		{"/api/fs/rename", map[string]any{"path": "/Docs/readme.txt", "name": "x.txt"}},
		{"/api/fs/move", map[string]any{"src_dir": "/Docs", "dst_dir": "/", "names": []string{"readme.txt"}}},
		{"/api/fs/copy", map[string]any{"src_dir": "/Docs", "dst_dir": "/", "names": []string{"readme.txt"}}},
		{"/api/fs/remove", map[string]any{"dir": "/Docs", "names": []string{"readme.txt"}}},
		{"/api/fs/link", map[string]any{"path": "/Docs/readme.txt"}},
	} {
		if c, _ := e.code(t, w.ep, viewer, w.body); c != 403 {
			t.Fatalf("%s by a read-only user: want 403; got %v", w.ep, c)
		}
	}
	if c, m := e.code(t, "/api/fs/list", viewer, map[string]any{"path": "/", "refresh": true}); c != 403 || m != "Refresh without permission" {
		t.Fatalf("refresh by a read-only user: got %v %q", c, m)
	}
	// With guests let in: reads work, raw_url is signed and local, writes 403.
	g2 := newAListEnv(t, "drive", streamer.ModeRedirect, func(c *streamer.Config) { c.AList.Guest = true })
	gg := g2.ok(t, "/api/fs/get", "", body).(map[string]any)
	if raw := gg["raw_url"].(string); !strings.HasPrefix(raw, g2.base+"/d/") || strings.Contains(raw, g2.fake.CDNURL()) {
		t.Fatalf("guest raw_url: %s", redactSign(raw))
	}
	if c, m := g2.code(t, "/api/fs/mkdir", "", map[string]any{"path": "/New"}); c != 403 || m != "permission denied" {
		t.Fatalf("guest write: want 403 permission denied; got %v %q", c, m)
	}
	// A sign keyed with the admin token, as AList and emby2Alist's
	// alistSignEnable make them, plays on /d/ and /p/ (not on alilink's own
	// paths, whose signs stay the secret's).
	tokSign := sign.New(adminToken).Sign("/Docs/readme.txt", time.Now().Add(time.Hour))
	for _, c := range []struct {
		path string
		want int
	}{{"/d/Docs/readme.txt", 302}, {"/p/Docs/readme.txt", 200}, {"/Docs/readme.txt", 403}} {
		req, _ := http.NewRequest(http.MethodGet, e.base+c.path+"?sign="+tokSign, nil)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("%s with a sign keyed by the admin token: got %d; want %d", c.path, resp.StatusCode, c.want)
		}
	}
	// Unsigned and badly signed /d/ and /p/: real statuses.
	for _, pre := range []string{"/d", "/p"} {
		resp, err := http.Get(e.base + pre + "/Docs/readme.txt")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s without a sign: want 401; got %d", pre, resp.StatusCode)
		}
		resp, err = http.Get(e.base + pre + "/Docs/readme.txt?sign=AAAA:0")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s with a bad sign: want 403; got %d", pre, resp.StatusCode)
		}
	}
}

// goEmby2OpenlistFsGet is go-emby2openlist's openlist.FsGet and its common
// result: what it decodes (time.Time fields included).
type goEmby2OpenlistFsGet struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	IsDir    bool      `json:"is_dir"`
	Modified time.Time `json:"modified"`
	Sign     string    `json:"sign"`
	Thumb    string    `json:"thumb"`
	Type     int       `json:"type"`
	RawUrl   string    `json:"raw_url"`
	Readme   string    `json:"readme"`
	Provider string    `json:"provider"`
	Created  time.Time `json:"created"`
	HashInfo string    `json:"hashinfo"`
	Header   string    `json:"header"`
}

type goEmby2OpenlistFsList struct {
	Total    int                    `json:"total"`
	Readme   string                 `json:"readme"`
	Write    bool                   `json:"write"`
	Provider string                 `json:"provider"`
	Header   string                 `json:"header"`
	Content  []goEmby2OpenlistFsGet `json:"content"`
}

// ge2oFetch replays go-emby2openlist's openlist.Fetch: POST, the token as
// the bare Authorization, Content-Type application/json;charset=utf-8, the
// client's User-Agent; HTTP 200 and code 200 required, then data decoded.
func ge2oFetch(t *testing.T, base, uri, token string, body map[string]any, v any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+uri, bytes.NewReader(b))
	req.Header.Set("User-Agent", "Infuse-Direct/8.0")
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", uri, resp.StatusCode)
	}
	var res struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Code != http.StatusOK {
		t.Fatalf("%s: %v, code %d %s", uri, err, res.Code, res.Message)
	}
	if err := json.Unmarshal(res.Data, v); err != nil {
		t.Fatalf("%s: data: %v", uri, err)
	}
}

// TestAListReplayGoEmby2Openlist: go-emby2openlist's sequence (path.go lists
// "/" to learn the roots, redirect.go asks fs/get for raw_url and 307s the
// player there), then the player (curl) plays raw_url byte-exact, in
// redirect and proxy mode, with signs on; with a login token as well.
func TestAListReplayGoEmby2Openlist(t *testing.T) {
	for _, mode := range []string{streamer.ModeRedirect, streamer.ModeProxy} {
		t.Run(mode, func(t *testing.T) {
			e := newAListEnv(t, "drive", mode, nil)
			for _, tok := range []string{adminToken, e.login(t, "viewer", "viewer-pass")} {
				var roots goEmby2OpenlistFsList
				ge2oFetch(t, e.base, "/api/fs/list", tok, map[string]any{"refresh": false, "password": "", "path": "/"}, &roots)
				var names []string
				for _, c := range roots.Content {
					names = append(names, c.Name)
				}
				if strings.Join(names, ",") != "Docs,Empty,Movies,Music,TV" {
					t.Fatalf("unexpected roots; got %v", names)
				}
				for _, p := range []string{"/Movies/Film (2024)/Film (2024).mkv", "/TV/Show/S01/Show S01E01 #1 & 50%.mp4"} {
					var g goEmby2OpenlistFsGet
					ge2oFetch(t, e.base, "/api/fs/get", tok, map[string]any{"refresh": false, "password": "", "path": p}, &g)
					if g.Type != 2 || g.RawUrl == "" || g.Size != int64(len(e.media[p])) {
						t.Fatalf("unexpected fs/get of %s; got %+v", p, g)
					}
					if got := curl(t, g.RawUrl, "-A", "Infuse-Direct/8.0"); !bytes.Equal(got, e.media[p]) {
						t.Fatalf("%s: raw_url played %d bytes, not the file's %d", p, len(got), len(e.media[p]))
					}
					// A seek, as the player makes it.
					if got := curl(t, g.RawUrl, "-r", "1000-1999"); !bytes.Equal(got, e.media[p][1000:2000]) {
						t.Fatalf("%s: a Range through raw_url is not the file's bytes", p)
					}
				}
			}
		})
	}
}

// TestAListReplayEmby2Alist: emby2Alist's fetchAlistPathApi (emby.js): POST
// fs/get {path, password:""} with Authorization, Content-Type and
// User-Agent; it takes data.raw_url when message is "success", else lists
// "/" (data.content[].name) and tries each root; code 403 is told apart.
func TestAListReplayEmby2Alist(t *testing.T) {
	for _, mode := range []string{streamer.ModeRedirect, streamer.ModeProxy} {
		t.Run(mode, func(t *testing.T) {
			e := newAListEnv(t, "open", mode, nil)
			fetch := func(api, p string) (string, bool) {
				m := e.api(t, api, adminToken, map[string]string{"path": p, "password": ""})
				if m["message"] != "success" {
					return "", false
				}
				d := m["data"].(map[string]any)
				if raw, _ := d["raw_url"].(string); raw != "" {
					return raw, true
				}
				var names []string
				for _, c := range d["content"].([]any) {
					names = append(names, c.(map[string]any)["name"].(string))
				}
				return strings.Join(names, ","), true
			}
			// The Emby path is /mnt/Film (2024)/Film (2024).mkv: not an
			// AList path, so emby2Alist walks the roots.
			if _, ok := fetch("/api/fs/get", "/mnt/Film (2024)/Film (2024).mkv"); ok {
				t.Fatal("a path that does not exist answered success")
			}
			roots, ok := fetch("/api/fs/list", "/")
			if !ok {
				t.Fatal("fs/list / failed")
			}
			var raw string
			for _, r := range strings.Split(roots, ",") {
				if u, ok := fetch("/api/fs/get", "/"+r+"/Film (2024)/Film (2024).mkv"); ok {
					raw = u
					break
				}
			}
			if raw == "" {
				t.Fatal("no root held the film")
			}
			want := e.media["/Movies/Film (2024)/Film (2024).mkv"]
			if got := curl(t, raw); !bytes.Equal(got, want) {
				t.Fatalf("raw_url played %d bytes, not the file's %d", len(got), len(want))
			}
		})
	}
}

// TestAListStrmRoundTrip does what alist2strm and AutoFilm do: walk fs/list
// from a folder, write for each video <site>/d<path>?sign=<sign> into a
// .strm file, and the media server (curl) plays each byte-exact, through /d
// and /p.
func TestAListStrmRoundTrip(t *testing.T) {
	e := newAListEnv(t, "drive", streamer.ModeRedirect, nil)
	dir := t.TempDir()
	var walk func(p string)
	n := 0
	walk = func(p string) {
		d := e.ok(t, "/api/fs/list", adminToken, map[string]any{"path": p, "password": "", "page": 1, "per_page": 0, "refresh": false}).(map[string]any)
		content, _ := d["content"].([]any)
		for _, c := range content {
			o := c.(map[string]any)
			child := strings.TrimSuffix(p, "/") + "/" + o["name"].(string)
			if o["is_dir"].(bool) {
				walk(child)
				continue
			}
			if o["type"].(float64) != 2 {
				continue
			}
			u := e.base + "/d" + (&url.URL{Path: child}).EscapedPath() + "?sign=" + o["sign"].(string)
			f := filepath.Join(dir, strings.TrimSuffix(o["name"].(string), filepath.Ext(child))+".strm")
			if err := os.WriteFile(f, []byte(u+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	walk("/")
	if n != 2 {
		t.Fatalf("unexpected .strm count; got %d; want 2", n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.strm"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		u := strings.TrimSpace(string(b))
		pu, _ := url.Parse(u)
		p := strings.TrimPrefix(pu.Path, "/d")
		for _, pre := range []string{"/d", "/p"} {
			got := curl(t, e.base+pre+strings.TrimPrefix(u, e.base+"/d"))
			if sha256.Sum256(got) != sha256.Sum256(e.media[p]) {
				t.Fatalf("%s via %s: not byte-exact (%d bytes; want %d)", p, pre, len(got), len(e.media[p]))
			}
		}
	}
	// /p never redirects; /d in redirect mode does.
	req, _ := http.NewRequest(http.MethodHead, e.base+"/p/Music/Song.flac?sign="+e.srv.Signer().Sign("/Music/Song.flac", time.Time{}), nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD /p/: want 200 (proxied); got %d", resp.StatusCode)
	}
}

// TestAListRawURLChoices: ALILINK_ALIST_ADMIN_RAW_CDN gives the admin, and
// only the admin, the CDN URL; ALILINK_ALIST_SITE_URL is raw_url's base.
func TestAListRawURLChoices(t *testing.T) {
	e := newAListEnv(t, "open", streamer.ModeRedirect, func(c *streamer.Config) {
		c.AList.AdminRawCDN = true
		c.AList.SiteURL = "https://media.example.com/"
	})
	p := "/Movies/Film (2024)/Film (2024).mkv"
	admin := e.ok(t, "/api/fs/get", adminToken, map[string]any{"path": p}).(map[string]any)["raw_url"].(string)
	if !strings.HasPrefix(admin, e.fake.CDNURL()) {
		t.Fatalf("admin with ALILINK_ALIST_ADMIN_RAW_CDN: want the CDN URL; got %s", redactSign(admin))
	}
	if got := curl(t, admin); !bytes.Equal(got, e.media[p]) {
		t.Fatal("the CDN raw_url is not the file's bytes")
	}
	viewer := e.login(t, "viewer", "viewer-pass")
	raw := e.ok(t, "/api/fs/get", viewer, map[string]any{"path": p}).(map[string]any)["raw_url"].(string)
	if !strings.HasPrefix(raw, "https://media.example.com/d/Movies/") || strings.Contains(raw, e.fake.CDNURL()) {
		t.Fatalf("a user's raw_url: got %s", redactSign(raw))
	}
}
