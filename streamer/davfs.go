package streamer

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/net/webdav"

	"github.com/alilink/alilink/resolver"
)

// davFS is x/net/webdav's FileSystem over the resolver. It never reads a
// file's bytes: GET is served before the request reaches x/net/webdav, and
// its FileInfo answers getcontenttype and getetag from the metadata, so a
// PROPFIND opens nothing. A COPY's copy of a file is the drive's own copy
// (ReadFrom), a MOVE the drive's move or rename, a DELETE the trash.
//
// It serves one resolver; a mount table will hand it a path → resolver
// lookup in place of res and mgr.
type davFS struct {
	res Resolver
	mgr Manager // nil: read-only
	log *slog.Logger
	// upload writes a PUT's body at a clean path through the upload spool,
	// replacing a file there; replaced says whether there was one.
	upload  func(ctx context.Context, p string, body io.Reader) (it resolver.Item, replaced bool, err error)
	started time.Time

	// props holds dead properties (PROPPATCH) by file id, in memory: they
	// follow a file through moves and renames, and are lost on a restart.
	mu    sync.Mutex
	props *lru.Cache[string, map[xml.Name]webdav.Property]
}

// Bounds of the dead properties: per item, and items remembered.
const (
	davPropsMaxBytes = 64 << 10
	davPropsItems    = 10000
)

func newDAVFS(res Resolver, mgr Manager, log *slog.Logger,
	upload func(context.Context, string, io.Reader) (resolver.Item, bool, error)) *davFS {
	p, _ := lru.New[string, map[xml.Name]webdav.Property](davPropsItems)
	return &davFS{res: res, mgr: mgr, log: log, upload: upload, started: time.Now(), props: p}
}

var _ webdav.FileSystem = (*davFS)(nil)

// davPath is the clean drive path of a WebDAV name (already unescaped).
func davPath(name string) (string, error) {
	if name == "" || name == "/" {
		return "/", nil
	}
	if name[0] != '/' {
		name = "/" + name
	}
	return resolver.CleanPath([]byte(resolver.EscapePath(name)))
}

// splitClean is ("/a", "b") for "/a/b" and ("/", "b") for "/b".
func splitClean(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	dir, name = p[:i], p[i+1:]
	if dir == "" {
		dir = "/"
	}
	return dir, name
}

// davNote is the bridge's per-request state the file system reaches
// through the context: the first drive failure, which the bridge answers
// with its own status (503, 502, 504, 413…) where x/net/webdav would say
// 403, 405 or 500; whether a PUT replaced a file (204, not 201); and what a
// PUT's upload needs of the connection.
type davNote struct {
	mu       sync.Mutex
	err      error
	replaced bool
	conn     net.Conn
	size     int64 // Content-Length, -1 for none
}

func noteOf(ctx context.Context) *davNote {
	n, _ := ctx.Value(davNoteKey{}).(*davNote)
	if n == nil {
		n = &davNote{size: -1}
	}
	return n
}

type davNoteKey struct{}

func noteDriveErr(ctx context.Context, err error) {
	if n, ok := ctx.Value(davNoteKey{}).(*davNote); ok {
		n.mu.Lock()
		if n.err == nil {
			n.err = err
		}
		n.mu.Unlock()
	}
}

// fsErr turns a resolver error into the os error x/net/webdav maps.
func fsErr(ctx context.Context, op, name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, resolver.ErrNotFound), errors.Is(err, resolver.ErrNoParent), errors.Is(err, resolver.ErrBadPath):
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	case errors.Is(err, resolver.ErrExists):
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrExist}
	case errors.Is(err, resolver.ErrBadTarget), errors.Is(err, resolver.ErrUnsupported), errors.Is(err, resolver.ErrNotFolder),
		errors.Is(err, resolver.ErrReadOnly):
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	noteDriveErr(ctx, err)
	return err
}

var errDAVReadOnly = &fs.PathError{Op: "write", Path: "", Err: fs.ErrPermission}

func (d *davFS) stat(ctx context.Context, name string) (string, resolver.Item, error) {
	p, err := davPath(name)
	if err != nil {
		return "", resolver.Item{}, fsErr(ctx, "stat", name, err)
	}
	it, err := d.res.Stat(ctx, p)
	return p, it, fsErr(ctx, "stat", name, err)
}

// Stat implements webdav.FileSystem.
func (d *davFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	_, it, err := d.stat(ctx, name)
	if err != nil {
		return nil, err
	}
	return d.info(it), nil
}

func (d *davFS) info(it resolver.Item) davInfo {
	mod := it.Modified
	if mod.IsZero() {
		mod = it.Created
	}
	if mod.IsZero() {
		mod = d.started
	}
	return davInfo{it: it, mod: mod}
}

// Mkdir implements webdav.FileSystem: MKCOL.
func (d *davFS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	if d.mgr == nil {
		return errDAVReadOnly
	}
	p, err := davPath(name)
	if err != nil {
		return fsErr(ctx, "mkdir", name, err)
	}
	_, err = d.mgr.Mkdir(ctx, p)
	return fsErr(ctx, "mkdir", name, err)
}

// RemoveAll implements webdav.FileSystem: to the drive's trash.
func (d *davFS) RemoveAll(ctx context.Context, name string) error {
	if d.mgr == nil {
		return errDAVReadOnly
	}
	p, it, err := d.stat(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := d.mgr.Trash(ctx, p); err != nil {
		return fsErr(ctx, "remove", name, err)
	}
	d.props.Remove(it.ID)
	return nil
}

// Rename implements webdav.FileSystem: MOVE, the drive's move or rename.
func (d *davFS) Rename(ctx context.Context, oldName, newName string) error {
	if d.mgr == nil {
		return errDAVReadOnly
	}
	src, err := davPath(oldName)
	if err != nil {
		return fsErr(ctx, "rename", oldName, err)
	}
	dst, err := davPath(newName)
	if err != nil {
		return fsErr(ctx, "rename", newName, err)
	}
	_, err = d.mgr.Move(ctx, src, dst)
	return fsErr(ctx, "rename", oldName, err)
}

// OpenFile implements webdav.FileSystem. Nothing is read or written here:
// a handle opened to create a file makes an empty one when closed (a LOCK
// of an unmapped URL), unless a COPY filled it with the drive's copy.
func (d *davFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	p, err := davPath(name)
	if err != nil {
		return nil, fsErr(ctx, "open", name, err)
	}
	f := &davFile{fs: d, ctx: ctx, path: p}
	it, err := d.res.Stat(ctx, p)
	switch {
	case err == nil:
		f.it, f.exists = it, true
	case !errors.Is(err, resolver.ErrNotFound):
		return nil, fsErr(ctx, "open", name, err)
	case flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) == 0 {
		return f, nil
	}
	if flag&(os.O_CREATE|os.O_TRUNC) == 0 {
		return f, nil // PROPPATCH opens O_RDWR: the file stays as it is
	}
	if d.mgr == nil {
		return nil, errDAVReadOnly
	}
	if f.exists && f.it.Folder {
		// Only a PUT opens a folder to write (COPY and MOVE remove the
		// target first, LOCK creates only a missing name): 409, as Apache
		// mod_dav ("Cannot PUT to a collection") and as a folder the
		// caches did not know (Server.put), not x/net/webdav's 404.
		noteDriveErr(ctx, errPutFolder)
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	if f.exists && flag&os.O_EXCL != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	}
	dir, _ := splitClean(p)
	if parent, err := d.res.Stat(ctx, dir); err != nil || !parent.Folder {
		if err != nil && !errors.Is(err, resolver.ErrNotFound) {
			return nil, fsErr(ctx, "open", name, err)
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f.create = !f.exists || flag&os.O_TRUNC != 0
	f.junk = isJunk(p)
	return f, nil
}

// davFile is an open WebDAV name.
type davFile struct {
	fs     *davFS
	ctx    context.Context
	path   string
	it     resolver.Item
	exists bool
	// create: Close writes an empty file unless filled by a copy; junk:
	// nothing is written at all.
	create, filled, junk, closed bool
}

// emptySHA1 is the SHA-1 of no bytes.
const emptySHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"

// Close implements webdav.File.
func (f *davFile) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if !f.create || f.filled || f.junk {
		return nil
	}
	src := resolver.UploadSource{Size: 0, SHA1: emptySHA1, Data: bytes.NewReader(nil)}
	it, _, err := f.fs.res.Upload(f.ctx, f.path, src, f.exists)
	if err != nil {
		return fsErr(f.ctx, "create", f.path, err)
	}
	f.it, f.exists = it, true
	return nil
}

var errDAVNoRead = errors.New("webdav: file bytes are served by GET, not through the file system")

// Read implements webdav.File; nothing reads through it (GET is served
// before x/net/webdav, and COPY copies on the drive).
func (f *davFile) Read([]byte) (int, error) { return 0, errDAVNoRead }

// Seek implements webdav.File.
func (f *davFile) Seek(int64, int) (int64, error) { return 0, errDAVNoRead }

// Write implements webdav.File; PUT is served before x/net/webdav.
func (f *davFile) Write([]byte) (int, error) { return 0, errDAVReadOnly }

// ReadFrom is io.Copy's path into a file opened to be written: in a COPY
// the source is another davFile, and the drive copies it; in a PUT it is
// the request body, which goes through the upload spool (streamed to disk,
// hashed on the way, then uploaded, rapidly when the drive has it).
func (f *davFile) ReadFrom(r io.Reader) (int64, error) {
	if f.fs.mgr == nil {
		return 0, errDAVReadOnly
	}
	src, isCopy := r.(*davFile)
	switch {
	case isCopy && !src.exists:
		return 0, &fs.PathError{Op: "copy", Path: src.path, Err: fs.ErrNotExist}
	case f.junk:
		// Accepted and thrown away; the bridge drains a PUT's body.
		f.filled = true
		return 0, nil
	case isCopy:
		it, err := f.fs.mgr.Copy(f.ctx, src.path, f.path)
		if err != nil {
			return 0, fsErr(f.ctx, "copy", src.path, err)
		}
		f.it, f.exists, f.filled = it, true, true
		return it.Size, nil
	}
	// Not f.exists: the caches may not know a file made elsewhere (nor that
	// one is gone); the drive's create says whether one was replaced.
	it, replaced, err := f.fs.upload(f.ctx, f.path, r)
	if err != nil {
		noteDriveErr(f.ctx, err)
		return 0, err
	}
	if replaced {
		n := noteOf(f.ctx)
		n.mu.Lock()
		n.replaced = true
		n.mu.Unlock()
	}
	f.it, f.exists, f.filled = it, true, true
	return it.Size, nil
}

// Readdir implements webdav.File: the folder's listing, every page of it,
// from the listing cache.
func (f *davFile) Readdir(int) ([]os.FileInfo, error) {
	_, children, err := f.fs.res.List(f.ctx, f.path)
	if err != nil {
		return nil, fsErr(f.ctx, "readdir", f.path, err)
	}
	out := make([]os.FileInfo, 0, len(children))
	for _, c := range children {
		if c.Name == "" || strings.ContainsRune(c.Name, '/') {
			continue // no WebDAV name can reach it
		}
		out = append(out, f.fs.info(c))
	}
	return out, nil
}

// Stat implements webdav.File.
func (f *davFile) Stat() (os.FileInfo, error) {
	if !f.exists {
		return f.fs.info(resolver.Item{Name: pathBase(f.path)}), nil
	}
	return f.fs.info(f.it), nil
}

func pathBase(p string) string {
	_, n := splitClean(p)
	return n
}

var creationDateName = xml.Name{Space: "DAV:", Local: "creationdate"}

// DeadProps implements webdav.DeadPropsHolder: the properties PROPPATCH
// set, and creationdate (which x/net/webdav does not compute).
func (f *davFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	out := map[xml.Name]webdav.Property{}
	if f.it.ID != "" {
		f.fs.mu.Lock()
		for k, v := range f.fs.propsOf(f.it.ID) {
			out[k] = v
		}
		f.fs.mu.Unlock()
	}
	if c := f.it.Created; !c.IsZero() {
		out[creationDateName] = webdav.Property{XMLName: creationDateName,
			InnerXML: []byte(c.UTC().Format(time.RFC3339))}
	}
	return out, nil
}

func (d *davFS) propsOf(id string) map[xml.Name]webdav.Property {
	m, _ := d.props.Get(id)
	return m
}

// Patch implements webdav.DeadPropsHolder: all of a PROPPATCH or none.
func (f *davFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	var names []webdav.Property
	for _, p := range patches {
		for _, pr := range p.Props {
			names = append(names, webdav.Property{XMLName: pr.XMLName})
		}
	}
	if f.it.ID == "" || f.junk {
		return []webdav.Propstat{{Status: http.StatusForbidden, Props: names}}, nil
	}
	d := f.fs
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[xml.Name]webdav.Property{}
	for k, v := range d.propsOf(f.it.ID) {
		m[k] = v
	}
	for _, p := range patches {
		for _, pr := range p.Props {
			if p.Remove {
				delete(m, pr.XMLName)
			} else {
				m[pr.XMLName] = pr
			}
		}
	}
	size := 0
	for k, v := range m {
		size += len(k.Space) + len(k.Local) + len(v.InnerXML) + 16
	}
	if size > davPropsMaxBytes {
		return []webdav.Propstat{{Status: http.StatusInsufficientStorage, Props: names}}, nil
	}
	if len(m) == 0 {
		d.props.Remove(f.it.ID)
	} else {
		d.props.Add(f.it.ID, m)
	}
	return []webdav.Propstat{{Status: http.StatusOK, Props: names}}, nil
}

// davInfo is a drive item as an os.FileInfo, with its content type and ETag
// from the metadata.
type davInfo struct {
	it  resolver.Item
	mod time.Time
}

func (fi davInfo) Name() string {
	if fi.it.Name == "" {
		return "/"
	}
	return fi.it.Name
}

func (fi davInfo) Size() int64 {
	if fi.it.Folder {
		return 0
	}
	return fi.it.Size
}

func (fi davInfo) Mode() os.FileMode {
	if fi.it.Folder {
		return os.ModeDir | 0o755
	}
	return 0o644
}

func (fi davInfo) ModTime() time.Time { return fi.mod }
func (fi davInfo) IsDir() bool        { return fi.it.Folder }
func (fi davInfo) Sys() any           { return nil }

// ContentType implements webdav.ContentTyper: from the name, as GET answers.
func (fi davInfo) ContentType(context.Context) (string, error) {
	return contentType(fi.it.Name, fi.it.MimeType, ""), nil
}

// ETag implements webdav.ETager: the content hash, as the proxy's ETag.
func (fi davInfo) ETag(context.Context) (string, error) {
	if fi.it.ContentHash == "" {
		return "", webdav.ErrNotImplemented
	}
	return `"` + fi.it.ContentHash + `"`, nil
}

// davLocks is the lock system with the ETags of If-header conditions
// checked (x/net/webdav's own checks only the lock tokens): a list whose
// [etag] does not match the resource's content hash fails, so a PUT with a
// stale ETag is 412.
type davLocks struct {
	webdav.LockSystem
	fs *davFS
}

func (l davLocks) Confirm(now time.Time, name0, name1 string, conditions ...webdav.Condition) (func(), error) {
	for _, c := range conditions {
		if c.ETag == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		fi, err := l.fs.Stat(ctx, name0)
		etag := ""
		if err == nil {
			etag, _ = fi.(davInfo).ETag(ctx)
		}
		cancel()
		if (etag != "" && etag == c.ETag) == c.Not {
			return nil, webdav.ErrConfirmationFailed
		}
	}
	return l.LockSystem.Confirm(now, name0, name1, conditions...)
}
