package streamer_test

import (
	"testing"

	"github.com/alilink/alilink/streamer"
)

// TestAListFailureWording: the AList door answers failures in AList's own
// wording, from the server's error table: a missing path is "object not
// found", fs/list or fs/dirs of a file "not a folder", a bad path "bad
// path", fs/link of a folder "not a file" (all HTTP 200, the outcome in
// code).
func TestAListFailureWording(t *testing.T) {
	e := newAListEnv(t, "drive", streamer.ModeRedirect, nil)
	for _, c := range []struct {
		ep   string
		path string
		code float64
		msg  string
	}{
		{"/api/fs/get", "/nothing", 500, "object not found"},
		{"/api/fs/list", "/nothing", 500, "object not found"},
		{"/api/fs/list", "/Docs/readme.txt", 500, "not a folder"},
		{"/api/fs/dirs", "/Docs/readme.txt", 500, "not a folder"},
		{"/api/fs/get", "/a/\x00", 400, "bad path"},
		{"/api/fs/link", "/Docs", 500, "not a file"},
	} {
		if code, msg := e.code(t, c.ep, adminToken, map[string]any{"path": c.path}); code != c.code || msg != c.msg {
			t.Errorf("%s %q: %v %q, want %v %q", c.ep, c.path, code, msg, c.code, c.msg)
		}
	}
}
