package alifake

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// TestLivePhoto: the Open API links a .livp's parts through streamsUrl and
// no url (§13.8); each part plays from the CDN without a Referer; the
// legacy API links the container, a zip of both; removing the file retires
// the parts' links.
func TestLivePhoto(t *testing.T) {
	f := startFake(t, Options{})
	jpeg, mov := []byte("\xff\xd8jpeg bytes"), []byte("....ftypqt  mov bytes")
	id := f.AddLivePhoto("/Photos/IMG_0001.livp", jpeg, mov)
	o := openLogin(t, f)
	resp := o.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": f.DriveID(), "file_id": id, "expire_sec": 900})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	if u, ok := m["url"]; ok && u != "" {
		t.Fatalf("unexpected url for a live photo; got %v; want none", u)
	}
	streams, _ := m["streamsUrl"].(map[string]any)
	c := testClient(t)
	var links []string
	for format, want := range map[string][]byte{"jpeg": jpeg, "mov": mov} {
		u, _ := streams[format].(string)
		got := get(t, c, u, "")
		if got.status != http.StatusOK || !bytes.Equal(got.raw, want) {
			t.Fatalf("unexpected %s part; got %d %q; want 200 %q", format, got.status, got.raw, want)
		}
		links = append(links, u)
	}

	legacy := login(t, f)
	got := get(t, c, legacy.link(t, id, 900), "")
	zr, err := zip.NewReader(bytes.NewReader(got.raw), int64(len(got.raw)))
	if got.status != http.StatusOK || err != nil || len(zr.File) != 2 {
		t.Fatalf("unexpected legacy link of a live photo; got %d, %v", got.status, err)
	}
	rc, _ := zr.File[1].Open()
	inner, _ := io.ReadAll(rc)
	rc.Close()
	if zr.File[1].Name != "IMG_0001.MOV" || !bytes.Equal(inner, mov) {
		t.Fatalf("unexpected container: %s %q", zr.File[1].Name, inner)
	}

	// An ordinary file has a url and no streams.
	plain := f.AddFile("/Photos/a.jpg", jpeg)
	resp = o.post(t, "/adrive/v1.0/openFile/getDownloadUrl", map[string]any{"drive_id": f.DriveID(), "file_id": plain})
	if m := resp.fields(t); m["url"] == "" || m["streamsUrl"] != nil {
		t.Fatalf("unexpected answer for a plain file: %s", resp.raw)
	}

	f.Remove("/Photos/IMG_0001.livp")
	for _, u := range links {
		if got := get(t, c, u, ""); got.status != http.StatusNotFound {
			t.Fatalf("a removed live photo's part still plays; got %d", got.status)
		}
	}
}
