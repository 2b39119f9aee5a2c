// Package strm mirrors a drive folder as .strm files (one per video, holding
// its signed URL) for media servers such as Jellyfin, Plex and Emby, and draws
// the walk's progress on a terminal.
package strm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/sign"
)

// DefaultExts are the file extensions that get a .strm file unless told otherwise.
const DefaultExts = "mkv,mp4,m4v,avi,mov,ts,m2ts,mts,webm,flv,wmv,mpg,mpeg,rmvb,iso"

// Lister is what strm needs of the drive: a folder's children.
type Lister interface {
	List(ctx context.Context, path string) (resolver.Item, []resolver.Item, error)
}

var _ Lister = (*resolver.Resolver)(nil)

// Options say what to mirror and where.
type Options struct {
	Signer *sign.Signer  // signs each URL (a disabled signer: no sign)
	Base   string        // the URL alilink is reached at, without a trailing "/"
	TTL    time.Duration // how long the signs work; 0 = forever
	Exts   string        // comma-separated extensions that get a .strm file
	Out    string        // the folder to write into
	Root   string        // the clean drive folder to mirror
	Prune  bool          // remove .strm files whose video is gone
	Log    io.Writer     // problems and, on a terminal, the progress line
}

// Stats count what a run did.
type Stats struct{ Written, Unchanged, Removed, Errors int }

// Run writes out a .strm for every video under opt.Root, listing folders
// through l. A folder that cannot be listed counts as an error (and nothing
// under it is pruned); only a cancelled ctx or a local failure ends the run.
func Run(ctx context.Context, l Lister, opt Options) (Stats, error) {
	g := &strmGen{
		res: l, signer: opt.Signer, base: opt.Base, ttl: opt.TTL, exts: extSet(opt.Exts),
		out: opt.Out, root: opt.Root, prune: opt.Prune, progress: newProgress(opt.Log),
	}
	return g.run(ctx)
}

// strmGen mirrors a drive folder as .strm files.
type strmGen struct {
	res      Lister
	signer   *sign.Signer
	base     string
	ttl      time.Duration
	exts     map[string]bool
	out      string
	root     string
	prune    bool
	progress *progress

	st      Stats
	folders int
	// want maps each .strm file (relative to out) to its content.
	want map[string]string
	// unread holds folders (relative to out) that could not be listed: nothing
	// under them is pruned.
	unread []string
}

func (g *strmGen) run(ctx context.Context) (Stats, error) {
	g.want = map[string]string{}
	if err := os.MkdirAll(g.out, 0o755); err != nil {
		return g.st, err
	}
	var exp int64 // 0: never expires
	if g.ttl > 0 {
		exp = time.Now().Add(g.ttl).Unix()
	}
	if err := g.walk(ctx, g.root, ".", exp); err != nil {
		return g.st, err
	}
	names := make([]string, 0, len(g.want))
	for rel := range g.want {
		names = append(names, rel)
	}
	sort.Strings(names)
	for i, rel := range names {
		g.progress.bar(i, len(names))
		if err := g.write(rel, g.want[rel]); err != nil {
			g.progress.clear()
			fmt.Fprintf(g.progress.w, "strm: %s: %v\n", rel, err)
			g.st.Errors++
		}
	}
	g.progress.bar(len(names), len(names))
	g.progress.done()
	if g.prune {
		if err := g.pruneStale(); err != nil {
			return g.st, err
		}
	}
	return g.st, nil
}

// walk lists dir (a drive path; rel is its place under out) within the
// client's rate limits and plans a .strm for every video in it.
func (g *strmGen) walk(ctx context.Context, dir, rel string, exp int64) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, items, err := g.res.List(ctx, dir)
	g.folders++
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		g.progress.clear()
		fmt.Fprintf(g.progress.w, "strm: cannot list %s: %v\n", dir, err)
		g.st.Errors++
		g.unread = append(g.unread, rel)
		return nil
	}
	// Videos that share a base name in a folder keep their extension, so
	// Film.mkv and Film.mp4 do not both become Film.strm.
	stems := map[string]int{}
	for _, it := range items {
		if !it.Folder && g.exts[extOf(it.Name)] {
			stems[strings.TrimSuffix(it.Name, path.Ext(it.Name))]++
		}
	}
	for _, it := range items {
		child := path.Join(dir, it.Name)
		if it.Folder {
			if err := g.walk(ctx, child, filepath.Join(rel, it.Name), exp); err != nil {
				return err
			}
			continue
		}
		if !g.exts[extOf(it.Name)] {
			continue
		}
		name := strings.TrimSuffix(it.Name, path.Ext(it.Name))
		if stems[name] > 1 {
			name = it.Name
		}
		g.want[filepath.Join(rel, name+".strm")] = g.signer.URL(g.base, child, exp) + "\n"
		g.progress.scan(g.folders, len(g.want))
	}
	g.progress.scan(g.folders, len(g.want))
	return nil
}

// write puts content in out/rel unless it is already there, atomically.
func (g *strmGen) write(rel, content string) error {
	target := filepath.Join(g.out, rel)
	if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, []byte(content)) {
		g.st.Unchanged++
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".strm-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	g.st.Written++
	return nil
}

// pruneStale removes .strm files this run did not plan (never any other file,
// never under a folder that could not be listed), then the folders that this
// left empty.
func (g *strmGen) pruneStale() error {
	emptied := map[string]bool{}
	err := filepath.WalkDir(g.out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(g.out, p)
		if d.IsDir() || filepath.Ext(p) != ".strm" || g.want[rel] != "" || g.underUnread(rel) {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		g.st.Removed++
		for dir := filepath.Dir(rel); dir != "."; dir = filepath.Dir(dir) {
			emptied[dir] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	dirs := make([]string, 0, len(emptied))
	for d := range emptied {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) }) // deepest first
	for _, d := range dirs {
		_ = os.Remove(filepath.Join(g.out, d)) // fails, as it should, on a folder that is not empty
	}
	return nil
}

func (g *strmGen) underUnread(rel string) bool {
	for _, u := range g.unread {
		if u == "." || rel == u || strings.HasPrefix(rel, u+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func extOf(name string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
}

func extSet(list string) map[string]bool {
	m := map[string]bool{}
	for e := range strings.SplitSeq(list, ",") {
		if e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), ".")); e != "" {
			m[e] = true
		}
	}
	return m
}
