package streamer

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var rowLink = regexp.MustCompile(`^<tr class="video" data-name="([^"<>]*)" [^<>]*><td class="n"><a href="([A-Za-z0-9%._~/:-]*)">([^<>"]*)</a></td>`)

// FuzzRowsHTML: whatever a name holds, its line stays one well-formed row
// whose link text and href both give the name back.
func FuzzRowsHTML(f *testing.F) {
	for _, s := range []string{"Ocean's Eleven.mkv", `a<b>"c"&d.mkv`, "#1 100%?.mkv", "a:b.mkv", "فيلم.mkv", "x</a><script>.mkv", "&#39;.mkv"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || !utf8.ValidString(name) || strings.ContainsAny(name, "/\x00") {
			return
		}
		out := string(rowsHTML([]indexRow{{Name: name, Href: relName(name, false), Kind: "video", Date: "01-Dec-2026 10:00"}}))
		m := rowLink.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("malformed row for %q: %s", name, out)
		}
		href, err := url.PathUnescape(strings.TrimPrefix(m[2], "./"))
		if err != nil || href != name || html.UnescapeString(m[3]) != name || html.UnescapeString(m[1]) != name {
			t.Fatalf("the row of %q gives back %q / %q / %q", name, href, html.UnescapeString(m[3]), html.UnescapeString(m[1]))
		}
	})
}
