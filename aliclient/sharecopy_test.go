package aliclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// startShare starts a fake with opts and a share driver on a share of its
// whole default drive, with cfg adjusted by tune.
func startShare(t *testing.T, opts alifake.Options, tune func(*aliclient.Config)) (*alifake.Fake, *aliclient.ShareClient, aliclient.Config) {
	t.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	cfg := aliclienttest.ConfigFor(t, fake, "share")
	if tune != nil {
		tune(&cfg)
	}
	c := newShareClient(t, cfg, opts.Now)
	return fake, c, cfg
}

func newShareClient(t *testing.T, cfg aliclient.Config, now func() time.Time) *aliclient.ShareClient {
	t.Helper()
	c, err := aliclient.NewShare(cfg, aliclient.Deps{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if h := c.Health(context.Background()); !h.Ready { // alilink's check at start, which starts the sweep
		t.Fatalf("not ready: %v", h.Problems)
	}
	return c
}

// fetch reads a link as a player would.
func fetch(t *testing.T, l aliclient.Link, rng string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.URL, nil)
	if l.Referer != "" {
		req.Header.Set("Referer", l.Referer)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestSharePlaysFromCopy: with the share download endpoint offline (spec
// §13.7), a share file plays from a copy in the user's resource drive, byte
// for byte; the copy is deleted after its link expired plus the delay
// (spec §15); the temp folder stays out of the share.
func TestSharePlaysFromCopy(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{LinkTTL: 2 * time.Second}, func(cfg *aliclient.Config) {
		cfg.ShareDeleteAfter = 300 * time.Millisecond
	})
	data := bytes.Repeat([]byte("share bytes "), 10_000)
	id := fake.AddFile("/Movies/film.mkv", data)
	ctx := context.Background()

	l, err := c.Link(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if status, got := fetch(t, l, ""); status != 200 || !bytes.Equal(got, data) {
		t.Fatalf("unexpected content; got %d, %d bytes; want 200 with the share file's %d", status, len(got), len(data))
	}
	if status, got := fetch(t, l, "bytes=100-199"); status != 206 || !bytes.Equal(got, data[100:200]) {
		t.Fatalf("unexpected range; got %d %q", status, got)
	}
	if n := fake.Calls(alifake.EndpointShareDownloadURL); n != 0 {
		t.Fatalf("the offline share download endpoint was called %d times", n)
	}
	copyPath := "/" + aliclient.ShareTempFolderName + "/film.mkv"
	if _, ok := fake.FileIDIn(alifake.DriveResource, copyPath); !ok || fake.Calls(alifake.EndpointShareCopy) != 1 {
		t.Fatalf("no copy in the resource drive's temp folder (%d copies)", fake.Calls(alifake.EndpointShareCopy))
	}
	root, err := c.List(ctx, "root")
	if err != nil || len(root) != 1 || root[0].Name != "Movies" {
		t.Fatalf("unexpected share root after a play: %+v, %v", root, err)
	}
	// Not before the link expired...
	time.Sleep(time.Until(l.Expires) - 200*time.Millisecond)
	if _, ok := fake.FileIDIn(alifake.DriveResource, copyPath); !ok {
		t.Fatal("the copy was deleted while its link was still valid")
	}
	// ...and soon after it expired plus the delay.
	if !eventually(t, 5*time.Second, func() bool { _, ok := fake.FileIDIn(alifake.DriveResource, copyPath); return !ok }) {
		t.Fatal("the copy is still in the drive after its link expired plus the delay")
	}
	if n := fake.Calls(alifake.EndpointFileDelete); n != 1 {
		t.Fatalf("unexpected deletes; got %d; want 1", n)
	}
	if c.PendingCopies() != 0 {
		t.Fatalf("deletions still planned: %d", c.PendingCopies())
	}
}

// TestShareConcurrentLinksOneCopy: 50 concurrent cold links of one file make
// one copy and one link call.
func TestShareConcurrentLinksOneCopy(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{}, nil)
	id := fake.AddFile("/a.mkv", []byte("a"))
	fake.SetLatency(alifake.EndpointBatch, 100*time.Millisecond) // let them pile up
	var wg sync.WaitGroup
	urls := make([]string, 50)
	for i := range urls {
		wg.Go(func() {
			l, err := c.Link(context.Background(), id)
			if err != nil {
				t.Error(err)
			}
			urls[i] = l.URL
		})
	}
	wg.Wait()
	if n, links := fake.Calls(alifake.EndpointShareCopy), fake.Calls(alifake.EndpointDownloadURL); n != 1 || links != 1 {
		t.Fatalf("unexpected copies and links; got %d and %d; want 1 and 1", n, links)
	}
	for _, u := range urls {
		if u != urls[0] {
			t.Fatal("the callers got different links")
		}
	}
}

// TestShareDriveFull: a full drive is ErrDriveFull with the drive's reason.
func TestShareDriveFull(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{}, nil)
	id := fake.AddFile("/big.mkv", make([]byte, 5000))
	fake.SetCapacity(alifake.DriveResource, 4000)
	_, err := c.Link(context.Background(), id)
	if !errors.Is(err, aliclient.ErrDriveFull) || !strings.Contains(err.Error(), "QuotaExhausted.Drive") ||
		!strings.Contains(err.Error(), "exceeded the limit") {
		t.Fatalf("unexpected error for a full drive: %v", err)
	}
}

// TestShareFolderCopyRefused: a folder (copied in the background) is
// refused with a clear error.
func TestShareFolderCopyRefused(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{}, nil)
	fake.AddFile("/Season/e1.mkv", []byte("e1"))
	folder, _ := fake.FileID("/Season")
	_, err := c.Link(context.Background(), folder)
	if !errors.Is(err, aliclient.ErrIsFolder) || !strings.Contains(err.Error(), "asynchronously") {
		t.Fatalf("unexpected error for a folder: %v", err)
	}
}

// TestShareTempFolderConfigured: ALILINK_SHARE_TEMP_FOLDER_ID is used as it
// is; no folder is created.
func TestShareTempFolderConfigured(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	mine := fake.AddFolderTo(alifake.DriveResource, "/Mine/Temp")
	id := fake.AddFile("/a.mkv", []byte("a"))
	cfg := aliclienttest.ConfigFor(t, fake, "share")
	cfg.ShareTempFolderID = mine
	c := newShareClient(t, cfg, nil)
	if _, err := c.Link(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.FileIDIn(alifake.DriveResource, "/Mine/Temp/a.mkv"); !ok {
		t.Fatal("no copy in the configured folder")
	}
	if _, ok := fake.FileIDIn(alifake.DriveResource, "/"+aliclient.ShareTempFolderName); ok {
		t.Fatal("a temp folder was created although one is configured")
	}
}

// TestShareRestartSweeps: a restart deletes the copies an earlier run left
// once their links have expired, and leaves younger ones (another replica
// may be serving them) until then.
func TestShareRestartSweeps(t *testing.T) {
	clock := aliclienttest.NewClock()
	fake, c, cfg := startShare(t, alifake.Options{Now: clock.Now}, nil)
	a := fake.AddFile("/a.mkv", []byte("a"))
	b := fake.AddFile("/b.mkv", []byte("b"))
	ctx := context.Background()
	if _, err := c.Link(ctx, a); err != nil {
		t.Fatal(err)
	}
	c.Close() // a crash: the planned deletion is lost
	tmp := "/" + aliclient.ShareTempFolderName
	clock.Advance(time.Duration(cfg.LinkExpireSec)*time.Second + cfg.ShareDeleteAfter + cfg.Timeout + time.Second)

	c2 := newShareClient(t, cfg, clock.Now) // a has outlived its link; b is fresh
	if _, err := c2.Link(ctx, b); err != nil {
		t.Fatal(err)
	}
	if !eventually(t, 5*time.Second, func() bool { _, ok := fake.FileIDIn(alifake.DriveResource, tmp+"/a.mkv"); return !ok }) {
		t.Fatal("the restart did not sweep the old copy")
	}
	c2.Close()
	lists := fake.Calls(alifake.EndpointFileList)
	c3 := newShareClient(t, cfg, clock.Now)
	if !eventually(t, 5*time.Second, func() bool { return fake.Calls(alifake.EndpointFileList) > lists }) {
		t.Fatal("the third start did not list the temp folder")
	}
	time.Sleep(200 * time.Millisecond)
	if _, ok := fake.FileIDIn(alifake.DriveResource, tmp+"/b.mkv"); !ok {
		t.Fatal("the sweep deleted a copy whose link is still valid")
	}
	if c3.PendingCopies() != 1 {
		t.Fatalf("unexpected planned deletions; got %d; want 1 (b's)", c3.PendingCopies())
	}
}

// TestShareListRenewsOnAccessTokenInvalid: a share listing refused with
// AccessTokenInvalid renews the share token (spec §13.5), and a
// ParamFlowException is retried.
func TestShareListRenewsOnAccessTokenInvalid(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{}, nil)
	fake.AddFile("/a.mkv", []byte("a"))
	ctx := context.Background()
	if _, err := c.List(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	tokens := fake.Calls(alifake.EndpointShareToken)
	fake.FailNext(alifake.EndpointShareList, 1, alifake.Fault{Status: 401, Code: "AccessTokenInvalid", Message: "AccessToken is invalid. ErrValidateTokenFailed"})
	if items, err := c.List(ctx, "root"); err != nil || len(items) != 1 {
		t.Fatalf("listing after AccessTokenInvalid: %v, %v", items, err)
	}
	if got := fake.Calls(alifake.EndpointShareToken) - tokens; got != 1 {
		t.Fatalf("unexpected share token fetches; got %d; want 1", got)
	}
	fake.FailNext(alifake.EndpointShareList, 2, alifake.Fault{Status: 400, Code: "ParamFlowException", Message: "a1b2c3"})
	if items, err := c.List(ctx, "root"); err != nil || len(items) != 1 {
		t.Fatalf("listing after ParamFlowException: %v, %v", items, err)
	}
}

// TestShareTempFolderRecreated: a temp folder someone deleted is made again.
func TestShareTempFolderRecreated(t *testing.T) {
	fake, c, _ := startShare(t, alifake.Options{}, nil)
	a := fake.AddFile("/a.mkv", []byte("a"))
	b := fake.AddFile("/b.mkv", []byte("b"))
	ctx := context.Background()
	if _, err := c.Link(ctx, a); err != nil {
		t.Fatal(err)
	}
	fake.RemoveFrom(alifake.DriveResource, "/"+aliclient.ShareTempFolderName)
	l, err := c.Link(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if status, got := fetch(t, l, ""); status != 200 || string(got) != "b" {
		t.Fatalf("unexpected content; got %d %q", status, got)
	}
	if _, ok := fake.FileIDIn(alifake.DriveResource, "/"+aliclient.ShareTempFolderName+"/b.mkv"); !ok {
		t.Fatal("no copy in the re-made temp folder")
	}
}
