package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
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

const defaultVideoExts = "mkv,mp4,m4v,avi,mov,ts,m2ts,mts,webm,flv,wmv,mpg,mpeg,rmvb,iso"

// strmCmd writes one .strm file per video of a drive folder, for media servers
// (Jellyfin, Plex, Emby) that play a URL from a .strm file:
//
//	alilink strm --out DIR [--path /Movies] [--base URL] [--ttl 0] [--ext mkv,mp4,…] [--prune]
func strmCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the folder to write .strm files into (required)")
	from := fs.String("path", "/", "the drive folder to mirror")
	base := fs.String("base", "", "the URL alilink is reached at by the media server (default http://$ALILINK_LISTEN)")
	ttl := fs.Duration("ttl", 0, "how long the signed URLs work; 0 = forever (a .strm file lives long)")
	exts := fs.String("ext", defaultVideoExts, "the file extensions that get a .strm file")
	prune := fs.Bool("prune", false, "remove .strm files whose video is gone from the drive")
	if pos, err := parseInterspersed(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *out == "" {
		return fmt.Errorf("usage: alilink strm --out DIR [--path /Movies] [--base URL] [--ttl 0] [--ext mkv,mp4] [--prune]")
	}
	if *ttl < 0 {
		return fmt.Errorf("--ttl: negative")
	}
	root, err := humanPath(*from)
	if err != nil {
		return fmt.Errorf("--path: %w", err)
	}
	a, err := openApp(stderr)
	if err != nil {
		return err
	}
	defer a.close()
	cfg := a.cfg
	res, err := a.resolver()
	if err != nil {
		return err
	}
	g := &strmGen{
		res: res, signer: sign.New(cfg.Streamer.SignSecret), base: baseURL(*base, cfg.Listen),
		ttl: *ttl, exts: extSet(*exts), out: *out, root: root, prune: *prune,
		progress: newProgress(stderr),
	}
	st, err := g.run(ctx)
	fmt.Fprintf(stdout, "strm: %d written, %d unchanged, %d removed, %d errors\n", st.written, st.unchanged, st.removed, st.errors)
	if err != nil {
		return err
	}
	if st.errors > 0 {
		return fmt.Errorf("%d errors (see above); nothing was pruned where a folder could not be read", st.errors)
	}
	return nil
}

type strmStats struct{ written, unchanged, removed, errors int }

// strmGen mirrors a drive folder as .strm files.
type strmGen struct {
	res      *resolver.Resolver
	signer   *sign.Signer
	base     string
	ttl      time.Duration
	exts     map[string]bool
	out      string
	root     string
	prune    bool
	progress *progress

	st      strmStats
	folders int
	// want maps each .strm file (relative to out) to its content.
	want map[string]string
	// unread holds folders (relative to out) that could not be listed: nothing
	// under them is pruned.
	unread []string
}

func (g *strmGen) run(ctx context.Context) (strmStats, error) {
	g.want = map[string]string{}
	if err := os.MkdirAll(g.out, 0o755); err != nil {
		return g.st, err
	}
	var exp time.Time
	if g.ttl > 0 {
		exp = time.Now().Add(g.ttl)
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
			g.st.errors++
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
func (g *strmGen) walk(ctx context.Context, dir, rel string, exp time.Time) error {
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
		g.st.errors++
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
		sig := ""
		if g.signer.Enabled() {
			sig = g.signer.Sign(child, exp)
		}
		g.want[filepath.Join(rel, name+".strm")] = signedURL(g.base, child, sig) + "\n"
		g.progress.scan(g.folders, len(g.want))
	}
	g.progress.scan(g.folders, len(g.want))
	return nil
}

// write puts content in out/rel unless it is already there, atomically.
func (g *strmGen) write(rel, content string) error {
	target := filepath.Join(g.out, rel)
	if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, []byte(content)) {
		g.st.unchanged++
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
	g.st.written++
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
		g.st.removed++
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
