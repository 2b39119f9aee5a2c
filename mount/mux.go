// The router: the Mux sends every path to the resolver of the mount with the
// longest matching prefix, so that every front door of the streamer (the
// HTTP paths, WebDAV, the AList API, /-/api) works across mounts without
// knowing of them. (The mounts file, which says which account and drive each
// prefix shows, is file.go.)

package mount

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

// Backend is what the Mux needs of each mount: the streamer's resolver
// with file management (one resolver.Resolver per mount).
type Backend interface {
	streamer.Resolver
	streamer.Manager
}

var _ Backend = (*resolver.Resolver)(nil)

// Entry is one mount of the router: the path prefix it serves, its mode
// ("" is the server's), whether it refuses writes, and its resolver.
type Entry struct {
	Path     string
	Mode     string
	ReadOnly bool
	Res      Backend
}

// mnt is an Entry with what the router derives from it.
type mnt struct {
	Entry
	index int    // in the order New was given
	name  string // the last segment of Path ("" for "/")
	// ro: no write reaches the mount (ReadOnly, or a drive that can neither
	// upload nor manage files: a share).
	ro bool
	// idPrefix starts the ids of the mount's items (Path and a NUL, which no
	// clean path holds): a file id is only unique within a drive, and Link
	// and DropLink must find the mount from the item alone.
	idPrefix string
}

// Mux routes clean paths to mounts. Paths are stripped of the mount's prefix
// going in; the items coming out carry ids that name their mount, and a
// mount's root item carries the mount's name. The folders a mount table
// makes up ("/" when no mount is at "/", "/A" for a mount at "/A/B") list
// the mounts below them, as any folder lists its children. It is safe for
// concurrent use.
type Mux struct {
	mounts []*mnt              // longest path first
	byPath map[string]*mnt     // by mount path
	virt   map[string][]string // a folder above mounts → the names below it, sorted
	paths  []string            // the mount paths in the order given
	born   time.Time           // the modification time of made-up folders
}

// New builds the router. Mount paths must be clean (resolver.CleanPath) and
// distinct.
func New(entries []Entry) (*Mux, error) {
	if len(entries) == 0 {
		return nil, errors.New("mount: no mounts")
	}
	x := &Mux{byPath: map[string]*mnt{}, virt: map[string][]string{}, born: time.Now().UTC().Truncate(time.Second)}
	for i, e := range entries {
		if c, err := resolver.CleanPath([]byte(e.Path)); err != nil || c != e.Path {
			return nil, fmt.Errorf("mount %q: the path must be clean (like /Movies: no trailing slash, no //, . or ..)", e.Path)
		}
		if e.Res == nil {
			return nil, fmt.Errorf("mount %s: no resolver", e.Path)
		}
		if _, dup := x.byPath[e.Path]; dup {
			return nil, fmt.Errorf("mount %s: mounted twice", e.Path)
		}
		m := &mnt{Entry: e, index: i, name: path.Base(e.Path), idPrefix: e.Path + "\x00",
			ro: e.ReadOnly || !e.Res.CanUpload() && !e.Res.CanManage()}
		if e.Path == "/" {
			m.name = ""
		}
		x.byPath[e.Path] = m
		x.mounts = append(x.mounts, m)
		x.paths = append(x.paths, e.Path)
		for child := e.Path; child != "/"; {
			dir := path.Dir(child)
			if name := path.Base(child); !slices.Contains(x.virt[dir], name) {
				x.virt[dir] = append(x.virt[dir], name)
			}
			child = dir
		}
	}
	for _, names := range x.virt {
		sort.Strings(names)
	}
	sort.SliceStable(x.mounts, func(i, j int) bool { return len(x.mounts[i].Path) > len(x.mounts[j].Path) })
	return x, nil
}

// Paths are the mount paths in the order New was given them.
func (x *Mux) Paths() []string { return x.paths }

// MountOf is the index (in New's order) of the mount serving the clean
// path p, -1 for none (a made-up folder, a path outside every mount).
func (x *Mux) MountOf(p string) int {
	if m, _ := x.find(p); m != nil {
		return m.index
	}
	return -1
}

// ModeFor is the mode of the mount serving p; "" is the server's own.
func (x *Mux) ModeFor(p string) string {
	if m, _ := x.find(p); m != nil {
		return m.Mode
	}
	return ""
}

// ReadOnlyAt tells whether a write at p is refused: a read-only mount (or
// one whose drive cannot write, a share), a path outside every mount.
func (x *Mux) ReadOnlyAt(p string) bool {
	m, _ := x.find(p)
	return m == nil || m.ro
}

// find is the mount serving p (the longest matching prefix) and p within it.
func (x *Mux) find(p string) (*mnt, string) {
	for _, m := range x.mounts {
		switch {
		case m.Path == "/":
			return m, p
		case p == m.Path:
			return m, "/"
		case len(p) > len(m.Path) && p[len(m.Path)] == '/' && p[:len(m.Path)] == m.Path:
			return m, p[len(m.Path):]
		}
	}
	return nil, ""
}

// byID finds the mount of an item id the router handed out, and the drive's id.
func (x *Mux) byID(id string) (*mnt, string) {
	i := strings.IndexByte(id, 0)
	if i < 0 {
		return nil, ""
	}
	m := x.byPath[id[:i]]
	if m == nil {
		return nil, ""
	}
	return m, id[i+1:]
}

// out is an item of m as the router hands it out; sub is its path within m.
// Only the id names the mount (nothing looks items up by ParentID, and a
// 302 on a cache hit should cost one allocation more, not two).
func (x *Mux) out(m *mnt, it resolver.Item, sub string) resolver.Item {
	if it.ID != "" {
		it.ID = m.idPrefix + it.ID
	}
	if sub == "/" {
		it.Name = m.name
		if it.Modified.IsZero() {
			it.Modified, it.Created = x.born, x.born
		}
	}
	return it
}

// in is an item the router handed out, as its mount's resolver knows it.
func (x *Mux) in(it resolver.Item) (*mnt, resolver.Item, error) {
	m, id := x.byID(it.ID)
	if m == nil {
		return nil, it, fmt.Errorf("%w: %s (no mount's item)", resolver.ErrNotFound, it.Name)
	}
	it.ID = id
	return m, it, nil
}

// folder is a made-up folder: one that only exists because mounts are below it.
func (x *Mux) folder(p string) resolver.Item {
	name := path.Base(p)
	if p == "/" {
		name = ""
	}
	return resolver.Item{Name: name, Folder: true, Modified: x.born, Created: x.born}
}

func notFound(p string) error {
	return fmt.Errorf("%w: %s (outside every mount)", resolver.ErrNotFound, p)
}

// Stat implements streamer.Resolver.
func (x *Mux) Stat(ctx context.Context, p string) (resolver.Item, error) {
	m, sub := x.find(p)
	if m != nil {
		it, err := m.Res.Stat(ctx, sub)
		if err == nil {
			return x.out(m, it, sub), nil
		}
		if !errors.Is(err, resolver.ErrNotFound) || x.virt[p] == nil {
			return resolver.Item{}, err
		}
	}
	if x.virt[p] != nil {
		return x.folder(p), nil
	}
	return resolver.Item{}, notFound(p)
}

// Resolve implements streamer.Resolver.
func (x *Mux) Resolve(ctx context.Context, p string) (resolver.Item, resolver.Link, error) {
	m, sub := x.find(p)
	if m != nil {
		it, l, err := m.Res.Resolve(ctx, sub)
		if err == nil {
			return x.out(m, it, sub), l, nil
		}
		if !errors.Is(err, resolver.ErrNotFound) || x.virt[p] == nil {
			return resolver.Item{}, resolver.Link{}, err
		}
	}
	if x.virt[p] != nil {
		return x.folder(p), resolver.Link{}, nil
	}
	return resolver.Item{}, resolver.Link{}, notFound(p)
}

// List implements streamer.Resolver: a folder of a mount with the mounts
// below it among its children (a mount shadows a child of the same name),
// or a made-up folder with only those.
func (x *Mux) List(ctx context.Context, p string) (resolver.Item, []resolver.Item, error) {
	names := x.virt[p]
	m, sub := x.find(p)
	if m != nil {
		self, kids, err := m.Res.List(ctx, sub)
		if err == nil {
			out := make([]resolver.Item, 0, len(kids)+len(names))
			for _, k := range kids {
				if !slices.Contains(names, k.Name) {
					out = append(out, x.out(m, k, ""))
				}
			}
			if len(names) > 0 {
				out = x.appendMounted(ctx, out, p, names)
				sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			}
			return x.out(m, self, sub), out, nil
		}
		if !errors.Is(err, resolver.ErrNotFound) || names == nil {
			return resolver.Item{}, nil, err
		}
	}
	if names == nil {
		return resolver.Item{}, nil, notFound(p)
	}
	return x.folder(p), x.appendMounted(ctx, nil, p, names), nil
}

// appendMounted appends the children of dir that the mount table makes:
// each a mount's root, or a made-up folder above deeper mounts.
func (x *Mux) appendMounted(ctx context.Context, out []resolver.Item, dir string, names []string) []resolver.Item {
	for _, name := range names {
		child := path.Join(dir, name)
		if m := x.byPath[child]; m != nil {
			// A resolver's root costs no drive call.
			if root, err := m.Res.Stat(ctx, "/"); err == nil {
				out = append(out, x.out(m, root, "/"))
				continue
			}
		}
		out = append(out, x.folder(child))
	}
	return out
}

// Link implements streamer.Resolver, on the mount the item came from.
func (x *Mux) Link(ctx context.Context, it resolver.Item) (resolver.Link, error) {
	m, it, err := x.in(it)
	if err != nil {
		return resolver.Link{}, err
	}
	return m.Res.Link(ctx, it)
}

// DropLink implements streamer.Resolver, on the mount the id came from.
func (x *Mux) DropLink(fileID, url string) {
	if m, id := x.byID(fileID); m != nil {
		m.Res.DropLink(id, url)
	}
}

// Health implements streamer.Resolver: every mount's problems, each
// prefixed by its path. The router is ready while any mount is: one dead
// share must not take the other mounts out of a load balancer (its problem
// is listed, and its paths answer 502).
func (x *Mux) Health(ctx context.Context) resolver.Health {
	hs := make([]resolver.Health, len(x.paths))
	var wg sync.WaitGroup
	for _, m := range x.mounts {
		wg.Go(func() { hs[m.index] = m.Res.Health(ctx) })
	}
	wg.Wait()
	var out resolver.Health
	for i, h := range hs {
		out.Ready = out.Ready || h.Ready
		if !h.Ready && len(h.Problems) == 0 {
			h.Problems = []string{"not ready"}
		}
		for _, pr := range h.Problems {
			out.Problems = append(out.Problems, x.paths[i]+": "+pr)
		}
	}
	return out
}

// CanUpload implements streamer.Resolver: some mount takes uploads.
func (x *Mux) CanUpload() bool {
	for _, m := range x.mounts {
		if !m.ro && m.Res.CanUpload() {
			return true
		}
	}
	return false
}

// CanManage tells whether some mount takes file management.
func (x *Mux) CanManage() bool {
	for _, m := range x.mounts {
		if !m.ro && m.Res.CanManage() {
			return true
		}
	}
	return false
}

// writer is the mount a write at p goes to, and p within it.
func (x *Mux) writer(p string) (*mnt, string, error) {
	m, sub := x.find(p)
	switch {
	case m == nil:
		return nil, "", fmt.Errorf("%s is outside every mount: %w", p, resolver.ErrReadOnly)
	case m.ro:
		return nil, "", fmt.Errorf("mount %s: %w", m.Path, resolver.ErrReadOnly)
	}
	return m, sub, nil
}

// Upload implements streamer.Resolver.
func (x *Mux) Upload(ctx context.Context, p string, src resolver.UploadSource, overwrite bool) (resolver.Item, bool, error) {
	if x.byPath[p] != nil || x.virt[p] != nil {
		return resolver.Item{}, false, fmt.Errorf("upload %s: a folder: %w", p, resolver.ErrExists)
	}
	m, sub, err := x.writer(p)
	if err != nil {
		return resolver.Item{}, false, err
	}
	it, rapid, err := m.Res.Upload(ctx, sub, src, overwrite)
	return x.out(m, it, sub), rapid, err
}

// Mkdir creates a folder in the mount of p.
func (x *Mux) Mkdir(ctx context.Context, p string) (resolver.Item, error) {
	if x.byPath[p] != nil || x.virt[p] != nil {
		return resolver.Item{}, fmt.Errorf("mkdir %s: %w", p, resolver.ErrExists)
	}
	m, sub, err := x.writer(p)
	if err != nil {
		return resolver.Item{}, err
	}
	it, err := m.Res.Mkdir(ctx, sub)
	return x.out(m, it, sub), err
}

// Trash trashes the item at p in its mount; a mount itself (or a folder
// holding mounts) cannot be trashed.
func (x *Mux) Trash(ctx context.Context, p string) error {
	if x.byPath[p] != nil || x.virt[p] != nil {
		return fmt.Errorf("trash %s: a mount: %w", p, resolver.ErrBadTarget)
	}
	m, sub, err := x.writer(p)
	if err != nil {
		return err
	}
	return m.Res.Trash(ctx, sub)
}

// Move moves within one mount; across mounts it is unsupported.
func (x *Mux) Move(ctx context.Context, src, dst string) (resolver.Item, error) {
	m, ss, sd, err := x.pair(src, dst)
	if err != nil {
		return resolver.Item{}, err
	}
	it, err := m.Res.Move(ctx, ss, sd)
	return x.out(m, it, sd), err
}

// Copy copies within one mount; across mounts it is unsupported.
func (x *Mux) Copy(ctx context.Context, src, dst string) (resolver.Item, error) {
	m, ss, sd, err := x.pair(src, dst)
	if err != nil {
		return resolver.Item{}, err
	}
	it, err := m.Res.Copy(ctx, ss, sd)
	return x.out(m, it, sd), err
}

// pair checks a move or copy: neither end a mount (or above one), both in
// one writable mount.
func (x *Mux) pair(src, dst string) (*mnt, string, string, error) {
	for _, p := range []string{src, dst} {
		if x.byPath[p] != nil || x.virt[p] != nil {
			return nil, "", "", fmt.Errorf("%s to %s: %s is a mount: %w", src, dst, p, resolver.ErrBadTarget)
		}
	}
	ms, ss, err := x.writer(src)
	if err != nil {
		return nil, "", "", err
	}
	md, sd, err := x.writer(dst)
	if err != nil {
		return nil, "", "", err
	}
	if ms != md {
		return nil, "", "", fmt.Errorf("%s to %s: across mounts: %w", src, dst, resolver.ErrUnsupported)
	}
	return ms, ss, sd, nil
}
