package streamer_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/davlocks"
	"github.com/alilink/alilink/streamer/streamertest"
)

// testRedis connects to the Redis .ci/run started (ALILINK_TEST_REDIS_URL)
// or to a private redis-server, and returns a fresh key prefix.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("ALILINK_TEST_REDIS_URL")
	if url == "" {
		bin := streamertest.NeedTool(t, "redis-server")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis at %s does not answer", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return rdb, "dav-test-" + hex.EncodeToString(b[:])
}

// TestDAVLocksShared: two replicas sharing their locks through Redis; a lock
// taken on one is honoured by the other.
func TestDAVLocksShared(t *testing.T) {
	rdb, prefix := testRedis(t)
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddFile("/doc.txt", []byte("v1"))
	deps := func() streamer.Deps { return streamer.Deps{DAVLocks: davlocks.NewRedis(rdb, prefix)} }
	a := newDAVEnvOn(t, "drive", fake, alifake.Options{}, streamer.Config{}, deps())
	b := newDAVEnvOn(t, "drive", fake, alifake.Options{}, streamer.Config{}, deps())

	lockBody := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a</D:owner></D:lockinfo>`
	r := a.req(t, "LOCK", "/dav/doc.txt", lockBody, "Content-Type", "application/xml", "Timeout", "Second-60")
	tok := regexp.MustCompile(`<[^>]+>`).FindString(r.header.Get("Lock-Token"))
	if r.status != 200 || tok == "" {
		t.Fatalf("LOCK on a: %d %q", r.status, r.header.Get("Lock-Token"))
	}
	if r := b.req(t, "LOCK", "/dav/doc.txt", lockBody, "Content-Type", "application/xml"); r.status != 423 {
		t.Fatalf("a second LOCK on b: %d; want 423", r.status)
	}
	if r := b.req(t, "PUT", "/dav/doc.txt", "v2"); r.status != 423 {
		t.Fatalf("PUT on b without the token: %d; want 423", r.status)
	}
	if r := b.req(t, "DELETE", "/dav/doc.txt", ""); r.status != 423 {
		t.Fatalf("DELETE on b without the token: %d; want 423", r.status)
	}
	if r := b.req(t, "PUT", "/dav/doc.txt", "v2", "If", "("+tok+")"); r.status != 204 {
		t.Fatalf("PUT on b with a's token: %d; want 204", r.status)
	}
	if r := b.req(t, "LOCK", "/dav/doc.txt", "", "If", "("+tok+")", "Timeout", "Second-120"); r.status != 200 {
		t.Fatalf("a refresh on b: %d", r.status)
	}
	if r := b.req(t, "UNLOCK", "/dav/doc.txt", "", "Lock-Token", tok); r.status != 204 {
		t.Fatalf("UNLOCK on b: %d", r.status)
	}
	if r := a.req(t, "PUT", "/dav/doc.txt", "v3"); r.status != 204 {
		t.Fatalf("PUT on a after the unlock: %d", r.status)
	}
	if got, _ := fake.ReadFile("/doc.txt"); string(got) != "v3" {
		t.Fatalf("the drive holds %q", got)
	}
}
