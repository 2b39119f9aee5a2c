package redisstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
)

// open connects to the Redis .ci/run started (ALILINK_TEST_REDIS_URL) or to
// a private redis-server, with a fresh key prefix.
func open(t *testing.T) *State {
	t.Helper()
	url := os.Getenv("ALILINK_TEST_REDIS_URL")
	if url == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			if os.Getenv("ALILINK_REQUIRE_TOOLS") != "" {
				t.Fatal("redis-server is required but not installed")
			}
			t.Skip("redis-server not installed")
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	s, err := Open(url, "rs-test-"+hex.EncodeToString(b[:]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for deadline := time.Now().Add(5 * time.Second); s.Ping(context.Background()) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis did not answer")
		}
	}
	return s
}

func TestSeedReplacesTheChainOnce(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, ok, err := s.Load(ctx); ok || err != nil {
		t.Fatalf("unexpected state before seeding: %v %v", ok, err)
	}
	st, err := s.Seed(ctx, "rt-1", "seed-A")
	if err != nil || st.Refresh != "rt-1" {
		t.Fatalf("unexpected seed %+v %v", st, err)
	}
	if err := s.Store(ctx, aliclient.TokenState{Refresh: "rt-2", Access: "acc", Issued: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Another replica starting with the same (now spent) configured token keeps the chain.
	if st, _ := s.Seed(ctx, "rt-1", "seed-A"); st.Refresh != "rt-2" || st.Access != "acc" {
		t.Fatalf("an old seed replaced the chain: %+v", st)
	}
	// A token the user pasted replaces it once…
	if st, _ := s.Seed(ctx, "rt-new", "seed-B"); st.Refresh != "rt-new" || st.Access != "" {
		t.Fatalf("a new seed did not replace the chain: %+v", st)
	}
	// …and an older replica coming back with seed A does not undo that.
	if st, _ := s.Seed(ctx, "rt-1", "seed-A"); st.Refresh != "rt-new" {
		t.Fatalf("an old replica undid a pasted token: %+v", st)
	}
	// A replica with nothing configured never replaces anything.
	if st, _ := s.Seed(ctx, "rt-x", ""); st.Refresh != "rt-new" {
		t.Fatalf("an unseeded replica replaced the chain: %+v", st)
	}
}

func TestLockIsExclusiveAndLeased(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	release, ok, err := s.Lock(ctx, 500*time.Millisecond)
	if !ok || err != nil {
		t.Fatalf("unexpected first lock %v %v", ok, err)
	}
	if _, ok, _ := s.Lock(ctx, time.Second); ok {
		t.Fatal("a second holder got the lock")
	}
	time.Sleep(600 * time.Millisecond) // the lease ends: a dead holder is replaced
	release2, ok, _ := s.Lock(ctx, time.Second)
	if !ok {
		t.Fatal("the lock was not free after its lease")
	}
	release() // the first holder's late release must not free the second's lock
	if _, ok, _ := s.Lock(ctx, time.Second); ok {
		t.Fatal("a stale release freed another holder's lock")
	}
	release2()
	if _, ok, _ := s.Lock(ctx, time.Second); !ok {
		t.Fatal("the lock was not released")
	}
}

func TestTakeSharesTheQuota(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if d, err := s.Take(ctx, "link", 1); d != 0 || err != nil {
		t.Fatalf("unexpected first take %v %v", d, err)
	}
	d, err := s.Take(ctx, "link", 1)
	if err != nil || d < 500*time.Millisecond || d > time.Second {
		t.Fatalf("unexpected second take in the same second: wait %v, %v", d, err)
	}
	if d, _ := s.Take(ctx, "list", 4); d != 0 {
		t.Fatalf("classes share a bucket: %v", d)
	}
}

func TestLinks(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	l := aliclient.Link{URL: "https://cdn/x?sig=1", Referer: aliclient.WebReferer, Expires: time.UnixMilli(1_900_000_000_000), Size: 7, ContentHash: "ab", Part: "mov"}
	if err := s.PutLink(ctx, "f1", l, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.GetLink(ctx, "f1")
	if !ok || err != nil || got != l {
		t.Fatalf("unexpected link %+v %v %v", got, ok, err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, ok, _ := s.GetLink(ctx, "f1"); ok {
		t.Fatal("the link outlived its TTL")
	}
	// An overwritten file's link is dropped for every replica.
	if err := s.PutLink(ctx, "f2", l, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLink(ctx, "f2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetLink(ctx, "f2"); ok {
		t.Fatal("a deleted link is still there")
	}
}

func TestUnreachable(t *testing.T) {
	s, err := Open("redis://127.0.0.1:1/0", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Load(context.Background()); err == nil || s.Up() {
		t.Fatalf("an unreachable Redis looks up: %v", err)
	}
	if Prefix("alilink", "share", "abc") != "alilink:share:abc" || Prefix("alilink", "open", "abc") != "alilink:open" {
		t.Fatal("unexpected prefixes")
	}
}
