package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alilink/alilink/aliclient/alifake"
)

// startRedis runs a private redis-server on a loopback port until the test
// ends. CI installs Debian's redis-server and sets ALILINK_REQUIRE_TOOLS, so a
// missing server fails there instead of skipping.
func startRedis(t *testing.T) (url string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("ALILINK_REQUIRE_TOOLS") != "" {
			t.Fatal("redis-server is required (ALILINK_REQUIRE_TOOLS is set) but not installed")
		}
		t.Skip("redis-server not installed (Debian package redis-server)")
	}
	port := freeTCPPort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--protected-mode", "yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	return url, stop
}

// testRedis is the Redis of the multi-replica tests: the one .ci/run started
// (ALILINK_TEST_REDIS_URL) or a private one. Each test uses its own key prefix.
func testRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	url = os.Getenv("ALILINK_TEST_REDIS_URL")
	if url == "" {
		url, _ = startRedis(t)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return url, "alilink-test-" + hex.EncodeToString(b[:])
}

// replica runs one in-process alilink on the shared Redis until the test ends.
func replica(t *testing.T, redisURL, prefix string) string {
	t.Helper()
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Client.StateDir = t.TempDir()
	cfg.RedisURL, cfg.RedisPrefix, cfg.RedisLease = redisURL, prefix, 2*time.Second
	a, err := newApp(cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, a, func(s string) { addr <- s }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case s := <-addr:
		return "http://" + s
	case err := <-done:
		t.Fatalf("replica did not start: %v", err)
	}
	return ""
}

// spentReuses counts refresh attempts the fake refused as an unknown, used or
// revoked token: each one would be a replica using a token another spent.
func spentReuses(fake *alifake.Fake) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Endpoint == "token" && r.Status == http.StatusBadRequest {
			n++
		}
	}
	return n
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReplicasShareTokenAndLinks: three replicas on one Redis make one refresh
// per token lifetime (never reusing a spent refresh token) and one link call
// per file, and together keep under the drive's link quota.
func TestReplicasShareTokenAndLinks(t *testing.T) {
	fake := fakeEnv(t)
	// The drive's quota is 1/s; the replicas share a governor set to 0.8/s, so
	// that delivery jitter on a loaded machine (two calls 1.02 s apart that
	// arrive 0.98 s apart) cannot count as a breach, while three replicas
	// each running their own governor (2.4/s) still would.
	t.Setenv("ALILINK_RATE_LINK", "0.8")
	t.Setenv("ALILINK_RESOLVE_TIMEOUT", "20s")
	t.Setenv("ALILINK_LOG_LEVEL", "error")
	for i := range 4 {
		fake.AddFile(fmt.Sprintf("/f%d.mkv", i), []byte{byte(i)})
	}
	url, prefix := testRedis(t)
	var bases []string
	for range 3 {
		bases = append(bases, replica(t, url, prefix))
	}

	// One file, asked of every replica at once, cold: one link call.
	var wg sync.WaitGroup
	for _, b := range bases {
		for range 5 {
			wg.Go(func() {
				if s := status(t, b+"/f0.mkv"); s != http.StatusFound {
					t.Errorf("unexpected status %d", s)
				}
			})
		}
	}
	wg.Wait()
	if got := fake.Calls("get_download_url"); got != 1 {
		t.Fatalf("unexpected link calls across 3 replicas; got %d; want 1", got)
	}
	if got := fake.Calls("token"); got != 1 {
		t.Fatalf("unexpected token refreshes across 3 replicas; got %d; want 1", got)
	}

	// The access token dies: one refresh for all, no spent token reused.
	fake.ExpireAccessTokens()
	fake.SetRateLimit("get_download_url", 1)
	for i, b := range bases {
		wg.Go(func() {
			if s := status(t, fmt.Sprintf("%s/f%d.mkv", b, i+1)); s != http.StatusFound {
				t.Errorf("unexpected status %d after the token expired", s)
			}
		})
	}
	wg.Wait()
	if got := fake.Calls("token"); got != 2 {
		t.Fatalf("unexpected token refreshes; got %d; want 2", got)
	}
	if n := spentReuses(fake); n != 0 {
		t.Fatalf("a replica reused a spent refresh token %d times", n)
	}
	if fake.Rejected("get_download_url") != 0 || fake.MaxPerSecond("get_download_url") > 1 {
		t.Fatalf("the replicas together broke the link quota: %d rejected, %d in a second",
			fake.Rejected("get_download_url"), fake.MaxPerSecond("get_download_url"))
	}
	for _, b := range bases {
		_, body := get(t, b+"/-/metrics")
		if !strings.Contains(body, "alilink_redis_up 1") {
			t.Fatalf("a replica does not report Redis as up")
		}
	}
}

// TestRefreshLockHolderDies: the replica holding the refresh lock is killed
// mid-refresh; another takes over once the lease ends, with the same (unspent)
// refresh token.
func TestRefreshLockHolderDies(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFile("/a.mkv", []byte("a"))
	url, prefix := testRedis(t)
	fake.SetLatency("token", 30*time.Second) // the holder hangs in the refresh

	port := freeTCPPort(t)
	holder := exec.Command(os.Args[0], "serve")
	holder.Env = append(os.Environ(), "ALILINK_TEST_MAIN=1", "ALILINK_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"ALILINK_REDIS_URL="+url, "ALILINK_REDIS_PREFIX="+prefix, "ALILINK_REDIS_LOCK_LEASE=2s",
		"ALILINK_STATE_DIR="+t.TempDir(), "ALILINK_LOG_LEVEL=error")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()

	// The holder's warm-up refresh takes the lock and hangs at the drive.
	rdb := redis.NewClient(mustParseRedisURL(t, url))
	defer rdb.Close()
	lockKey := prefix + ":drive:lock"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _ := rdb.Exists(context.Background(), lockKey).Result(); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first replica never took the refresh lock")
		}
	}
	_ = holder.Process.Signal(syscall.SIGKILL)
	_ = holder.Wait()
	fake.SetLatency("token", 0)

	start := time.Now()
	b := replica(t, url, prefix)
	if s := status(t, b+"/a.mkv"); s != http.StatusFound {
		t.Fatalf("the second replica did not take over: status %d", s)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("the takeover took %v", waited)
	}
	if n := spentReuses(fake); n != 0 {
		t.Fatalf("a spent refresh token was reused %d times", n)
	}
	if n, _ := rdb.Exists(context.Background(), lockKey).Result(); n != 0 {
		t.Fatalf("the lock was not released after the takeover")
	}
}

// TestRedisDownKeepsServing: with Redis gone, replicas serve from what they
// have (the access token, their link caches, the drive for new links) and say
// so on /-/readyz and in the metrics.
func TestRedisDownKeepsServing(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFile("/a.mkv", []byte("a"))
	fake.AddFile("/b.mkv", []byte("b"))
	url, stop := startRedis(t)
	base := replica(t, url, "alilink-down")
	if s := status(t, base+"/a.mkv"); s != http.StatusFound {
		t.Fatalf("unexpected status %d", s)
	}
	stop()
	if s := status(t, base+"/a.mkv"); s != http.StatusFound {
		t.Fatalf("a cached link failed with Redis down: %d", s)
	}
	if s := status(t, base+"/b.mkv"); s != http.StatusFound {
		t.Fatalf("a new link failed with Redis down: %d", s)
	}
	resp, body := get(t, base+"/-/readyz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Redis") {
		t.Fatalf("readiness does not report Redis down: %d %s", resp.StatusCode, body)
	}
	if _, m := get(t, base+"/-/metrics"); !strings.Contains(m, "alilink_redis_up 0") {
		t.Fatalf("the metrics do not report Redis down")
	}
}

func mustParseRedisURL(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
