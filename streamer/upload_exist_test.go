package streamer_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/streamer"
)

// TestUploadNameTakenNotCached: another replica made the file after our
// caches looked; a PUT without overwrite is 409 (the drive's exist:true,
// spec §13.2), the file is untouched, and the next GET finds it.
func TestUploadNameTakenNotCached(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e, spool := uploadEnv(t, driver, streamer.Config{})
			e.fake.AddFile("/Lib/old.bin", []byte("old"))
			if r := e.do(t, http.MethodGet, "/Lib/"); !strings.Contains(r.body, "old.bin") {
				t.Fatalf("listing: %d %s", r.status, r.body)
			}
			if r := e.do(t, http.MethodGet, "/Lib/x.bin"); r.status != http.StatusNotFound {
				t.Fatalf("GET before: %d", r.status)
			}
			e.fake.AddFile("/Lib/x.bin", []byte("made elsewhere"))
			if r := e.put(t, "/Lib/x.bin", strings.NewReader("mine")); r.status != http.StatusConflict {
				t.Fatalf("PUT onto a name our caches do not know: %d %s, want 409", r.status, r.body)
			}
			if got, _ := e.fake.ReadFile("/Lib/x.bin"); string(got) != "made elsewhere" {
				t.Fatalf("the refused PUT changed the file to %q", got)
			}
			if n := e.fake.Calls(e.ep().Complete) + e.fake.Calls("upload/part"); n != 0 {
				t.Fatalf("%d part PUTs or completes for a refused name, want 0", n)
			}
			if r := e.do(t, http.MethodGet, "/Lib/x.bin"); r.status != http.StatusOK || r.body != "made elsewhere" {
				t.Fatalf("GET after the 409: %d %q, want the file (caches dropped)", r.status, r.body)
			}
			assertEmptyDir(t, spool)
		})
	}
}

// TestUploadRace: five PUTs of one new name at once: exactly one 201 and
// four 409, and the drive holds the winner's bytes.
func TestUploadRace(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e, _ := uploadEnv(t, driver, streamer.Config{})
			// The creates overlap: each waits a little at the drive.
			e.fake.SetLatency(e.ep().Create, 30*time.Millisecond)
			const n = 5
			var wg sync.WaitGroup
			status := make([]int, n)
			bodies := []string{"body 0", "body 1", "body 2", "body 3", "body 4"}
			for i := range n {
				wg.Go(func() {
					status[i] = e.put(t, "/Race/new.bin", strings.NewReader(bodies[i])).status
				})
			}
			wg.Wait()
			winner, conflicts := -1, 0
			for i, s := range status {
				switch s {
				case http.StatusCreated:
					if winner >= 0 {
						t.Fatalf("two PUTs created the file: %v", status)
					}
					winner = i
				case http.StatusConflict:
					conflicts++
				}
			}
			if winner < 0 || conflicts != n-1 {
				t.Fatalf("statuses %v, want one 201 and four 409", status)
			}
			if got, _ := e.fake.ReadFile("/Race/new.bin"); string(got) != bodies[winner] {
				t.Fatalf("the drive holds %q, want the winner's %q", got, bodies[winner])
			}
		})
	}
}

// TestUploadOverwriteOpen: ?overwrite=1 on the open driver, which has no
// overwrite mode, replaces the file (a new id) and GET serves the new bytes
// though the old file's path and link were cached.
func TestUploadOverwrite(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			e, _ := uploadEnv(t, driver, streamer.Config{})
			e.fake.AddFile("/Lib/a.txt", []byte("old content"))
			if r := e.do(t, http.MethodGet, "/Lib/a.txt"); r.body != "old content" {
				t.Fatalf("GET before: %d %q", r.status, r.body)
			}
			if r := e.put(t, "/Lib/a.txt?overwrite=1", strings.NewReader("new content!")); r.status != http.StatusOK {
				t.Fatalf("PUT with overwrite: %d %s, want 200", r.status, r.body)
			}
			if r := e.do(t, http.MethodGet, "/Lib/a.txt"); r.status != http.StatusOK || r.body != "new content!" {
				t.Fatalf("GET after the overwrite: %d %q", r.status, r.body)
			}
			if r := e.do(t, http.MethodGet, "/Lib/"); strings.Contains(r.body, ".alilink-") {
				t.Fatalf("the listing shows a temporary name: %s", r.body)
			}
			// Not cached, but there: overwrite still replaces it.
			e.fake.AddFile("/Lib/b.txt", []byte("elsewhere"))
			if r := e.put(t, "/Lib/b.txt?overwrite=1", strings.NewReader("replaced")); r.status != http.StatusOK {
				t.Fatalf("PUT with overwrite onto an uncached name: %d %s, want 200 (a replacement)", r.status, r.body)
			}
			if got, _ := e.fake.ReadFile("/Lib/b.txt"); string(got) != "replaced" {
				t.Fatalf("the drive holds %q, want the overwrite", got)
			}
		})
	}
}
