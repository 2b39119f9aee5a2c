package resolver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
)

// TestManageDropsCaches: after each change the caches answer as the drive
// does, for the changed paths and everything below them (the caches were
// warm before, so a stale entry would be served).
func TestManageDropsCaches(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			fake, r := startDriver(t, driver, alifake.Options{}, testConfig())
			fake.AddFile("/a/sub/x.txt", []byte("x"))
			fake.AddFile("/b/y.txt", []byte("y"))
			ctx := context.Background()
			mustStat := func(p string) resolver.Item {
				t.Helper()
				it, err := r.Stat(ctx, p)
				if err != nil {
					t.Fatalf("stat %s: %v", p, err)
				}
				return it
			}
			missing := func(p string) {
				t.Helper()
				if _, err := r.Stat(ctx, p); !errors.Is(err, resolver.ErrNotFound) {
					t.Fatalf("stat %s: %v; want not found", p, err)
				}
			}
			x := mustStat("/a/sub/x.txt")
			missing("/b/sub")
			missing("/c")
			if _, err := r.Link(ctx, x); err != nil {
				t.Fatal(err)
			}

			if _, err := r.Mkdir(ctx, "/c"); err != nil {
				t.Fatal(err)
			}
			if !mustStat("/c").Folder {
				t.Fatal("mkdir made no folder")
			}
			if _, err := r.Mkdir(ctx, "/c"); !errors.Is(err, resolver.ErrExists) {
				t.Fatalf("mkdir of a taken name: %v", err)
			}
			if _, err := r.Mkdir(ctx, "/nope/d"); !errors.Is(err, resolver.ErrNoParent) {
				t.Fatalf("mkdir without a parent: %v", err)
			}

			// A folder moved into another: its old paths go, the new ones come.
			if _, err := r.Move(ctx, "/a/sub", "/b/sub"); err != nil {
				t.Fatal(err)
			}
			missing("/a/sub/x.txt")
			if got := mustStat("/b/sub/x.txt"); got.ID != x.ID {
				t.Fatalf("the moved file has id %s; want %s", got.ID, x.ID)
			}
			// A rename in place.
			if _, err := r.Move(ctx, "/b/y.txt", "/b/z.txt"); err != nil {
				t.Fatal(err)
			}
			missing("/b/y.txt")
			mustStat("/b/z.txt")
			if _, err := r.Move(ctx, "/b", "/b/sub/inside"); !errors.Is(err, resolver.ErrBadTarget) {
				t.Fatalf("a move into itself: %v", err)
			}
			if _, err := r.Move(ctx, "/b/z.txt", "/b/sub/x.txt"); !errors.Is(err, resolver.ErrExists) {
				t.Fatalf("a move onto a taken name: %v", err)
			}

			cp, err := r.Copy(ctx, "/b/sub", "/c/copy")
			if err != nil {
				t.Fatal(err)
			}
			if cp.ID == "" || mustStat("/c/copy/x.txt").ID == x.ID {
				t.Fatal("the copy is not a new item")
			}

			// Trash forgets the item, what is below it, and a file's link.
			cx := mustStat("/c/copy/x.txt")
			if _, err := r.Link(ctx, cx); err != nil {
				t.Fatal(err)
			}
			fake.ResetCounters()
			if err := r.Trash(ctx, "/c/copy/x.txt"); err != nil {
				t.Fatal(err)
			}
			if !fake.InTrash(cx.ID) {
				t.Fatal("trash did not reach the drive")
			}
			missing("/c/copy/x.txt")
			_, _ = r.Link(ctx, cx)
			if fake.Calls(aliclienttest.EndpointsOf(driver).Link) != 1 {
				t.Fatal("the trashed file's link was still served from the cache")
			}
			if err := r.Trash(ctx, "/b/sub"); err != nil {
				t.Fatal(err)
			}
			missing("/b/sub")
			missing("/b/sub/x.txt")
			if err := r.Trash(ctx, "/"); !errors.Is(err, resolver.ErrBadTarget) {
				t.Fatalf("trash of the root: %v", err)
			}
		})
	}
}
