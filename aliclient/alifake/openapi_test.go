package alifake

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDriveInfo(t *testing.T) {
	f := startFake(t, Options{DriveID: "777"})
	s := openLogin(t, f)
	for _, body := range []any{"{}", ""} {
		resp := s.post(t, "/adrive/v1.0/user/getDriveInfo", body)
		if resp.status != http.StatusOK {
			t.Fatalf("unexpected status for body %q; got %d %s; want 200", body, resp.status, resp.raw)
		}
		m := resp.fields(t)
		want := map[string]any{
			"user_id": f.UserID(), "name": defaultUserName,
			"default_drive_id": "777", "resource_drive_id": "7771", "backup_drive_id": "777",
		}
		for k, v := range want {
			if m[k] != v {
				t.Fatalf("unexpected %s; got %v; want %v", k, m[k], v)
			}
		}
	}
	for drive, want := range map[string]string{DriveDefault: "777", DriveResource: "7771", DriveBackup: "777"} {
		if got := f.DriveIDOf(drive); got != want {
			t.Fatalf("unexpected DriveIDOf(%q); got %q; want %q", drive, got, want)
		}
	}
}

// TestTwoDrives: an account has a backup drive, which is its default drive,
// and a resource drive, with separate trees, both reached by either API with
// the same token (§16).
func TestTwoDrives(t *testing.T) {
	f := startFake(t, Options{})
	ids := map[string]string{
		DriveDefault:  f.AddFile("/a.txt", []byte("default")),
		DriveResource: f.AddFileTo(DriveResource, "/a.txt", []byte("resource")),
	}
	if id, ok := f.FileIDIn(DriveBackup, "/a.txt"); !ok || id != ids[DriveDefault] || f.DriveIDOf(DriveBackup) != f.DriveID() {
		t.Fatalf("unexpected backup drive; got %q %v; want the default drive's file", id, ok)
	}
	f.AddFolderTo(DriveResource, "/Only/Here")
	s := openLogin(t, f)
	legacy := login(t, f)

	for drive, id := range ids {
		t.Run(drive, func(t *testing.T) {
			driveID := f.DriveIDOf(drive)
			if got, ok := f.FileIDIn(drive, "/a.txt"); !ok || got != id {
				t.Fatalf("unexpected FileIDIn; got %q %v; want %q true", got, ok, id)
			}
			resp := s.post(t, "/adrive/v1.0/openFile/list", map[string]any{"drive_id": driveID, "parent_file_id": "root"})
			found := false
			for _, it := range items(t, resp) {
				found = found || it["file_id"] == id && it["drive_id"] == driveID
			}
			if resp.status != http.StatusOK || !found {
				t.Fatalf("unexpected listing; got %d %s; want %s of drive %s in it", resp.status, resp.raw, id, driveID)
			}
			link := openLink(t, s, driveID, id, 0)
			body := get(t, s.c, link, "")
			if body.status != http.StatusOK {
				t.Fatalf("unexpected CDN status; got %d %s; want 200", body.status, body.raw)
			}
			if string(body.raw) != drive {
				t.Fatalf("unexpected content; got %q; want %q", body.raw, drive)
			}
			// The legacy API reaches both drives with the same token (§16).
			resp = legacy.post(t, "/v2/file/list", map[string]any{"drive_id": driveID, "parent_file_id": "root"})
			found = false
			for _, it := range items(t, resp) {
				found = found || it["file_id"] == id && it["drive_id"] == driveID
			}
			if resp.status != http.StatusOK || !found {
				t.Fatalf("unexpected legacy listing of %s; got %d %s; want its file", drive, resp.status, resp.raw)
			}
			if got := get(t, s.c, legacy.linkIn(t, driveID, id), ""); string(got.raw) != drive {
				t.Fatalf("unexpected legacy link content; got %d %q; want %q", got.status, got.raw, drive)
			}
		})
	}

	if _, ok := f.FileIDIn(DriveDefault, "/Only"); ok {
		t.Fatalf("unexpected /Only in the default drive; got it; want it in resource only")
	}
	// A file id of one drive is unknown in another.
	resp := s.post(t, "/adrive/v1.0/openFile/get", map[string]any{"drive_id": f.DriveIDOf(DriveDefault), "file_id": ids[DriveResource]})
	if resp.status != http.StatusNotFound || resp.code(t) != "NotFound.File" {
		t.Fatalf("unexpected cross-drive get; got %d %s; want 404 NotFound.File", resp.status, resp.raw)
	}
	resp = s.post(t, "/adrive/v1.0/openFile/list", map[string]any{"drive_id": "nope", "parent_file_id": "root"})
	if resp.status != http.StatusNotFound || resp.code(t) != "NotFound.Drive" {
		t.Fatalf("unexpected unknown drive; got %d %s; want 404 NotFound.Drive", resp.status, resp.raw)
	}
	f.RemoveFrom(DriveResource, "/a.txt")
	if _, ok := f.FileIDIn(DriveResource, "/a.txt"); ok {
		t.Fatalf("unexpected file after RemoveFrom; got it; want gone")
	}
	if _, ok := f.FileID("/a.txt"); !ok {
		t.Fatalf("unexpected RemoveFrom side effect; got the default drive's file gone; want it kept")
	}
}

// openLink asks getDownloadUrl for a link.
func openLink(t *testing.T, s *openSession, driveID, fileID string, expireSec int64) string {
	t.Helper()
	resp := s.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": driveID, "file_id": fileID, "expire_sec": expireSec})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected getDownloadUrl status; got %d %s; want 200", resp.status, resp.raw)
	}
	u, _ := resp.fields(t)["url"].(string)
	return u
}

func TestOpenListPaging(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
		limit    int
		want     int
	}{
		{"default limit is 50", 0, 0, 50},
		{"limit 200 is clamped to 100", 0, 200, 100},
		{"small limit", 0, 7, 7},
		{"PageSize caps too", 3, 200, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, Options{PageSize: tc.pageSize})
			for i := range 120 {
				f.AddFileTo(DriveResource, fmt.Sprintf("/Box/f%03d", i), nil)
			}
			parent, _ := f.FileIDIn(DriveResource, "/Box")
			s := openLogin(t, f)
			seen := make(map[string]bool)
			marker := ""
			for page := 0; ; page++ {
				resp := s.post(t, "/adrive/v1.0/openFile/list", map[string]any{
					"drive_id": f.DriveIDOf(DriveResource), "parent_file_id": parent, "limit": tc.limit, "marker": marker,
					"order_by": "name", "order_direction": "DESC",
				})
				its := items(t, resp)
				if resp.status != http.StatusOK {
					t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
				}
				marker, _ = resp.fields(t)["next_marker"].(string)
				if page == 0 && len(its) != tc.want {
					t.Fatalf("unexpected first page; got %d items; want %d", len(its), tc.want)
				}
				for _, it := range its {
					seen[it["name"].(string)] = true
				}
				if page == 0 && its[0]["name"] != "f119" {
					t.Fatalf("unexpected first item; got %v; want f119 (DESC)", its[0]["name"])
				}
				if marker == "" {
					break
				}
			}
			if len(seen) != 120 {
				t.Fatalf("unexpected coverage; got %d names; want 120", len(seen))
			}
		})
	}

	// A marker is bound to its drive: the same folder id in another drive
	// ("root") does not accept it.
	f := startFake(t, Options{PageSize: 2})
	for i := range 3 {
		f.AddFileTo(DriveResource, fmt.Sprintf("/f%d", i), nil)
		f.AddFile(fmt.Sprintf("/f%d", i), nil)
	}
	s := openLogin(t, f)
	first := s.post(t, "/adrive/v1.0/openFile/list", map[string]any{"drive_id": f.DriveIDOf(DriveResource), "parent_file_id": "root"})
	marker, _ := first.fields(t)["next_marker"].(string)
	resp := s.post(t, "/adrive/v1.0/openFile/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": "root", "marker": marker})
	if resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.Marker" {
		t.Fatalf("unexpected cross-drive marker; got %d %s; want 400 InvalidParameter.Marker", resp.status, resp.raw)
	}
}

func TestOpenGetByPath(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFileTo(DriveResource, "/Movies/a b.mkv", []byte("x"))
	folder, _ := f.FileIDIn(DriveResource, "/Movies")
	f.AddFile("/Movies/default only.mkv", []byte("y"))
	s := openLogin(t, f)
	resource := f.DriveIDOf(DriveResource)
	tests := []struct {
		drive, path string
		status      int
		want        string // file_id or error code
	}{
		{resource, "/Movies/a b.mkv", 200, id},
		{resource, "/Movies", 200, folder},
		{resource, "/Movies/default only.mkv", 404, "NotFound.File"},
		{resource, "/", 404, "NotFound.File"},
		{resource, "/Movies/", 404, "NotFound.File"},
		{resource, "Movies/a b.mkv", 400, "InvalidParameter.FilePath"},
		{"nope", "/Movies", 404, "NotFound.Drive"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp := s.post(t, "/adrive/v1.0/openFile/get_by_path", map[string]any{"drive_id": tc.drive, "file_path": tc.path})
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			got := m["code"]
			if tc.status == 200 {
				got = m["file_id"]
				if m["drive_id"] != resource {
					t.Fatalf("unexpected drive_id; got %v; want %s", m["drive_id"], resource)
				}
			}
			if got != tc.want {
				t.Fatalf("unexpected answer; got %v; want %s", got, tc.want)
			}
		})
	}
	resp := s.post(t, "/adrive/v1.0/openFile/get", map[string]any{"drive_id": resource, "file_id": id})
	if resp.status != http.StatusOK || resp.fields(t)["name"] != "a b.mkv" {
		t.Fatalf("unexpected openFile/get; got %d %s; want 200 a b.mkv", resp.status, resp.raw)
	}
}

func TestOpenDownloadURL(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, RefererBound: true})
	id := f.AddFile("/Movies/a.mkv", []byte("hello"))
	folder, _ := f.FileID("/Movies")
	s := openLogin(t, f)
	expiresIn := func(link string) int64 {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("unexpected link; got %q; want a URL (%v)", link, err)
		}
		e, err := strconv.ParseInt(u.Query().Get("x-oss-expires"), 10, 64)
		if err != nil {
			t.Fatalf("unexpected x-oss-expires; got %v; want an integer", err)
		}
		return e - clock.Now().Unix()
	}
	tests := []struct {
		name      string
		expireSec int64
		want      int64
	}{
		{"default 900", 0, 900},
		{"asked", 3600, 3600},
		{"clamped to 14400", 20000, 14400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": f.DriveID(), "file_id": id, "expire_sec": tc.expireSec})
			m := resp.fields(t)
			link, _ := m["url"].(string)
			if resp.status != http.StatusOK || m["method"] != "GET" || m["size"] != float64(5) || m["expiration"] == "" {
				t.Fatalf("unexpected answer; got %d %s; want 200 with url, method GET, size 5, expiration", resp.status, resp.raw)
			}
			if got := expiresIn(link); got != tc.want {
				t.Fatalf("unexpected link lifetime; got %d; want %d", got, tc.want)
			}
		})
	}

	link := openLink(t, s, f.DriveID(), id, 0)
	if strings.Contains(link, "x-oss-additional-headers") {
		t.Fatalf("unexpected Referer binding on an Open link (Options.RefererBound is for legacy links); got %s", link)
	}
	cdn := []struct {
		name    string
		link    string
		referer []string // nil sends no Referer header at all
		status  int
		code    string
	}{
		{"no Referer", link, nil, 200, ""},
		{"web Referer", link, []string{webReferer}, 403, "AccessDenied"},
		{"foreign Referer", link, []string{"https://example.com/"}, 403, "AccessDenied"},
		{"empty Referer header", link, []string{""}, 403, "AccessDenied"},
		{"marker stripped", strings.Replace(link, "&"+paramNoReferer+"=1", "", 1), nil, 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range cdn {
		t.Run("cdn "+tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.referer != nil {
				h["Referer"] = tc.referer
			}
			resp := do(t, s.c, http.MethodGet, tc.link, h, nil)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.code != "" && !strings.Contains(string(resp.raw), "<Code>"+tc.code+"</Code>") {
				t.Fatalf("unexpected body; got %s; want OSS XML %s", resp.raw, tc.code)
			}
		})
	}

	errs := []struct {
		name, drive, file string
		status            int
		code              string
	}{
		{"folder", f.DriveID(), folder, 400, "InvalidResource.FileTypeFolder"},
		{"unknown file", f.DriveID(), "nope", 404, "NotFound.File"},
		{"unknown drive", "nope", id, 404, "NotFound.Drive"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": tc.drive, "file_id": tc.file})
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		})
	}
}

func TestOpenQuotas(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	id := f.AddFile("/a.bin", []byte("a"))
	s := openLogin(t, f)
	f.SetOpenRateLimits()
	link := func() response {
		return s.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": f.DriveID(), "file_id": id})
	}
	list := func() response {
		return s.post(t, "/adrive/v1.0/openFile/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": "root"})
	}
	steps := []struct {
		name    string
		advance time.Duration
		call    func() response
		status  int
		retry   string
	}{
		{"first link", 0, link, 200, ""},
		{"second link in the second", 500 * time.Millisecond, link, 429, "500"},
		{"link after the window", 500 * time.Millisecond, link, 200, ""},
		{"list 1", 0, list, 200, ""},
		{"list 2", 0, list, 200, ""},
		{"list 3", 0, list, 200, ""},
		{"list 4", 0, list, 200, ""},
		{"list 5 is over 4/s", 0, list, 429, "1000"},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		resp := st.call()
		if resp.status != st.status {
			t.Fatalf("%s: unexpected status; got %d %s; want %d", st.name, resp.status, resp.raw, st.status)
		}
		if st.status == 429 && (resp.code(t) != "TooManyRequests" || resp.header.Get("x-retry-after") != st.retry) {
			t.Fatalf("%s: unexpected 429; got %s x-retry-after %q; want TooManyRequests %q", st.name, resp.raw, resp.header.Get("x-retry-after"), st.retry)
		}
	}
	peaks := map[string]int{EndpointOpenDownloadURL: 1, EndpointOpenList: 4, EndpointOpenGet: 0}
	for ep, want := range peaks {
		if got := f.MaxPerSecond(ep); got != want {
			t.Fatalf("unexpected MaxPerSecond(%s); got %d; want %d", ep, got, want)
		}
	}
	if got := f.Rejected(EndpointOpenList); got != 1 {
		t.Fatalf("unexpected Rejected(open/list); got %d; want 1", got)
	}

	// Without a quota MaxPerSecond still measures: three calls within one
	// second, then one alone.
	f.SetRateLimit(EndpointOpenGet, 0)
	get := func() { s.post(t, "/adrive/v1.0/openFile/get", map[string]any{"drive_id": f.DriveID(), "file_id": id}) }
	get()
	clock.Advance(400 * time.Millisecond)
	get()
	clock.Advance(400 * time.Millisecond)
	get()
	clock.Advance(900 * time.Millisecond)
	get()
	if got := f.MaxPerSecond(EndpointOpenGet); got != 3 {
		t.Fatalf("unexpected MaxPerSecond without a quota; got %d; want 3", got)
	}
	f.ResetCounters()
	if got := f.MaxPerSecond(EndpointOpenGet); got != 0 {
		t.Fatalf("unexpected MaxPerSecond after ResetCounters; got %d; want 0", got)
	}
}
