package streamer_test

import (
	"testing"

	"github.com/alilink/alilink/streamer"
)

// TestDoorAt: the paths WebDAV and the AList API answer before the drive,
// and none of them once the door is off or moved.
func TestDoorAt(t *testing.T) {
	cfg := streamer.DefaultConfig()
	f := func(p, want string) {
		t.Helper()
		if _, variable := cfg.DoorAt(p); variable != want {
			t.Fatalf("unexpected door at %q; got %q; want %q", p, variable, want)
		}
	}
	for _, p := range []string{"/dav", "/dav/Films"} {
		f(p, "ALILINK_DAV_PREFIX")
	}
	for _, p := range []string{"/d", "/d/x", "/p", "/api", "/api/fs", "/ping"} {
		f(p, "ALILINK_ALIST_OFF")
	}
	for _, p := range []string{"/", "/Films", "/davx", "/da", "/dx", "/ping/x", "/apis", "/Backup/d"} {
		f(p, "")
	}
	cfg.AList.Off = true
	cfg.DAV.Prefix = "/webdav"
	for _, p := range []string{"/d", "/api", "/ping", "/dav"} {
		f(p, "")
	}
	f("/webdav/x", "ALILINK_DAV_PREFIX")
	cfg.DAV.Prefix = "off"
	f("/webdav", "")
}
