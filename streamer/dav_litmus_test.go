package streamer_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/webdav"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/davlocks"
	"github.com/alilink/alilink/streamer/streamertest"
)

// litmusSuites are the suites of the WebDAV conformance test litmus.
var litmusSuites = []string{"basic", "copymove", "props", "locks", "http"}

// litmusScore is one suite's result.
type litmusScore struct{ run, passed, failed, warnings int }

var litmusSummary = regexp.MustCompile("summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")
var litmusWarnings = regexp.MustCompile(`(\d+) warnings? (?:was|were) issued`)

// runLitmus runs every suite against url and parses the summaries.
func runLitmus(t *testing.T, bin, url string, auth ...string) (map[string]litmusScore, string) {
	t.Helper()
	out := map[string]litmusScore{}
	var all strings.Builder
	for _, suite := range litmusSuites {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, bin, append([]string{url}, auth...)...)
		cmd.Env = append(os.Environ(), "TESTS="+suite, "HTDOCS=/usr/share/litmus/htdocs", "TESTROOT=/usr/libexec/litmus")
		cmd.Dir = t.TempDir()        // litmus writes debug.log and child.log here
		b, _ := cmd.CombinedOutput() // litmus exits non-zero when a test fails
		cancel()
		all.Write(b)
		m := litmusSummary.FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("litmus %s against %s printed no summary:\n%s", suite, url, b)
		}
		var s litmusScore
		s.run, _ = strconv.Atoi(m[2])
		s.passed, _ = strconv.Atoi(m[3])
		s.failed, _ = strconv.Atoi(m[4])
		// The warnings line follows the suite's summary.
		if w := litmusWarnings.FindStringSubmatch(string(b)[strings.Index(string(b), m[0]):]); w != nil {
			s.warnings, _ = strconv.Atoi(w[1])
		}
		out[suite] = s
	}
	return out, all.String()
}

// TestLitmus runs litmus against alilink's WebDAV over a writable fake drive
// in proxy mode, and, as the baseline, against x/net/webdav over its memory
// file system on the same machine in the same run: no suite may pass fewer
// tests than the baseline. The counts are in the README's WebDAV section.
func TestLitmus(t *testing.T) {
	bin := streamertest.NeedTool(t, "litmus")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: &webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()}}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	baseline, blog := runLitmus(t, bin, "http://"+ln.Addr().String()+"/")
	logLitmus(t, "x/net/webdav", blog)

	for _, driver := range []string{"drive", "open", "drive+redis"} {
		t.Run(driver, func(t *testing.T) {
			cfg := streamer.Config{DAV: streamer.DAVConfig{Mode: streamer.ModeProxy}}
			var env *davEnv
			if d, ok := strings.CutSuffix(driver, "+redis"); ok {
				// The locks in Redis, as replicas share them.
				rdb, prefix := testRedis(t)
				fake := alifake.New(alifake.Options{})
				if err := fake.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(fake.Close)
				env = newDAVEnvOn(t, d, fake, alifake.Options{}, cfg, streamer.Deps{DAVLocks: davlocks.NewRedis(rdb, prefix)})
			} else {
				env = newDAVEnv(t, driver, alifake.Options{}, cfg, false)
			}
			ours, log := runLitmus(t, bin, env.url, davUser, davPass)
			for _, suite := range litmusSuites {
				b, o := baseline[suite], ours[suite]
				t.Logf("litmus %-8s alilink (%s): %d/%d passed, %d warnings; x/net/webdav memory FS: %d/%d passed, %d warnings",
					suite, driver, o.passed, o.run, o.warnings, b.passed, b.run, b.warnings)
				if o.passed < b.passed {
					t.Errorf("litmus %s: alilink passed %d, fewer than the x/net/webdav baseline's %d", suite, o.passed, b.passed)
				}
			}
			logLitmus(t, "alilink", log)
			env.assertClean(t)
		})
	}
}

// logLitmus logs the failures and warnings of a litmus run.
func logLitmus(t *testing.T, who, out string) {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "FAIL") || strings.Contains(l, "WARNING") {
			t.Logf("litmus (%s): %s", who, strings.TrimSpace(l))
		}
	}
}
