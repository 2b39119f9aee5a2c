// Package streamertest serves a streamer.Server for tests: on a listener the
// caller chose, on a loopback port or in memory, shut down at the test's end;
// and finds the external programs (ffprobe, nginx, rclone…) tests drive.
package streamertest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/alilink/alilink/streamer"
)

// Serve serves srv on ln until the test ends, then shuts the HTTP server
// down, closes ln and waits for Serve to return. srv itself stays open: the
// caller's own cleanup (registered before) closes it after this one.
func Serve(tb testing.TB, srv *streamer.Server, ln net.Listener) {
	tb.Helper()
	hs := srv.HTTPServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = hs.Shutdown()
		_ = ln.Close()
		<-done
	})
}

// ServeTCP serves srv on a loopback port, for programs that cannot use an
// in-memory listener, and returns its host:port.
func ServeTCP(tb testing.TB, srv *streamer.Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	Serve(tb, srv, ln)
	return ln.Addr().String()
}

// ServeInMemory serves srv on fasthttp's in-memory listener; dial it with
// the listener's Dial.
func ServeInMemory(tb testing.TB, srv *streamer.Server) *fasthttputil.InmemoryListener {
	tb.Helper()
	ln := fasthttputil.NewInmemoryListener()
	Serve(tb, srv, ln)
	return ln
}

// NeedTool finds an external program: CI installs them all (see .ci/run) and
// sets ALILINK_REQUIRE_TOOLS, under which a missing one fails the test
// instead of skipping it.
func NeedTool(tb testing.TB, name string) string {
	tb.Helper()
	// nginx lives in /usr/sbin, which a user's PATH may lack.
	for _, p := range []string{name, "/usr/sbin/" + name, "/usr/bin/" + name} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("ALILINK_REQUIRE_TOOLS") != "" {
		tb.Fatalf("%s is required (ALILINK_REQUIRE_TOOLS is set) but not installed", name)
	}
	tb.Skipf("%s not installed (see .ci/run for its Debian package)", name)
	return ""
}

// Clip is a 2-second MPEG-4 video with AAC sound, made by ffmpeg, with its
// index (moov) at the end, so a player must seek with Range to play it.
func Clip(tb testing.TB) []byte {
	tb.Helper()
	return clip(tb, "clip.mp4")
}

// MovClip is Clip as a QuickTime movie (.mov), what a live photo's movie
// part is.
func MovClip(tb testing.TB) []byte {
	tb.Helper()
	return clip(tb, "clip.mov")
}

// clip makes Clip in the container name's extension says.
func clip(tb testing.TB, name string) []byte {
	tb.Helper()
	ffmpeg := NeedTool(tb, "ffmpeg")
	video := filepath.Join(tb.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gen := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "mpeg4", "-c:a", "aac", "-shortest", video)
	if out, err := gen.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg could not make the test clip: %v\n%s", err, out)
	}
	b, err := os.ReadFile(video)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
