package streamer

import (
	"context"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// playerPage is what templates/player.html renders. Every link is relative
// to the page except the "open in" ones, which leave the browser.
type playerPage struct {
	Name   string
	Root   string
	Audio  bool
	Src    string // the file's own URL: Range, signs and every mode apply
	Folder string // the index the file is in
	Tracks []track
	Prev   *sibling
	Next   *sibling
	Abs    string // the file's absolute URL, for the copy button
	OpenIn []openIn
}

type track struct {
	Src, Label, Lang string
	Default          bool
}

type sibling struct{ Name, Href string }

type openIn struct {
	Name string
	Href string
}

// subtitleExts are the sibling files the player offers as text tracks.
var subtitleExts = map[string]bool{".srt": true, ".vtt": true, ".ass": true, ".ssa": true}

// servePlayer renders the player for a media file at p; dir is the page's own
// URL directory (the file's folder for ?play, /-/play/… for the index's link).
//
// folderAuth tells that the request's sign is the folder's (or signs are
// off): only then does the page link the siblings, the subtitles and the
// folder, each with its own sign. A file's own sign shares that file alone.
func (s *Server) servePlayer(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64, it resolver.Item, dir string, folderAuth bool) {
	if !playable(it.Name) {
		s.writeError(ctx, errNotPlayable)
		return
	}
	parent := path.Dir(p)
	_, siblings, err := s.res.List(dc, parent)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	pdir := dirSlash(parent)
	root := rootFrom(dir)
	rel := func(q string) string { return root + strings.TrimPrefix(hrefEscape(q), "/") }
	sign := s.signer.Query(p, exp)
	page := playerPage{
		Name: it.Name, Root: root, Audio: mediaKind(it.Name) == "audio", Src: rel(p) + sign,
		Abs: absBase(ctx) + hrefEscape(p) + sign,
	}
	page.OpenIn = openInLinks(page.Abs, it.Name)
	if !folderAuth {
		s.writeHTML(ctx, "player.html", page)
		return
	}
	page.Folder = rel(pdir) + s.signer.Query(parent, exp)
	stem := strings.TrimSuffix(it.Name, path.Ext(it.Name))
	var media []string
	for i := range siblings {
		c := &siblings[i]
		if c.Folder {
			continue
		}
		if playable(c.Name) {
			media = append(media, c.Name)
		}
		ext := strings.ToLower(path.Ext(c.Name))
		if !subtitleExts[ext] || !strings.HasPrefix(c.Name, stem+".") {
			continue
		}
		lang := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(c.Name, stem), path.Ext(c.Name)), ".")
		label := lang
		if label == "" {
			label = strings.ToUpper(ext[1:])
		}
		q := "?format=vtt"
		if sign != "" {
			q += "&" + s.signer.Query(pdir+c.Name, exp)[1:]
		}
		page.Tracks = append(page.Tracks, track{Src: rel(pdir+c.Name) + q, Label: label, Lang: bcp47(lang)})
	}
	sort.Slice(page.Tracks, func(i, j int) bool { return page.Tracks[i].Src < page.Tracks[j].Src })
	if len(page.Tracks) > 0 {
		page.Tracks[0].Default = true
	}
	sort.Strings(media)
	for i, n := range media {
		if n != it.Name {
			continue
		}
		link := func(n string) *sibling { return &sibling{Name: n, Href: s.playLink(root, pdir, n, exp)} }
		if i > 0 {
			page.Prev = link(media[i-1])
		}
		if i+1 < len(media) {
			page.Next = link(media[i+1])
		}
	}
	s.writeHTML(ctx, "player.html", page)
}

// openInLinks are the URL schemes of the players people use, each given the
// file's absolute URL (with its sign, the only one on the page).
func openInLinks(abs, name string) []openIn {
	q := url.QueryEscape(abs)
	rest := strings.TrimPrefix(strings.TrimPrefix(abs, "https://"), "http://")
	scheme := "http"
	if strings.HasPrefix(abs, "https://") {
		scheme = "https"
	}
	return []openIn{
		{"VLC", "vlc://" + abs},
		{"IINA", "iina://weblink?url=" + q},
		{"Infuse", "infuse://x-callback-url/play?url=" + q},
		{"nPlayer", "nplayer-" + abs},
		{"PotPlayer", "potplayer://" + abs},
		{"MX Player", "intent://" + rest + "#Intent;scheme=" + scheme + ";type=video/*;package=com.mxtech.videoplayer.ad;S.title=" + url.PathEscape(name) + ";end"},
	}
}

// bcp47 keeps a subtitle's language tag when it looks like one ("en",
// "zh-CN"), for the track's srclang.
func bcp47(s string) string {
	if len(s) < 2 || len(s) > 12 {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return ""
		}
	}
	return s
}

// servePlayerAt answers /-/play/<file> (the index's link, outside the folder
// so that wget -r -np and rclone never take the page for a file).
func (s *Server) servePlayerAt(ctx *fasthttp.RequestCtx, raw []byte) {
	p, exp, ok := s.internalTarget(ctx, raw)
	if !ok {
		return
	}
	dc := acquireDriveCtx(ctx)
	defer dc.release()
	it, err := s.res.Stat(dc, p)
	if err == nil && it.Folder {
		// /-/play/<folder>/?file=<name>: the folder's sign authorises.
		name := string(ctx.QueryArgs().Peek("file"))
		if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
			s.writeError(ctx, errPlayFile)
			return
		}
		child := strings.TrimSuffix(p, "/") + "/" + name
		if it, err = s.res.Stat(dc, child); err == nil && !it.Folder {
			s.servePlayer(ctx, dc, child, exp, it, pageDir(raw), true)
			return
		}
	}
	switch {
	case err != nil:
		s.writeError(ctx, err)
	case it.Folder:
		s.writeError(ctx, errNotPlayable)
	default:
		s.servePlayer(ctx, dc, p, exp, it, pageDir(raw), !s.signer.Enabled())
	}
}
