package streamer_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"syscall"
	"testing"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/streamer"
)

// fullDisk takes limit bytes, then fails as a full disk does.
type fullDisk struct {
	w     io.Writer
	limit int
}

func (d *fullDisk) Write(b []byte) (int, error) {
	if len(b) > d.limit {
		n, _ := d.w.Write(b[:d.limit])
		d.limit = 0
		return n, syscall.ENOSPC
	}
	d.limit -= len(b)
	return d.w.Write(b)
}

// TestUploadFullSpoolDisk: a spool disk that fills up gives 507, whether the
// body is spooled first or streamed with its hash, never "the body ended
// early"; nothing is left in the spool dir.
func TestUploadFullSpoolDisk(t *testing.T) {
	e, spool := uploadEnv(t, "drive", streamer.Config{})
	streamer.SetSpoolWrap(e.srv, func(w io.Writer) io.Writer { return &fullDisk{w: w, limit: 256 << 10} })
	data := aliclienttest.RandomBytes(2<<20, 9)
	for _, hdr := range [][]string{nil, {"X-Content-Sha1", sha1Hex(data)}} {
		r := e.put(t, "/full.bin", bytes.NewReader(data), hdr...)
		if r.status != http.StatusInsufficientStorage {
			t.Fatalf("PUT onto a full spool disk (%v): %d %q, want 507", hdr, r.status, r.body)
		}
	}
	assertEmptyDir(t, spool)
}

func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}
