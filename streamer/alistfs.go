package streamer

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// alistObj is AList's ObjResp (server/handles/fsread.go).
type alistObj struct {
	Name        string            `json:"name"`
	Size        int64             `json:"size"`
	IsDir       bool              `json:"is_dir"`
	Modified    time.Time         `json:"modified"`
	Created     time.Time         `json:"created"`
	Sign        string            `json:"sign"`
	Thumb       string            `json:"thumb"`
	Type        int               `json:"type"`
	HashInfoStr string            `json:"hashinfo"`
	HashInfo    map[string]string `json:"hash_info"`
}

// alistListResp is AList's FsListResp.
type alistListResp struct {
	Content  []alistObj `json:"content"`
	Total    int64      `json:"total"`
	Readme   string     `json:"readme"`
	Header   string     `json:"header"`
	Write    bool       `json:"write"`
	Provider string     `json:"provider"`
}

// alistGetResp is AList's FsGetResp: the object and its links.
type alistGetResp struct {
	alistObj
	RawURL   string     `json:"raw_url"`
	Readme   string     `json:"readme"`
	Header   string     `json:"header"`
	Provider string     `json:"provider"`
	Related  []alistObj `json:"related"`
}

// alistDirResp is AList's DirResp (fs/dirs).
type alistDirResp struct {
	Name     string    `json:"name"`
	Modified time.Time `json:"modified"`
}

// alistLinkResp is AList's model.Link as fs/link answers it.
type alistLinkResp struct {
	URL         string      `json:"url"`
	Header      http.Header `json:"header"`
	Concurrency int         `json:"concurrency"`
	PartSize    int         `json:"part_size"`
}

// alistListReq is AList's ListReq (with model.PageReq).
type alistListReq struct {
	Page     int    `json:"page"`
	PerPage  int    `json:"per_page"`
	Path     string `json:"path"`
	Password string `json:"password"`
	Refresh  bool   `json:"refresh"`
}

// alistPathReq is AList's FsGetReq, DirReq and MkdirOrLinkReq.
type alistPathReq struct {
	Path     string `json:"path"`
	Password string `json:"password"`
}

// AList's object types (pkg/utils: UNKNOWN, FOLDER, VIDEO, AUDIO, TEXT, IMAGE).
const (
	alistTypeUnknown = iota
	alistTypeFolder
	alistTypeVideo
	alistTypeAudio
	alistTypeText
	alistTypeImage
)

// alistExtTypes are AList's default video, audio, text and image types
// (its settings' video_types …), video extended by containers Emby and
// players take that AList users commonly add (ts, m2ts, wmv, mpg, …).
var alistExtTypes = func() map[string]int {
	m := map[string]int{}
	add := func(t int, exts string) {
		for _, e := range strings.Split(exts, ",") {
			m[e] = t
		}
	}
	add(alistTypeText, "txt,htm,html,xml,java,properties,sql,js,md,json,conf,ini,vue,php,py,bat,gitignore,yml,go,sh,c,cpp,h,hpp,tsx,vtt,srt,ass,rs,lrc")
	add(alistTypeImage, "jpg,tiff,jpeg,png,gif,bmp,svg,ico,swf,webp")
	add(alistTypeAudio, "mp3,flac,ogg,m4a,wav,opus,wma")
	add(alistTypeVideo, "mp4,mkv,avi,mov,rmvb,webm,flv,m3u8,ts,m2ts,mts,wmv,mpg,mpeg,3gp,m4v,iso,vob")
	return m
}()

// alistType is AList's GetObjType: 1 for a folder, else by extension.
func alistType(name string, folder bool) int {
	if folder {
		return alistTypeFolder
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	return alistExtTypes[ext] // unknown: 0
}

// alistPath cleans a path as AList's clients send it (not percent-encoded).
// It is where a mount lookup will pick the mount's resolver.
func alistPath(raw string) (string, error) {
	if raw == "" {
		raw = "/"
	}
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	return resolver.CleanPath([]byte(resolver.EscapePath(raw)))
}

// alistFail answers a failure as AList does, HTTP 200 with the code and
// message of err's row of errTable (AList's wording where its clients read
// it: "object not found" for a missing path), never the error's own text.
func (s *Server) alistFail(ctx *fasthttp.RequestCtx, err error) {
	row := errRowOf(err)
	if row.status == StatusClientClosed {
		ctx.SetConnectionClose()
		return
	}
	if row.status >= 500 {
		s.log.Warn("alist api: request failed", "path", string(ctx.Path()), "err", err)
	}
	code, msg := row.alist(err)
	alistErr(ctx, code, msg)
}

// alistSign is a file's sign for /d/ and /p/ ("" when signs are off, and
// for folders, as AList's common.Sign).
func (s *Server) alistSign(p string, folder bool) string {
	if folder || !s.signer.Enabled() {
		return ""
	}
	var exp time.Time
	if s.alist.cfg.SignTTL > 0 {
		exp = time.Now().Add(s.alist.cfg.SignTTL)
	}
	return s.signer.Sign(p, exp)
}

func (s *Server) alistObjOf(it *resolver.Item, p string) alistObj {
	o := alistObj{Name: it.Name, Size: it.Size, IsDir: it.Folder, Modified: it.Modified, Created: it.Created,
		Type: alistType(it.Name, it.Folder), Sign: s.alistSign(p, it.Folder), HashInfoStr: "null"}
	if o.Created.IsZero() {
		o.Created = o.Modified
	}
	if it.ContentHash != "" {
		o.HashInfo = map[string]string{"sha1": it.ContentHash}
		o.HashInfoStr = `{"sha1":"` + it.ContentHash + `"}`
	}
	if p == "/" {
		o.Name = "root"
	}
	return o
}

func joinChild(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// alistWritable tells whether u may write through this door.
func (s *Server) alistWritable(u alistUser) bool {
	m, ok := s.res.(Manager)
	return u.canWrite() && ok && m.CanManage()
}

func (s *Server) alistList(ctx *fasthttp.RequestCtx, u alistUser) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	var req alistListReq
	if !s.alistBind(ctx, &req) {
		return
	}
	if req.Refresh && !s.alistWritable(u) {
		s.alistFail(ctx, errAListRefresh)
		return
	}
	p, err := alistPath(req.Path)
	if err != nil {
		s.alistFail(ctx, err)
		return
	}
	children, err := s.alistChildren(dc, p)
	if err != nil {
		s.alistFail(ctx, err)
		return
	}
	total := len(children)
	if req.Page < 1 {
		req.Page = 1
	}
	if req.PerPage < 1 {
		req.PerPage = total
	}
	from := total
	if int64(req.Page-1)*int64(req.PerPage) < int64(total) {
		from = (req.Page - 1) * req.PerPage
	}
	to := total
	if int64(from)+int64(req.PerPage) < int64(total) {
		to = from + req.PerPage
	}
	out := alistListResp{Total: int64(total), Write: s.alistWritable(u) && !s.readOnlyAt(p), Provider: s.alist.cfg.Provider}
	for i := from; i < to; i++ {
		c := &children[i]
		out.Content = append(out.Content, s.alistObjOf(c, joinChild(p, c.Name)))
	}
	alistOKResp(ctx, out)
}

// alistChildren lists p for fs/list and fs/dirs: a file is AList's "not a
// folder".
func (s *Server) alistChildren(dc context.Context, p string) ([]resolver.Item, error) {
	_, children, err := s.res.List(dc, p)
	if errors.Is(err, resolver.ErrNotFolder) {
		err = errAListNotFolder
	}
	return children, err
}

func (s *Server) alistDirs(ctx *fasthttp.RequestCtx, _ alistUser) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	var req alistPathReq
	p, ok := s.alistBindPath(ctx, &req, &req.Path)
	if !ok {
		return
	}
	children, err := s.alistChildren(dc, p)
	if err != nil {
		s.alistFail(ctx, err)
		return
	}
	var dirs []alistDirResp
	for i := range children {
		if children[i].Folder {
			dirs = append(dirs, alistDirResp{Name: children[i].Name, Modified: children[i].Modified})
		}
	}
	alistOKResp(ctx, dirs)
}

// alistGet answers fs/get: the object, a raw_url to alilink's own /d/ (with a
// sign when signs are on) and the siblings whose names start as its own
// (subtitles, nfo, posters).
func (s *Server) alistGet(ctx *fasthttp.RequestCtx, u alistUser) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	var req alistPathReq
	p, ok := s.alistBindPath(ctx, &req, &req.Path)
	if !ok {
		return
	}
	it, err := s.res.Stat(dc, p)
	if err != nil {
		s.alistFail(ctx, err)
		return
	}
	out := alistGetResp{alistObj: s.alistObjOf(&it, p), Provider: s.alist.cfg.Provider}
	if !it.Folder {
		out.RawURL = s.alistBase(ctx) + "/d" + resolver.EscapePath(p)
		if out.Sign != "" {
			out.RawURL += "?sign=" + out.Sign
		}
		if u.admin() && s.alist.cfg.AdminRawCDN {
			l, err := s.res.Link(dc, it)
			if err != nil {
				s.alistFail(ctx, err)
				return
			}
			if !l.RefererBound() {
				out.RawURL = l.URL
			}
		}
	}
	if p != "/" {
		dir := path.Dir(p)
		if _, siblings, err := s.res.List(dc, dir); err == nil {
			stem := strings.TrimSuffix(it.Name, path.Ext(it.Name))
			for i := range siblings {
				c := &siblings[i]
				if c.Name != it.Name && strings.HasPrefix(c.Name, stem) {
					out.Related = append(out.Related, s.alistObjOf(c, joinChild(dir, c.Name)))
				}
			}
		}
	}
	alistOKResp(ctx, out)
}

// alistBase is the scheme and host raw_url starts with: ALILINK_ALIST_SITE_URL,
// else the request's own.
func (s *Server) alistBase(ctx *fasthttp.RequestCtx) string {
	if s.alist.cfg.SiteURL != "" {
		return s.alist.cfg.SiteURL
	}
	return absBase(ctx)
}

// alistLink answers fs/link, for the admin only (AList's AuthAdmin): the CDN
// URL and the headers a fetch of it needs, as /-/api/link.
func (s *Server) alistLink(ctx *fasthttp.RequestCtx, u alistUser) {
	dc := acquireDriveCtx(ctx) // the drive calls never get the RequestCtx
	defer dc.release()
	if !u.admin() {
		s.alistFail(ctx, errAListNotAdmin)
		return
	}
	var req alistPathReq
	p, ok := s.alistBindPath(ctx, &req, &req.Path)
	if !ok {
		return
	}
	it, err := s.res.Stat(dc, p)
	switch {
	case err != nil:
		s.alistFail(ctx, err)
		return
	case it.Folder:
		s.alistFail(ctx, errNotAFile)
		return
	}
	l, err := s.res.Link(dc, it)
	if err != nil {
		s.alistFail(ctx, err)
		return
	}
	out := alistLinkResp{URL: l.URL, Header: http.Header{}}
	if l.Referer != "" {
		out.Header.Set("Referer", l.Referer)
	}
	alistOKResp(ctx, out)
}

// serveAListDown answers /d/<path> (by the server's mode) and /p/<path>
// (always proxied): alilink's own data path under AList's prefixes, with
// the same sign check over the path without the prefix (spec §8.2), so
// links minted for an AList with the same secret play here. Failures are
// real HTTP statuses, as a player needs them. It reports as route does.
func (s *Server) serveAListDown(ctx *fasthttp.RequestCtx, raw []byte, start time.Time, mode string) (act int, p string, streaming bool) {
	if len(raw) == 0 {
		raw = []byte("/")
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		s.writeError(ctx, withHeader(errMethod, "Allow", "GET, HEAD"))
		return actError, logPath(raw), false
	}
	p, exp, err := s.authorisedPath(ctx, raw, s.alist.verifier)
	if err != nil {
		s.writeError(ctx, err)
		if p == "" {
			p = logPath(raw)
		}
		return actError, p, false
	}
	if mode == "" {
		mode = s.modeFor(p)
	}
	act, streaming = s.serveDrive(ctx, &driveReq{p: p, exp: exp, mode: mode, start: start})
	return act, p, streaming
}
