package streamer_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

const adminToken = "upload-admin-token-0123456789"

// uploadEnv is alilink in proxy mode (so reads come back through it) with an
// admin token and a spool dir of its own.
func uploadEnv(t *testing.T, driver string, scfg streamer.Config) (*testEnv, string) {
	t.Helper()
	spool := t.TempDir()
	scfg.Mode = streamer.ModeProxy
	scfg.AdminToken = adminToken
	scfg.SpoolDir = spool
	return newEnvFor(t, driver, alifake.Options{}, scfg), spool
}

// put PUTs body to alilink; body may be a reader of unknown length (chunked).
func (e *testEnv) put(t *testing.T, p string, body io.Reader, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://alilink/", body)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque, req.URL.RawQuery, _ = strings.Cut(p, "?") // exactly as written
	return send(t, e.client, req, append([]string{"Authorization", "Bearer " + adminToken}, hdr...))
}

type putAnswer struct {
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	ContentHash string `json:"content_hash"`
	Rapid       bool   `json:"rapid"`
}

func (r response) putAnswer(t *testing.T) putAnswer {
	t.Helper()
	var a putAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("the answer %q is not JSON: %v", r.body, err)
	}
	return a
}

// assertEmptyDir fails unless dir empties within a few seconds (a handler
// may still be cleaning up after its client went).
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		names, _ := os.ReadDir(dir)
		if len(names) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds %s", dir, names[0].Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUpload: a 25 MiB PUT to a new folder, the part URLs expiring halfway,
// lands byte-exact on the drive and reads back through alilink, though the
// path was a cached 404 before; the spool dir is left empty.
func TestUpload(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e, spool := uploadEnv(t, driver, streamer.Config{})
			aliclienttest.ExpireUploadURLsAfterFirstPart(t, e.fake)
			data := aliclienttest.RandomBytes(25<<20, 1)
			e.fake.AddFile("/Lib/old.bin", []byte("old"))
			if r := e.do(t, http.MethodGet, "/New/Sub/film.bin"); r.status != http.StatusNotFound {
				t.Fatalf("GET before the upload: %d", r.status)
			}
			r := e.put(t, "/New/Sub/film.bin", bytes.NewReader(data))
			if r.status != http.StatusCreated {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			a := r.putAnswer(t)
			if a.Path != "/New/Sub/film.bin" || a.Size != int64(len(data)) || a.Rapid || !strings.EqualFold(a.ContentHash, aliclienttest.SHA1Hex(data)) {
				t.Fatalf("unexpected answer %+v", a)
			}
			if n := e.fake.Calls(e.ep().UploadURL); n != 1 {
				t.Fatalf("%d calls for fresh part URLs, want 1 (they expired halfway)", n)
			}
			got := e.do(t, http.MethodGet, "/New/Sub/film.bin")
			if got.status != http.StatusOK || got.body != string(data) {
				t.Fatalf("GET after the upload: %d, %d bytes, equal %v", got.status, len(got.body), got.body == string(data))
			}
			if listing := e.do(t, http.MethodGet, "/New/Sub/"); !strings.Contains(listing.body, "film.bin") {
				t.Fatalf("the folder's listing does not show the upload: %s", listing.body)
			}

			// Into a folder whose listing is cached, where the name was a 404.
			if r := e.do(t, http.MethodGet, "/Lib/"); !strings.Contains(r.body, "old.bin") {
				t.Fatalf("listing: %d %s", r.status, r.body)
			}
			if r := e.do(t, http.MethodGet, "/Lib/new.bin"); r.status != http.StatusNotFound {
				t.Fatalf("GET before the upload: %d", r.status)
			}
			if r := e.put(t, "/Lib/new.bin", strings.NewReader("fresh")); r.status != http.StatusCreated {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			if r := e.do(t, http.MethodGet, "/Lib/new.bin"); r.status != http.StatusOK || r.body != "fresh" {
				t.Fatalf("GET after the upload: %d %q", r.status, r.body)
			}
			assertEmptyDir(t, spool)
			e.assertNoSecrets(t, "the log", e.logs.String())
		})
	}
}

// TestUploadRapid: content the drive has goes up without a part PUT, both
// from the body alone (the pre-hash path) and with X-Content-Sha1.
func TestUploadRapid(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e, spool := uploadEnv(t, driver, streamer.Config{})
			big := aliclienttest.RandomBytes(3<<20, 2)
			small := aliclienttest.RandomBytes(300<<10, 3)
			e.fake.AddFile("/Lib/big.bin", big)
			e.fake.AddFile("/Lib/small.bin", small)

			r := e.put(t, "/Copies/big.bin", bytes.NewReader(big))
			if r.status != http.StatusCreated || !r.putAnswer(t).Rapid {
				t.Fatalf("PUT of known content: %d %s", r.status, r.body)
			}
			r = e.put(t, "/Copies/small.bin", bytes.NewReader(small), "X-Content-Sha1", strings.ToUpper(aliclienttest.SHA1Hex(small)))
			if r.status != http.StatusCreated || !r.putAnswer(t).Rapid {
				t.Fatalf("PUT of known content with X-Content-Sha1: %d %s", r.status, r.body)
			}
			if n := e.fake.Calls("upload/part"); n != 0 {
				t.Fatalf("%d part PUTs for rapid uploads", n)
			}
			for name, want := range map[string][]byte{"big.bin": big, "small.bin": small} {
				if got, err := e.fake.ReadFile("/Copies/" + name); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s: the drive holds %d bytes (%v)", name, len(got), err)
				}
			}
			// A hash that is not the body's: refused, nothing created.
			r = e.put(t, "/Copies/liar.bin", bytes.NewReader(aliclienttest.RandomBytes(2<<20, 4)), "X-Content-Sha1", aliclienttest.SHA1Hex(big))
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "X-Content-Sha1") {
				t.Fatalf("a body that is not its X-Content-Sha1: %d %s", r.status, r.body)
			}
			if _, err := e.fake.ReadFile("/Copies/liar.bin"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a file appeared: %v", err)
			}
			assertEmptyDir(t, spool)
		})
	}
}

// TestUploadStreamsWithHash: with X-Content-Sha1 of new content the parts go
// out while the body arrives, and the file reads back exact; a chunked body
// works too.
func TestUploadStreamsWithHash(t *testing.T) {
	e, spool := uploadEnv(t, "drive", streamer.Config{})
	data := aliclienttest.RandomBytes(21<<20+5, 5)
	r := e.put(t, "/s.bin", bytes.NewReader(data), "X-Content-Sha1", aliclienttest.SHA1Hex(data))
	if r.status != http.StatusCreated || r.putAnswer(t).Rapid {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if n := e.fake.Calls("upload/part"); n != 3 {
		t.Fatalf("%d part PUTs, want 3", n)
	}
	chunked := io.MultiReader(bytes.NewReader(data[:7<<20]), bytes.NewReader(data[7<<20:])) // no length: chunked
	if r := e.put(t, "/c.bin", chunked); r.status != http.StatusCreated {
		t.Fatalf("chunked PUT: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/s.bin", "/c.bin"} {
		if got := e.do(t, http.MethodGet, p); got.status != http.StatusOK || got.body != string(data) {
			t.Fatalf("GET %s: %d, %d bytes", p, got.status, len(got.body))
		}
	}
	assertEmptyDir(t, spool)
}

// TestUploadClientHangsUp: a client that sends 5 of its 25 MiB and goes
// leaves no file on the drive and no spool file, with or without a hash.
func TestUploadClientHangsUp(t *testing.T) {
	for _, withHash := range []bool{false, true} {
		t.Run(fmt.Sprintf("hash=%v", withHash), func(t *testing.T) {
			e, spool := uploadEnv(t, "drive", streamer.Config{})
			data := aliclienttest.RandomBytes(25<<20, 6)
			conn, err := e.dial()
			if err != nil {
				t.Fatal(err)
			}
			hdr := fmt.Sprintf("PUT /cut.bin HTTP/1.1\r\nHost: alilink\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n", adminToken, len(data))
			if withHash {
				hdr += "X-Content-Sha1: " + aliclienttest.SHA1Hex(data) + "\r\n"
			}
			w := bufio.NewWriter(conn)
			_, _ = w.WriteString(hdr + "\r\n")
			_, _ = w.Write(data[:5<<20])
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // let the server take some of it
			_ = conn.Close()
			assertEmptyDir(t, spool)
			if _, err := e.fake.ReadFile("/cut.bin"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a file appeared: %v", err)
			}
			if n := e.fake.Calls(e.ep().Complete); n != 0 {
				t.Fatalf("%d completes", n)
			}
			if r := e.do(t, http.MethodGet, "/cut.bin"); r.status != http.StatusNotFound {
				t.Fatalf("GET after the cut: %d", r.status)
			}
		})
	}
}

// TestUploadRefusals: wrong or missing token 401, uploads off without a
// token, an existing name 409 unless overwriting, over the cap 413, a share
// 405; none changes the drive.
func TestUploadRefusals(t *testing.T) {
	e, spool := uploadEnv(t, "drive", streamer.Config{UploadMax: 1 << 20})
	e.fake.AddFile("/a.txt", []byte("old"))
	e.fake.AddFile("/Dir/x", []byte("x"))
	for _, c := range []struct {
		name, path string
		body       io.Reader
		hdr        []string
		status     int
		says       string
	}{
		{"no token", "/n.txt", strings.NewReader("x"), []string{"Authorization", ""}, 401, "admin token"},
		{"wrong token", "/n.txt", strings.NewReader("x"), []string{"Authorization", "Bearer " + strings.Repeat("x", len(adminToken))}, 401, "admin token"},
		{"existing file", "/a.txt", strings.NewReader("new"), nil, 409, "overwrite"},
		{"existing folder", "/Dir", strings.NewReader("new"), []string{"Overwrite", "T"}, 409, "exists"},
		{"parent is a file", "/a.txt/b", strings.NewReader("new"), nil, 409, "parent"},
		{"root", "/", strings.NewReader("new"), nil, 400, "name"},
		{"bad escape", "/bad%zz", strings.NewReader("new"), nil, 400, ""},
		{"over the cap", "/big", bytes.NewReader(make([]byte, 1<<20+1)), nil, 413, "ALILINK_UPLOAD_MAX"},
		{"over the cap, chunked", "/big", io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), strings.NewReader("x")), nil, 413, "ALILINK_UPLOAD_MAX"},
		{"bad hash", "/h", strings.NewReader("x"), []string{"X-Content-Sha1", "nothex"}, 400, "X-Content-Sha1"},
	} {
		r := e.put(t, c.path, c.body, c.hdr...)
		if r.status != c.status || !strings.Contains(r.body, c.says) {
			t.Errorf("%s: %d %q, want %d saying %q", c.name, r.status, r.body, c.status, c.says)
		}
	}
	if got, _ := e.fake.ReadFile("/a.txt"); string(got) != "old" {
		t.Fatalf("a refused PUT changed the file to %q", got)
	}
	for _, p := range []string{"/n.txt", "/big", "/h"} {
		if _, err := e.fake.ReadFile(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s appeared: %v", p, err)
		}
	}
	if n := e.fake.Calls("upload/create"); n != 0 {
		t.Fatalf("%d creates for refused PUTs", n)
	}
	// Overwriting replaces the file, and a GET sees the new bytes.
	if r := e.do(t, http.MethodGet, "/a.txt"); r.body != "old" {
		t.Fatalf("GET: %q", r.body)
	}
	r := e.put(t, "/a.txt", strings.NewReader("new!"), "Overwrite", "T")
	if r.status != http.StatusOK {
		t.Fatalf("overwrite: %d %s", r.status, r.body)
	}
	if r := e.do(t, http.MethodGet, "/a.txt"); r.body != "new!" {
		t.Fatalf("GET after the overwrite: %q", r.body)
	}
	if r := e.put(t, "/a.txt?overwrite=1", strings.NewReader("newer")); r.status != http.StatusOK {
		t.Fatalf("?overwrite=1: %d %s", r.status, r.body)
	}
	assertEmptyDir(t, spool)
	e.assertNoSecrets(t, "the log", e.logs.String())
	if strings.Contains(e.logs.String(), adminToken) {
		t.Fatal("the log holds the admin token")
	}

	// Without an admin token uploads are off.
	off := newEnvFor(t, "drive", alifake.Options{}, streamer.Config{Mode: streamer.ModeProxy})
	if r := off.put(t, "/n.txt", strings.NewReader("x")); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "ALILINK_ADMIN_TOKEN") {
		t.Fatalf("PUT with uploads off: %d %s", r.status, r.body)
	}
	// A share is read-only.
	share, _ := uploadEnv(t, "share", streamer.Config{})
	if r := share.put(t, "/n.txt", strings.NewReader("x")); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("PUT to a share: %d %s (Allow %q)", r.status, r.body, r.header.Get("Allow"))
	}
	// Other methods name PUT among those allowed.
	if r := e.do(t, http.MethodDelete, "/a.txt"); r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "PUT") {
		t.Fatalf("DELETE: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

// TestSpoolSweep: a spool file a killed process left a day ago is removed
// when alilink starts; a fresh one (another upload's) is not.
func TestSpoolSweep(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "alilink-upload-123")
	fresh := filepath.Join(dir, "alilink-upload-456")
	other := filepath.Join(dir, "keep.txt")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	newEnvFor(t, "drive", alifake.Options{}, streamer.Config{AdminToken: adminToken, SpoolDir: dir})
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale spool file is still there: %v", err)
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s was removed: %v", p, err)
		}
	}
}

// TestUploadWithCurl: the README's one-liner, with the real curl: a 12 MiB
// file (curl waits for 100 Continue) to a folder URL, which curl completes
// with the file's name, and a chunked upload from stdin; both read back.
func TestUploadWithCurl(t *testing.T) {
	curl := streamertest.NeedTool(t, "curl")
	e, spool := uploadEnv(t, "drive", streamer.Config{})
	base := serveTCP(t, e)
	data := aliclienttest.RandomBytes(12<<20, 7)
	file := filepath.Join(t.TempDir(), "Film (2024).mkv")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin io.Reader, args ...string) string {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--fail-with-body", "-H", "Authorization: Bearer " + adminToken}, args...)...)
		cmd.Stdin = stdin
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	out := run(nil, "-T", file, base+"/Inbox/")
	if !strings.Contains(out, `"path":"/Inbox/Film (2024).mkv"`) || !strings.Contains(out, `"rapid":false`) {
		t.Fatalf("curl -T answered %s", out)
	}
	out = run(bytes.NewReader(data[:3<<20]), "-T", "-", base+"/Inbox/piped.bin")
	if !strings.Contains(out, `"size":3145728`) {
		t.Fatalf("curl -T - answered %s", out)
	}
	if got, err := e.fake.ReadFile("/Inbox/Film (2024).mkv"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the drive holds %d bytes (%v)", len(got), err)
	}
	if got, err := e.fake.ReadFile("/Inbox/piped.bin"); err != nil || !bytes.Equal(got, data[:3<<20]) {
		t.Fatalf("the drive holds %d bytes (%v)", len(got), err)
	}
	assertEmptyDir(t, spool)
}
