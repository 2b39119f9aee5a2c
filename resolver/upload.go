package resolver

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/alilink/alilink/aliclient"
)

// UploadSource is a file to upload (aliclient.UploadSource).
type UploadSource = aliclient.UploadSource

// Upload errors the server maps: a name clash, a drive that cannot write.
var (
	ErrExists      = aliclient.ErrExists
	ErrUnsupported = errors.ErrUnsupported
	ErrNotFolder   = aliclient.ErrNotFolder
	// ErrContentMismatch: the drive found the bytes do not match their SHA-1.
	ErrContentMismatch = aliclient.ErrContentMismatch
)

// CanUpload tells whether the drive's driver writes (the share driver does not).
func (r *Resolver) CanUpload() bool {
	_, ok := r.drive.(aliclient.Uploader)
	return ok
}

func (r *Resolver) uploader() (aliclient.Uploader, error) {
	up, ok := r.drive.(aliclient.Uploader)
	if !ok {
		return nil, fmt.Errorf("upload: %w", ErrUnsupported)
	}
	return up, nil
}

// Upload writes the file at the clean path p, creating missing folders, and
// forgets what the caches knew of it and its folder, so that the next GET of
// p finds the new file. rapid tells whether the drive already had the content.
func (r *Resolver) Upload(ctx context.Context, p string, src UploadSource, overwrite bool) (Item, bool, error) {
	up, err := r.uploader()
	if err != nil {
		return Item{}, false, err
	}
	dir, name := splitPath(p)
	parent, err := r.ensureFolder(ctx, up, dir)
	if err != nil {
		return Item{}, false, err
	}
	// An overwrite on the open API makes a new file (a new id): the old
	// one's link goes too.
	var oldID string
	if e, ok := r.paths.Peek(p); ok {
		oldID = e.item.ID
	}
	f, rapid, err := up.Upload(ctx, parent.ID, name, src, overwrite)
	r.forget(ctx, dir, p, f.ID)
	if oldID != "" && oldID != f.ID {
		r.forget(ctx, dir, p, oldID)
	}
	return f, rapid, err
}

// ensureFolder finds the folder at the clean path dir, creating it and its
// missing parents.
func (r *Resolver) ensureFolder(ctx context.Context, up aliclient.Uploader, dir string) (Item, error) {
	it, err := r.Stat(ctx, dir)
	switch {
	case err == nil && it.Folder:
		return it, nil
	case err == nil:
		return Item{}, fmt.Errorf("%s is a file: %w", dir, ErrNotFolder)
	case !errors.Is(err, ErrNotFound):
		return Item{}, err
	}
	parentDir, name := splitPath(dir)
	parent, err := r.ensureFolder(ctx, up, parentDir)
	if err != nil {
		return Item{}, err
	}
	f, err := up.Mkdir(ctx, parent.ID, name)
	if err != nil {
		return Item{}, err
	}
	r.forget(ctx, parentDir, dir, "")
	return f, nil
}

// forget drops the caches' knowledge of p, its folder's listing, and the
// link of the file that p was (an overwritten file keeps its id).
func (r *Resolver) forget(ctx context.Context, dir, p, fileID string) {
	r.lists.Remove(dir)
	r.paths.Remove(p)
	r.neg.Remove(r.negKey(p))
	if fileID != "" {
		r.links.Remove(fileID)
		if r.replicas != nil {
			_ = r.replicas.DeleteLink(ctx, fileID)
		}
	}
}

// splitPath is path.Split for clean paths: ("/a/b", "c") for "/a/b/c" and
// ("/", "c") for "/c".
func splitPath(p string) (dir, name string) {
	dir, name = path.Split(p)
	if len(dir) > 1 {
		dir = dir[:len(dir)-1]
	}
	return dir, name
}
