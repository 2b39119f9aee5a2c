package streamer

import (
	"bytes"
	"context"
	"html"
	"html/template"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// indexPage is what templates/index.html renders.
type indexPage struct {
	Path   string // the folder, "/Movies/"
	Root   string // relative path to the root, for /-/static/ and the player
	Crumbs []crumb
	Up     bool // a ../ line (not at the root)
	Rows   []indexRow
	// Playlist is the folder's M3U8 link (empty when it holds no media).
	Playlist string
	Count    int
	RowsHTML template.HTML
}

type crumb struct {
	Name, Href string
}

// indexRow is one line. Href is relative and percent-encoded, Name the full
// name (the link text index parsers compare it with), Size the exact bytes.
type indexRow struct {
	Name, Href, Kind string
	Folder           bool
	Size             int64
	Human            string
	Date             string
	Unix             int64
	Play             string // the player page, for media files
}

// serveIndex renders a folder's HTML index. Folders come first, then files,
// each by name; the page's script re-sorts by any column.
func (s *Server) serveIndex(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64) {
	_, children, err := s.res.List(dc, p)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	dir := dirSlash(p)
	root := rootFrom(dir)
	// With signs on, a folder's sign shares what is below it, never above:
	// no link climbs to an ancestor (it would need a sign the caller lacks).
	signed := s.signer.Enabled()
	page := indexPage{Path: dir, Root: root, Up: p != "/" && !signed, Rows: make([]indexRow, 0, len(children))}
	page.Crumbs = crumbs(dir, root, s)
	media := 0
	for i := range children {
		c := &children[i]
		child := dir + c.Name
		sign := s.signer.Query(child, exp)
		r := indexRow{Name: c.Name, Href: relName(c.Name, c.Folder) + sign, Folder: c.Folder, Size: c.Size, Kind: "folder"}
		if !c.Folder {
			r.Kind = mediaKind(c.Name)
			r.Human = humanSize(c.Size)
			if playable(c.Name) {
				media++
				r.Play = s.playLink(root, dir, c.Name, exp)
			}
		}
		r.Date = nginxTime(c.Modified)
		if r.Date != "" {
			r.Unix = c.Modified.Unix()
		}
		page.Rows = append(page.Rows, r)
	}
	sort.SliceStable(page.Rows, func(i, j int) bool {
		a, b := &page.Rows[i], &page.Rows[j]
		if a.Folder != b.Folder {
			return a.Folder
		}
		return a.Name < b.Name
	})
	page.Count = len(page.Rows)
	page.RowsHTML = rowsHTML(page.Rows)
	if media > 0 {
		page.Playlist = root + "-/playlist" + hrefEscape(dir) + s.signer.Query(p, exp)
	}
	s.writeHTML(ctx, "index.html", page)
}

// crumbs names every ancestor of dir, linked unless signs are on (a sign
// for dir must not open its parents).
func crumbs(dir, root string, s *Server) []crumb {
	link := func(h string) string {
		if s.signer.Enabled() {
			return ""
		}
		return h
	}
	out := []crumb{{Name: "alilink", Href: link(root)}}
	if dir == "/" {
		return out
	}
	acc := ""
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		acc += "/" + part
		out = append(out, crumb{Name: part, Href: link(root + strings.TrimPrefix(hrefEscape(acc), "/") + "/")})
	}
	return out
}

// playLink is the player of a folder's file, reached with the folder's own
// sign (which shares the file's siblings and subtitles, as the index does):
// /-/play/<folder>/?file=<name>, outside the folder for wget -r -np.
func (s *Server) playLink(root, dir, name string, exp int64) string {
	q := "?file=" + hrefEscape(name)
	if s.signer.Enabled() {
		folder := dir
		if folder != "/" {
			folder = strings.TrimSuffix(folder, "/")
		}
		q += "&" + s.signer.Query(folder, exp)[1:]
	}
	return root + "-/play" + hrefEscape(dir) + q
}

// servePlaylist answers a folder's media files as an extended M3U8 playlist
// with absolute URLs (a playlist is opened outside the browser), each signed
// with the expiry of the folder's own sign.
func (s *Server) servePlaylist(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64) {
	_, children, err := s.res.List(dc, p)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	dir := dirSlash(p)
	names := make([]string, 0, len(children))
	for i := range children {
		if !children[i].Folder && playable(children[i].Name) {
			names = append(names, children[i].Name)
		}
	}
	sort.Strings(names)
	base := absBase(ctx)
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	for _, n := range names {
		child := dir + n
		b.WriteString("#EXTINF:-1,")
		b.WriteString(strings.NewReplacer("\r", " ", "\n", " ").Replace(n))
		b.WriteString("\n")
		b.WriteString(base + hrefEscape(child) + s.signer.Query(child, exp) + "\n")
	}
	name := "playlist"
	if p != "/" {
		name = p[strings.LastIndexByte(p, '/')+1:]
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", contentDisposition(name+".m3u8"))
	h.SetContentType("audio/x-mpegurl; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBodyString(b.String())
}

// servePlaylistAt answers /-/playlist/<folder>/ (the index's playlist link,
// outside the folder so that wget -r -np never follows it).
func (s *Server) servePlaylistAt(ctx *fasthttp.RequestCtx, raw []byte) {
	p, exp, ok := s.internalTarget(ctx, raw)
	if !ok {
		return
	}
	dc := acquireDriveCtx(ctx)
	defer dc.release()
	it, err := s.res.Stat(dc, p)
	switch {
	case err != nil:
		s.writeError(ctx, err)
	case !it.Folder:
		s.writeError(ctx, errPlaylistFile)
	default:
		s.servePlaylist(ctx, dc, p, exp)
	}
}

// internalTarget reads the drive path after /-/play or /-/playlist and
// checks its sign, answering the error itself when it fails.
func (s *Server) internalTarget(ctx *fasthttp.RequestCtx, raw []byte) (string, int64, bool) {
	i := bytes.IndexByte(raw[3:], '/')
	if i < 0 {
		s.writeError(ctx, resolver.ErrNotFound)
		return "", 0, false
	}
	p, exp, err := s.authorisedPath(ctx, raw[3+i:], s.signer)
	if err != nil {
		s.writeError(ctx, err)
		return "", 0, false
	}
	return p, exp, true
}

// rowsHTML writes the table's lines. It is the one piece of the page not
// left to html/template, whose reflection costs 40 µs a line (a folder of
// 20,000 files would take a second): every name goes through
// html.EscapeString and every link is hrefEscape'd (letters, digits, "-._~/:"
// and %XX only, plus "?", "=" and "&amp;" between query pairs), so nothing
// that reaches the page can open a tag or leave an attribute.
func rowsHTML(rows []indexRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 400)
	w := b.WriteString
	for i := range rows {
		r := &rows[i]
		name := html.EscapeString(r.Name)
		w(`<tr class="`)
		w(r.Kind)
		w(`" data-name="`)
		w(name)
		w(`" data-date="`)
		w(strconv.FormatInt(r.Unix, 10))
		w(`" data-size="`)
		if r.Folder {
			w("-1")
		} else {
			w(strconv.FormatInt(r.Size, 10))
		}
		w(`"><td class="n"><a href="`)
		w(attrURL(r.Href))
		w(`">`)
		w(name)
		if r.Folder {
			w(`/</a></td><td class="m">`)
			w(r.Date)
			w(`</td><td class="s">-</td>`)
		} else {
			w(`</a></td><td class="m">`)
			w(r.Date)
			w(`</td><td class="s" title="`)
			w(r.Human)
			w(`">`)
			w(strconv.FormatInt(r.Size, 10))
			w(` </td>`)
		}
		w(`<td class="p">`)
		if r.Play != "" {
			w(`<a href="`)
			w(attrURL(r.Play))
			w(`" title="Play in the browser">&#9654;</a>`)
		}
		w("</td></tr>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // escaped above
}

// attrURL puts one of our links in a double-quoted attribute: its only
// character HTML gives a meaning there is the "&" between query pairs.
func attrURL(u string) string { return strings.ReplaceAll(u, "&", "&amp;") }
