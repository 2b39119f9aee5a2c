package alifake

import (
	"net/http"
	"testing"
)

// TestManageResourceDrive: rename, move, copy, trash and restore reach the
// resource drive with drive_id, for both families, as listing and links do
// (§16: drive_id is a field of each call); an unknown drive is 404.
func TestManageResourceDrive(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			f := startFake(t, Options{})
			u := fam.new(t, f)
			p := pathsOf(u)
			rd := f.DriveIDOf(DriveResource)
			a := f.AddFileTo(DriveResource, "/d/a.txt", []byte("a"))
			resp := u.call(t, p.update, map[string]any{"drive_id": rd, "file_id": a, "name": "c.txt", "check_name_mode": "refuse"})
			if resp.status != http.StatusOK {
				t.Fatalf("unexpected rename on the resource drive; got %d %s; want 200", resp.status, resp.raw)
			}
			if id, ok := f.FileIDIn(DriveResource, "/d/c.txt"); !ok || id != a {
				t.Fatalf("the rename did not reach the resource drive (%q %v)", id, ok)
			}
			resp = u.call(t, p.move, map[string]any{"drive_id": rd, "file_id": a, "to_parent_file_id": "root", "check_name_mode": "refuse"})
			if resp.status != http.StatusOK {
				t.Fatalf("unexpected move on the resource drive; got %d %s; want 200", resp.status, resp.raw)
			}
			if _, ok := f.FileIDIn(DriveResource, "/c.txt"); !ok {
				t.Fatalf("the move did not reach the resource drive")
			}
			resp = u.call(t, p.trash, map[string]any{"drive_id": rd, "file_id": a})
			if resp.status/100 != 2 || !f.InTrashOf(DriveResource, a) { // legacy 204, open 200 (§14.6)
				t.Fatalf("unexpected trash on the resource drive; got %d %s", resp.status, resp.raw)
			}
			resp = u.call(t, p.update, map[string]any{"drive_id": "nope", "file_id": a, "name": "x.txt"})
			if resp.status != http.StatusNotFound || resp.code(t) != "NotFound.Drive" {
				t.Fatalf("unexpected rename on an unknown drive; got %d %s; want 404 NotFound.Drive", resp.status, resp.raw)
			}
		})
	}
}

// TestRefreshesAndGrant: Refreshes counts tokens traded, not refusals;
// getDriveInfo leaves out the drives the user did not grant.
func TestRefreshesAndGrant(t *testing.T) {
	f := startFake(t, Options{})
	s := login(t, f)
	if got := f.Refreshes(); got != 1 {
		t.Fatalf("unexpected refreshes; got %d; want 1", got)
	}
	spent := s.refresh
	s.refreshTokens(t, s.refresh)
	resp := postJSON(t, s.c, f.APIURL()+"/v2/account/token", nil, map[string]any{"grant_type": "refresh_token", "refresh_token": spent})
	if resp.status != http.StatusBadRequest || f.Refreshes() != 2 {
		t.Fatalf("unexpected spent refresh; got %d, %d refreshes; want 400, 2", resp.status, f.Refreshes())
	}

	o := openLogin(t, f)
	info := func() map[string]any {
		resp := postJSON(t, o.c, f.APIURL()+"/adrive/v1.0/user/getDriveInfo", http.Header{"Authorization": {"Bearer " + o.access}}, map[string]any{})
		if resp.status != http.StatusOK {
			t.Fatalf("unexpected getDriveInfo; got %d %s", resp.status, resp.raw)
		}
		return resp.fields(t)
	}
	if m := info(); m["resource_drive_id"] != f.DriveIDOf(DriveResource) || m["backup_drive_id"] != f.DriveID() {
		t.Fatalf("unexpected drive info with everything granted: %v", m)
	}
	f.SetOpenGrant(false, true)
	if m := info(); m["resource_drive_id"] != nil || m["backup_drive_id"] != f.DriveID() || m["default_drive_id"] != f.DriveID() {
		t.Fatalf("unexpected drive info without the resource drive: %v", m)
	}
}
