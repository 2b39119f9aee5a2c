package streamer_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/streamer/streamertest"
)

// runTool runs a program with a deadline and returns its combined output.
func runTool(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "RCLONE_CONFIG="+conf, "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// writeTree puts want (name → content) in a local folder, as the drive has it.
func writeTree(t *testing.T, want map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, body := range want {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRcloneHTTP: rclone's http backend lists the index recursively with the
// exact names and sizes, and rclone check --download finds every byte equal.
func TestRcloneHTTP(t *testing.T) {
	rclone := streamertest.NeedTool(t, "rclone")
	for _, mode := range []string{streamer.ModeAuto, streamer.ModeProxy} {
		t.Run(mode, func(t *testing.T) {
			env := newEnv(t, alifake.Options{}, streamer.Config{Mode: mode})
			want := awkwardTree(env)
			want[`Sub "x" & 'y' #2/inner #2.mkv`] = "inner"
			base := serveTCP(t, env) + "/Lib/"
			out, err := runTool(t, "", rclone, "lsf", "-R", "--format", "sp", "--separator", "|", "--http-url", base, ":http:")
			if err != nil {
				t.Fatalf("rclone lsf failed: %v\n%s", err, out)
			}
			var wantLines []string
			for n, body := range want {
				wantLines = append(wantLines, strconv.Itoa(len(body))+"|"+n)
			}
			wantLines = append(wantLines, `-1|Sub "x" & 'y' #2/`)
			sort.Strings(wantLines)
			got := strings.Split(strings.TrimSpace(out), "\n")
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
				t.Fatalf("unexpected rclone listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
			}
			local := writeTree(t, want)
			if out, err := runTool(t, "", rclone, "check", "--download", "--http-url", base, ":http:", local); err != nil {
				t.Fatalf("rclone check found differences: %v\n%s", err, out)
			}
		})
	}
}

// TestWgetMirror: wget -r -np mirrors a folder byte-exact, with nothing but
// the files and the folders' index pages (the player and playlist links lie
// outside the folder, so -np never follows them).
func TestWgetMirror(t *testing.T) {
	wget := streamertest.NeedTool(t, "wget")
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAuto})
	want := awkwardTree(env)
	want[`Sub "x" & 'y' #2/inner #2.mkv`] = "inner"
	base := serveTCP(t, env)
	dir := t.TempDir()
	// nocontrol: keep UTF-8 names as they are (wget's default escapes the
	// bytes 0x80-0x9f, which UTF-8 uses).
	if out, err := runTool(t, dir, wget, "-r", "-np", "-nH", "--cut-dirs=1", "-q", "--restrict-file-names=nocontrol", base+"/Lib/"); err != nil {
		t.Fatalf("wget failed: %v\n%s", err, out)
	}
	got := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for n, body := range want {
		if got[n] != body {
			t.Fatalf("wget's copy of %q: got %q; want %q", n, got[n], body)
		}
		delete(got, n)
	}
	for n, body := range got {
		if n != "index.html" && n != `Sub "x" & 'y' #2/index.html` || !strings.HasPrefix(body, "<!DOCTYPE html>") {
			t.Fatalf("wget saved an unexpected file %q", n)
		}
	}
}

// makeWebM makes a short VP9/Opus WebM (what Debian's Chromium plays) with
// ffmpeg, as TestFFprobeThroughProxy makes its sample.
func makeWebM(t *testing.T) []byte {
	t.Helper()
	ffmpeg := streamertest.NeedTool(t, "ffmpeg")
	p := filepath.Join(t.TempDir(), "clip.webm")
	out, err := runTool(t, "", ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=320x180:rate=15",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
		"-b:v", "150k", "-g", "15", "-c:a", "libopus", "-b:a", "32k", "-shortest", p)
	if err != nil {
		t.Fatalf("ffmpeg could not make the WebM: %v\n%s", err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPlaylistMPV: mpv plays the folder's ?format=m3u, with signs on, each
// entry carrying the folder sign's expiry.
func TestPlaylistMPV(t *testing.T) {
	mpv := streamertest.NeedTool(t, "mpv")
	clip := makeWebM(t)
	env := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeAuto, SignSecret: testSecret})
	env.fake.AddFile("/Media/Ocean's #1.webm", clip)
	env.fake.AddFile("/Media/readme.txt", []byte("not media"))
	base := serveTCP(t, env)
	q := sign.New(testSecret).Sign("/Media", time.Now().Add(time.Hour))
	out, err := runTool(t, "", mpv, "--no-config", "--no-video", "--ao=null", "--vo=null", "--length=1", "--msg-level=all=v",
		base+"/Media/?format=m3u&sign="+q)
	if err != nil {
		t.Fatalf("mpv failed on the playlist: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Playing: "+base+"/Media/Ocean%27s%20%231.webm?sign=") || strings.Contains(out, "readme") ||
		!bytes.Contains([]byte(out), []byte("opus")) {
		t.Fatalf("mpv did not play the playlist's entry:\n%s", out)
	}
}
