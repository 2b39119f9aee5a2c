package streamer_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
)

// awkwardNames are file names that break naive indexes: HTML's and URLs'
// special characters, a colon (a scheme to a URL parser), RTL text.
var awkwardNames = []string{
	"Ocean's Eleven (2001).mkv", `a<b>"c".mp4`, "Tom & Jerry #1.mkv", "100% pure?.mp3", "S01E01: Pilot.mkv",
	"a+b;c=d.txt", "فيلم عربي.mp4", "סרט ישן.mkv", "plain.bin",
}

func awkwardTree(env *testEnv) map[string]string {
	want := map[string]string{}
	for i, n := range awkwardNames {
		body := fmt.Sprintf("content %d of %s", i, n)
		env.fake.AddFile("/Lib/"+n, []byte(body))
		want[n] = body
	}
	// No colon in the folder: rclone's http backend (1.60) escapes a first
	// segment with one as "./a:b", then finds none of its children under it.
	env.fake.AddFolder(`/Lib/Sub "x" & 'y' #2`)
	env.fake.AddFile(`/Lib/Sub "x" & 'y' #2/inner #2.mkv`, []byte("inner"))
	return want
}

// kodiItem is a line Kodi's HTTP directory source accepts.
type kodiItem struct {
	name, path string
	folder     bool
	size       int64
	date       string
}

// Kodi's regular expressions, exactly as xbmc/filesystem/HTTPDirectory.cpp
// compiles them (CRegExp(true): case-insensitive; Kodi's PCRE flags make "."
// match newlines). Go's regexp has no look-ahead, so regexp2 runs them.
var (
	kodiItemRE  = kodiRE(`<a href="([^"]*)"[^>]*>\s*(.*?)\s*</a>(.+?)(?=<a|</tr|$)`)
	kodiDateRE  = kodiRE(`([0-9]{2})-([A-Z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2})`)
	kodiSizeRE1 = kodiRE(`> *([0-9.]+) *(B|K|M|G| )(iB)?</td>`)
	kodiSizeRE2 = kodiRE(` +([0-9]+)(B|K|M|G)?(?=\s|<|$)`)
)

func kodiRE(expr string) *regexp2.Regexp {
	return regexp2.MustCompile(expr, regexp2.IgnoreCase|regexp2.Singleline)
}

// kodiParse follows CHTTPDirectory::GetDirectory: the link loses a leading
// "/", its options and fragment, has entities decoded, "+" and ";" escaped,
// then is URL-decoded and must equal the decoded link text (or "./" + it
// for a name with a colon).
func kodiParse(t *testing.T, base, body string) []kodiItem {
	t.Helper()
	var out []kodiItem
	m, err := kodiItemRE.FindStringMatch(body)
	for ; m != nil && err == nil; m, err = kodiItemRE.FindNextMatch(m) {
		g := m.Groups()
		link, name, meta := g[1].String(), g[2].String(), strings.TrimSpace(g[3].String())
		link = strings.TrimPrefix(link, "/")
		nameT := strings.TrimSuffix(html.UnescapeString(strings.TrimSpace(name)), "/")
		linkBase, options, _ := strings.Cut(link, "?")
		linkBase, _, _ = strings.Cut(linkBase, "#")
		linkBase = html.UnescapeString(linkBase)
		linkBase = strings.NewReplacer("+", "%2b", ";", "%3b").Replace(linkBase)
		linkT, derr := url.QueryUnescape(strings.TrimSuffix(linkBase, "/"))
		if derr != nil || linkT == ".." || linkT == "" || !(nameT == linkT || strings.Contains(nameT, ":") && "./"+nameT == linkT) {
			continue
		}
		it := kodiItem{name: nameT, path: base + linkBase, folder: strings.HasSuffix(linkBase, "/")}
		if options != "" {
			it.path += "?" + options
		}
		if d, _ := kodiDateRE.FindStringMatch(meta); d != nil {
			it.date = d.String()
		}
		if !it.folder {
			s, _ := kodiSizeRE1.FindStringMatch(meta)
			if s == nil {
				s, _ = kodiSizeRE2.FindStringMatch(meta)
			}
			if s != nil {
				it.size, _ = strconv.ParseInt(s.Groups()[1].String(), 10, 64)
				if u := s.Groups()[2].String(); u != "" && u != " " {
					t.Fatalf("Kodi read a size unit %q for %s", u, nameT)
				}
			}
		}
		out = append(out, it)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIndexKodi: Kodi's parser finds every child of a folder with its exact
// name, size and date, and its link fetches the file.
func TestIndexKodi(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprint("signed=", signed), func(t *testing.T) {
			cfg := streamer.Config{Mode: streamer.ModeProxy}
			q := ""
			if signed {
				cfg.SignSecret = testSecret
				q = "?sign=" + sign.New(testSecret).Sign("/Lib", time.Now().Add(time.Hour))
			}
			env := newEnv(t, alifake.Options{}, cfg)
			want := awkwardTree(env)
			r := env.do(t, http.MethodGet, "/Lib/"+q)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("unexpected index %d %s", r.status, r.header.Get("Content-Type"))
			}
			items := kodiParse(t, "/Lib/", r.body)
			if len(items) != len(want)+1 {
				t.Fatalf("unexpected Kodi items; got %d %+v; want %d", len(items), items, len(want)+1)
			}
			dateRE := regexp.MustCompile(`^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d$`)
			for _, it := range items {
				if it.folder {
					if it.name != `Sub "x" & 'y' #2` {
						t.Fatalf("unexpected folder %q", it.name)
					}
					sub := env.do(t, http.MethodGet, it.path)
					if inner := kodiParse(t, "/Lib/x/", sub.body); sub.status != http.StatusOK || len(inner) != 1 || inner[0].name != "inner #2.mkv" {
						t.Fatalf("unexpected subfolder through Kodi's link %s: %d %+v", it.path, sub.status, inner)
					}
					continue
				}
				body, ok := want[it.name]
				if !ok || it.size != int64(len(body)) || !dateRE.MatchString(it.date) {
					t.Fatalf("unexpected Kodi item %+v (known %v, want size %d)", it, ok, len(body))
				}
				if got := env.do(t, http.MethodGet, it.path); got.status != http.StatusOK || got.body != body {
					t.Fatalf("Kodi's link %s for %q gave %d %q", it.path, it.name, got.status, got.body)
				}
			}
			env.assertNoSecrets(t, "the index", r.body)
		})
	}
}

// TestFolderFormats: HTML by default and for browsers, JSON for clients that
// ask for it (the same bytes either way), M3U8 of the media files, 400 for an
// unknown format, and a folder's URL without its slash redirected for HTML.
func TestFolderFormats(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAuto})
	awkwardTree(env)
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	f := func(path, accept, wantType string) response {
		t.Helper()
		r := env.do(t, http.MethodGet, path, "Accept", accept)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), wantType) || r.header.Get("Vary") != "Accept" {
			t.Fatalf("%s (Accept %q): unexpected answer %d %q %v", path, accept, r.status, r.header.Get("Content-Type"), r.header)
		}
		return r
	}
	f("/Lib/", "", "text/html")
	f("/Lib/", "*/*", "text/html")
	f("/Lib/", browser, "text/html")
	f("/Lib/", "application/json, text/html;q=0.5", "application/json")
	lists := env.fake.Calls(env.ep().List)
	j1 := f("/Lib", "application/json", "application/json")
	j2 := f("/Lib/?format=json", browser, "application/json")
	if j1.body != j2.body || !strings.Contains(j1.body, `"path":"/Lib"`) {
		t.Fatalf("the JSON differs between Accept and ?format=json:\n%s\n%s", j1.body, j2.body)
	}
	f("/Lib/?format=html", "application/json", "text/html")
	m := f("/Lib/?format=m3u", "", "audio/x-mpegurl")
	if env.fake.Calls(env.ep().List) != lists {
		t.Fatalf("HTML, JSON and M3U of one folder made %d more list calls; want none (one cached listing)", env.fake.Calls(env.ep().List)-lists)
	}
	lines := strings.Split(strings.TrimSpace(m.body), "\n")
	if lines[0] != "#EXTM3U" || len(lines) != 1+2*7 || !strings.Contains(m.body, "\nhttp://alilink/Lib/Ocean%27s%20Eleven%20%282001%29.mkv\n") ||
		strings.Contains(m.body, "plain.bin") || strings.Contains(m.body, ".txt") {
		t.Fatalf("unexpected playlist:\n%s", m.body)
	}
	if r := env.do(t, http.MethodGet, "/Lib/?format=xml"); r.status != http.StatusBadRequest {
		t.Fatalf("unexpected answer to an unknown format: %d", r.status)
	}
	if r := env.do(t, http.MethodGet, "/Lib?x=1"); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/Lib/?x=1" {
		t.Fatalf("unexpected answer to a folder without its slash: %d %v", r.status, r.header)
	}
	// HEAD of a file answers from the metadata: no link is asked for.
	links := env.fake.Calls(env.ep().Link)
	h := env.do(t, http.MethodHead, "/Lib/plain.bin")
	if h.status != http.StatusOK || h.header.Get("Content-Length") != "22" || h.header.Get("Last-Modified") == "" || env.fake.Calls(env.ep().Link) != links {
		t.Fatalf("unexpected HEAD %d %v, %d link calls", h.status, h.header, env.fake.Calls(env.ep().Link)-links)
	}
}

// TestPagesLeakNothing: every HTML answer has the CSP header, and the only
// signs in it are each link's own (valid for the path the link names, with
// the expiry of the request's); no CDN URL or token appears.
func TestPagesLeakNothing(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAuto, SignSecret: testSecret})
	awkwardTree(env)
	env.fake.AddFile("/Lib/S01E01: Pilot.en.srt", []byte("1\n00:00:01,000 --> 00:00:02,000\nHi\n"))
	s := sign.New(testSecret)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	env.do(t, http.MethodGet, "/Lib/plain.bin?sign="+s.Sign("/Lib/plain.bin", exp)) // a link in the cache
	hrefRE := regexp.MustCompile(`(?:href|src|data-url)="([^"]*)"`)
	pages := []string{
		"/Lib/?sign=" + s.Sign("/Lib", exp),
		"/-/play/Lib/?file=S01E01:%20Pilot.mkv&sign=" + s.Sign("/Lib", exp),
		"/-/play/Lib/S01E01:%20Pilot.mkv?sign=" + s.Sign("/Lib/S01E01: Pilot.mkv", exp),
		"/Lib/S01E01:%20Pilot.mkv?play&sign=" + s.Sign("/Lib/S01E01: Pilot.mkv", exp),
	}
	for _, page := range pages {
		r := env.do(t, http.MethodGet, page)
		csp := r.header.Get("Content-Security-Policy")
		if r.status != http.StatusOK || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: unexpected answer %d %v", page, r.status, r.header)
		}
		if strings.Contains(r.body, env.fake.CDNURL()) || strings.Contains(r.body, "<script>") || strings.Contains(r.body, " on") && regexp.MustCompile(` on[a-z]+=`).MatchString(r.body) {
			t.Fatalf("%s: a CDN URL or inline script in the page", page)
		}
		env.assertNoSecrets(t, page, r.body)
		base, _ := url.Parse("http://alilink" + page)
		signs := 0
		for _, m := range hrefRE.FindAllStringSubmatch(r.body, -1) {
			u, err := base.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatalf("%s: bad link %q", page, m[1])
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				continue // the "open in" links hold the same URL, checked through data-url
			}
			sg := u.Query().Get("sign")
			if sg == "" {
				if !strings.HasPrefix(u.Path, "/-/static/") {
					t.Fatalf("%s: a link without a sign: %s", page, u)
				}
				continue
			}
			p := strings.TrimPrefix(strings.TrimPrefix(u.Path, "/-/playlist"), "/-/play")
			if p != "/" {
				p = strings.TrimSuffix(p, "/")
			}
			got, err := s.Verify(p, sg, time.Now())
			if err != nil || got != exp.Unix() {
				t.Fatalf("%s: the sign of %s is not its path's own (%v, expiry %d; want %d)", page, u, err, got, exp.Unix())
			}
			signs++
		}
		if signs < 3 {
			t.Fatalf("%s: only %d signed links; the check proves little", page, signs)
		}
	}
	// A file's own sign opens that file's player alone; the folder's opens
	// its siblings and subtitles too, as the folder's index does.
	fileSign := s.Sign("/Lib/S01E01: Pilot.mkv", exp)
	alone := env.do(t, http.MethodGet, "/Lib/S01E01:%20Pilot.mkv?play&sign="+fileSign)
	shared := env.do(t, http.MethodGet, "/-/play/Lib/?file=S01E01:%20Pilot.mkv&sign="+s.Sign("/Lib", exp))
	if strings.Contains(alone.body, "<track") || strings.Contains(alone.body, `id="next"`) || strings.Contains(alone.body, `id="folder"`) ||
		!strings.Contains(shared.body, "<track") || !strings.Contains(shared.body, `id="next"`) || !strings.Contains(shared.body, `id="prev"`) {
		t.Fatalf("unexpected players:\n%s\n%s", alone.body, shared.body)
	}
	if r := env.do(t, http.MethodGet, "/-/play/Lib/?file=S01E01:%20Pilot.mkv&sign="+fileSign); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
		t.Fatalf("a file's sign opened its folder's player: %d", r.status)
	}
	// The track's WebVTT, converted from SubRip.
	r := env.do(t, http.MethodGet, "/Lib/S01E01:%20Pilot.en.srt?format=vtt&sign="+s.Sign("/Lib/S01E01: Pilot.en.srt", exp))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/vtt; charset=utf-8" || r.body != "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHi\n" {
		t.Fatalf("unexpected WebVTT %d %q", r.status, r.body)
	}
}

// TestStaticAssets: the embedded assets answer with their types; nothing
// else under /-/static/ exists.
func TestStaticAssets(t *testing.T) {
	env := newEnv(t, alifake.Options{}, streamer.Config{})
	f := func(path string, status int, ctype string) {
		t.Helper()
		r := env.do(t, http.MethodGet, path)
		if r.status != status || status == http.StatusOK && (r.header.Get("Content-Type") != ctype || r.body == "") {
			t.Fatalf("%s: unexpected answer %d %q", path, r.status, r.header.Get("Content-Type"))
		}
	}
	f("/-/static/alilink.css", http.StatusOK, "text/css; charset=utf-8")
	f("/-/static/index.js", http.StatusOK, "text/javascript; charset=utf-8")
	f("/-/static/player.js", http.StatusOK, "text/javascript; charset=utf-8")
	f("/-/static/icons/video.svg", http.StatusOK, "image/svg+xml")
	f("/-/static/nope.js", http.StatusNotFound, "")
	f("/-/static/../templates/index.html", http.StatusNotFound, "")
	f("/-/play/", http.StatusBadRequest, "")
}
