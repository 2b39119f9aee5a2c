package alifake

import (
	"bytes"
	"net/http"
	"testing"
)

func TestOpenUpload(t *testing.T) {
	f := startFake(t, Options{})
	u := openUploader(t, f)
	u.driveID = f.DriveIDOf(DriveResource) // the Open API reaches every drive
	dir := f.AddFolderTo(DriveResource, "/In")
	data := randomData(45_000, 20)

	resp := u.create(t, map[string]any{
		"parent_file_id": dir, "name": "o.bin", "type": "file", "check_name_mode": "ignore",
		"part_info_list": partList(3), "local_created_at": "2024-05-01T12:00:00.000Z", "local_modified_at": "2024-05-01T12:00:00.000Z",
	})
	s := mustSession(t, u, resp)
	m := resp.fields(t)
	if s.fileName != "o.bin" || m["name"] != nil || m["drive_id"] != u.driveID {
		t.Fatalf("unexpected create answer; got %s; want file_name o.bin, no name, drive_id %s", resp.raw, u.driveID)
	}
	for _, in := range s.internal {
		if in != "" {
			t.Fatalf("unexpected internal_upload_url on the Open API; got %q; want none", in)
		}
	}
	parts := split(data, 3)
	if resp := put(t, u.c, s.urls[0], parts[0], true); resp.status != http.StatusOK {
		t.Fatalf("unexpected PUT; got %d %s; want 200", resp.status, resp.raw)
	}
	if resp := put(t, u.c, s.urls[0], parts[0], true); resp.status != http.StatusConflict {
		t.Fatalf("unexpected repeated PUT; got %d %s; want 409", resp.status, resp.raw)
	}
	resp = u.post(t, u.urlPath(), map[string]any{"drive_id": u.driveID, "file_id": s.fileID, "upload_id": s.uploadID, "part_info_list": partList(3)})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected getUploadUrl; got %d %s; want 200", resp.status, resp.raw)
	}
	_, fresh, _ := partURLs(t, resp.fields(t))
	putAll(t, u.c, fresh[1:], data[len(parts[0]):], true)
	if _, ok := f.FileIDIn(DriveResource, "/In/o.bin"); ok {
		t.Fatalf("unexpected file before complete; got one; want none")
	}
	resp = u.complete(t, s.fileID, s.uploadID)
	m = resp.fields(t)
	if resp.status != http.StatusOK || m["file_id"] != s.fileID || m["file_name"] != "o.bin" || m["name"] != nil || m["size"] != float64(len(data)) {
		t.Fatalf("unexpected complete; got %d %s; want 200, file_id %s, file_name o.bin and no name", resp.status, resp.raw, s.fileID)
	}
	if got, err := f.ReadFileIn(DriveResource, "/In/o.bin"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("unexpected content; got %d bytes %v; want the uploaded %d", len(got), err, len(data))
	}
	link := get(t, u.c, openLink(t, &openSession{f: f, c: u.c, access: u.token}, u.driveID, s.fileID, 0), "")
	if link.status != http.StatusOK || !bytes.Equal(link.raw, data) {
		t.Fatalf("unexpected download; got %d and %d bytes; want 200 and the uploaded bytes", link.status, len(link.raw))
	}
	for endpoint, want := range map[string]int{EndpointOpenUploadCreate: 1, EndpointOpenUploadURL: 1, EndpointOpenUploadComplete: 1, EndpointUploadPart: 4} {
		if got := f.Calls(endpoint); got != want {
			t.Fatalf("unexpected calls of %s; got %d; want %d", endpoint, got, want)
		}
	}
}

func TestOpenUploadRapid(t *testing.T) {
	f := startFake(t, Options{})
	u := openUploader(t, f)
	legacy := legacyUploader(t, f)
	data := randomData(200_000, 21)
	f.AddFileTo(DriveBackup, "/b.bin", data)

	// §7.2 step 2: size and pre_hash only; the pre-hash matches.
	resp := u.create(t, map[string]any{
		"parent_file_id": "root", "name": "r.bin", "type": "file", "check_name_mode": "ignore",
		"part_info_list": partList(1), "size": len(data), "pre_hash": preHashOf(data),
	})
	if resp.status != http.StatusConflict || resp.code(t) != "PreHashMatched" {
		t.Fatalf("unexpected pre-hash create; got %d %s; want 409 PreHashMatched", resp.status, resp.raw)
	}
	// The proof must come from the Open token of this request.
	resp = u.create(t, rapidBody("root", "r.bin", "ignore", data, proofFor(legacy.token, data)))
	if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.ProofCode" {
		t.Fatalf("unexpected create with a legacy token's proof; got %d %s; want 400 InvalidParameter.ProofCode", resp.status, resp.raw)
	}
	resp = u.create(t, rapidBody("root", "r.bin", "ignore", data, proofFor(u.token, data)))
	m := resp.fields(t)
	if resp.status != http.StatusOK || m["rapid_upload"] != true || m["file_name"] != "r.bin" {
		t.Fatalf("unexpected rapid create; got %d %s; want 200 with rapid_upload true", resp.status, resp.raw)
	}
	fileID, uploadID := m["file_id"].(string), m["upload_id"].(string)
	if got, _ := f.ReadFile("/r.bin"); !bytes.Equal(got, data) {
		t.Fatalf("unexpected rapid content; got %d bytes; want %d", len(got), len(data))
	}
	// AList completes even a rapid upload, with the id it got or none.
	for _, id := range []string{uploadID, "", uploadID} {
		resp := u.complete(t, fileID, id)
		if resp.status != http.StatusOK || resp.fields(t)["file_id"] != fileID || resp.fields(t)["file_name"] != "r.bin" {
			t.Fatalf("unexpected complete after rapid upload (upload_id %q); got %d %s; want 200 with the file", id, resp.status, resp.raw)
		}
	}
	if resp := u.complete(t, fileID, "NOPE"); resp.status != http.StatusNotFound || resp.code(t) != "NotFound.UploadId" {
		t.Fatalf("unexpected complete with an unknown upload id; got %d %s; want 404 NotFound.UploadId", resp.status, resp.raw)
	}
	if n := f.Calls(EndpointUploadPart); n != 0 || f.OpenUploads() != 0 {
		t.Fatalf("unexpected part PUTs or sessions; got %d and %d; want none", n, f.OpenUploads())
	}
}
