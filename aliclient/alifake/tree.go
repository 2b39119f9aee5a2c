package alifake

import (
	"fmt"
	"strings"
	"time"
)

// rootID is the literal id of the root folder (§0).
const rootID = "root"

// node is a file or folder of the drive.
type node struct {
	id       string
	driveID  string // the drive whose tree holds the node
	name     string
	parent   *node
	folder   bool
	children map[string]*node // by name; folders only
	blob     *blob            // current content; files only
	versions []*blob          // every content version, so Remove can retire them
	created  time.Time
	updated  time.Time
	// refererBound overrides Options.RefererBound for this file when set.
	refererBound *bool
	// streams are the parts of a live photo by format ("jpeg", "mov"),
	// linked through streamsUrl on the Open API (livp.go).
	streams map[string]*blob
}

// fileSystem is the tree of one drive, guarded by Fake.mu. File ids are
// unique within a drive; every drive's root is "root".
type fileSystem struct {
	driveID string
	root    *node
	byID    map[string]*node
	blobs   map[string]*blob // by blob id, including replaced and removed ones
	// capacity limits the content a copy may add (SetCapacity); 0 is none.
	capacity int64
}

func (fs *fileSystem) init(driveID string) {
	fs.driveID = driveID
	fs.root = &node{id: rootID, driveID: driveID, folder: true, children: make(map[string]*node)}
	fs.byID = map[string]*node{rootID: fs.root}
	fs.blobs = make(map[string]*blob)
}

// splitPath cleans a drive path into its names: "/Movies/a b.mkv" and
// "Movies/a b.mkv" both give ["Movies", "a b.mkv"]; "/" gives none. Empty
// names (from "//" or a trailing "/") are kept so callers can reject them.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// helperNames is splitPath for the setup helpers, which also forgive a
// trailing "/" on folder paths ("/A/B/" is "/A/B").
func helperNames(p string) []string {
	if p != "/" {
		p = strings.TrimSuffix(p, "/")
	}
	return splitPath(p)
}

// lookup finds the node at names, or nil.
func (fs *fileSystem) lookup(names []string) *node {
	n := fs.root
	for _, name := range names {
		if !n.folder || name == "" {
			return nil
		}
		n = n.children[name]
		if n == nil {
			return nil
		}
	}
	return n
}

// folderAt walks names, creating missing folders stamped now. It panics when
// a name is empty or names an existing file: these helpers set up tests, and a
// mistyped fixture should fail loudly rather than build a different tree.
func (fs *fileSystem) folderAt(names []string, now time.Time) *node {
	n := fs.root
	for i, name := range names {
		if name == "" {
			panic(fmt.Sprintf("alifake: empty name in path %q", "/"+strings.Join(names, "/")))
		}
		child := n.children[name]
		if child == nil {
			child = fs.newNode(n, name, true, now)
		}
		if !child.folder {
			panic(fmt.Sprintf("alifake: %q is a file, not a folder", "/"+strings.Join(names[:i+1], "/")))
		}
		n = child
	}
	return n
}

// newNode links a new child into parent under a fresh 40-hex id, the shape of
// real file ids.
func (fs *fileSystem) newNode(parent *node, name string, folder bool, now time.Time) *node {
	return fs.linkNode(parent, randomHex(20), name, folder, now)
}

// linkNode links a new child into parent under the given id; uploads use it
// to give a finished file the id their create call announced (upload.go).
func (fs *fileSystem) linkNode(parent *node, id, name string, folder bool, now time.Time) *node {
	n := &node{id: id, driveID: fs.driveID, name: name, parent: parent, folder: folder, created: now, updated: now}
	if folder {
		n.children = make(map[string]*node)
	}
	parent.children[name] = n
	parent.updated = now
	fs.byID[n.id] = n
	return n
}

// putFile creates or replaces the file at path with b as its new content.
func (fs *fileSystem) putFile(path string, b *blob, now time.Time) string {
	names := splitPath(path)
	if len(names) == 0 || names[len(names)-1] == "" {
		panic(fmt.Sprintf("alifake: %q does not name a file", path))
	}
	dir := fs.folderAt(names[:len(names)-1], now)
	n := dir.children[names[len(names)-1]]
	switch {
	case n == nil:
		n = fs.newNode(dir, names[len(names)-1], false, now)
	case n.folder:
		panic(fmt.Sprintf("alifake: %q is a folder, not a file", path))
	}
	fs.setContent(n, b, now)
	return n.id
}

// setContent makes b the current content of file n, as a new revision: the
// blobs of earlier revisions stay, so links issued before keep serving them.
func (fs *fileSystem) setContent(n *node, b *blob, now time.Time) {
	b.id = randomHex(20)
	b.fileID = n.id
	b.modTime = now
	n.blob = b
	n.versions = append(n.versions, b)
	n.updated = now
	fs.blobs[b.id] = b
}

// remove unlinks n and its subtree and retires their content, so old links
// answer 404 NoSuchKey.
func (fs *fileSystem) remove(n *node) {
	for _, c := range n.children {
		fs.remove(c)
	}
	for _, b := range n.versions {
		b.deleted = true
	}
	if n == fs.root {
		clear(n.children)
		return
	}
	delete(fs.byID, n.id)
	delete(n.parent.children, n.name)
}

// stamp is the time recorded on new nodes: the fake's clock at millisecond
// precision, which is all the wire format carries.
func (f *Fake) stamp() time.Time { return f.now().UTC().Truncate(time.Millisecond) }

// AddFolder creates the folder at path and any missing parents in the
// default drive and returns its id ("root" for "/"). It is idempotent. It
// panics if a component of path is an existing file.
func (f *Fake) AddFolder(path string) string { return f.AddFolderTo(DriveDefault, path) }

// AddFile creates the file at path in the default drive with a copy of data,
// creating parents, and returns its id. An existing file keeps its id and gets
// new content (a new revision: links issued before keep serving the old bytes
// until they expire, as OSS objects are immutable).
func (f *Fake) AddFile(path string, data []byte) string { return f.AddFileTo(DriveDefault, path, data) }

// AddSynthetic creates a file of size bytes in the default drive whose
// content is generated on demand (see SyntheticReader), so multi-gigabyte
// files cost no memory. Its SHA-1 is computed on first use and memoised.
func (f *Fake) AddSynthetic(path string, size int64) string {
	return f.AddSyntheticTo(DriveDefault, path, size)
}

// Remove deletes the file or folder subtree at path in the default drive;
// "/" empties the drive. Links to removed files answer 404 NoSuchKey. A
// missing path is a no-op.
func (f *Fake) Remove(path string) { f.RemoveFrom(DriveDefault, path) }

// FileID returns the id of the file or folder at path in the default drive
// ("root" for "/").
func (f *Fake) FileID(path string) (string, bool) { return f.FileIDIn(DriveDefault, path) }

// SetRefererBound overrides Options.RefererBound for links to one file
// issued from now on. Unknown ids are ignored.
func (f *Fake) SetRefererBound(fileID string, bound bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.fs.byID[fileID]; n != nil {
		n.refererBound = &bound
	}
}

// SetUpdatedAt sets the modification time of the file or folder at path (and
// the Last-Modified of a file's current content), for If-Modified-Since and
// order_by=updated_at tests. Unknown paths are ignored.
func (f *Fake) SetUpdatedAt(path string, t time.Time) {
	t = t.UTC().Truncate(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.fs.lookup(helperNames(path))
	if n == nil {
		return
	}
	n.updated = t
	if n.blob != nil {
		n.blob.modTime = t
	}
}
