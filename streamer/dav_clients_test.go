package streamer_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// run runs a program with env added, bounded in time, and returns its
// standard output; a failure fails the test with its output.
// rcloneDAVEnv is the environment that points rclone's :webdav: remote at
// url as davUser, with an empty config file of its own.
func rcloneDAVEnv(t *testing.T, bin, url string) []string {
	t.Helper()
	obscured := strings.TrimSpace(run(t, nil, "", bin, "obscure", davPass))
	cfg := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"RCLONE_CONFIG=" + cfg, "RCLONE_WEBDAV_URL=" + url, "RCLONE_WEBDAV_VENDOR=other",
		"RCLONE_WEBDAV_USER=" + davUser, "RCLONE_WEBDAV_PASS=" + obscured}
}

func run(t *testing.T, env []string, stdin string, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s\n%s", filepath.Base(bin), args, err, out.String(), errb.String())
	}
	return out.String()
}

// TestDAVRclone drives rclone's :webdav: backend through alilink, in
// redirect (auto: rclone is a known agent) and proxy mode: recursive
// listing, ranged reads, a content check against the fake, upload, move and
// delete. A redirected read reaches the CDN from rclone itself and carries
// no Authorization.
func TestDAVRclone(t *testing.T) {
	bin := streamertest.NeedTool(t, "rclone")
	for _, mode := range []string{streamer.ModeAuto, streamer.ModeProxy} {
		t.Run(mode, func(t *testing.T) {
			env := newDAVEnv(t, "drive", alifake.Options{}, streamer.Config{DAV: streamer.DAVConfig{Mode: mode}}, false)
			// The CDN under another host name than alilink's, as in real
			// life: a client drops Authorization when a redirect changes host.
			env.fake.SetCDNURL(strings.Replace(env.fake.CDNURL(), "127.0.0.1", "localhost", 1))
			film := testContent(200 << 10)
			env.fake.AddFile("/Movies/Film.mkv", film)
			env.fake.AddFile("/Movies/电影 one.mp4", []byte("second film"))
			env.fake.AddFile("/Movies/Sub/a b.srt", []byte("subtitles"))

			renv := rcloneDAVEnv(t, bin, env.url)
			rc := func(args ...string) string {
				t.Helper()
				return run(t, renv, "", bin, append(args, "--retries", "1", "--low-level-retries", "1")...)
			}

			lines := strings.Split(strings.TrimSpace(rc("lsf", "-R", ":webdav:")), "\n")
			slices.Sort(lines)
			got := strings.Join(lines, "\n")
			want := "Movies/\nMovies/Film.mkv\nMovies/Sub/\nMovies/Sub/a b.srt\nMovies/电影 one.mp4"
			if got != want {
				t.Fatalf("lsf -R: got\n%s\nwant\n%s", got, want)
			}
			env.fake.ResetCounters()
			if got := rc("cat", "--offset", "1000", "--count", "5000", ":webdav:Movies/Film.mkv"); got != string(film[1000:6000]) {
				t.Fatalf("cat --offset --count: %d bytes, not the file's", len(got))
			}
			var cdn, fromRclone int
			for _, r := range env.fake.Requests() {
				if r.Endpoint != alifake.EndpointCDN {
					continue
				}
				cdn++
				if r.Header.Get("Authorization") != "" {
					t.Fatalf("a CDN request carried an Authorization header (%s mode)", mode)
				}
				if strings.Contains(r.Header.Get("User-Agent"), "rclone") {
					fromRclone++
				}
			}
			if cdn == 0 || (mode == streamer.ModeAuto) != (fromRclone > 0) {
				t.Fatalf("%s mode: %d CDN requests, %d from rclone itself", mode, cdn, fromRclone)
			}

			local := t.TempDir()
			for name, b := range map[string][]byte{"Film.mkv": film, "电影 one.mp4": []byte("second film"), "Sub/a b.srt": []byte("subtitles")} {
				_ = os.MkdirAll(filepath.Dir(filepath.Join(local, name)), 0o700)
				if err := os.WriteFile(filepath.Join(local, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			rc("check", "--download", local, ":webdav:Movies")

			up := filepath.Join(t.TempDir(), "up.bin")
			upData := testContent(300 << 10)
			if err := os.WriteFile(up, upData, 0o600); err != nil {
				t.Fatal(err)
			}
			rc("copyto", up, ":webdav:Uploads/up.bin")
			if b, err := env.fake.ReadFile("/Uploads/up.bin"); err != nil || !bytes.Equal(b, upData) {
				t.Fatalf("copyto: the drive holds %d bytes, %v", len(b), err)
			}
			rc("moveto", ":webdav:Uploads/up.bin", ":webdav:Movies/Sub/moved.bin")
			if _, ok := env.fake.FileID("/Uploads/up.bin"); ok {
				t.Fatal("moveto left the source")
			}
			if b, err := env.fake.ReadFile("/Movies/Sub/moved.bin"); err != nil || !bytes.Equal(b, upData) {
				t.Fatalf("moveto: %d bytes, %v", len(b), err)
			}
			id, _ := env.fake.FileID("/Movies/Sub/moved.bin")
			rc("deletefile", ":webdav:Movies/Sub/moved.bin")
			if !env.fake.InTrash(id) {
				t.Fatal("deletefile did not trash the file")
			}
			if got := rc("lsf", ":webdav:Movies/Sub"); got != "a b.srt\n" {
				t.Fatalf("after deletefile: %q", got)
			}
			env.assertClean(t)
		})
	}
}

// TestDAVCadaver drives cadaver (neon): ls, get, put, mkcol, move. neon does
// not follow redirects, so in auto mode its GET is proxied.
func TestDAVCadaver(t *testing.T) {
	bin := streamertest.NeedTool(t, "cadaver")
	const user, pass = "bob", "bob-pass-1234"
	env := newDAVEnv(t, "drive", alifake.Options{},
		streamer.Config{DAV: streamer.DAVConfig{Htpasswd: htpasswd(t, user, pass)}}, false)
	env.fake.AddFile("/Movies/Film.mkv", []byte("film for cadaver"))
	home := t.TempDir()
	host := strings.TrimPrefix(env.base, "http://")
	host = host[:strings.IndexByte(host, ':')]
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine "+host+" login "+user+" password "+pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "local.txt"), []byte("put by cadaver"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(work, "got.mkv")
	script := strings.Join([]string{
		"ls Movies",
		"get Movies/Film.mkv " + got,
		"mkcol New",
		"put " + filepath.Join(work, "local.txt") + " New/local.txt",
		"move New/local.txt Movies/local.txt",
		"quit",
	}, "\n") + "\n"
	out := run(t, []string{"HOME=" + home}, script, bin, "-t", env.url)
	if !strings.Contains(out, "Film.mkv") {
		t.Fatalf("cadaver ls did not list the film:\n%s", out)
	}
	if b, err := os.ReadFile(got); err != nil || string(b) != "film for cadaver" {
		t.Fatalf("cadaver get: %q %v\n%s", b, err, out)
	}
	if _, ok := env.fake.FileID("/New"); !ok {
		t.Fatalf("cadaver mkcol made no folder:\n%s", out)
	}
	if b, err := env.fake.ReadFile("/Movies/local.txt"); err != nil || string(b) != "put by cadaver" {
		t.Fatalf("cadaver put+move: %q %v\n%s", b, err, out)
	}
	if _, ok := env.fake.FileID("/New/local.txt"); ok {
		t.Fatalf("cadaver move left the source:\n%s", out)
	}
	for _, r := range env.fake.Requests() {
		if r.Endpoint == alifake.EndpointCDN && strings.Contains(r.Header.Get("User-Agent"), "neon") {
			t.Fatal("cadaver reached the CDN itself: neon must be proxied")
		}
	}
	env.assertClean(t)
}
