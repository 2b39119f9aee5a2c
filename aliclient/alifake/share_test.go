package alifake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestShareToken(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	locked := f.AddShare("/Shared", "s3cr")
	open := f.AddShare("/", "")
	c := testClient(t)
	url := f.APIURL() + "/v2/share_link/get_share_token"
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"right password", map[string]string{"share_id": locked, "share_pwd": "s3cr"}, 200, ""},
		{"wrong password", map[string]string{"share_id": locked, "share_pwd": "nope"}, 400, "InvalidParameter.SharePwd"},
		{"missing password", map[string]string{"share_id": locked}, 400, "InvalidParameter.SharePwd"},
		{"no password needed", map[string]string{"share_id": open}, 200, ""},
		{"password ignored when none is set", map[string]string{"share_id": open, "share_pwd": "x"}, 200, ""},
		{"unknown share", map[string]string{"share_id": "NoSuchShare"}, 404, "NotFound.ShareLink"},
		{"missing share id", map[string]string{}, 400, "InvalidParameterMissing.ShareId"},
		{"not json", "{", 400, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// No Authorization: the share token is anonymous (§6).
			resp := postJSON(t, c, url, nil, tc.body)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			if tc.status != 200 {
				if m["code"] != tc.code {
					t.Fatalf("unexpected code; got %v; want %s", m["code"], tc.code)
				}
				return
			}
			want := clock.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
			if tok, _ := m["share_token"].(string); tok == "" || m["expire_time"] != want || m["expires_in"] != float64(7200) {
				t.Fatalf("unexpected token answer; got %s; want share_token, expire_time %s, expires_in 7200", resp.raw, want)
			}
		})
	}
	if len(locked) != 11 || locked == open {
		t.Fatalf("unexpected share ids; got %q and %q; want two distinct 11-character ids", locked, open)
	}
}

func TestShareTokenExpiry(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, ShareTokenTTL: time.Minute})
	f.AddFile("/Shared/a.txt", []byte("a"))
	id := f.AddShare("/Shared", "")
	sc := newShareClient(t, f, id, "")
	body := map[string]any{"share_id": id, "parent_file_id": "root"}
	steps := []struct {
		name   string
		act    func()
		status int
	}{
		{"fresh token", func() {}, 200},
		{"just before expiry", func() { clock.Advance(time.Minute - time.Second) }, 200},
		{"expired by the clock", func() { clock.Advance(time.Second) }, 401},
		{"new token", func() { sc.fetchToken(t, "") }, 200},
		{"ExpireShareTokens", f.ExpireShareTokens, 401},
		{"token after ExpireShareTokens", func() { sc.fetchToken(t, "") }, 200},
		{"unknown token", func() { sc.token = "x.y.z" }, 401},
	}
	for _, st := range steps {
		st.act()
		resp := sc.list(t, body)
		if resp.status != st.status {
			t.Fatalf("%s: unexpected status; got %d %s; want %d", st.name, resp.status, resp.raw, st.status)
		}
		if st.status != 401 {
			continue
		}
		if m := resp.fields(t); m["code"] != "ShareLinkTokenInvalid" || m["message"] != "ShareLinkToken is invalid. expired" {
			t.Fatalf("%s: unexpected error; got %s; want ShareLinkTokenInvalid", st.name, resp.raw)
		}
	}
}

func TestShareList(t *testing.T) {
	f := startFake(t, Options{PageSize: 3})
	for i := range 7 {
		f.AddFile(fmt.Sprintf("/Shared/f%d.txt", i), []byte{byte(i)})
	}
	f.AddFile("/Shared/Sub/deep.txt", []byte("d"))
	f.AddFile("/Other/secret.txt", []byte("s"))
	shared, _ := f.FileID("/Shared")
	sub, _ := f.FileID("/Shared/Sub")
	other, _ := f.FileID("/Other")
	id := f.AddShare("/Shared", "pw")
	sc := newShareClient(t, f, id, "pw")

	var names []string
	marker := ""
	for range 10 {
		resp := sc.list(t, map[string]any{"share_id": id, "parent_file_id": "root", "limit": 200, "marker": marker, "order_by": "name", "order_direction": "ASC"})
		its := items(t, resp)
		if resp.status != http.StatusOK || len(its) > 3 {
			t.Fatalf("unexpected page; got %d with %d items; want 200 with at most 3", resp.status, len(its))
		}
		for _, it := range its {
			if it["share_id"] != id || it["drive_id"] != f.DriveID() || it["parent_file_id"] != shared {
				t.Fatalf("unexpected item; got %v; want share_id %s, drive_id %s, parent %s", it, id, f.DriveID(), shared)
			}
			names = append(names, it["name"].(string))
		}
		if marker, _ = resp.fields(t)["next_marker"].(string); marker == "" {
			break
		}
	}
	if got := strings.Join(names, ","); got != "Sub,f0.txt,f1.txt,f2.txt,f3.txt,f4.txt,f5.txt,f6.txt" {
		t.Fatalf("unexpected listing; got %s; want Sub then f0..f6", got)
	}

	tests := []struct {
		name    string
		body    map[string]any
		status  int
		code    string
		first   string
		noToken bool
	}{
		{"the shared folder by its own id", map[string]any{"share_id": id, "parent_file_id": shared}, 200, "", "Sub", false},
		{"subfolder", map[string]any{"share_id": id, "parent_file_id": sub}, 200, "", "deep.txt", false},
		{"folder outside the share", map[string]any{"share_id": id, "parent_file_id": other}, 404, "NotFound.File", "", false},
		{"unknown folder", map[string]any{"share_id": id, "parent_file_id": shared + "x"}, 404, "NotFound.File", "", false},
		{"another share's id", map[string]any{"share_id": "Elsewhere01", "parent_file_id": "root"}, 400, "InvalidParameter.ShareId", "", false},
		{"no token is the legacy listing", map[string]any{"share_id": id, "parent_file_id": "root"}, 401, "AccessTokenInvalid", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := sc.list(t, tc.body)
			if tc.noToken {
				resp = postJSON(t, sc.c, f.APIURL()+"/adrive/v3/file/list", nil, tc.body)
			}
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.status != 200 {
				if got := resp.code(t); got != tc.code {
					t.Fatalf("unexpected code; got %q; want %q", got, tc.code)
				}
				return
			}
			if its := items(t, resp); len(its) == 0 || its[0]["name"] != tc.first {
				t.Fatalf("unexpected first item; got %s; want %s", resp.raw, tc.first)
			}
		})
	}
	if got := f.Calls(EndpointShareList); got < 9 {
		t.Fatalf("unexpected Calls(share/list); got %d; want at least 9", got)
	}
	if !slices.Contains(f.Secrets(), sc.token) {
		t.Fatalf("unexpected Secrets; got no share token; want it listed")
	}

	// A share of "/" lists the drive root.
	all := f.AddShare("/", "")
	sc = newShareClient(t, f, all, "")
	resp := sc.list(t, map[string]any{"share_id": all, "parent_file_id": "root"})
	if its := items(t, resp); resp.status != http.StatusOK || len(its) != 2 || its[0]["name"] != "Other" {
		t.Fatalf("unexpected root share listing; got %d %s; want Other and Shared", resp.status, resp.raw)
	}
}

// TestShareDownload: get_share_link_download_url is offline (§13.7): it
// still refuses what it refused, and answers an empty download_url.
func TestShareDownload(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/Shared/a.mkv", []byte("shared bytes"))
	folder, _ := f.FileID("/Shared")
	outside := f.AddFile("/Other/b.mkv", []byte("b"))
	share := f.AddShare("/Shared", "")
	sc := newShareClient(t, f, share, "")
	body := func(extra map[string]any) map[string]any {
		m := map[string]any{"drive_id": f.DriveID(), "file_id": id, "share_id": share}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		header http.Header // replaces both tokens when set
		body   map[string]any
		status int
		code   string
		life   int64
	}{
		{"default 600 s", nil, body(nil), 200, "", 0},
		{"asked 300 s", nil, body(map[string]any{"expire_sec": 300}), 200, "", 0},
		{"600 s is the maximum", nil, body(map[string]any{"expire_sec": 601}), 400, "InvalidParameter.ExpireSec", 0},
		{"AList's 14400 is refused", nil, body(map[string]any{"expire_sec": 14400}), 400, "InvalidParameter.ExpireSec", 0},
		{"no user token", http.Header{"X-Share-Token": {sc.token}}, body(nil), 401, "AccessTokenInvalid", 0},
		{"no share token", http.Header{"Authorization": {"Bearer " + sc.access}}, body(nil), 401, "ShareLinkTokenInvalid", 0},
		{"file outside the share", nil, body(map[string]any{"file_id": outside}), 404, "NotFound.File", 0},
		{"the shared folder", nil, body(map[string]any{"file_id": folder}), 400, "InvalidResource.FileTypeFolder", 0},
		{"another drive", nil, body(map[string]any{"drive_id": f.DriveIDOf(DriveResource)}), 404, "NotFound.Drive", 0},
		{"another share id", nil, body(map[string]any{"share_id": "Elsewhere01"}), 400, "InvalidParameter.ShareId", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := sc.link(t, tc.body)
			if tc.header != nil {
				resp = postJSON(t, sc.c, f.APIURL()+"/v2/file/get_share_link_download_url", tc.header, tc.body)
			}
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			if tc.status != 200 {
				if m["code"] != tc.code {
					t.Fatalf("unexpected code; got %v; want %s", m["code"], tc.code)
				}
				if tc.code == "InvalidParameter.ExpireSec" && m["message"] != "expire_sec should be less or equal than 600" {
					t.Fatalf("unexpected message; got %v; want the service's text", m["message"])
				}
				return
			}
			// Offline (§13.7): the checks still run, the answer has no link.
			if m["download_url"] != "" || m["url"] != "" {
				t.Fatalf("unexpected links; got %s; want an empty download_url and url", resp.raw)
			}
		})
	}
}
