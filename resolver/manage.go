package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/alilink/alilink/aliclient"
)

// File management by path, for the front doors that write (WebDAV, later the
// AList API): each call maps paths to ids through the caches, asks the
// drive's Manager (spec §14), and forgets what the caches knew of every path
// it changed, the shared Redis link entries included. None of them replaces
// a taken name: the front door decides about overwriting (and trashes the
// target first).

// Failures of file management the front doors map to statuses.
var (
	// ErrNoParent: the folder a new item would go into does not exist (or
	// is a file). WebDAV answers 409.
	ErrNoParent = errors.New("the parent folder does not exist")
	// ErrBadTarget: a move or copy into the item itself or a folder inside
	// it, onto the root, or of the root.
	ErrBadTarget = aliclient.ErrBadTarget
)

// CanManage tells whether the drive's driver can create, rename, move, copy
// and trash (the share driver cannot).
func (r *Resolver) CanManage() bool {
	_, ok := r.drive.(aliclient.Manager)
	return ok
}

func (r *Resolver) manager() (aliclient.Manager, error) {
	m, ok := r.drive.(aliclient.Manager)
	if !ok {
		return nil, fmt.Errorf("manage: %w", ErrUnsupported)
	}
	return m, nil
}

// parentOf resolves the folder a new item at p goes into.
func (r *Resolver) parentOf(ctx context.Context, p string) (Item, string, error) {
	dir, name := splitPath(p)
	parent, err := r.Stat(ctx, dir)
	switch {
	case errors.Is(err, ErrNotFound):
		return Item{}, "", fmt.Errorf("%s: %w", dir, ErrNoParent)
	case err != nil:
		return Item{}, "", err
	case !parent.Folder:
		return Item{}, "", fmt.Errorf("%s is a file: %w", dir, ErrNoParent)
	}
	return parent, name, nil
}

// Mkdir creates the folder at the clean path p in an existing folder. A
// taken name (a folder too) is ErrExists.
func (r *Resolver) Mkdir(ctx context.Context, p string) (Item, error) {
	m, err := r.manager()
	if err != nil {
		return Item{}, err
	}
	if p == "/" {
		return Item{}, fmt.Errorf("mkdir /: %w", ErrExists)
	}
	parent, name, err := r.parentOf(ctx, p)
	if err != nil {
		return Item{}, err
	}
	f, existed, err := m.CreateFolder(ctx, parent.ID, name)
	r.forgetTree(ctx, p, false)
	if err == nil && existed {
		err = fmt.Errorf("mkdir %s: %w", p, ErrExists)
	}
	return f, err
}

// Move moves or renames the item at src to dst, whose folder must exist
// and whose name must be free (ErrExists). The item keeps its id, so its
// cached link stays good; every cached path under src and dst is dropped.
func (r *Resolver) Move(ctx context.Context, src, dst string) (Item, error) {
	m, err := r.manager()
	if err != nil {
		return Item{}, err
	}
	it, parent, name, err := r.transfer(ctx, src, dst)
	if err != nil {
		return Item{}, err
	}
	srcDir, _ := splitPath(src)
	dstDir, _ := splitPath(dst)
	var f Item
	if srcDir == dstDir {
		f, err = m.Rename(ctx, it.ID, name)
	} else {
		f, err = m.Move(ctx, it.ID, parent.ID, name)
	}
	r.forgetTree(ctx, src, false)
	r.forgetTree(ctx, dst, false)
	return f, err
}

// Copy copies the item at src (a folder with everything in it) to dst, as
// Move does, and answers the copy.
func (r *Resolver) Copy(ctx context.Context, src, dst string) (Item, error) {
	m, err := r.manager()
	if err != nil {
		return Item{}, err
	}
	it, parent, name, err := r.transfer(ctx, src, dst)
	if err != nil {
		return Item{}, err
	}
	f, err := m.Copy(ctx, it.ID, parent.ID, name)
	r.forgetTree(ctx, dst, false)
	return f, err
}

// transfer checks a move or copy of src to dst: the item, the target folder
// and the new name.
func (r *Resolver) transfer(ctx context.Context, src, dst string) (it, parent Item, name string, err error) {
	if src == "/" || dst == "/" || src == dst || strings.HasPrefix(dst, src+"/") {
		return Item{}, Item{}, "", fmt.Errorf("%s to %s: %w", src, dst, ErrBadTarget)
	}
	if it, err = r.Stat(ctx, src); err != nil {
		return Item{}, Item{}, "", err
	}
	if parent, name, err = r.parentOf(ctx, dst); err != nil {
		return Item{}, Item{}, "", err
	}
	return it, parent, name, nil
}

// Trash moves the item at p to the drive's recycle bin and forgets it, its
// links and everything cached under it.
func (r *Resolver) Trash(ctx context.Context, p string) error {
	m, err := r.manager()
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("trash /: %w", ErrBadTarget)
	}
	it, err := r.Stat(ctx, p)
	if err != nil {
		return err
	}
	err = m.Trash(ctx, it.ID)
	r.dropLink(ctx, it.ID)
	r.forgetTree(ctx, p, true)
	return err
}

// forgetTree drops the caches' knowledge of p, of its folder's listing, and
// of every path below p (a moved or trashed folder takes them along); with
// links, the links of the files found below p too.
func (r *Resolver) forgetTree(ctx context.Context, p string, links bool) {
	dir, _ := splitPath(p)
	r.lists.Remove(dir)
	r.lists.Remove(p)
	r.paths.Remove(p)
	// The negative cache is keyed by a hash of the path, so the entries
	// below p cannot be found by prefix: a write forgets every missing path
	// (writes are rare; a miss is one listing page again).
	r.neg.Purge()
	below := p + "/"
	if p == "/" {
		below = "/"
	}
	for _, k := range r.paths.Keys() {
		if strings.HasPrefix(k, below) {
			if e, ok := r.paths.Peek(k); ok && links && !e.item.Folder {
				r.dropLink(ctx, e.item.ID)
			}
			r.paths.Remove(k)
		}
	}
	for _, k := range r.lists.Keys() {
		if strings.HasPrefix(k, below) {
			r.lists.Remove(k)
		}
	}
}

// dropLink forgets a file's link here and in the replicas' cache.
func (r *Resolver) dropLink(ctx context.Context, fileID string) {
	r.links.Remove(fileID)
	if r.replicas != nil {
		_ = r.replicas.DeleteLink(ctx, fileID)
	}
}
