package alifake

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

// TestWarmHashes: every file of both drives has its hashes computed by
// WarmHashes, the same as a listing would compute them, and a cancelled
// context returns at once.
func TestWarmHashes(t *testing.T) {
	f := New(Options{})
	f.AddSynthetic("/Movies/big.mkv", 8<<20)
	f.AddSyntheticTo(DriveResource, "/Films/other.mp4", 1<<20)
	f.AddFile("/a.txt", []byte("a"))

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	f.WarmHashes(cancelled) // must return; it may hash none or some

	f.WarmHashes(context.Background())
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, fs := range []*fileSystem{&f.fs, &f.resource} {
		for _, nd := range fs.byID {
			if nd.blob == nil {
				continue
			}
			n++
			if nd.blob.sha1 == "" {
				t.Fatalf("unexpected: %s not hashed by WarmHashes", nd.name)
			}
			h := sha1.New()
			_, _ = io.Copy(h, io.NewSectionReader(nd.blob.reader(), 0, nd.blob.size))
			if want := strings.ToUpper(hex.EncodeToString(h.Sum(nil))); nd.blob.sha1 != want {
				t.Fatalf("unexpected hash of %s; got %s; want %s", nd.name, nd.blob.sha1, want)
			}
		}
	}
	if n != 3 {
		t.Fatalf("unexpected number of files; got %d; want 3", n)
	}
}
