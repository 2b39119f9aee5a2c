package streamer_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// TestDAVPutReplaces: a WebDAV PUT answers 201 for a new name and 204 for a
// replaced file (RFC 9110 §9.3.4, RFC 4918 §9.7.1; Apache mod_dav's
// dav_created answers 204 too), as the drive has it, not as the caches
// remember it: a file made on the drive after alilink listed its folder, or
// found missing under a cached GET, is replaced with 204, and a file removed
// elsewhere since it was listed is created again with 201. Through curl -T
// and rclone; the old file is replaced in place or trashed, nothing is left
// under a temporary name. The plain-HTTP door (?overwrite=1) answers 200
// for a replacement and 201 for a creation by the same rule.
func TestDAVPutReplaces(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) { davPutReplaces(t, driver) })
	}
}

func davPutReplaces(t *testing.T, driver string) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	// On the drive before alilink starts: a fresh server knows no name.
	fake.AddFile("/Lib/fresh.txt", []byte("old fresh"))
	// cadaver reads its password from .netrc, which takes no spaces.
	const cadaverUser, cadaverPass = "bob", "bob-pass-1234"
	env := newDAVEnvOn(t, driver, fake, alifake.Options{}, streamer.Config{AdminToken: davAdmin,
		DAV: streamer.DAVConfig{Htpasswd: htpasswd(t, davUser, davPass, cadaverUser, cadaverPass)}}, streamer.Deps{})
	auth := []string{"-u", davUser + ":" + davPass}
	local := filepath.Join(t.TempDir(), "new.txt")
	const body = "new bytes from the client"
	if err := os.WriteFile(local, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	put := func(want int, name string, extra ...string) {
		t.Helper()
		oldID, had := fake.FileID("/Lib/" + name)
		args := append(append(append([]string{}, auth...), extra...), "-T", local, env.url+"Lib/"+name)
		if got, hdr := curlStatus(t, args...); got != want {
			t.Errorf("curl -T %s: unexpected status; got %d; want %d\n%s", name, got, want, hdr)
		}
		assertReplaced(t, fake, "/Lib/"+name, body, oldID, had)
	}
	// propfind lists /Lib/ (from the listing cache when it has it) and
	// checks whether each name is in the answer.
	propfind := func(names map[string]bool) {
		t.Helper()
		r := env.req(t, "PROPFIND", "/dav/Lib/", "", "Depth", "1")
		if r.status != 207 {
			t.Fatalf("PROPFIND: %d\n%s", r.status, r.body)
		}
		for name, want := range names {
			if got := regexp.MustCompile(`/dav/Lib/` + regexp.QuoteMeta(name) + `/?<`).MatchString(r.body); got != want {
				t.Fatalf("PROPFIND lists %s: %v; want %v\n%s", name, got, want, r.body)
			}
		}
	}

	put(204, "fresh.txt")

	propfind(map[string]bool{"later.txt": false})
	fake.AddFile("/Lib/later.txt", []byte("made elsewhere after the listing"))
	put(204, "later.txt")

	if got, _ := curlStatus(t, append(auth, env.url+"Lib/missing.txt")...); got != 404 {
		t.Fatalf("GET of a name not yet made: %d", got)
	}
	fake.AddFile("/Lib/missing.txt", []byte("made elsewhere after the 404"))
	put(204, "missing.txt")

	fake.AddFile("/Lib/known.txt", []byte("old known"))
	propfind(map[string]bool{"known.txt": true})
	put(204, "known.txt")

	put(201, "new.txt")

	// Listed, then removed elsewhere.
	fake.AddFile("/Lib/gone.txt", []byte("soon gone"))
	propfind(map[string]bool{"gone.txt": true})
	fake.Remove("/Lib/gone.txt")
	put(201, "gone.txt")

	// A folder in the way, unknown to the caches or known, is not
	// replaced: 409 (Apache mod_dav: "Cannot PUT to a collection").
	propfind(map[string]bool{"dir.txt": false})
	fake.AddFile("/Lib/dir.txt/inside", []byte("keep"))
	for range 2 {
		if r := env.req(t, http.MethodPut, "/dav/Lib/dir.txt", body); r.status != 409 || !strings.Contains(r.body, "a folder of that name exists") {
			t.Errorf("PUT onto a folder: %d %q; want 409 (a folder)", r.status, r.body)
		}
		if b, err := fake.ReadFile("/Lib/dir.txt/inside"); err != nil || string(b) != "keep" {
			t.Fatalf("the folder in the way lost its file: %q %v", b, err)
		}
		propfind(map[string]bool{"dir.txt": true})
	}

	// The plain-HTTP door, with the admin token and ?overwrite=1.
	bearer := []string{"-H", "Authorization: Bearer " + davAdmin}
	plain := func(want int, name string) {
		t.Helper()
		oldID, had := fake.FileID("/Lib/" + name)
		args := append(append([]string{}, bearer...), "-T", local, env.base+"/Lib/"+name+"?overwrite=1")
		if got, hdr := curlStatus(t, args...); got != want {
			t.Errorf("plain curl -T %s?overwrite=1: unexpected status; got %d; want %d\n%s", name, got, want, hdr)
		}
		assertReplaced(t, fake, "/Lib/"+name, body, oldID, had)
	}
	propfind(map[string]bool{"plain.txt": false})
	fake.AddFile("/Lib/plain.txt", []byte("made elsewhere after the listing"))
	plain(200, "plain.txt")
	plain(200, "plain.txt")
	propfind(map[string]bool{"plain.txt": true})
	fake.Remove("/Lib/plain.txt")
	plain(201, "plain.txt")
	plain(201, "plain-new.txt")
	// A folder in the way that the caches did not know: 409, named so.
	fake.AddFile("/Lib/pdir.txt/inside", []byte("keep"))
	if r := env.req(t, http.MethodPut, "/Lib/pdir.txt?overwrite=1", body, "Authorization", "Bearer "+davAdmin); r.status != 409 || !strings.Contains(r.body, "a folder of that name exists") {
		t.Errorf("plain PUT onto a folder: %d %q; want 409 (a folder)", r.status, r.body)
	}
	if b, err := fake.ReadFile("/Lib/pdir.txt/inside"); err != nil || string(b) != "keep" {
		t.Fatalf("the folder in the way lost its file: %q %v", b, err)
	}

	// cadaver (neon) onto a name made after the listing.
	cadaver := streamertest.NeedTool(t, "cadaver")
	home := t.TempDir()
	host := strings.TrimPrefix(env.base, "http://")
	host = host[:strings.IndexByte(host, ':')]
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine "+host+" login "+cadaverUser+" password "+cadaverPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	propfind(map[string]bool{"cadaver.txt": false})
	oldID := fake.AddFile("/Lib/cadaver.txt", []byte("made elsewhere for cadaver"))
	out := run(t, []string{"HOME=" + home}, "put "+local+" Lib/cadaver.txt\nquit\n", cadaver, "-t", env.url)
	if !strings.Contains(out, "succeeded") {
		t.Errorf("cadaver put:\n%s", out)
	}
	assertReplaced(t, fake, "/Lib/cadaver.txt", body, oldID, true)
	putStatus(t, env, "cadaver.txt", "204")

	// rclone onto a name made after the listing. Its MKCOL of the folder
	// makes alilink list it afresh, so here the caches know the name.
	bin := streamertest.NeedTool(t, "rclone")
	renv := rcloneDAVEnv(t, bin, env.url)
	propfind(map[string]bool{"rclone.txt": false})
	oldID = fake.AddFile("/Lib/rclone.txt", []byte("made elsewhere for rclone"))
	run(t, renv, "", bin, "copyto", local, ":webdav:Lib/rclone.txt", "--retries", "1", "--low-level-retries", "1")
	assertReplaced(t, fake, "/Lib/rclone.txt", body, oldID, true)
	putStatus(t, env, "rclone.txt", "204")

	if r := env.req(t, "PROPFIND", "/dav/Lib/", "", "Depth", "1"); r.status != 207 || strings.Contains(r.body, ".alilink-") {
		t.Fatalf("a temporary name is left in the folder:\n%s", r.body)
	}
	env.assertClean(t)
}

// putStatus checks from the access log that the server answered the one
// PUT of /dav/Lib/name with status.
func putStatus(t *testing.T, env *davEnv, name, status string) {
	t.Helper()
	re := regexp.MustCompile(`method=PUT path=/dav/Lib/` + regexp.QuoteMeta(name) + ` status=(\d+)`)
	if m := re.FindAllStringSubmatch(env.logs.String(), -1); len(m) != 1 || m[0][1] != status {
		t.Errorf("PUTs of %s: %v; want one, answered %s", name, m, status)
	}
}

// assertReplaced (an error, not fatal: the cases after it still run) checks that the drive holds want at p and that the file
// that was there (oldID, when had) was replaced in place or is in the trash.
func assertReplaced(t *testing.T, fake *alifake.Fake, p, want, oldID string, had bool) {
	t.Helper()
	if b, err := fake.ReadFile(p); err != nil || string(b) != want {
		t.Errorf("%s holds %q, %v; want %q", p, b, err, want)
	}
	if id, _ := fake.FileID(p); had && id != oldID && !fake.InTrash(oldID) {
		t.Errorf("the old %s (%s) is neither replaced in place nor in the trash", p, oldID)
	}
}
