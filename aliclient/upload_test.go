package aliclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// writers are the drivers that upload.
var writers = []string{"drive", "open"}

// startWriter is a fake and a client of driver with cfg changed by tune.
func startWriter(t *testing.T, driver string, tune func(*aliclient.Config)) (*alifake.Fake, aliclient.Uploader, *aliclienttest.LogBuffer) {
	t.Helper()
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	cfg := aliclienttest.ConfigFor(t, fake, driver)
	if tune != nil {
		tune(&cfg)
	}
	log, logs := aliclienttest.Logger()
	c, err := aliclient.New(cfg, aliclient.Deps{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	up, ok := c.(aliclient.Uploader)
	if !ok {
		t.Fatalf("the %s driver does not upload", driver)
	}
	// One call first, so that the counters see the uploads alone, not the
	// login and the device session the first signed call opens.
	if _, err := up.Mkdir(context.Background(), "root", "Warm"); err != nil {
		t.Fatal(err)
	}
	fake.ResetCounters()
	return fake, up, logs
}

// TestUploadPartsWithURLsExpiring: 25 MiB go up in parts (10 MiB legacy,
// 20 MiB open); the part URLs expire after the first part, the client gets
// fresh ones once and finishes; the drive holds the exact bytes.
func TestUploadPartsWithURLsExpiring(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, up, logs := startWriter(t, driver, nil)
			aliclienttest.ExpireUploadURLsAfterFirstPart(t, fake)
			data := aliclienttest.RandomBytes(25<<20, 1)
			ep := aliclienttest.EndpointsOf(driver)
			f, rapid, err := up.Upload(context.Background(), "root", "film.bin", aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data)}, false)
			if err != nil {
				t.Fatal(err)
			}
			if rapid || f.Name != "film.bin" || f.Size != int64(len(data)) || !strings.EqualFold(f.ContentHash, aliclienttest.SHA1Hex(data)) {
				t.Fatalf("unexpected file %+v (rapid %v)", f, rapid)
			}
			got, err := fake.ReadFile("/film.bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the drive holds %d bytes (%v), not the upload", len(got), err)
			}
			// parts: 3 for legacy, 2 for open, plus the one refused as expired
			wantParts := map[string]int{"drive": 4, "open": 3}[driver]
			if n := fake.Calls("upload/part"); n != wantParts {
				t.Fatalf("%d part PUTs, want %d", n, wantParts)
			}
			if n := fake.Calls(ep.UploadURL); n != 1 {
				t.Fatalf("%d calls for fresh part URLs, want 1", n)
			}
			if n := fake.OpenUploads(); n != 0 {
				t.Fatalf("%d upload sessions left open", n)
			}
			assertNoSecrets(t, fake, "the log", logs.String())
		})
	}
}

// TestUploadRapid: content the drive has goes up without a part: with the
// pre-hash first when the hash is unknown, straight with the proof when it
// is; a body that does not hold the claimed content fails its proof.
func TestUploadRapid(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, up, _ := startWriter(t, driver, nil)
			ep := aliclienttest.EndpointsOf(driver)
			data := aliclienttest.RandomBytes(3<<20+17, 2)
			fake.AddFile("/orig.bin", data)
			ctx := context.Background()

			f, rapid, err := up.Upload(ctx, "root", "copy.bin", aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data)}, false)
			if err != nil || !rapid {
				t.Fatalf("no rapid upload: %v, %v", rapid, err)
			}
			if n := fake.Calls(ep.Create); n != 2 {
				t.Fatalf("%d creates, want 2 (pre-hash, then proof)", n)
			}
			// The token is refused on the next call: the client refreshes and
			// sends the create again with a proof made from the new token.
			fake.ExpireAccessTokens()
			fake.ResetCounters()
			f2, rapid, err := up.Upload(ctx, "root", "copy2.bin", aliclient.UploadSource{Size: int64(len(data)), SHA1: aliclienttest.SHA1Hex(data), Data: bytes.NewReader(data)}, false)
			if err != nil || !rapid {
				t.Fatalf("no rapid upload with a known hash: %v, %v", rapid, err)
			}
			if n := fake.Calls(ep.Create); n != 2 {
				t.Fatalf("%d creates, want 2 (refused token, then the new token's proof)", n)
			}
			if n := fake.Calls(ep.Token); n != 1 {
				t.Fatalf("%d token refreshes, want 1", n)
			}
			if n := fake.Calls("upload/part"); n != 0 {
				t.Fatalf("%d part PUTs for a rapid upload", n)
			}
			for _, name := range []string{"copy.bin", "copy2.bin"} {
				if got, err := fake.ReadFile("/" + name); err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s: the drive holds %d bytes (%v)", name, len(got), err)
				}
			}
			if f.ID == "" || f2.ID == "" || f.ID == f2.ID {
				t.Fatalf("unexpected ids %q %q", f.ID, f2.ID)
			}

			// The claimed hash of content the drive has, other bytes: the
			// proof fails and nothing is created.
			other := bytes.Clone(data)
			for i := range other {
				other[i] ^= 0xff
			}
			_, _, err = up.Upload(ctx, "root", "thief.bin", aliclient.UploadSource{Size: int64(len(data)), SHA1: aliclienttest.SHA1Hex(data), Data: bytes.NewReader(other)}, false)
			if !errors.Is(err, aliclient.ErrContentMismatch) {
				t.Fatalf("a wrong proof gave %v", err)
			}
			if _, err := fake.ReadFile("/thief.bin"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a file appeared after a wrong proof: %v", err)
			}
		})
	}
}

// TestUploadRapidOff: with RAPID_UPLOAD off known content still goes up in
// parts, without a hash.
func TestUploadRapidOff(t *testing.T) {
	fake, up, _ := startWriter(t, "drive", func(c *aliclient.Config) { c.RapidUpload = false })
	data := aliclienttest.RandomBytes(1<<20, 3)
	fake.AddFile("/orig.bin", data)
	_, rapid, err := up.Upload(context.Background(), "root", "copy.bin", aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data)}, false)
	if err != nil || rapid {
		t.Fatalf("rapid %v, %v", rapid, err)
	}
	if n := fake.Calls("upload/part"); n != 1 {
		t.Fatalf("%d part PUTs, want 1", n)
	}
	// A pre-hash of known content would have met PreHashMatched: a second create.
	if n := fake.Calls("upload/create"); n != 1 {
		t.Fatalf("%d creates, want 1", n)
	}
}

// TestUploadNameClash: an existing name is refused unless overwriting; an
// overwrite replaces the content.
func TestUploadNameClash(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, up, _ := startWriter(t, driver, nil)
			fake.AddFile("/a.txt", []byte("old"))
			ctx := context.Background()
			src := func(b []byte) aliclient.UploadSource {
				return aliclient.UploadSource{Size: int64(len(b)), Data: bytes.NewReader(b)}
			}
			if _, _, err := up.Upload(ctx, "root", "a.txt", src([]byte("new")), false); !errors.Is(err, aliclient.ErrExists) {
				t.Fatalf("a clash gave %v", err)
			}
			if got, _ := fake.ReadFile("/a.txt"); string(got) != "old" {
				t.Fatalf("a refused upload changed the file to %q", got)
			}
			if _, _, err := up.Upload(ctx, "root", "a.txt", src([]byte("new!")), true); err != nil {
				t.Fatal(err)
			}
			if got, _ := fake.ReadFile("/a.txt"); string(got) != "new!" {
				t.Fatalf("an overwrite left %q", got)
			}
			if _, _, err := up.Upload(ctx, "root", "empty", src(nil), false); err != nil {
				t.Fatal(err)
			}
			if got, err := fake.ReadFile("/empty"); err != nil || len(got) != 0 {
				t.Fatalf("empty file: %q, %v", got, err)
			}
			d1, err := up.Mkdir(ctx, "root", "Dir")
			if err != nil {
				t.Fatal(err)
			}
			d2, err := up.Mkdir(ctx, "root", "Dir")
			if err != nil || d2.ID != d1.ID || !d2.Folder {
				t.Fatalf("a second mkdir gave %+v, %v (first %+v)", d2, err, d1)
			}
		})
	}
}

// failingAt is a source whose reads past off fail, like a client that hangs
// up halfway.
type failingAt struct {
	r   io.ReaderAt
	off int64
}

var errHungUp = errors.New("the client hung up")

func (f failingAt) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.off {
		return 0, errHungUp
	}
	return f.r.ReadAt(b, off)
}

// TestUploadSourceFails: a source that breaks off stops the upload at once
// (no retries of the part), and a failing Check stops it before complete:
// nothing appears on the drive either way.
func TestUploadSourceFails(t *testing.T) {
	for _, driver := range writers {
		t.Run(driver, func(t *testing.T) {
			fake, up, _ := startWriter(t, driver, nil)
			ep := aliclienttest.EndpointsOf(driver)
			data := aliclienttest.RandomBytes(12<<20, 4)
			ctx := context.Background()
			src := aliclient.UploadSource{Size: int64(len(data)), Data: failingAt{bytes.NewReader(data), 5 << 20}}
			_, _, err := up.Upload(ctx, "root", "cut.bin", src, false)
			if !errors.Is(err, errHungUp) {
				t.Fatalf("a broken source gave %v", err)
			}
			if n := fake.Calls("upload/part"); n != 1 {
				t.Fatalf("%d part PUTs, want 1 (no retry of a broken source)", n)
			}
			errCheck := errors.New("not the declared body")
			src = aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data), Check: func() error { return errCheck }}
			if _, _, err := up.Upload(ctx, "root", "cut.bin", src, false); !errors.Is(err, errCheck) {
				t.Fatalf("a failing check gave %v", err)
			}
			if n := fake.Calls(ep.Complete); n != 0 {
				t.Fatalf("%d completes after failures", n)
			}
			if _, err := fake.ReadFile("/cut.bin"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a file appeared: %v", err)
			}
		})
	}
}

// TestUploadInternal: with INTERNAL_UPLOAD the legacy parts go to the
// internal URLs; outside Aliyun's network (the fake's default) that fails
// with a message naming the variable.
func TestUploadInternal(t *testing.T) {
	fake, up, _ := startWriter(t, "drive", func(c *aliclient.Config) { c.InternalUpload = true })
	data := aliclienttest.RandomBytes(1<<20, 5)
	src := aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data)}
	_, _, err := up.Upload(context.Background(), "root", "in.bin", src, false)
	if err == nil || !strings.Contains(err.Error(), "ALILINK_INTERNAL_UPLOAD") {
		t.Fatalf("an internal upload from outside gave %v", err)
	}
	fake.AllowInternalUpload(true)
	if _, _, err := up.Upload(context.Background(), "root", "in.bin", src, false); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("upload/internal_part"); n < 1 {
		t.Fatalf("%d internal part PUTs", n)
	}
	if got, _ := fake.ReadFile("/in.bin"); !bytes.Equal(got, data) {
		t.Fatal("the drive does not hold the upload")
	}
}
