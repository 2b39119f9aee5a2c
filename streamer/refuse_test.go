package streamer_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// goMemory is the memory the Go runtime holds from the system and has not
// given back: the process' RSS without what the race detector adds (its
// shadow memory grows with every byte touched, and would drown the figure).
func goMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// rssBytes is this process' resident set size (the test's alilink runs in it).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("reading RSS: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

var bodyStart [16 << 10]byte

// slowRefusedPut sends the headers of a PUT of a large body and its first
// 16 KiB, then, sending no more, waits for the answer; it returns the status
// (0: none within the wait).
func slowRefusedPut(addr, auth string, contentLength int64) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	head := "PUT /big.bin HTTP/1.1\r\nHost: alilink\r\nContent-Length: " + strconv.FormatInt(contentLength, 10) + "\r\n"
	if auth != "" {
		head += "Authorization: " + auth + "\r\n"
	}
	if _, err := c.Write([]byte(head + "\r\n")); err != nil {
		return 0, err
	}
	if _, err := c.Write(bodyStart[:]); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRefusedPutsHoldNoMemory: 1,200 PUTs that will be refused (no token, a
// wrong one, over ALILINK_UPLOAD_MAX), whose clients send the start of a
// 1 GiB body and then nothing, are each answered at once, and alilink's
// memory does not grow with them.
func TestRefusedPutsHoldNoMemory(t *testing.T) {
	e, _ := uploadEnv(t, "drive", streamer.Config{UploadMax: 1 << 20})
	addr := strings.TrimPrefix(serveTCP(t, e), "http://")
	kinds := []struct {
		auth   string
		size   int64
		status int
	}{
		{"", 1 << 30, http.StatusUnauthorized},
		{"Bearer " + strings.Repeat("x", len(adminToken)), 1 << 30, http.StatusUnauthorized},
		{"Bearer " + adminToken, 1 << 30, http.StatusRequestEntityTooLarge},
	}
	// One round first, so that pools and the runtime reach their working size.
	if got, err := slowRefusedPut(addr, "", 1<<30); got != http.StatusUnauthorized {
		t.Fatalf("a refused PUT got %d (%v)", got, err)
	}
	runtime.GC()
	base, baseRSS := goMemory(), rssBytes(t)
	var peak, peakRSS atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if m := goMemory(); m > peak.Load() {
				peak.Store(m)
			}
			if r := rssBytes(t); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	const total, batch = 1200, 200
	var failed atomic.Int64
	var first sync.Once
	var firstErr string
	for b := 0; b < total/batch; b++ {
		var wg sync.WaitGroup
		for i := range batch {
			k := kinds[(b*batch+i)%len(kinds)]
			wg.Go(func() {
				got, err := slowRefusedPut(addr, k.auth, k.size)
				if got != k.status {
					failed.Add(1)
					first.Do(func() { firstErr = fmt.Sprintf("got %d (%v), want %d", got, err, k.status) })
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	<-sampled
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d refused PUTs were not answered from their headers; first: %s", n, total, firstErr)
	}
	grew := peak.Load() - base
	t.Logf("Go memory %d MiB before, peak %d MiB during %d refused PUTs (+%d KiB); RSS %d → %d MiB",
		base>>20, peak.Load()>>20, total, grew>>10, baseRSS>>20, peakRSS.Load()>>20)
	if grew > 30<<20 {
		t.Fatalf("memory grew by %d MiB over %d refused PUTs", grew>>20, total)
	}
}

// TestRefusedPutExpectContinue: a client that asks "Expect: 100-continue"
// gets the refusal itself, never a 100 Continue, and no byte of the body is
// asked for.
func TestRefusedPutExpectContinue(t *testing.T) {
	e, _ := uploadEnv(t, "drive", streamer.Config{UploadMax: 1 << 20})
	addr := strings.TrimPrefix(serveTCP(t, e), "http://")
	for _, c := range []struct {
		name, auth string
		status     int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer " + strings.Repeat("y", len(adminToken)), http.StatusUnauthorized},
		{"too large", "Bearer " + adminToken, http.StatusRequestEntityTooLarge},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		head := "PUT /x.bin HTTP/1.1\r\nHost: alilink\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n"
		if c.auth != "" {
			head += "Authorization: " + c.auth + "\r\n"
		}
		if _, err := conn.Write([]byte(head + "\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(conn)
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: no answer: %v", c.name, err)
		}
		if want := fmt.Sprintf("HTTP/1.1 %d ", c.status); !strings.HasPrefix(line, want) {
			t.Fatalf("%s: the first line is %q, want %q…", c.name, line, want)
		}
		rest, _ := br.ReadString(0) // to the close
		if !strings.Contains(strings.ToLower(rest), "connection: close") {
			t.Errorf("%s: the refusal does not close the connection: %q", c.name, rest)
		}
		_ = conn.Close()
	}

	// And with curl, which sends Expect: 100-continue for a large body.
	curl := streamertest.NeedTool(t, "curl")
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, bytes.Repeat([]byte{'z'}, 3<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		auth string
		want string
	}{
		{"Authorization: Bearer " + strings.Repeat("y", len(adminToken)), "401"},
		{"Authorization: Bearer " + adminToken, "413"},
	} {
		out, err := exec.Command(curl, "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}", "-H", c.auth,
			"-T", file, "http://"+addr+"/x.bin").CombinedOutput()
		s := strings.ReplaceAll(string(out), adminToken, "[token]") // -v prints the request
		if err != nil || !strings.HasSuffix(s, c.want) {
			t.Fatalf("curl: %v, want %s: %s", err, c.want, s)
		}
		if !strings.Contains(s, "Expect: 100-continue") || strings.Contains(s, "100 Continue") {
			t.Fatalf("curl did not get the refusal in place of 100 Continue: %s", s)
		}
	}
}

// TestStalledClientsFreeTheirSlots: five clients that ask for a big file and
// stop reading do not hold ALILINK_MAX_STREAMS=5 slots past the client write
// timeout; a sixth client is then served.
func TestStalledClientsFreeTheirSlots(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{MaxStreams: 5, ClientWriteTimeout: time.Second})
	env.fake.AddSynthetic("/big.mkv", 64<<20) // far more than the sockets buffer; small enough for the fake to hash fast under -race
	addr := strings.TrimPrefix(serveTCP(t, env), "http://")
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	for i := range 5 {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET /big.mkv HTTP/1.1\r\nHost: a\r\nRange: bytes=%d-\r\n\r\n", i); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); env.srv.ActiveStreams() < 5; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled streams did not start: %d; %s", env.srv.ActiveStreams(), env.logs.String())
		}
	}
	// Within the write timeout (and the kernel's buffers filling) the slots
	// come free.
	for deadline := time.Now().Add(10 * time.Second); env.srv.ActiveStreams() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d stalled clients still hold their slots", env.srv.ActiveStreams())
		}
	}
	for deadline := time.Now().Add(2 * time.Second); env.fake.ActiveCDNStreams() > 0 || env.fake.OpenCDNConns() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled streams' CDN connections are still open: %d streams, %d conns", env.fake.ActiveCDNStreams(), env.fake.OpenCDNConns())
		}
	}
	if r := env.do(t, http.MethodGet, "/big.mkv", "Range", "bytes=0-99"); r.status != http.StatusPartialContent {
		t.Fatalf("a client after five stalled ones got %d", r.status)
	}
}

// TestHeadersBeforeBody: the status line and headers reach the client as
// soon as the CDN answered, even when the CDN then stalls; a client that
// leaves during the stall frees the stream within the idle timeout, and the
// access log says 499 with the bytes really sent.
func TestHeadersBeforeBody(t *testing.T) {
	env := proxyEnv(t, alifake.Options{}, streamer.Config{StreamIdleTimeout: time.Second, AccessLog: true})
	env.fake.AddSynthetic("/s.mkv", 8<<20)
	addr := strings.TrimPrefix(serveTCP(t, env), "http://")
	env.fake.StallCDNAfter(0, 100)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /s.mkv HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(800 * time.Millisecond)) // within the idle timeout
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no headers while the CDN stalls: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 8<<20 {
		t.Fatalf("got %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
	_ = c.Close()
	// The stalled CDN read fails at the idle timeout (1 s); the client is
	// then found gone instead of the stream being resumed.
	for deadline := time.Now().Add(1500 * time.Millisecond); env.srv.ActiveStreams() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stream outlived its gone client by more than the idle timeout")
		}
	}
	for deadline := time.Now().Add(time.Second); !strings.Contains(env.logs.String(), "status=499"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the access log does not say 499: %s", env.logs.String())
		}
	}
}
