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
