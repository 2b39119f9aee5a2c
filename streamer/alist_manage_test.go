package streamer_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

func (e *alistEnv) names(t *testing.T, tok, p string) string {
	t.Helper()
	d := e.ok(t, "/api/fs/list", tok, map[string]any{"path": p}).(map[string]any)
	var n []string
	c, _ := d["content"].([]any)
	for _, o := range c {
		n = append(n, o.(map[string]any)["name"].(string))
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// curlPut uploads data to /api/fs/put as AList's web client and alist-cli
// do: PUT, File-Path URL-encoded, the token as Authorization.
func curlPut(t *testing.T, base, tok, p string, data []byte, hdr ...string) string {
	t.Helper()
	bin := streamertest.NeedTool(t, "curl")
	f := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-sS", "-T", f, "-H", "Authorization: " + tok, "-H", "File-Path: " + url.PathEscape(p), base + "/api/fs/put"}
	for _, h := range hdr {
		args = append(args, "-H", h)
	}
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("curl PUT: %v", err)
	}
	return string(out)
}

func TestAListWrites(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e := newAListEnv(t, driver, streamer.ModeProxy, nil)
			tok := e.login(t, "writer", "writer-pass")
			e.ok(t, "/api/fs/mkdir", tok, map[string]any{"path": "/New/Sub"})
			e.ok(t, "/api/fs/mkdir", tok, map[string]any{"path": "/New/Sub"}) // exists: AList succeeds
			if got := e.names(t, tok, "/New"); got != "Sub" {
				t.Fatalf("after mkdir: got %q", got)
			}
			body := testContent(150_000)
			out := curlPut(t, e.base, tok, "/New/Sub/clip 1.mp4", body)
			if !strings.Contains(out, `"code":200`) {
				t.Fatalf("fs/put: %s", out)
			}
			if out := curlPut(t, e.base, tok, "/New/Sub/clip 1.mp4", body, "Overwrite: false"); !strings.Contains(out, `"code":403`) {
				t.Fatalf("fs/put onto a taken name with Overwrite: false: %s", out)
			}
			g := e.ok(t, "/api/fs/get", tok, map[string]any{"path": "/New/Sub/clip 1.mp4"}).(map[string]any)
			if g["size"] != float64(len(body)) {
				t.Fatalf("the uploaded file's size: got %v; want %d", g["size"], len(body))
			}
			if got := curl(t, g["raw_url"].(string)); !bytes.Equal(got, body) {
				t.Fatalf("the uploaded file plays %d bytes, not %d", len(got), len(body))
			}
			e.ok(t, "/api/fs/rename", tok, map[string]any{"path": "/New/Sub/clip 1.mp4", "name": "clip.mp4"})
			e.ok(t, "/api/fs/copy", tok, map[string]any{"src_dir": "/New/Sub", "dst_dir": "/New", "names": []string{"clip.mp4"}})
			if c, m := e.code(t, "/api/fs/move", tok, map[string]any{"src_dir": "/New/Sub", "dst_dir": "/New", "names": []string{"clip.mp4"}}); c != 403 || m != "file [clip.mp4] exists" {
				t.Fatalf("a move onto a taken name: got %v %q", c, m)
			}
			e.ok(t, "/api/fs/move", tok, map[string]any{"src_dir": "/New/Sub", "dst_dir": "/New", "names": []string{"clip.mp4"}, "overwrite": true})
			if got := e.names(t, tok, "/New"); got != "Sub,clip.mp4" {
				t.Fatalf("after rename, copy, move: /New holds %q", got)
			}
			if got := e.names(t, tok, "/New/Sub"); got != "" {
				t.Fatalf("after the move: /New/Sub holds %q", got)
			}
			e.ok(t, "/api/fs/remove", tok, map[string]any{"dir": "/New", "names": []string{"clip.mp4", "Sub"}})
			if got := e.names(t, tok, "/New"); got != "" {
				t.Fatalf("after remove: /New holds %q", got)
			}
			if c, _ := e.code(t, "/api/fs/remove", tok, map[string]any{"dir": "/New", "names": []string{"../Docs"}}); c != 400 {
				t.Fatalf("a name with a separator: want 400; got %v", c)
			}
			// The admin token writes too; a guest's PUT is refused before its body is read.
			e.ok(t, "/api/fs/mkdir", adminToken, map[string]any{"path": "/ByAdmin"})
			if out := curlPut(t, e.base, "", "/x.bin", body); !strings.Contains(out, `"code":401`) {
				t.Fatalf("a guest's fs/put: %s", out)
			}
		})
	}
}
