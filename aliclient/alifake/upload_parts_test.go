package alifake

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUploadPartURLs(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, UploadURLTTL: 10 * time.Minute})
	u := legacyUploader(t, f)
	data := randomData(4000, 10)
	s := mustSession(t, u, u.create(t, fileBody("root", "p.bin", "refuse", data, 4)))
	parts := split(data, 4)
	refresh := func(nums ...int) []string {
		t.Helper()
		list := make([]map[string]int, len(nums))
		for i, n := range nums {
			list[i] = map[string]int{"part_number": n}
		}
		resp := u.post(t, "/v2/file/get_upload_url", map[string]any{"drive_id": f.DriveID(), "file_id": s.fileID, "upload_id": s.uploadID, "part_info_list": list})
		if resp.status != http.StatusOK {
			t.Fatalf("unexpected get_upload_url; got %d %s; want 200", resp.status, resp.raw)
		}
		got, urls, _ := partURLs(t, resp.fields(t))
		if len(nums) > 0 && !slices.Equal(got, nums) {
			t.Fatalf("unexpected part numbers; got %v; want %v", got, nums)
		}
		return urls
	}

	// Part 1: fine, then 409 on a second PUT.
	if resp := put(t, u.c, s.urls[0], parts[0], true); resp.status != http.StatusOK {
		t.Fatalf("unexpected first PUT; got %d %s; want 200", resp.status, resp.raw)
	}
	if resp := put(t, u.c, s.urls[0], parts[0], true); resp.status != http.StatusConflict || xmlError(t, resp).Code != "PartAlreadyExist" {
		t.Fatalf("unexpected repeated PUT; got %d %s; want 409 PartAlreadyExist", resp.status, resp.raw)
	}
	// Tampering: another part number, a changed expiry, a GET.
	tampered := []string{
		strings.Replace(s.urls[1], "/2?", "/3?", 1),
		strings.Replace(s.urls[1], "x-oss-expires=", "x-oss-expires=9", 1),
	}
	for _, url := range tampered {
		if resp := put(t, u.c, url, parts[1], false); resp.status != http.StatusForbidden || xmlError(t, resp).Code != "SignatureDoesNotMatch" {
			t.Fatalf("unexpected PUT to %s; got %d %s; want 403 SignatureDoesNotMatch", url, resp.status, resp.raw)
		}
	}
	if resp := do(t, u.c, http.MethodGet, s.urls[1], nil, nil); resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("unexpected GET of a part URL; got %d %s; want 405", resp.status, resp.raw)
	}

	// Expiry by the clock, then fresh URLs.
	clock.Advance(10*time.Minute + time.Second)
	resp := put(t, u.c, s.urls[1], parts[1], true)
	if e := xmlError(t, resp); resp.status != http.StatusForbidden || e.Code != "AccessDenied" || e.Message != msgExpired {
		t.Fatalf("unexpected PUT after expiry; got %d %s; want 403 AccessDenied %q", resp.status, resp.raw, msgExpired)
	}
	fresh := refresh(2)
	if len(fresh) != 1 || fresh[0] == s.urls[1] {
		t.Fatalf("unexpected refreshed URLs; got %q; want one new URL for part 2", fresh)
	}
	if resp := put(t, u.c, fresh[0], parts[1], true); resp.status != http.StatusOK {
		t.Fatalf("unexpected PUT to a refreshed URL; got %d %s; want 200", resp.status, resp.raw)
	}

	// ExpireUploadURLs, then fresh URLs for every part (empty list).
	all := refresh()
	f.ExpireUploadURLs()
	if resp := put(t, u.c, all[2], parts[2], true); resp.status != http.StatusForbidden || xmlError(t, resp).Message != msgExpired {
		t.Fatalf("unexpected PUT after ExpireUploadURLs; got %d %s; want 403 expired", resp.status, resp.raw)
	}
	all = refresh()
	if len(all) != 4 {
		t.Fatalf("unexpected refreshed URLs; got %d; want 4", len(all))
	}
	putAll(t, u.c, all[2:], data[2000:], true)
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
		t.Fatalf("unexpected complete; got %d %s; want 200", resp.status, resp.raw)
	}
	if got, _ := f.ReadFile("/p.bin"); !bytes.Equal(got, data) {
		t.Fatalf("unexpected content; got %d bytes; want the uploaded %d", len(got), len(data))
	}

	// get_upload_url errors.
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"completed upload", map[string]any{"drive_id": f.DriveID(), "file_id": s.fileID, "upload_id": s.uploadID}, 404, "NotFound.UploadId"},
		{"unknown upload", map[string]any{"drive_id": f.DriveID(), "file_id": s.fileID, "upload_id": "NOPE"}, 404, "NotFound.UploadId"},
		{"other drive", map[string]any{"drive_id": "1", "file_id": s.fileID, "upload_id": s.uploadID}, 404, "NotFound.Drive"},
	} {
		if resp := u.post(t, "/v2/file/get_upload_url", tc.body); resp.status != tc.status || resp.code(t) != tc.code {
			t.Fatalf("unexpected get_upload_url for %s; got %d %s; want %d %s", tc.name, resp.status, resp.raw, tc.status, tc.code)
		}
	}
	s2 := mustSession(t, u, u.create(t, fileBody("root", "q.bin", "refuse", data, 2)))
	resp = u.post(t, "/v2/file/get_upload_url", map[string]any{"drive_id": f.DriveID(), "file_id": s2.fileID, "upload_id": s2.uploadID, "part_info_list": partList(3)})
	if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.PartNumber" {
		t.Fatalf("unexpected get_upload_url for an undeclared part; got %d %s; want 400 InvalidParameter.PartNumber", resp.status, resp.raw)
	}
}

func TestUploadInternalURL(t *testing.T) {
	f := startFake(t, Options{})
	u := legacyUploader(t, f)
	data := randomData(2000, 11)
	s := mustSession(t, u, u.create(t, fileBody("root", "i.bin", "refuse", data, 2)))
	parts := split(data, 2)
	resp := put(t, u.c, s.internal[0], parts[0], true)
	if e := xmlError(t, resp); resp.status != http.StatusForbidden || e.Code != "AccessDenied" || e.Message != msgInternalDenied {
		t.Fatalf("unexpected internal PUT; got %d %s; want 403 AccessDenied %q", resp.status, resp.raw, msgInternalDenied)
	}
	f.AllowInternalUpload(true)
	for i := range parts {
		if resp := put(t, u.c, s.internal[i], parts[i], true); resp.status != http.StatusOK {
			t.Fatalf("unexpected allowed internal PUT; got %d %s; want 200", resp.status, resp.raw)
		}
	}
	if resp := put(t, u.c, s.urls[0], parts[0], true); resp.status != http.StatusConflict {
		t.Fatalf("unexpected public PUT of an internally uploaded part; got %d %s; want 409", resp.status, resp.raw)
	}
	if got, want := f.Calls(EndpointUploadInternalPart), 3; got != want {
		t.Fatalf("unexpected internal part calls; got %d; want %d", got, want)
	}
	if got, want := f.Calls(EndpointUploadPart), 1; got != want {
		t.Fatalf("unexpected part calls; got %d; want %d", got, want)
	}
	if resp := u.complete(t, s.fileID, s.uploadID); resp.status != http.StatusOK {
		t.Fatalf("unexpected complete; got %d %s; want 200", resp.status, resp.raw)
	}
}
