package streamer_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// The share driver plays from copies in the user's drive (spec §15): the
// share download endpoint is offline in the fake, as it is in the service.

// TestSharePlaysThroughAlilink: a share file plays through alilink, full and
// by Ranges, byte-exact; 50 concurrent cold GETs make one copy; the copy is
// gone from the user's drive once its link expired.
func TestSharePlaysThroughAlilink(t *testing.T) {
	env := proxyEnvFor(t, "share", alifake.Options{LinkTTL: 3 * time.Second}, streamer.Config{})
	content := testContent(200_000)
	env.fake.AddFile("/Films/a film.mkv", content)

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			status, n, sum := env.getStreamed(t, "/Films/a%20film.mkv")
			if status != http.StatusOK || n != int64(len(content)) || sum != sha256Bytes(content) {
				t.Errorf("unexpected concurrent GET: %d, %d bytes", status, n)
			}
		})
	}
	wg.Wait()
	if n := env.fake.Calls(alifake.EndpointShareCopy); n != 1 {
		t.Fatalf("unexpected copies for 50 cold GETs; got %d; want 1", n)
	}
	for _, rng := range [][2]int{{0, 0}, {100, 9999}, {199_000, 199_999}} {
		r := env.do(t, http.MethodGet, "/Films/a%20film.mkv", "Range", "bytes="+itoa(rng[0])+"-"+itoa(rng[1]))
		if r.status != http.StatusPartialContent || r.body != string(content[rng[0]:rng[1]+1]) {
			t.Fatalf("unexpected range %v: %d, %d bytes", rng, r.status, len(r.body))
		}
	}
	if n := env.fake.Calls(alifake.EndpointShareDownloadURL); n != 0 {
		t.Fatalf("the offline share download endpoint was called %d times", n)
	}
	copyPath := "/" + aliclient.ShareTempFolderName + "/a film.mkv"
	if _, ok := env.fake.FileIDIn(alifake.DriveResource, copyPath); !ok {
		t.Fatal("no copy in the user's resource drive")
	}
	if !eventually(10*time.Second, func() bool { _, ok := env.fake.FileIDIn(alifake.DriveResource, copyPath); return !ok }) {
		t.Fatal("the copy is still in the user's drive after its link expired")
	}
	// A later play makes a new copy, and plays.
	if status, n, _ := env.getStreamed(t, "/Films/a%20film.mkv"); status != http.StatusOK || n != int64(len(content)) {
		t.Fatalf("unexpected GET after the copy was deleted: %d, %d bytes", status, n)
	}
	if n := env.fake.Calls(alifake.EndpointShareCopy); n != 2 {
		t.Fatalf("unexpected copies; got %d; want 2", n)
	}
}

// TestShareDriveFullIs507: a full drive is a clear 507 that says why.
func TestShareDriveFullIs507(t *testing.T) {
	env := proxyEnvFor(t, "share", alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/big.mkv", testContent(10_000))
	env.fake.SetCapacity(alifake.DriveResource, 5_000)
	r := env.do(t, http.MethodGet, "/big.mkv")
	if r.status != http.StatusInsufficientStorage || !strings.Contains(r.body, "drive is full") {
		t.Fatalf("unexpected answer for a full drive: %d %q", r.status, r.body)
	}
}

// TestShareRedirect: the copy's link is an ordinary one, so redirect mode
// works for shares too.
func TestShareRedirect(t *testing.T) {
	env := newEnvFor(t, "share", alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/a.mkv", []byte("redirected share bytes"))
	r := env.do(t, http.MethodGet, "/a.mkv")
	if r.status != http.StatusFound {
		t.Fatalf("unexpected status: %d %q", r.status, r.body)
	}
	if got := env.follow(t, r.header.Get("Location")); got.status != 200 || got.body != "redirected share bytes" {
		t.Fatalf("unexpected CDN answer: %d %q", got.status, got.body)
	}
}

// TestFFprobeShare probes a real video of a share through alilink.
func TestFFprobeShare(t *testing.T) {
	ffmpeg, ffprobe := streamertest.NeedTool(t, "ffmpeg"), streamertest.NeedTool(t, "ffprobe")
	video := filepath.Join(t.TempDir(), "clip.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gen := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10",
		"-c:v", "mpeg4", "-movflags", "+faststart", video)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg could not make the test clip: %v\n%s", err, out)
	}
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	env := proxyEnvFor(t, "share", alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/Clips/clip.mp4", data)
	base := serveTCP(t, env)
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries", "stream=codec_name",
		"-of", "json", base+"/Clips/clip.mp4").Output()
	if err != nil {
		t.Fatalf("ffprobe failed on a share through alilink: %v\n%s", err, out)
	}
	var got struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
	}
	if json.Unmarshal(out, &got) != nil || len(got.Streams) != 1 || got.Streams[0].CodecName != "mpeg4" {
		t.Fatalf("unexpected ffprobe output: %s", out)
	}
	if n := env.fake.Calls(alifake.EndpointShareCopy); n != 1 {
		t.Fatalf("unexpected copies for one probe; got %d; want 1", n)
	}
}

func sha256Bytes(b []byte) [32]byte { return sha256.Sum256(b) }

func itoa(n int) string { return strconv.Itoa(n) }

func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
