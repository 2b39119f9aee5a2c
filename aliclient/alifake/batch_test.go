package alifake

import (
	"encoding/json"
	"net/http"
	"testing"
)

// batchCopyBody is power721's share copy (§15.1 step 4).
func batchCopyBody(shareID, fileID, toParent, toDrive string) map[string]any {
	return map[string]any{
		"requests": []map[string]any{{
			"body": map[string]any{"file_id": fileID, "share_id": shareID, "auto_rename": true,
				"to_parent_file_id": toParent, "to_drive_id": toDrive},
			"headers": map[string]string{"Content-Type": "application/json"},
			"id":      "0", "method": "POST", "url": "/file/copy",
		}},
		"resource": "file",
	}
}

// batch posts a batch with the share client's tokens (no device headers).
func (sc *shareClient) batch(t *testing.T, path string, body any) response {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer\t" + sc.access}, "X-Share-Token": {sc.token},
		"X-Canary": {shareCanary}, "Referer": {webReferer}}
	return postJSON(t, sc.c, sc.f.APIURL()+path, h, body)
}

// firstItem decodes responses[0] of a batch answer.
func firstItem(t *testing.T, resp response) (int, map[string]any) {
	t.Helper()
	var out struct {
		Responses []struct {
			ID     string         `json:"id"`
			Status int            `json:"status"`
			Body   map[string]any `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(resp.raw, &out); err != nil || len(out.Responses) != 1 || out.Responses[0].ID != "0" {
		t.Fatalf("unexpected batch answer; got %d %s; want one response with id 0", resp.status, resp.raw)
	}
	return out.Responses[0].Status, out.Responses[0].Body
}

// TestShareCopyPlays: a file copied from a share into the user's resource
// drive is a new file whose legacy link serves the share file's bytes; the
// outer answer is 200 whatever the item says (§14.7, §15).
func TestShareCopyPlays(t *testing.T) {
	f := startFake(t, Options{})
	src := f.AddSynthetic("/Shared/movie.mkv", 300_000)
	f.AddFile("/Shared/Season/e1.mkv", []byte("e1"))
	season, _ := f.FileID("/Shared/Season")
	outside := f.AddFile("/Other/x.mkv", []byte("x"))
	share := f.AddShare("/Shared", "")
	sc := newShareClient(t, f, share, "")
	res := f.DriveIDOf(DriveResource)
	tmp := f.AddFolderTo(DriveResource, "/tmp")
	legacy := login(t, f)

	for _, path := range []string{"/adrive/v4/batch", "/adrive/v2/batch", "/v3/batch"} {
		resp := sc.batch(t, path, batchCopyBody(share, src, tmp, res))
		status, body := firstItem(t, resp)
		if resp.status != 200 || status != 201 || body["drive_id"] != res || body["file_id"] == src || body["file_id"] == "" {
			t.Fatalf("%s: unexpected copy; got %d/%d %v; want 200/201 with a new file id in %s", path, resp.status, status, body, res)
		}
		copyID := body["file_id"].(string)
		got := get(t, sc.c, legacy.linkIn(t, res, copyID), "")
		if want := syntheticBytes(t, "/Shared/movie.mkv", 300_000, 0, 300_000); got.status != 200 || string(got.raw) != string(want) {
			t.Fatalf("%s: unexpected content of the copy; got %d, %d bytes; want the share file's", path, got.status, len(got.raw))
		}
	}
	if n := f.Calls(EndpointShareCopy); n != 3 {
		t.Fatalf("unexpected Calls(share/copy); got %d; want 3", n)
	}
	// auto_rename kept all three.
	resp := legacy.post(t, "/adrive/v3/file/list", map[string]any{"drive_id": res, "parent_file_id": tmp})
	if its := items(t, resp); len(its) != 3 {
		t.Fatalf("unexpected temp folder; got %s; want three copies", resp.raw)
	}

	// A folder is copied in the background: 202 with an async_task_id.
	status, body := firstItem(t, sc.batch(t, "/adrive/v4/batch", batchCopyBody(share, season, tmp, res)))
	if status != 202 || body["async_task_id"] == nil {
		t.Fatalf("unexpected folder copy; got %d %v; want 202 with async_task_id", status, body)
	}

	tests := []struct {
		name   string
		header http.Header
		body   any
		outer  int
		status int
		code   string
	}{
		{"outside the share", nil, batchCopyBody(share, outside, tmp, res), 200, 404, "NotFound.File"},
		{"another share", nil, batchCopyBody("Elsewhere01", src, tmp, res), 200, 400, "InvalidParameter.ShareId"},
		{"unknown target folder", nil, batchCopyBody(share, src, "nope", res), 200, 404, "NotFound.ParentFileId"},
		{"unknown drive", nil, batchCopyBody(share, src, tmp, "nope"), 200, 404, "NotFound.Drive"},
		{"no share token", http.Header{"Authorization": {"Bearer\t" + sc.access}}, batchCopyBody(share, src, tmp, res), 401, 0, "ShareLinkTokenInvalid"},
		{"no access token", http.Header{"X-Share-Token": {sc.token}}, batchCopyBody(share, src, tmp, res), 401, 0, "AccessTokenInvalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp response
			if tc.header != nil {
				resp = postJSON(t, sc.c, f.APIURL()+"/adrive/v4/batch", tc.header, tc.body)
			} else {
				resp = sc.batch(t, "/adrive/v4/batch", tc.body)
			}
			if resp.status != tc.outer {
				t.Fatalf("unexpected outer status; got %d %s; want %d", resp.status, resp.raw, tc.outer)
			}
			if tc.outer != 200 {
				if resp.code(t) != tc.code {
					t.Fatalf("unexpected outer code; got %s; want %s", resp.raw, tc.code)
				}
				return
			}
			status, body := firstItem(t, resp)
			if status != tc.status || body["code"] != tc.code {
				t.Fatalf("unexpected item; got %d %v; want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

// TestShareCopyQuota: a full drive refuses the copy with QuotaExhausted.Drive
// and the service's message, in the item (§14.8, §15.2).
func TestShareCopyQuota(t *testing.T) {
	f := startFake(t, Options{})
	src := f.AddFile("/Shared/big.mkv", make([]byte, 1000))
	share := f.AddShare("/Shared", "")
	sc := newShareClient(t, f, share, "")
	f.SetCapacity(DriveResource, 999)
	status, body := firstItem(t, sc.batch(t, "/adrive/v4/batch", batchCopyBody(share, src, "root", f.DriveIDOf(DriveResource))))
	if status != 400 || body["code"] != "QuotaExhausted.Drive" || body["message"] != msgQuotaExhausted {
		t.Fatalf("unexpected copy into a full drive; got %d %v; want 400 QuotaExhausted.Drive", status, body)
	}
	f.SetCapacity(DriveResource, 1000)
	if status, body := firstItem(t, sc.batch(t, "/adrive/v4/batch", batchCopyBody(share, src, "root", f.DriveIDOf(DriveResource)))); status != 201 {
		t.Fatalf("unexpected copy that fits; got %d %v; want 201", status, body)
	}
}

// TestDelete: permanent delete, batched (item 204), legacy (204) and open
// (200); old links of a deleted file answer 404 on the CDN (§14.6).
func TestDelete(t *testing.T) {
	f := startFake(t, Options{})
	legacy := login(t, f)
	open := openLogin(t, f)
	res := f.DriveIDOf(DriveResource)
	a := f.AddFileTo(DriveResource, "/a.mkv", []byte("a"))
	b := f.AddFileTo(DriveResource, "/b.mkv", []byte("b"))
	c := f.AddFileTo(DriveResource, "/c.mkv", []byte("c"))
	link := legacy.linkIn(t, res, a)

	resp := legacy.post(t, "/adrive/v4/batch", map[string]any{"resource": "file", "requests": []map[string]any{{
		"body": map[string]any{"drive_id": res, "file_id": a}, "id": "0", "method": "POST", "url": "/file/delete"}}})
	if status, _ := firstItem(t, resp); resp.status != 200 || status != 204 {
		t.Fatalf("unexpected batched delete; got %d %s; want 200 with item 204", resp.status, resp.raw)
	}
	if got := get(t, legacy.c, link, ""); got.status != http.StatusNotFound {
		t.Fatalf("unexpected link of a deleted file; got %d; want 404", got.status)
	}
	resp = legacy.post(t, "/adrive/v4/batch", map[string]any{"resource": "file", "requests": []map[string]any{{
		"body": map[string]any{"drive_id": res, "file_id": a}, "id": "0", "method": "POST", "url": "/file/delete"}}})
	if status, body := firstItem(t, resp); status != 404 || body["code"] != "NotFound.File" {
		t.Fatalf("unexpected second delete; got %s; want item 404 NotFound.File", resp.raw)
	}
	if resp := legacy.post(t, "/v2/file/delete", map[string]any{"drive_id": res, "file_id": b}); resp.status != 204 {
		t.Fatalf("unexpected legacy delete; got %d %s; want 204", resp.status, resp.raw)
	}
	resp = open.post(t, "/adrive/v1.0/openFile/delete", map[string]any{"drive_id": res, "file_id": c})
	if resp.status != 200 || resp.fields(t)["file_id"] != c {
		t.Fatalf("unexpected open delete; got %d %s; want 200 with the file id", resp.status, resp.raw)
	}
	if resp := open.post(t, "/adrive/v1.0/openFile/delete", map[string]any{"drive_id": res, "file_id": c}); resp.status != 404 || resp.code(t) != "NotFound.FileId" {
		t.Fatalf("unexpected open delete of a gone file; got %d %s; want 404 NotFound.FileId", resp.status, resp.raw)
	}
	for _, p := range []string{"/a.mkv", "/b.mkv", "/c.mkv"} {
		if _, ok := f.FileIDIn(DriveResource, p); ok {
			t.Fatalf("unexpected %s after delete; got it; want gone", p)
		}
	}
	if n := f.Calls(EndpointFileDelete); n != 5 {
		t.Fatalf("unexpected Calls(file/delete); got %d; want 5", n)
	}
}

// TestShareListCanary: the share listing without the share X-Canary answers
// ParamFlowException (§13.5).
func TestShareListCanary(t *testing.T) {
	f := startFake(t, Options{})
	f.AddFile("/Shared/a.mkv", []byte("a"))
	share := f.AddShare("/Shared", "")
	sc := newShareClient(t, f, share, "")
	resp := postJSON(t, sc.c, f.APIURL()+"/adrive/v3/file/list", http.Header{"X-Share-Token": {sc.token}},
		map[string]any{"share_id": share, "parent_file_id": "root"})
	if resp.status != http.StatusTooManyRequests || resp.code(t) != "ParamFlowException" || resp.fields(t)["resultCode"] != "ParamFlowException" {
		t.Fatalf("unexpected listing without X-Canary; got %d %s; want ParamFlowException", resp.status, resp.raw)
	}
	if resp := sc.list(t, map[string]any{"share_id": share, "parent_file_id": "root"}); resp.status != 200 {
		t.Fatalf("unexpected listing with X-Canary; got %d %s; want 200", resp.status, resp.raw)
	}
}

// TestUserGetDrives: the legacy user/get names both drives, the default one
// being the backup drive (§16).
func TestUserGetDrives(t *testing.T) {
	f := startFake(t, Options{DriveID: "555"})
	m := login(t, f).post(t, "/v2/user/get", map[string]any{}).fields(t)
	if m["default_drive_id"] != "555" || m["backup_drive_id"] != "555" || m["resource_drive_id"] != "5551" {
		t.Fatalf("unexpected user/get drives; got %v; want default = backup 555, resource 5551", m)
	}
}

// TestDeleteTrashed: a permanent delete reaches an item in the recycle bin,
// on the legacy and the open API.
func TestDeleteTrashed(t *testing.T) {
	f := startFake(t, Options{})
	for _, u := range []*uploader{legacyUploader(t, f), openUploader(t, f)} {
		id := f.AddFile("/d/gone.bin", []byte("x"))
		trash, del := "/v2/recyclebin/trash", "/v3/file/delete"
		if u.open {
			trash, del = "/adrive/v1.0/openFile/recyclebin/trash", "/adrive/v1.0/openFile/delete"
		}
		u.call(t, trash, map[string]any{"file_id": id})
		if !f.InTrash(id) {
			t.Fatalf("unexpected: the file is not in the trash")
		}
		if resp := u.call(t, del, map[string]any{"file_id": id}); resp.status >= 300 {
			t.Fatalf("unexpected delete of a trashed file; got %d %s; want 2xx", resp.status, resp.raw)
		}
		if f.InTrash(id) {
			t.Fatalf("unexpected: the file is still in the trash after a permanent delete")
		}
	}
}
