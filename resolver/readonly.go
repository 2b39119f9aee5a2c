package resolver

import (
	"fmt"
	"io/fs"
)

// ErrReadOnly: a write to a path that nothing may write to (a read-only
// mount, or the folders a mount table makes up, such as "/" listing the
// mounts). It is fs.ErrPermission too; the front doors answer 403.
var ErrReadOnly = fmt.Errorf("read-only: %w", fs.ErrPermission)
