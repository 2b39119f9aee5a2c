package alifake

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// managePaths are one family's §14 paths.
type managePaths struct {
	update, move, copy, trash, task string
	ep                              map[string]string // legacy endpoint name → this family's
}

func pathsOf(u *uploader) managePaths {
	if u.open {
		return managePaths{
			update: "/adrive/v1.0/openFile/update", move: "/adrive/v1.0/openFile/move", copy: "/adrive/v1.0/openFile/copy",
			trash: "/adrive/v1.0/openFile/recyclebin/trash", task: "/adrive/v1.0/openFile/async_task/get",
			ep: map[string]string{EndpointFileUpdate: EndpointOpenUpdate, EndpointFileMove: EndpointOpenMove, EndpointFileCopy: EndpointOpenCopy,
				EndpointTrash: EndpointOpenTrash, EndpointAsyncTask: EndpointOpenAsyncTask},
		}
	}
	return managePaths{
		update: "/v3/file/update", move: "/v2/file/move", copy: "/v2/file/copy", trash: "/v2/recyclebin/trash", task: "/v2/async_task/get",
		ep: map[string]string{EndpointFileUpdate: EndpointFileUpdate, EndpointFileMove: EndpointFileMove, EndpointFileCopy: EndpointFileCopy,
			EndpointTrash: EndpointTrash, EndpointAsyncTask: EndpointAsyncTask},
	}
}

// call posts body with the uploader's drive_id.
func (u *uploader) call(t *testing.T, path string, body map[string]any) response {
	t.Helper()
	if _, ok := body["drive_id"]; !ok {
		body["drive_id"] = u.driveID
	}
	return u.post(t, path, body)
}

// pollTask polls an async task until it is no longer Running (at most 10
// polls) and returns the final state and the number of Running answers.
func pollTask(t *testing.T, u *uploader, p managePaths, id string) (string, int) {
	t.Helper()
	for running := 0; running < 10; running++ {
		resp := u.call(t, p.task, map[string]any{"async_task_id": id})
		if resp.status != http.StatusOK {
			t.Fatalf("unexpected async_task/get; got %d %s; want 200", resp.status, resp.raw)
		}
		m := resp.fields(t)
		if !u.open && m["status"] != m["state"] {
			t.Fatalf("unexpected legacy task answer; got %s; want status equal to state", resp.raw)
		}
		if s := m["state"].(string); s != taskRunning {
			return s, running
		}
	}
	t.Fatalf("unexpected task; still Running after 10 polls; want a final state")
	return "", 0
}

func TestOpenCreateRefusesOverwrite(t *testing.T) {
	f := startFake(t, Options{})
	u := openUploader(t, f)
	f.AddFile("/a.txt", []byte("old"))
	for _, typ := range []string{"file", "folder"} {
		resp := u.create(t, map[string]any{"parent_file_id": "root", "name": "a.txt", "type": typ, "check_name_mode": "overwrite", "size": 3, "part_info_list": partList(1)})
		if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.CheckNameMode" {
			t.Fatalf("unexpected open create with overwrite (%s); got %d %s; want 400 InvalidParameter.CheckNameMode", typ, resp.status, resp.raw)
		}
	}
	// The legacy API still knows it.
	l := legacyUploader(t, f)
	if resp := l.create(t, fileBody("root", "a.txt", "overwrite", []byte("new"), 1)); resp.status != http.StatusCreated || resp.fields(t)["upload_id"] == nil {
		t.Fatalf("unexpected legacy create with overwrite; got %d %s; want 201 with an upload_id", resp.status, resp.raw)
	}
}

func TestManageRename(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			p := pathsOf(u)
			a := f.AddFile("/d/a.txt", []byte("a"))
			b := f.AddFile("/d/b.txt", []byte("b"))
			dir, _ := f.FileID("/d")

			resp := u.call(t, p.update, map[string]any{"file_id": a, "name": "c.txt", "check_name_mode": "refuse"})
			m := resp.fields(t)
			if resp.status != http.StatusOK || m["name"] != "c.txt" || m["file_id"] != a || m["parent_file_id"] != dir {
				t.Fatalf("unexpected rename; got %d %s; want 200 with the file object named c.txt", resp.status, resp.raw)
			}
			if id, ok := f.FileID("/d/c.txt"); !ok || id != a {
				t.Fatalf("unexpected FileID(/d/c.txt); got %q %v; want %q", id, ok, a)
			}
			if _, ok := f.FileID("/d/a.txt"); ok {
				t.Fatalf("unexpected old name after rename; got one; want none")
			}
			resp = u.call(t, p.update, map[string]any{"file_id": a, "name": "b.txt", "check_name_mode": "refuse"})
			if resp.status != http.StatusConflict || resp.code(t) != "AlreadyExist.File" || !strings.Contains(resp.fields(t)["message"].(string), b) {
				t.Fatalf("unexpected rename onto a taken name; got %d %s; want 409 AlreadyExist.File naming %s", resp.status, resp.raw, b)
			}
			if got, _ := f.ReadFile("/d/b.txt"); string(got) != "b" {
				t.Fatalf("unexpected content of the taken name; got %q; want %q", got, "b")
			}
			resp = u.call(t, p.update, map[string]any{"file_id": a, "name": "b.txt", "check_name_mode": "auto_rename"})
			if resp.status != http.StatusOK || resp.fields(t)["name"] != "b(1).txt" {
				t.Fatalf("unexpected auto_rename; got %d %s; want 200 b(1).txt", resp.status, resp.raw)
			}
			tests := []struct {
				name   string
				body   map[string]any
				status int
				code   string
			}{
				{"same name", map[string]any{"file_id": b, "name": "b.txt", "check_name_mode": "refuse"}, 200, ""},
				{"slash", map[string]any{"file_id": b, "name": "x/y", "check_name_mode": "refuse"}, 400, "InvalidParameter.Name"},
				{"unknown id", map[string]any{"file_id": "nope", "name": "z", "check_name_mode": "refuse"}, 404, ""},
				{"root", map[string]any{"file_id": "root", "name": "z", "check_name_mode": "refuse"}, 400, "InvalidParameter.FileId"},
				{"bad mode", map[string]any{"file_id": b, "name": "z", "check_name_mode": "overwrite"}, 400, "InvalidParameter.CheckNameMode"},
			}
			for _, tc := range tests {
				resp := u.call(t, p.update, tc.body)
				if resp.status != tc.status || (tc.code != "" && resp.code(t) != tc.code) {
					t.Fatalf("unexpected %s; got %d %s; want %d %s", tc.name, resp.status, resp.raw, tc.status, tc.code)
				}
			}
			if got := f.Calls(p.ep[EndpointFileUpdate]); got != 3+len(tests) {
				t.Fatalf("unexpected calls of %s; got %d; want %d", p.ep[EndpointFileUpdate], got, 3+len(tests))
			}
		})
	}
}

func TestManageMove(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			p := pathsOf(u)
			a := f.AddFile("/src/a.txt", []byte("a"))
			f.AddFile("/dst/a.txt", []byte("taken"))
			dst, _ := f.FileID("/dst")
			f.AddFolder("/src/sub/inner")
			sub, _ := f.FileID("/src/sub")
			src, _ := f.FileID("/src")
			before := f.Calls(p.ep[EndpointFileMove])

			// A taken name: legacy 409 (the fake's choice), open exist:true;
			// nothing moves either way.
			resp := u.call(t, p.move, map[string]any{"file_id": a, "to_parent_file_id": dst, "to_drive_id": u.driveID})
			if fam.name == "open" {
				if resp.status != http.StatusOK || resp.fields(t)["exist"] != true {
					t.Fatalf("unexpected open move onto a taken name; got %d %s; want 200 exist true", resp.status, resp.raw)
				}
			} else if resp.status != http.StatusConflict || resp.code(t) != "AlreadyExist.File" {
				t.Fatalf("unexpected legacy move onto a taken name; got %d %s; want 409 AlreadyExist.File", resp.status, resp.raw)
			}
			if id, _ := f.FileID("/src/a.txt"); id != a {
				t.Fatalf("unexpected move after a refusal; got /src/a.txt = %q; want %q still there", id, a)
			}
			// new_name: legacy moves and renames; open uses it because the
			// name is taken.
			resp = u.call(t, p.move, map[string]any{"file_id": a, "to_parent_file_id": dst, "new_name": "b.txt"})
			if resp.status != http.StatusOK || resp.fields(t)["file_id"] != a {
				t.Fatalf("unexpected move with new_name; got %d %s; want 200 file_id %s", resp.status, resp.raw, a)
			}
			if id, _ := f.FileID("/dst/b.txt"); id != a {
				t.Fatalf("unexpected /dst/b.txt after the move; got %q; want %q", id, a)
			}
			if got, _ := f.ReadFile("/dst/a.txt"); string(got) != "taken" {
				t.Fatalf("unexpected content of the taken name; got %q; want %q", got, "taken")
			}
			// A folder moves with its subtree.
			resp = u.call(t, p.move, map[string]any{"file_id": sub, "to_parent_file_id": dst})
			if resp.status != http.StatusOK {
				t.Fatalf("unexpected folder move; got %d %s; want 200", resp.status, resp.raw)
			}
			if _, ok := f.FileID("/dst/sub/inner"); !ok {
				t.Fatalf("unexpected subtree after the move; got no /dst/sub/inner; want it")
			}
			tests := []struct {
				name   string
				body   map[string]any
				status int
				code   string
			}{
				{"into itself", map[string]any{"file_id": src, "to_parent_file_id": src}, 400, "InvalidParameter.ToParentFileId"},
				{"into a file", map[string]any{"file_id": src, "to_parent_file_id": a}, 400, "InvalidParameter.ToParentFileId"},
				{"unknown target", map[string]any{"file_id": a, "to_parent_file_id": "nope"}, 404, "NotFound.ParentFileId"},
				{"another drive", map[string]any{"file_id": a, "to_parent_file_id": "root", "to_drive_id": "other"}, 400, "InvalidParameter.ToDriveId"},
			}
			for _, tc := range tests {
				resp := u.call(t, p.move, tc.body)
				if resp.status != tc.status || resp.code(t) != tc.code {
					t.Fatalf("unexpected %s; got %d %s; want %d %s", tc.name, resp.status, resp.raw, tc.status, tc.code)
				}
			}
			if got := f.Calls(p.ep[EndpointFileMove]) - before; got != 3+len(tests) {
				t.Fatalf("unexpected calls of %s; got %d; want %d", p.ep[EndpointFileMove], got, 3+len(tests))
			}
		})
	}
}

func TestManageLegacyMoveModes(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	a := f.AddFile("/a.txt", []byte("a"))
	f.AddFile("/d/a.txt", []byte("old"))
	d, _ := f.FileID("/d")
	resp := u.call(t, "/v3/file/move", map[string]any{"file_id": a, "to_parent_file_id": d, "overwrite": true})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected move with overwrite; got %d %s; want 200", resp.status, resp.raw)
	}
	if got, _ := f.ReadFile("/d/a.txt"); string(got) != "a" {
		t.Fatalf("unexpected content after overwrite; got %q; want %q", got, "a")
	}
	b := f.AddFile("/a.txt", []byte("b"))
	resp = u.call(t, "/v2/file/move", map[string]any{"file_id": b, "to_parent_file_id": d, "auto_rename": true})
	if id, _ := f.FileID("/d/a(1).txt"); resp.status != http.StatusOK || id != b {
		t.Fatalf("unexpected move with auto_rename; got %d %s and /d/a(1).txt = %q; want 200 and %q", resp.status, resp.raw, id, b)
	}
}

func TestManageCopy(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			p := pathsOf(u)
			data := randomData(5000, 3)
			a := f.AddFile("/src/a.bin", data)
			f.AddFile("/src/sub/b.txt", []byte("b"))
			src, _ := f.FileID("/src")
			dst := f.AddFolder("/dst")

			resp := u.call(t, p.copy, map[string]any{"file_id": a, "to_parent_file_id": dst})
			wantFile := http.StatusCreated
			if u.open {
				wantFile = http.StatusOK
			}
			m := resp.fields(t)
			if resp.status != wantFile || m["file_id"] == a || m["async_task_id"] != nil {
				t.Fatalf("unexpected file copy; got %d %s; want %d, a new file_id, no task", resp.status, resp.raw, wantFile)
			}
			if id, _ := f.FileID("/dst/a.bin"); id != m["file_id"] {
				t.Fatalf("unexpected copy id; got %q; want %v", id, m["file_id"])
			}
			if got, _ := f.ReadFile("/dst/a.bin"); !bytes.Equal(got, data) {
				t.Fatalf("unexpected copy content; got %d bytes; want the %d of the source", len(got), len(data))
			}
			if got, _ := f.ReadFile("/src/a.bin"); !bytes.Equal(got, data) {
				t.Fatalf("unexpected source after copy; got %d bytes; want the source", len(got))
			}
			// The name is taken now: refused without auto_rename.
			resp = u.call(t, p.copy, map[string]any{"file_id": a, "to_parent_file_id": dst})
			if resp.status != http.StatusConflict || resp.code(t) != "AlreadyExist.File" {
				t.Fatalf("unexpected copy onto a taken name; got %d %s; want 409 AlreadyExist.File", resp.status, resp.raw)
			}
			resp = u.call(t, p.copy, map[string]any{"file_id": a, "to_parent_file_id": dst, "auto_rename": true})
			if id, _ := f.FileID("/dst/a(1).bin"); resp.status != wantFile || id != resp.fields(t)["file_id"] {
				t.Fatalf("unexpected copy with auto_rename; got %d %s; want %d and /dst/a(1).bin", resp.status, resp.raw, wantFile)
			}

			// A folder copies in the background.
			resp = u.call(t, p.copy, map[string]any{"file_id": src, "to_parent_file_id": dst})
			m = resp.fields(t)
			wantFolder := http.StatusAccepted
			if u.open {
				wantFolder = http.StatusOK
			}
			task, _ := m["async_task_id"].(string)
			if resp.status != wantFolder || task == "" || m["file_id"] == "" {
				t.Fatalf("unexpected folder copy; got %d %s; want %d with a file_id and an async_task_id", resp.status, resp.raw, wantFolder)
			}
			if _, ok := f.FileID("/dst/src"); ok || f.AsyncTasks() != 1 {
				t.Fatalf("unexpected copy before its task finished; got one (%d tasks); want none yet and 1 task", f.AsyncTasks())
			}
			state, running := pollTask(t, u, p, task)
			if state != taskSucceed || running != 1 {
				t.Fatalf("unexpected task; got %s after %d Running; want Succeed after 1", state, running)
			}
			if id, _ := f.FileID("/dst/src"); id != m["file_id"] {
				t.Fatalf("unexpected folder copy id; got %q; want %v", id, m["file_id"])
			}
			if got, _ := f.ReadFile("/dst/src/sub/b.txt"); string(got) != "b" {
				t.Fatalf("unexpected deep copy; got %q; want %q", got, "b")
			}
			if resp := u.call(t, p.copy, map[string]any{"file_id": src, "to_parent_file_id": src}); resp.status != 400 {
				t.Fatalf("unexpected copy into itself; got %d %s; want 400", resp.status, resp.raw)
			}

			// A failed task does nothing.
			f.SetAsyncTasks(0, true)
			other := f.AddFolder("/other")
			resp = u.call(t, p.copy, map[string]any{"file_id": src, "to_parent_file_id": other})
			task, _ = resp.fields(t)["async_task_id"].(string)
			if state, _ := pollTask(t, u, p, task); state != taskFailed {
				t.Fatalf("unexpected task; got %s; want Failed", state)
			}
			if _, ok := f.FileID("/other/src"); ok {
				t.Fatalf("unexpected copy after a failed task; got one; want none")
			}
			if resp := u.call(t, p.task, map[string]any{"async_task_id": "nope"}); resp.status != http.StatusNotFound {
				t.Fatalf("unexpected unknown task; got %d %s; want 404", resp.status, resp.raw)
			}
		})
	}
}

func TestManageTrash(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			p := pathsOf(u)
			a := f.AddFile("/d/a.txt", []byte("a"))
			inner := f.AddFile("/d/sub/b.txt", []byte("b"))
			sub, _ := f.FileID("/d/sub")

			resp := u.call(t, p.trash, map[string]any{"file_id": a})
			want := http.StatusNoContent
			if u.open {
				want = http.StatusOK
			}
			if resp.status != want || (u.open && resp.fields(t)["file_id"] != a) || (!u.open && len(resp.raw) != 0) {
				t.Fatalf("unexpected file trash; got %d %q; want %d", resp.status, resp.raw, want)
			}
			if _, ok := f.FileID("/d/a.txt"); ok || !f.InTrash(a) {
				t.Fatalf("unexpected tree after trash; got the file still there or not in the bin; want it in the bin")
			}
			for _, call := range []struct {
				path string
				body map[string]any
			}{
				{p.update, map[string]any{"file_id": a, "name": "x"}},
				{p.move, map[string]any{"file_id": a, "to_parent_file_id": "root"}},
				{p.copy, map[string]any{"file_id": a, "to_parent_file_id": "root"}},
				{p.trash, map[string]any{"file_id": a}},
			} {
				if resp := u.call(t, call.path, call.body); resp.code(t) != "ForbiddenFileInTheRecycleBin" {
					t.Fatalf("unexpected %s of a trashed file; got %d %s; want ForbiddenFileInTheRecycleBin", call.path, resp.status, resp.raw)
				}
			}

			resp = u.call(t, p.trash, map[string]any{"file_id": sub})
			wantFolder := http.StatusAccepted
			if u.open {
				wantFolder = http.StatusOK
			}
			task, _ := resp.fields(t)["async_task_id"].(string)
			if resp.status != wantFolder || task == "" {
				t.Fatalf("unexpected folder trash; got %d %s; want %d with an async_task_id", resp.status, resp.raw, wantFolder)
			}
			if state, _ := pollTask(t, u, p, task); state != taskSucceed {
				t.Fatalf("unexpected trash task; got %s; want Succeed", state)
			}
			if _, ok := f.FileID("/d/sub/b.txt"); ok || !f.InTrash(inner) {
				t.Fatalf("unexpected subtree after a folder trash; got it in the tree or not in the bin; want it in the bin")
			}
			if got := f.Calls(p.ep[EndpointTrash]); got != 3 {
				t.Fatalf("unexpected calls of %s; got %d; want 3", p.ep[EndpointTrash], got)
			}
		})
	}
}

func TestManageRestore(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	a := f.AddFile("/d/a.txt", []byte("a"))
	f.SetAsyncTasks(0, false)
	sub := f.AddFolder("/d/sub")
	inner := f.AddFile("/d/sub/b.txt", []byte("b"))
	u.call(t, "/v2/recyclebin/trash", map[string]any{"file_id": a})
	resp := u.call(t, "/v2/recyclebin/trash", map[string]any{"file_id": sub})
	pollTask(t, u, pathsOf(u), resp.fields(t)["async_task_id"].(string))

	if resp := u.call(t, "/v2/recyclebin/restore", map[string]any{"file_id": inner}); resp.code(t) != "ForbiddenFileInTheRecycleBin" {
		t.Fatalf("unexpected restore inside a trashed folder; got %d %s; want ForbiddenFileInTheRecycleBin", resp.status, resp.raw)
	}
	for _, id := range []string{a, sub} {
		if resp := u.call(t, "/v2/recyclebin/restore", map[string]any{"file_id": id}); resp.status != http.StatusNoContent {
			t.Fatalf("unexpected restore; got %d %s; want 204", resp.status, resp.raw)
		}
	}
	if id, _ := f.FileID("/d/a.txt"); id != a || f.InTrash(a) {
		t.Fatalf("unexpected restored file; got %q (in bin %v); want %q out of the bin", id, f.InTrash(a), a)
	}
	if got, _ := f.ReadFile("/d/sub/b.txt"); string(got) != "b" || f.InTrash(inner) {
		t.Fatalf("unexpected restored subtree; got %q; want %q", got, "b")
	}
	// A name taken meanwhile is refused; an unknown id is 404.
	u.call(t, "/v2/recyclebin/trash", map[string]any{"file_id": a})
	f.AddFile("/d/a.txt", []byte("new"))
	if resp := u.call(t, "/v2/recyclebin/restore", map[string]any{"file_id": a}); resp.status != http.StatusConflict {
		t.Fatalf("unexpected restore onto a taken name; got %d %s; want 409", resp.status, resp.raw)
	}
	if resp := u.call(t, "/v2/recyclebin/restore", map[string]any{"file_id": "nope"}); resp.status != http.StatusNotFound {
		t.Fatalf("unexpected restore of an unknown id; got %d %s; want 404", resp.status, resp.raw)
	}
	if got := f.Calls(EndpointRestore); got != 5 {
		t.Fatalf("unexpected calls of %s; got %d; want 5", EndpointRestore, got)
	}
}

func TestFailNextAfter(t *testing.T) {
	f := startFake(t, Options{})
	u := openUploader(t, f)
	a := f.AddFile("/a.txt", []byte("a"))
	f.FailNextAfter(EndpointOpenUpdate, 1, Fault{Status: http.StatusForbidden, Code: "ForbiddenNoPermission.File"})
	names := []string{"b.txt", "c.txt", "d.txt"}
	want := []int{200, 403, 200}
	for i, name := range names {
		if resp := u.call(t, "/adrive/v1.0/openFile/update", map[string]any{"file_id": a, "name": name}); resp.status != want[i] {
			t.Fatalf("unexpected call %d; got %d %s; want %d", i, resp.status, resp.raw, want[i])
		}
	}
	if id, _ := f.FileID("/d.txt"); id != a {
		t.Fatalf("unexpected name after the calls; got /d.txt = %q; want %q", id, a)
	}
}

func TestManageOpenMoveModes(t *testing.T) {
	f := startFake(t, Options{})
	u := openUploader(t, f)
	d := f.AddFolder("/d")
	f.AddFile("/d/a.txt", []byte("old"))
	f.AddFolder("/d/dir")
	a := f.AddFile("/a.txt", []byte("a"))
	resp := u.call(t, "/adrive/v1.0/openFile/move", map[string]any{"file_id": a, "to_parent_file_id": d, "check_name_mode": "auto_rename"})
	if id, _ := f.FileID("/d/a(1).txt"); resp.status != http.StatusOK || id != a || resp.fields(t)["exist"] != false {
		t.Fatalf("unexpected auto_rename move; got %d %s and /d/a(1).txt = %q; want 200 and %q", resp.status, resp.raw, id, a)
	}
	b := f.AddFile("/a.txt", []byte("b"))
	resp = u.call(t, "/adrive/v1.0/openFile/move", map[string]any{"file_id": b, "to_parent_file_id": d, "check_name_mode": "ignore"})
	if got, _ := f.ReadFile("/d/a.txt"); resp.status != http.StatusOK || string(got) != "b" {
		t.Fatalf("unexpected ignore move; got %d %s and /d/a.txt = %q; want 200 and the moved file in place", resp.status, resp.raw, got)
	}
	dir := f.AddFolder("/dir")
	resp = u.call(t, "/adrive/v1.0/openFile/move", map[string]any{"file_id": dir, "to_parent_file_id": d, "check_name_mode": "ignore"})
	if resp.status != http.StatusConflict || resp.code(t) != "AlreadyExist.File" {
		t.Fatalf("unexpected ignore move onto a folder; got %d %s; want 409 AlreadyExist.File", resp.status, resp.raw)
	}
	resp = u.call(t, "/adrive/v1.0/openFile/move", map[string]any{"file_id": dir, "to_parent_file_id": d, "check_name_mode": "overwrite"})
	if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.CheckNameMode" {
		t.Fatalf("unexpected overwrite move; got %d %s; want 400 InvalidParameter.CheckNameMode", resp.status, resp.raw)
	}
}
