package alifake

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
)

// families are the two APIs that upload.
var families = []struct {
	name string
	new  func(*testing.T, *Fake) *uploader
}{
	{"legacy", legacyUploader},
	{"open", openUploader},
}

func TestUploadFolder(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			f.AddFile("/file.txt", []byte("x"))
			mkdir := func(parent, name, mode string) response {
				return u.create(t, map[string]any{"parent_file_id": parent, "name": name, "type": "folder", "check_name_mode": mode})
			}
			created := u.createdStatus()

			resp := mkdir("root", "A", "refuse")
			m := resp.fields(t)
			if resp.status != created || m["exist"] != false || m["file_name"] != "A" || m["type"] != "folder" || m["parent_file_id"] != "root" {
				t.Fatalf("unexpected first mkdir; got %d %s; want %d, a new folder A", resp.status, resp.raw, created)
			}
			a := m["file_id"].(string)
			if got, ok := f.FileID("/A"); !ok || got != a {
				t.Fatalf("unexpected FileID(/A); got %q %v; want %q true", got, ok, a)
			}
			resp = mkdir("root", "A", "refuse")
			m = resp.fields(t)
			// §13.2: a taken name with refuse is the create's own status,
			// exist: true and the existing id — legacy 201, open 200.
			if resp.status != created || m["exist"] != true || m["file_id"] != a || m["upload_id"] != nil {
				t.Fatalf("unexpected second mkdir; got %d %s; want %d, exist true, file_id %s", resp.status, resp.raw, created, a)
			}
			// Level by level, as a client creates missing parents.
			resp = mkdir(a, "B", "refuse")
			if resp.status != created {
				t.Fatalf("unexpected nested mkdir; got %d %s; want %d", resp.status, resp.raw, created)
			}
			if _, ok := f.FileID("/A/B"); !ok {
				t.Fatalf("unexpected FileID(/A/B); got none; want the new folder")
			}

			tests := []struct {
				name, parent, folder, mode string
				status                     int
				code, fileName             string
			}{
				{"auto_rename", "root", "A", "auto_rename", created, "", "A(1)"},
				{"a file in the way, refuse", "root", "file.txt", "refuse", created, "", "file.txt"},
				{"a file in the way, ignore", "root", "file.txt", "ignore", http.StatusConflict, "AlreadyExist.File", ""},
				{"unknown parent", "nope", "C", "refuse", http.StatusNotFound, "NotFound.File", ""},
				{"bad mode", "root", "C", "sometimes", http.StatusBadRequest, "InvalidParameter.CheckNameMode", ""},
				{"slash in name", "root", "C/D", "refuse", http.StatusBadRequest, "InvalidParameter.Name", ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := mkdir(tc.parent, tc.folder, tc.mode)
					if resp.status != tc.status {
						t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
					}
					if tc.code != "" && resp.code(t) != tc.code {
						t.Fatalf("unexpected code; got %q; want %q", resp.code(t), tc.code)
					}
					if tc.fileName != "" && resp.fields(t)["file_name"] != tc.fileName {
						t.Fatalf("unexpected file_name; got %v; want %q", resp.fields(t)["file_name"], tc.fileName)
					}
					if tc.folder == "file.txt" && tc.code == "" {
						if m := resp.fields(t); m["exist"] != true || m["type"] != "file" {
							t.Fatalf("unexpected answer for a file in the way; got %s; want exist true, type file", resp.raw)
						}
					}
				})
			}
		})
	}
}

func TestUploadParts(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	dir := f.AddFolder("/Up")
	data := randomData(25<<20+7, 1) // three parts as AList cuts 10 MiB
	body := fileBody(dir, "big.bin", "refuse", data, 3)
	s := mustSession(t, u, u.create(t, body))
	if len(s.urls) != 3 || s.fileName != "big.bin" || !hex40.MatchString(s.fileID) || s.uploadID == "" {
		t.Fatalf("unexpected session; got %+v; want 3 part URLs, file_name big.bin, a 40-hex file id and an upload id", s)
	}
	for i, url := range s.urls {
		if !strings.HasPrefix(url, f.CDNURL()+"/upload/") || s.internal[i] == "" || s.internal[i] == url {
			t.Fatalf("unexpected part URLs; got %q and %q; want a CDN upload URL and a different internal one", url, s.internal[i])
		}
	}

	putAll(t, u.c, s.urls[:2], data[:20<<20], true)
	// Not visible before complete.
	if _, ok := f.FileID("/Up/big.bin"); ok {
		t.Fatalf("unexpected file before complete; got one; want none")
	}
	if got := u.post(t, "/v2/file/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": dir}); len(items(t, got)) != 0 {
		t.Fatalf("unexpected listing before complete; got %s; want no items", got.raw)
	}
	if resp := put(t, u.c, s.urls[2], data[20<<20:], false); resp.status != http.StatusOK {
		t.Fatalf("unexpected PUT with Content-Length; got %d %s; want 200", resp.status, resp.raw)
	}
	for _, r := range f.Requests() {
		if r.Endpoint == EndpointUploadPart && (r.Header.Get("Content-Type") != "" || r.Status != http.StatusOK) {
			t.Fatalf("unexpected part request; got Content-Type %q status %d; want none and 200", r.Header.Get("Content-Type"), r.Status)
		}
	}

	resp := u.complete(t, s.fileID, s.uploadID)
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected complete status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	if m["file_id"] != s.fileID || m["name"] != "big.bin" || m["size"] != float64(len(data)) || m["content_hash"] != strings.ToUpper(sha1Hex(data)) {
		t.Fatalf("unexpected file object; got %s; want file_id %s, name big.bin, size %d and its SHA-1", resp.raw, s.fileID, len(data))
	}
	got, err := f.ReadFile("/Up/big.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("unexpected content; got %d bytes, %v; want the %d uploaded bytes", len(got), err, len(data))
	}
	link := get(t, u.c, u.linkOf(t, s.fileID), "")
	if link.status != http.StatusOK || !bytes.Equal(link.raw, data) {
		t.Fatalf("unexpected download; got %d and %d bytes; want 200 and the uploaded bytes", link.status, len(link.raw))
	}
	if n := f.Calls(EndpointUploadPart); n != 3 {
		t.Fatalf("unexpected part calls; got %d; want 3", n)
	}
	if n := f.OpenUploads(); n != 0 {
		t.Fatalf("unexpected open uploads; got %d; want 0", n)
	}
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusNotFound || resp.code(t) != "NotFound.UploadId" {
		t.Fatalf("unexpected second complete; got %d %s; want 404 NotFound.UploadId", resp.status, resp.raw)
	}
	if resp := put(t, u.c, s.urls[0], []byte("late"), false); resp.status != http.StatusNotFound || xmlError(t, resp).Code != "NoSuchUpload" {
		t.Fatalf("unexpected PUT after complete; got %d %s; want 404 NoSuchUpload", resp.status, resp.raw)
	}
}

// linkOf asks get_download_url (legacy) for a file.
func (u *uploader) linkOf(t *testing.T, fileID string) string {
	t.Helper()
	resp := u.post(t, "/v2/file/get_download_url", map[string]any{"drive_id": u.driveID, "file_id": fileID})
	url, _ := resp.fields(t)["url"].(string)
	return url
}

func TestUploadNameModes(t *testing.T) {
	tests := []struct {
		mode     string
		status   int    // of the create
		sameID   bool   // the upload keeps the old file's id
		path     string // where the upload lands
		oldStays bool   // the old file keeps its name and content
	}{
		{"refuse", http.StatusCreated, false, "", true},
		{"overwrite", http.StatusCreated, true, "/d/a.txt", false},
		{"ignore", http.StatusCreated, false, "/d/a.txt", false},
		{"auto_rename", http.StatusCreated, false, "/d/a(1).txt", true},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			f := startFake(t, Options{})
			u := legacyUploader(t, f)
			old := f.AddFile("/d/a.txt", []byte("old"))
			dir, _ := f.FileID("/d")
			data := []byte("new content")
			resp := u.create(t, fileBody(dir, "a.txt", tc.mode, data, 1))
			if resp.status != tc.status {
				t.Fatalf("unexpected create status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.mode == modeRefuse {
				// §13.2: not an error, but nothing to upload.
				m := resp.fields(t)
				if m["exist"] != true || m["file_id"] != old || m["upload_id"] != nil || m["part_info_list"] != nil || f.OpenUploads() != 0 {
					t.Fatalf("unexpected refusal; got %s and %d open uploads; want exist true, file_id %s, no upload and none open", resp.raw, f.OpenUploads(), old)
				}
				return
			}
			s := mustSession(t, u, resp)
			if (s.fileID == old) != tc.sameID {
				t.Fatalf("unexpected file id; got %s (old %s); want same=%v", s.fileID, old, tc.sameID)
			}
			// Until complete the old content stays.
			if got, _ := f.ReadFile("/d/a.txt"); string(got) != "old" {
				t.Fatalf("unexpected content before complete; got %q; want %q", got, "old")
			}
			putAll(t, u.c, s.urls, data, true)
			if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK || resp.fields(t)["file_id"] != s.fileID {
				t.Fatalf("unexpected complete; got %d %s; want 200 with file_id %s", resp.status, resp.raw, s.fileID)
			}
			if got, err := f.ReadFile(tc.path); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("unexpected content at %s; got %q %v; want %q", tc.path, got, err, data)
			}
			if id, _ := f.FileID(tc.path); id != s.fileID {
				t.Fatalf("unexpected id at %s; got %s; want %s", tc.path, id, s.fileID)
			}
			id, _ := f.FileID("/d/a.txt")
			got, _ := f.ReadFile("/d/a.txt")
			if stays := id == old && string(got) == "old"; stays != tc.oldStays {
				t.Fatalf("unexpected /d/a.txt; got id %s (old %s) content %q; want the old file kept=%v", id, old, got, tc.oldStays)
			}
		})
	}
}

func TestUploadPreHash(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	literal := randomData(5000, 2)
	f.AddFile("/lit.bin", literal)
	const synthPath, synthSize = "/s/synth.bin", 70_000
	f.AddSyntheticTo(DriveResource, synthPath, synthSize)
	synth := syntheticBytes(t, synthPath, synthSize, 0, synthSize)
	// Same first KiB, other tail: the pre-hash matches, the content does not.
	twin := append(append([]byte{}, literal[:1024]...), randomData(5000-1024, 3)...)

	tests := []struct {
		name    string
		preHash string
		size    int
		status  int
		code    string
	}{
		{"literal blob of the same size", preHashOf(literal), 5000, http.StatusConflict, "PreHashMatched"},
		{"synthetic blob in another drive", preHashOf(synth), synthSize, http.StatusConflict, "PreHashMatched"},
		{"same first KiB, same size", preHashOf(twin), 5000, http.StatusConflict, "PreHashMatched"},
		{"same pre-hash, other size", preHashOf(literal), 5001, http.StatusCreated, ""},
		{"other pre-hash", preHashOf(randomData(5000, 4)), 5000, http.StatusCreated, ""},
		{"upper-case pre-hash", strings.ToUpper(preHashOf(literal)), 5000, http.StatusBadRequest, "InvalidParameter.PreHash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.OpenUploads()
			resp := u.create(t, map[string]any{
				"parent_file_id": "root", "name": "n.bin", "type": "file", "check_name_mode": "overwrite",
				"size": tc.size, "part_info_list": partList(1), "pre_hash": tc.preHash,
			})
			if resp.status != tc.status || (tc.code != "" && resp.code(t) != tc.code) {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
			wantOpen := before
			if tc.status == http.StatusCreated {
				wantOpen++
			}
			if got := f.OpenUploads(); got != wantOpen {
				t.Fatalf("unexpected open uploads; got %d; want %d", got, wantOpen)
			}
			if _, ok := f.FileID("/n.bin"); ok {
				t.Fatalf("unexpected file /n.bin; got one; want none before complete")
			}
		})
	}

	// The flow of §7.1 step 4 for the twin: the full hash is unknown, so the
	// second create is a plain upload whose hash complete checks.
	body := rapidBody("root", "twin.bin", "refuse", twin, proofFor(u.token, twin))
	s := mustSession(t, u, u.create(t, body))
	putAll(t, u.c, s.urls, twin, true)
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
		t.Fatalf("unexpected complete; got %d %s; want 200", resp.status, resp.raw)
	}
}

func TestUploadRapid(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	other := legacyUploader(t, f) // a second login: another access token
	data := randomData(300_000, 5)
	f.AddFile("/orig.bin", data)
	f.AddFile("/empty", nil)
	synthID := f.AddSynthetic("/synth.bin", 12345)
	synth := syntheticBytes(t, "/synth.bin", 12345, 0, 12345)

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		rapid  bool
		path   string // where the rapid file lands
		want   []byte
	}{
		{"correct proof", rapidBody("root", "copy.bin", "refuse", data, proofFor(u.token, data)), 201, "", true, "/copy.bin", data},
		{"upper-case hash", func() map[string]any {
			b := rapidBody("root", "upper.bin", "refuse", data, proofFor(u.token, data))
			b["content_hash"] = strings.ToUpper(sha1Hex(data))
			return b
		}(), 201, "", true, "/upper.bin", data},
		{"synthetic source", rapidBody("root", "s2.bin", "refuse", synth, proofFor(u.token, synth)), 201, "", true, "/s2.bin", synth},
		{"empty file", rapidBody("root", "e2", "refuse", nil, ""), 201, "", true, "/e2", []byte{}},
		{"overwrite", rapidBody("root", "synth.bin", "overwrite", data, proofFor(u.token, data)), 201, "", true, "/synth.bin", data},
		{"wrong proof", rapidBody("root", "bad.bin", "refuse", data, "AAAAAAAAAAA="), 400, "InvalidParameter.ProofCode", false, "", nil},
		{"proof of another token", rapidBody("root", "bad.bin", "refuse", data, proofFor(other.token, data)), 400, "InvalidParameter.ProofCode", false, "", nil},
		{"refuse an existing name", rapidBody("root", "orig.bin", "refuse", data, proofFor(u.token, data)), 201, "", false, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetCounters()
			before := f.OpenUploads()
			resp := u.create(t, tc.body)
			if resp.status != tc.status || (tc.code != "" && resp.code(t) != tc.code) {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
			if f.OpenUploads() != before {
				t.Fatalf("unexpected open uploads; got %d; want %d", f.OpenUploads(), before)
			}
			if !tc.rapid {
				if m := resp.fields(t); tc.status == 201 && (m["exist"] != true || m["rapid_upload"] != nil || m["upload_id"] != nil) {
					t.Fatalf("unexpected answer to a taken name; got %s; want exist true, no rapid_upload, no upload_id", resp.raw)
				}
				if _, ok := f.FileID("/bad.bin"); ok {
					t.Fatalf("unexpected file after a refused proof; got one; want none")
				}
				return
			}
			m := resp.fields(t)
			if m["rapid_upload"] != true || m["part_info_list"] != nil {
				t.Fatalf("unexpected rapid answer; got %s; want rapid_upload true and no part_info_list", resp.raw)
			}
			id, _ := f.FileID(tc.path)
			if got, err := f.ReadFile(tc.path); err != nil || !bytes.Equal(got, tc.want) || id != m["file_id"] {
				t.Fatalf("unexpected rapid file; got %d bytes %v id %s; want %d bytes id %v", len(got), err, id, len(tc.want), m["file_id"])
			}
			if tc.name == "overwrite" && id != synthID {
				t.Fatalf("unexpected id after overwrite; got %s; want %s", id, synthID)
			}
			if n := f.Calls(EndpointUploadPart); n != 0 {
				t.Fatalf("unexpected part PUTs; got %d; want 0", n)
			}
		})
	}

	// A known hash with another size, or an unknown hash, is a plain upload,
	// and complete checks the hash of what arrived.
	t.Run("known hash, other size", func(t *testing.T) {
		b := rapidBody("root", "x1.bin", "refuse", data, proofFor(u.token, data))
		b["size"] = len(data) + 1
		s := mustSession(t, u, u.create(t, b))
		putAll(t, u.c, s.urls, randomData(len(data)+1, 7), true)
		resp := u.complete(t, s.fileID, s.uploadID)
		if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.ContentHash" {
			t.Fatalf("unexpected complete of other content; got %d %s; want 400 InvalidParameter.ContentHash", resp.status, resp.raw)
		}
	})
	t.Run("unknown hash", func(t *testing.T) {
		fresh := randomData(1000, 6)
		s := mustSession(t, u, u.create(t, rapidBody("root", "x2.bin", "refuse", fresh, proofFor(u.token, fresh))))
		putAll(t, u.c, s.urls, fresh, true)
		if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
			t.Fatalf("unexpected complete; got %d %s; want 200", resp.status, resp.raw)
		}
		if got, _ := f.ReadFile("/x2.bin"); !bytes.Equal(got, fresh) {
			t.Fatalf("unexpected content; got %d bytes; want the uploaded %d", len(got), len(fresh))
		}
	})
}

func TestUploadContentChecks(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	data := randomData(3000, 8)
	tests := []struct {
		name     string
		body     map[string]any
		put      []byte
		code     string
		leftOpen bool // the session survives the failed complete
	}{
		{"content hash mismatch", func() map[string]any {
			b := fileBody("root", "h.bin", "refuse", data, 2)
			b["content_hash"], b["content_hash_name"] = sha1Hex(randomData(3000, 9)), "sha1"
			return b
		}(), data, "InvalidParameter.ContentHash", false},
		{"size mismatch", fileBody("root", "s.bin", "refuse", data, 2), data[:2999], "InvalidParameter.Size", false},
		{"missing part", fileBody("root", "m.bin", "refuse", data, 2), nil, "InvalidParameter.PartNotUploaded", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSession(t, u, u.create(t, tc.body))
			if tc.put != nil {
				putAll(t, u.c, s.urls, tc.put, false)
			} else {
				putAll(t, u.c, s.urls[:1], data[:1500], false)
			}
			before := f.OpenUploads()
			resp := u.complete(t, s.fileID, s.uploadID)
			if resp.status != http.StatusBadRequest || resp.code(t) != tc.code {
				t.Fatalf("unexpected complete; got %d %s; want 400 %s", resp.status, resp.raw, tc.code)
			}
			name := tc.body["name"].(string)
			if _, ok := f.FileID("/" + name); ok {
				t.Fatalf("unexpected file %s after a failed complete; got one; want none", name)
			}
			if got, want := f.OpenUploads(), before-1; tc.leftOpen {
				if got != before {
					t.Fatalf("unexpected open uploads; got %d; want %d", got, before)
				}
				putAll(t, u.c, s.urls[1:], data[1500:], true)
				if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
					t.Fatalf("unexpected complete after the missing part; got %d %s; want 200", resp.status, resp.raw)
				}
			} else if got != want {
				t.Fatalf("unexpected open uploads; got %d; want %d", got, want)
			}
		})
	}
}

func TestUploadAborted(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	data := randomData(3000, 12)
	s := mustSession(t, u, u.create(t, fileBody("root", "gone.bin", "refuse", data, 2)))
	putAll(t, u.c, s.urls[:1], data[:1500], true)
	if _, ok := f.FileID("/gone.bin"); ok {
		t.Fatalf("unexpected file of an aborted upload; got one; want none")
	}
	if _, err := f.ReadFile("/gone.bin"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unexpected ReadFile error; got %v; want os.ErrNotExist", err)
	}
	if resp := u.post(t, "/v2/file/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": "root"}); len(items(t, resp)) != 0 {
		t.Fatalf("unexpected listing; got %s; want no items", resp.raw)
	}
	if resp := u.post(t, "/v2/file/get", map[string]any{"drive_id": f.DriveID(), "file_id": s.fileID}); resp.status != http.StatusNotFound {
		t.Fatalf("unexpected get of the announced id; got %d %s; want 404", resp.status, resp.raw)
	}
	if n := f.OpenUploads(); n != 1 {
		t.Fatalf("unexpected open uploads; got %d; want 1", n)
	}
}

func TestUploadSharedSteps(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	// The device session guards createWithFolders like every legacy file call.
	resp := postJSON(t, u.c, f.APIURL()+"/adrive/v2/file/createWithFolders", http.Header{"Authorization": {"Bearer " + u.token}}, fileBody("root", "a", "refuse", nil, 0))
	if resp.status != http.StatusBadRequest || resp.code(t) != codeSignatureInvalid {
		t.Fatalf("unexpected unsigned create; got %d %s; want 400 %s", resp.status, resp.raw, codeSignatureInvalid)
	}
	// Faults reach part PUTs, in OSS XML.
	s := mustSession(t, u, u.create(t, fileBody("root", "a", "refuse", []byte("abc"), 1)))
	f.FailNext(EndpointUploadPart, 1, Fault{Status: http.StatusServiceUnavailable})
	if resp := put(t, u.c, s.urls[0], []byte("abc"), true); resp.status != http.StatusServiceUnavailable || xmlError(t, resp).Code != "ServiceUnavailable" {
		t.Fatalf("unexpected faulted PUT; got %d %s; want 503 in XML", resp.status, resp.raw)
	}
	f.FailNext(EndpointUploadComplete, 1, Fault{Status: http.StatusTooManyRequests})
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusTooManyRequests {
		t.Fatalf("unexpected faulted complete; got %d %s; want 429", resp.status, resp.raw)
	}
	putAll(t, u.c, s.urls, []byte("abc"), true)
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
		t.Fatalf("unexpected complete; got %d %s; want 200", resp.status, resp.raw)
	}
	for endpoint, want := range map[string]int{EndpointUploadCreate: 2, EndpointUploadPart: 2, EndpointUploadComplete: 2} {
		if got := f.Calls(endpoint); got != want {
			t.Fatalf("unexpected calls of %s; got %d; want %d", endpoint, got, want)
		}
	}
}

func TestUploadCreateValidation(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	f.AddFile("/f.txt", []byte("x"))
	fileID, _ := f.FileID("/f.txt")
	with := func(changes map[string]any) map[string]any {
		b := fileBody("root", "v.bin", "refuse", []byte("abc"), 1)
		for k, v := range changes {
			if v == nil {
				delete(b, k)
				continue
			}
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no parent", with(map[string]any{"parent_file_id": nil}), 400, "InvalidParameterMissing.ParentFileId"},
		{"no name", with(map[string]any{"name": ""}), 400, "InvalidParameterMissing.Name"},
		{"dot-dot name", with(map[string]any{"name": ".."}), 400, "InvalidParameter.Name"},
		{"bad type", with(map[string]any{"type": "link"}), 400, "InvalidParameter.Type"},
		{"negative size", with(map[string]any{"size": -1}), 400, "InvalidParameter.Size"},
		{"part 0", with(map[string]any{"part_info_list": []map[string]int{{"part_number": 0}}}), 400, "InvalidParameter.PartNumber"},
		{"part twice", with(map[string]any{"part_info_list": []map[string]int{{"part_number": 1}, {"part_number": 1}}}), 400, "InvalidParameter.PartNumber"},
		{"short pre_hash", with(map[string]any{"pre_hash": "abc"}), 400, "InvalidParameter.PreHash"},
		{"md5 hash name", with(map[string]any{"content_hash_name": "md5"}), 400, "InvalidParameter.ContentHashName"},
		{"hash named none", with(map[string]any{"content_hash": sha1Hex(nil)}), 400, "InvalidParameter.ContentHashName"},
		{"hash not hex", with(map[string]any{"content_hash": strings.Repeat("g", 40), "content_hash_name": "sha1"}), 400, "InvalidParameter.ContentHash"},
		{"proof v2", with(map[string]any{"proof_code": "AA==", "proof_version": "v2"}), 400, "InvalidParameter.ProofVersion"},
		{"parent is a file", with(map[string]any{"parent_file_id": fileID}), 400, "InvalidResource.FileTypeFile"},
		{"other drive", with(map[string]any{"drive_id": "1"}), 404, "NotFound.Drive"},
		{"not JSON", nil, 400, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp response
			if tc.body == nil {
				resp = u.post(t, u.createPath(), "{")
			} else {
				resp = u.create(t, tc.body)
			}
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		})
	}
	if n := f.OpenUploads(); n != 0 {
		t.Fatalf("unexpected open uploads; got %d; want 0", n)
	}
}

func TestUploadCompleteConflicts(t *testing.T) {
	tests := []struct {
		name, mode string
		meanwhile  func(f *Fake) // what happens between create and complete
		status     int
		code       string
		path       string // where the upload lands on success
	}{
		{"refuse, name taken", "refuse", func(f *Fake) { f.AddFile("/d/c.bin", []byte("other")) }, 409, "AlreadyExist.File", ""},
		{"refuse, folder in the way", "refuse", func(f *Fake) { f.AddFolder("/d/c.bin") }, 409, "AlreadyExist.File", ""},
		{"overwrite, name taken", "overwrite", func(f *Fake) { f.AddFile("/d/c.bin", []byte("other")) }, 200, "", "/d/c.bin"},
		{"auto_rename, name taken", "auto_rename", func(f *Fake) { f.AddFile("/d/c.bin", []byte("other")) }, 200, "", "/d/c(1).bin"},
		{"parent removed", "refuse", func(f *Fake) { f.Remove("/d") }, 404, "NotFound.File", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := legacyUploader(t, f)
			dir := f.AddFolder("/d")
			data := []byte("uploaded")
			s := mustSession(t, u, u.create(t, fileBody(dir, "c.bin", tc.mode, data, 1)))
			putAll(t, u.c, s.urls, data, true)
			tc.meanwhile(f)
			resp := u.complete(t, s.fileID, s.uploadID)
			if resp.status != tc.status || (tc.code != "" && resp.code(t) != tc.code) {
				t.Fatalf("unexpected complete; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
			if tc.path == "" {
				return
			}
			if got, _ := f.ReadFile(tc.path); !bytes.Equal(got, data) || resp.fields(t)["file_id"] != s.fileID {
				t.Fatalf("unexpected %s; got %q and %s; want %q under file_id %s", tc.path, got, resp.raw, data, s.fileID)
			}
		})
	}
}
