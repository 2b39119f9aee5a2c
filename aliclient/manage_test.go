package aliclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
)

// startManager is startWriter for the file-management calls.
func startManager(t *testing.T, driver string) (*alifake.Fake, aliclient.Manager) {
	t.Helper()
	fake, up, _ := startWriter(t, driver, nil)
	m, ok := up.(aliclient.Manager)
	if !ok {
		t.Fatalf("the %s driver does not manage files", driver)
	}
	return fake, m
}

// names lists a folder's names through the client.
func names(t *testing.T, m aliclient.Manager, folderID string) []string {
	t.Helper()
	items, err := m.(aliclient.Drive).List(context.Background(), folderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	slices.Sort(out)
	return out
}

var forbidden = alifake.Fault{Status: http.StatusForbidden, Code: "ForbiddenNoPermission.File", Message: "injected"}

func TestManageFolderAndRename(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, m := startManager(t, driver)
			ctx := context.Background()
			d, existed, err := m.CreateFolder(ctx, "root", "Dir")
			if err != nil || existed || !d.Folder {
				t.Fatalf("unexpected first CreateFolder; got %+v existed %v, %v; want a new folder", d, existed, err)
			}
			again, existed, err := m.CreateFolder(ctx, "root", "Dir")
			if err != nil || !existed || again.ID != d.ID {
				t.Fatalf("unexpected second CreateFolder; got %+v existed %v, %v; want %s existed", again, existed, err, d.ID)
			}
			a := fake.AddFile("/a.txt", []byte("a"))
			fake.AddFile("/b.txt", []byte("b"))
			if _, _, err := m.CreateFolder(ctx, "root", "a.txt"); !errors.Is(err, aliclient.ErrExists) || !errors.Is(err, aliclient.ErrNotFolder) {
				t.Fatalf("unexpected CreateFolder over a file; got %v; want ErrExists and ErrNotFolder", err)
			}
			if _, err := m.Mkdir(ctx, "root", "a.txt"); !errors.Is(err, aliclient.ErrNotFolder) {
				t.Fatalf("unexpected Mkdir over a file; got %v; want ErrNotFolder", err)
			}

			f, err := m.Rename(ctx, a, "c.txt")
			if err != nil || f.ID != a || f.Name != "c.txt" {
				t.Fatalf("unexpected Rename; got %+v, %v; want %s named c.txt", f, err, a)
			}
			if _, err := m.Rename(ctx, a, "b.txt"); !errors.Is(err, aliclient.ErrExists) {
				t.Fatalf("unexpected Rename onto a taken name; got %v; want ErrExists", err)
			}
			if got, _ := fake.ReadFile("/b.txt"); string(got) != "b" {
				t.Fatalf("unexpected content of the taken name; got %q; want %q", got, "b")
			}
			if _, err := m.Rename(ctx, a, "x/y"); !errors.Is(err, aliclient.ErrBadTarget) {
				t.Fatalf("unexpected Rename to a path; got %v; want ErrBadTarget", err)
			}
			if _, err := m.Rename(ctx, "0000000000000000000000000000000000000000", "z"); !errors.Is(err, aliclient.ErrNotFound) {
				t.Fatalf("unexpected Rename of an unknown id; got %v; want ErrNotFound", err)
			}
			if err := m.Trash(ctx, a); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Rename(ctx, a, "z"); !errors.Is(err, aliclient.ErrTrashed) {
				t.Fatalf("unexpected Rename of a trashed file; got %v; want ErrTrashed", err)
			}
		})
	}
}

func TestManageMove(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, m := startManager(t, driver)
			ctx := context.Background()
			a := fake.AddFile("/src/a.txt", []byte("a"))
			b := fake.AddFile("/src/b.txt", []byte("b"))
			fake.AddFile("/dst/b.txt", []byte("taken"))
			dst, _ := fake.FileID("/dst")
			src, _ := fake.FileID("/src")
			sub := fake.AddFolder("/src/sub")

			f, err := m.Move(ctx, a, dst, "")
			if err != nil || f.ParentID != dst || f.Name != "a.txt" {
				t.Fatalf("unexpected Move; got %+v, %v; want a.txt in %s", f, err, dst)
			}
			if _, err := m.Move(ctx, b, dst, ""); !errors.Is(err, aliclient.ErrExists) {
				t.Fatalf("unexpected Move onto a taken name; got %v; want ErrExists", err)
			}
			if id, _ := fake.FileID("/src/b.txt"); id != b {
				t.Fatalf("unexpected source after a refused move; got %q; want %q still there", id, b)
			}
			// Under a new name: the open API moves, then renames, or takes
			// new_name when the old name is taken in the target.
			if f, err := m.Move(ctx, a, src, "a2.txt"); err != nil || f.Name != "a2.txt" || f.ParentID != src {
				t.Fatalf("unexpected Move under a new name; got %+v, %v; want a2.txt in %s", f, err, src)
			}
			if f, err := m.Move(ctx, b, dst, "b2.txt"); err != nil || f.Name != "b2.txt" || f.ParentID != dst {
				t.Fatalf("unexpected Move under a new name over a taken one; got %+v, %v; want b2.txt in %s", f, err, dst)
			}
			if got, _ := fake.ReadFile("/dst/b.txt"); string(got) != "taken" {
				t.Fatalf("unexpected content of the taken name; got %q; want %q", got, "taken")
			}
			if _, err := m.Move(ctx, src, sub, ""); !errors.Is(err, aliclient.ErrBadTarget) {
				t.Fatalf("unexpected Move into itself; got %v; want ErrBadTarget", err)
			}
			if _, err := m.Move(ctx, a, "0000000000000000000000000000000000000000", ""); !errors.Is(err, aliclient.ErrBadTarget) {
				t.Fatalf("unexpected Move to an unknown folder; got %v; want ErrBadTarget", err)
			}
		})
	}
}

// TestOpenMoveRenameFails: the rename after an open move fails; the item
// goes back where it was.
func TestOpenMoveRenameFails(t *testing.T) {
	fake, m := startManager(t, "open")
	ctx := context.Background()
	a := fake.AddFile("/src/a.txt", []byte("a"))
	dst := fake.AddFolder("/dst")
	fake.FailNext(alifake.EndpointOpenUpdate, 1, forbidden)
	if _, err := m.Move(ctx, a, dst, "z.txt"); !errors.Is(err, aliclient.ErrForbidden) {
		t.Fatalf("unexpected Move with a failing rename; got %v; want ErrForbidden", err)
	}
	if id, _ := fake.FileID("/src/a.txt"); id != a {
		t.Fatalf("unexpected place after a failed move; got /src/a.txt = %q; want %q back", id, a)
	}
	if got := names(t, m, dst); len(got) != 0 {
		t.Fatalf("unexpected target after a failed move; got %v; want empty", got)
	}
}

func TestManageCopy(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, m := startManager(t, driver)
			ctx := context.Background()
			a := fake.AddFile("/src/a.txt", []byte("a"))
			fake.AddFile("/src/sub/deep.txt", []byte("deep"))
			src, _ := fake.FileID("/src")
			dst := fake.AddFolder("/dst")

			f, err := m.Copy(ctx, a, dst, "")
			if err != nil || f.ID == a || f.Name != "a.txt" || f.ParentID != dst {
				t.Fatalf("unexpected Copy; got %+v, %v; want a new a.txt in %s", f, err, dst)
			}
			if got, _ := fake.ReadFile("/dst/a.txt"); string(got) != "a" {
				t.Fatalf("unexpected copy content; got %q; want %q", got, "a")
			}
			if f, err := m.Copy(ctx, a, dst, "c.txt"); err != nil || f.Name != "c.txt" {
				t.Fatalf("unexpected Copy under a new name; got %+v, %v; want c.txt", f, err)
			}
			// The name is taken: refused, and no auto-renamed copy stays.
			if _, err := m.Copy(ctx, a, dst, ""); !errors.Is(err, aliclient.ErrExists) {
				t.Fatalf("unexpected Copy onto a taken name; got %v; want ErrExists", err)
			}
			if got := names(t, m, dst); !slices.Equal(got, []string{"a.txt", "c.txt"}) {
				t.Fatalf("unexpected target after a refused copy; got %v; want [a.txt c.txt]", got)
			}

			// A folder: the copy is there when Copy returns.
			fake.SetAsyncTasks(3, false)
			f, err = m.Copy(ctx, src, dst, "")
			if err != nil || !f.Folder || f.Name != "src" {
				t.Fatalf("unexpected folder Copy; got %+v, %v; want folder src", f, err)
			}
			if got, _ := fake.ReadFile("/dst/src/sub/deep.txt"); string(got) != "deep" {
				t.Fatalf("unexpected deep copy; got %q; want %q", got, "deep")
			}
			ep := alifake.EndpointAsyncTask
			if driver == "open" {
				ep = alifake.EndpointOpenAsyncTask
			}
			if n := fake.Calls(ep); n != 4 {
				t.Fatalf("unexpected task polls; got %d; want 4 (3 Running, then Succeed)", n)
			}
			fake.SetAsyncTasks(0, true)
			if _, err := m.Copy(ctx, src, dst, "again"); !errors.Is(err, aliclient.ErrTaskFailed) {
				t.Fatalf("unexpected Copy with a failing task; got %v; want ErrTaskFailed", err)
			}
		})
	}
}

func TestManageTrashAndRestore(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, m := startManager(t, driver)
			ctx := context.Background()
			a := fake.AddFile("/d/a.txt", []byte("a"))
			fake.AddFile("/d/sub/b.txt", []byte("b"))
			sub, _ := fake.FileID("/d/sub")
			if err := m.Trash(ctx, a); err != nil || !fake.InTrash(a) {
				t.Fatalf("unexpected Trash; got %v (in bin %v); want the file in the bin", err, fake.InTrash(a))
			}
			fake.SetAsyncTasks(2, false)
			if err := m.Trash(ctx, sub); err != nil || !fake.InTrash(sub) {
				t.Fatalf("unexpected folder Trash; got %v (in bin %v); want it in the bin when Trash returns", err, fake.InTrash(sub))
			}
			if err := m.Trash(ctx, a); !errors.Is(err, aliclient.ErrTrashed) {
				t.Fatalf("unexpected second Trash; got %v; want ErrTrashed", err)
			}
			err := m.Restore(ctx, a)
			if driver == "open" {
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Fatalf("unexpected open Restore; got %v; want ErrUnsupported", err)
				}
				return
			}
			if id, _ := fake.FileID("/d/a.txt"); err != nil || id != a {
				t.Fatalf("unexpected Restore; got %v and /d/a.txt = %q; want %q back", err, id, a)
			}
		})
	}
}

// TestOpenOverwrite: the open API has no overwrite mode; an overwrite is an
// upload under a temporary name and a swap, and a fault at any step loses
// nothing.
func TestOpenOverwrite(t *testing.T) {
	src := func(b []byte) aliclient.UploadSource {
		return aliclient.UploadSource{Size: int64(len(b)), Data: bytes.NewReader(b)}
	}
	tests := []struct {
		name   string
		inject func(*alifake.Fake)
		ok     bool   // the overwrite succeeds
		want   string // content at /d/a.txt afterwards
	}{
		{"no fault", func(*alifake.Fake) {}, true, "new!"},
		{"setting the old file aside fails", func(f *alifake.Fake) { f.FailNext(alifake.EndpointOpenUpdate, 1, forbidden) }, false, "old"},
		{"putting the new file in place fails", func(f *alifake.Fake) { f.FailNextAfter(alifake.EndpointOpenUpdate, 1, forbidden) }, false, "old"},
		{"trashing the old file fails", func(f *alifake.Fake) { f.FailNext(alifake.EndpointOpenTrash, 1, forbidden) }, true, "new!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, m := startManager(t, "open")
			ctx := context.Background()
			old := fake.AddFile("/d/a.txt", []byte("old"))
			dir, _ := fake.FileID("/d")
			tc.inject(fake)
			f, _, err := m.Upload(ctx, dir, "a.txt", src([]byte("new!")), true)
			if (err == nil) != tc.ok {
				t.Fatalf("unexpected overwrite result; got %+v, %v; want ok=%v", f, err, tc.ok)
			}
			if got, _ := fake.ReadFile("/d/a.txt"); string(got) != tc.want {
				t.Fatalf("unexpected content; got %q; want %q", got, tc.want)
			}
			id, _ := fake.FileID("/d/a.txt")
			if tc.ok && (f.ID != id || f.Name != "a.txt" || f.Size != 4) {
				t.Fatalf("unexpected answer; got %+v; want the file now at /d/a.txt (%s)", f, id)
			}
			if !tc.ok && id != old {
				t.Fatalf("unexpected id after a failed overwrite; got %s; want the old %s", id, old)
			}
			got := names(t, m, dir)
			switch {
			case tc.name == "trashing the old file fails":
				// The old file is kept, hidden, rather than lost.
				if len(got) != 2 || !strings.HasPrefix(got[0], ".alilink-old-") || got[1] != "a.txt" {
					t.Fatalf("unexpected folder; got %v; want a.txt and the old file set aside", got)
				}
			case !slices.Equal(got, []string{"a.txt"}):
				t.Fatalf("unexpected folder; got %v; want only a.txt", got)
			}
			if tc.ok && tc.name == "no fault" && !fake.InTrash(old) {
				t.Fatalf("unexpected old file; got it out of the recycle bin; want it trashed")
			}
		})
	}
}

// TestLegacyOverwriteKeepsID: the legacy API overwrites in one create.
func TestLegacyOverwriteKeepsID(t *testing.T) {
	fake, m := startManager(t, "drive")
	old := fake.AddFile("/a.txt", []byte("old"))
	f, _, err := m.Upload(context.Background(), "root", "a.txt", aliclient.UploadSource{Size: 3, Data: strings.NewReader("new")}, true)
	if err != nil || f.ID != old {
		t.Fatalf("unexpected overwrite; got %+v, %v; want the old id %s", f, err, old)
	}
	if n := fake.Calls(alifake.EndpointFileUpdate) + fake.Calls(alifake.EndpointTrash); n != 0 {
		t.Fatalf("unexpected rename or trash calls; got %d; want 0", n)
	}
}

// TestUploadExistNotCached: a create with refuse answered exist:true is a
// name clash (spec §13.2), never a request for part URLs or a complete.
func TestUploadExistNotCached(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, m := startManager(t, driver)
			id := fake.AddFile("/a.txt", []byte("old"))
			ep := alifake.EndpointUploadComplete
			if driver == "open" {
				ep = alifake.EndpointOpenUploadComplete
			}
			_, _, err := m.Upload(context.Background(), "root", "a.txt", aliclient.UploadSource{Size: 3, Data: strings.NewReader("new")}, false)
			if !errors.Is(err, aliclient.ErrExists) || !strings.Contains(err.Error(), id) {
				t.Fatalf("unexpected upload onto a taken name; got %v; want ErrExists naming %s", err, id)
			}
			if n := fake.Calls(ep) + fake.Calls(alifake.EndpointUploadPart); n != 0 {
				t.Fatalf("unexpected part PUTs or completes; got %d; want 0", n)
			}
		})
	}
}
