package alifake

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	hex40      = regexp.MustCompile(`^[0-9a-f]{40}$`)
	millisTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// listAll pages through a folder and returns the items in order, checking
// every page's size against want.
func listAll(t *testing.T, s *testSession, path string, body map[string]any, maxPage int) []map[string]any {
	t.Helper()
	var all []map[string]any
	marker := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("unexpected endless listing; got more than 100 pages; want an empty next_marker")
		}
		req := map[string]any{"drive_id": s.f.DriveID(), "marker": marker}
		for k, v := range body {
			req[k] = v
		}
		resp := s.post(t, path, req)
		if resp.status != http.StatusOK {
			t.Fatalf("unexpected list status; got %d %s; want 200", resp.status, resp.raw)
		}
		m := resp.fields(t)
		items, _ := m["items"].([]any)
		if len(items) > maxPage {
			t.Fatalf("unexpected page size; got %d; want at most %d", len(items), maxPage)
		}
		for _, it := range items {
			all = append(all, it.(map[string]any))
		}
		marker, _ = m["next_marker"].(string)
		if marker == "" {
			return all
		}
	}
}

func TestListPagination(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{PageSize: 3, Now: clock.Now})
	// Sizes and times deliberately disagree with name order.
	for i := range 10 {
		clock.Advance(time.Second)
		f.AddFile(fmt.Sprintf("/Box/f%02d.bin", i), make([]byte, (i*7)%10))
	}
	s := login(t, f)
	parent, _ := f.FileID("/Box")

	tests := []struct {
		path, orderBy, dir string
		limit              int
		maxPage            int
	}{
		{"/v2/file/list", "", "", 0, 3},
		{"/v2/file/list", "name", "DESC", 2, 2},
		{"/v2/file/list", "size", "ASC", 200, 3},
		{"/v2/file/list", "updated_at", "DESC", 200, 3},
		{"/v2/file/list", "created_at", "asc", 1, 1},
		{"/adrive/v3/file/list", "name", "ASC", 200, 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s %s limit %d", tc.path, tc.orderBy, tc.dir, tc.limit), func(t *testing.T) {
			items := listAll(t, s, tc.path, map[string]any{
				"parent_file_id": parent, "limit": tc.limit, "order_by": tc.orderBy, "order_direction": tc.dir,
			}, tc.maxPage)
			seen := make(map[string]int)
			for _, it := range items {
				seen[it["name"].(string)]++
			}
			if len(items) != 10 || len(seen) != 10 {
				t.Fatalf("unexpected coverage; got %d items, %d distinct; want 10 each", len(items), len(seen))
			}
			key := func(it map[string]any) string {
				switch tc.orderBy {
				case "size":
					return fmt.Sprintf("%020.0f|%s", it["size"].(float64), it["name"])
				case "updated_at", "created_at":
					return it[tc.orderBy].(string)
				}
				return it["name"].(string)
			}
			keys := make([]string, len(items))
			for i, it := range items {
				keys[i] = key(it)
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			if strings.EqualFold(tc.dir, "DESC") {
				slices.Reverse(want)
			}
			if !slices.Equal(keys, want) {
				t.Fatalf("unexpected order; got %v; want %v", keys, want)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	f := startFake(t, Options{PageSize: 2})
	f.AddFile("/Box/a.txt", []byte("a"))
	f.AddFile("/Box/b.txt", []byte("b"))
	f.AddFile("/Box/c.txt", []byte("c"))
	f.AddFolder("/Other")
	s := login(t, f)
	box, _ := f.FileID("/Box")
	other, _ := f.FileID("/Other")
	file, _ := f.FileID("/Box/a.txt")
	first := s.post(t, "/v2/file/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box})
	marker, _ := first.fields(t)["next_marker"].(string)
	if marker == "" {
		t.Fatalf("unexpected empty next_marker on the first of two pages")
	}

	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"wrong drive", map[string]any{"drive_id": "1", "parent_file_id": "root"}, 404, "NotFound.Drive"},
		{"missing drive", map[string]any{"parent_file_id": "root"}, 404, "NotFound.Drive"},
		{"missing parent", map[string]any{"drive_id": f.DriveID()}, 400, "InvalidParameterMissing.ParentFileId"},
		{"unknown parent", map[string]any{"drive_id": f.DriveID(), "parent_file_id": strings.Repeat("0", 40)}, 404, "NotFound.File"},
		{"parent is a file", map[string]any{"drive_id": f.DriveID(), "parent_file_id": file}, 400, "InvalidResource.FileTypeFile"},
		{"garbage marker", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "marker": "not-a-marker"}, 400, "InvalidParameter.Marker"},
		{"marker of another folder", map[string]any{"drive_id": f.DriveID(), "parent_file_id": other, "marker": marker}, 400, "InvalidParameter.Marker"},
		{"marker of another order", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "marker": marker, "order_by": "size"}, 400, "InvalidParameter.Marker"},
		{"bad order_by", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "order_by": "colour"}, 400, "InvalidParameter.OrderBy"},
		{"bad order_direction", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "order_direction": "UP"}, 400, "InvalidParameter.OrderDirection"},
		{"limit as a string", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "limit": "10"}, 400, "InvalidParameter"},
		{"second page", map[string]any{"drive_id": f.DriveID(), "parent_file_id": box, "marker": marker}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(t, "/v2/file/list", tc.body)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.code != "" && resp.code(t) != tc.code {
				t.Fatalf("unexpected code; got %s; want %s", resp.code(t), tc.code)
			}
		})
	}

	if resp := do(t, s.c, http.MethodGet, f.APIURL()+"/v2/file/list", s.headers(s.sig), nil); resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("unexpected status for GET; got %d; want 405", resp.status)
	}
}

func TestItemFields(t *testing.T) {
	f := startFake(t, Options{})
	data := []byte("hello, alipan")
	id := f.AddFile("/Movies/Film.MKV", data)
	f.AddSynthetic("/Movies/big.iso", 1<<20)
	s := login(t, f)

	resp := s.post(t, "/v2/file/get", map[string]any{"drive_id": f.DriveID(), "file_id": id})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
	}
	it := resp.fields(t)
	sum := sha1.Sum(data)
	parent, _ := f.FileID("/Movies")
	want := map[string]any{
		"drive_id":          f.DriveID(),
		"domain_id":         domainID,
		"file_id":           id,
		"name":              "Film.MKV",
		"type":              "file",
		"parent_file_id":    parent,
		"size":              float64(len(data)),
		"content_hash":      strings.ToUpper(hex.EncodeToString(sum[:])),
		"content_hash_name": "sha1",
		"crc64_hash":        strconv.FormatUint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)), 10),
		"file_extension":    "mkv",
		"category":          "video",
		"mime_type":         "video/x-matroska",
		"status":            "available",
		"starred":           false,
		"hidden":            false,
		"trashed":           false,
	}
	for k, v := range want {
		if it[k] != v {
			t.Fatalf("unexpected %s; got %v; want %v", k, it[k], v)
		}
	}
	if !hex40.MatchString(id) {
		t.Fatalf("unexpected file id; got %q; want 40 lowercase hex", id)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if v, _ := it[k].(string); !millisTime.MatchString(v) {
			t.Fatalf("unexpected %s; got %q; want RFC 3339 with milliseconds", k, v)
		}
	}

	items := listAll(t, s, "/v2/file/list", map[string]any{"parent_file_id": parent}, 200)
	var big map[string]any
	for _, it := range items {
		if it["name"] == "big.iso" {
			big = it
		}
	}
	h := sha1.New()
	h.Write(syntheticBytes(t, "/Movies/big.iso", 1<<20, 0, 1<<20))
	if big == nil || big["content_hash"] != strings.ToUpper(hex.EncodeToString(h.Sum(nil))) || big["category"] != "video" {
		t.Fatalf("unexpected synthetic item; got %v; want the SHA-1 of SyntheticReader and category video", big)
	}

	folder := s.post(t, "/v2/file/get", map[string]any{"drive_id": f.DriveID(), "file_id": parent}).fields(t)
	if _, ok := folder["size"]; ok || folder["type"] != "folder" {
		t.Fatalf("unexpected folder object; got %v; want type folder and no size", folder)
	}
}

func TestGetByPath(t *testing.T) {
	names := []string{
		"/Movies/a b.mkv",
		"/电影/测试 #1 %20?.mp4",
		"/x/a+b&c=d;e.txt",
		"/Ünïcödé/ファイル.flac",
	}
	f := startFake(t, Options{})
	for _, p := range names {
		f.AddFile(p, []byte(p))
	}
	s := login(t, f)

	tests := []struct {
		path   string
		status int
		code   string
	}{
		{names[0], 200, ""},
		{names[1], 200, ""},
		{names[2], 200, ""},
		{names[3], 200, ""},
		{"/Movies", 200, ""},
		{"/Movies/A B.mkv", 404, "NotFound.File"},
		{"/Movies/a%20b.mkv", 404, "NotFound.File"},
		{"/Movies//a b.mkv", 404, "NotFound.File"},
		{"/Movies/", 404, "NotFound.File"},
		{"/", 404, "NotFound.File"},
		{"Movies/a b.mkv", 400, "InvalidParameter.FilePath"},
		{"", 400, "InvalidParameter.FilePath"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp := s.post(t, "/v2/file/get_by_path", map[string]any{"drive_id": f.DriveID(), "file_path": tc.path})
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			if tc.status != 200 {
				if m["code"] != tc.code {
					t.Fatalf("unexpected code; got %v; want %s", m["code"], tc.code)
				}
				if tc.status == 404 && m["message"] != msgFileNotFound {
					t.Fatalf("unexpected message; got %v; want %q", m["message"], msgFileNotFound)
				}
				return
			}
			id, _ := f.FileID(tc.path)
			base := tc.path[strings.LastIndex(tc.path, "/")+1:]
			if m["file_id"] != id || m["name"] != base {
				t.Fatalf("unexpected item; got %v %v; want %s %s", m["file_id"], m["name"], id, base)
			}
		})
	}
}

func TestGet(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/a.txt", []byte("a"))
	s := login(t, f)
	tests := []struct {
		name, drive, id string
		status          int
		code            string
	}{
		{"file", f.DriveID(), id, 200, ""},
		{"unknown id", f.DriveID(), strings.Repeat("1", 40), 404, "NotFound.File"},
		{"root is no file object", f.DriveID(), "root", 404, "NotFound.File"},
		{"wrong drive", "42", id, 404, "NotFound.Drive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(t, "/v2/file/get", map[string]any{"drive_id": tc.drive, "file_id": tc.id})
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.code != "" && resp.code(t) != tc.code {
				t.Fatalf("unexpected code; got %s; want %s", resp.code(t), tc.code)
			}
		})
	}

	f.Remove("/a.txt")
	if resp := s.post(t, "/v2/file/get", map[string]any{"drive_id": f.DriveID(), "file_id": id}); resp.status != 404 {
		t.Fatalf("unexpected status after Remove; got %d; want 404", resp.status)
	}
}
