package main

import (
	"net/http"
	"sync"
	"testing"

	"github.com/alilink/alilink/aliclient/alifake"
)

// TestReplicasShareOneCopy: three share-driver replicas on one Redis,
// asked for one file at once, cold, copy it once and link the copy once
// (spec §15: one copy per file per link lifetime across replicas).
func TestReplicasShareOneCopy(t *testing.T) {
	fake := fakeEnv(t)
	fake.AddFile("/Films/a.mkv", []byte("a share file"))
	t.Setenv("ALILINK_DRIVER", "share")
	t.Setenv("ALILINK_SHARE_ID", fake.AddShare("/Films", ""))
	t.Setenv("ALILINK_RESOLVE_TIMEOUT", "20s")
	t.Setenv("ALILINK_LOG_LEVEL", "error")
	url, prefix := testRedis(t)
	var bases []string
	for range 3 {
		bases = append(bases, replica(t, url, prefix))
	}
	var wg sync.WaitGroup
	for _, b := range bases {
		for range 5 {
			wg.Go(func() {
				if s := status(t, b+"/a.mkv"); s != http.StatusFound {
					t.Errorf("unexpected status %d", s)
				}
			})
		}
	}
	wg.Wait()
	if got, links := fake.Calls(alifake.EndpointShareCopy), fake.Calls(alifake.EndpointDownloadURL); got != 1 || links != 1 {
		t.Fatalf("unexpected copies and links across 3 replicas; got %d and %d; want 1 and 1", got, links)
	}
}
