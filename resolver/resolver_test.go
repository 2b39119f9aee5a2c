package resolver_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
)

func testConfig() resolver.Config {
	return resolver.Config{
		RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: 10 * time.Minute, ListCacheSize: 100,
		NegativeTTL: 10 * time.Second, LinkCacheSize: 1000, LinkMargin: 60 * time.Second,
		ResolveTimeout: 10 * time.Second,
	}
}

func start(t *testing.T, opts alifake.Options, cfg resolver.Config) (*alifake.Fake, *resolver.Resolver) {
	t.Helper()
	return startDriver(t, "drive", opts, cfg)
}

func startDriver(t *testing.T, driver string, opts alifake.Options, cfg resolver.Config) (*alifake.Fake, *resolver.Resolver) {
	t.Helper()
	fake, c := aliclienttest.StartDriver(t, driver, opts, nil)
	r, err := resolver.New(cfg, c, resolver.Deps{Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fake, r
}

// warm makes the first (session-less) call so that call counts below are exact.
func warm(t *testing.T, r *resolver.Resolver) {
	t.Helper()
	if _, _, err := r.List(context.Background(), "/"); err != nil {
		t.Fatal(err)
	}
}

func TestStatWalksOneListingPerLevel(t *testing.T) {
	fake, r := start(t, alifake.Options{}, testConfig())
	fake.AddFile("/a/b/c/d.txt", []byte("d"))
	fake.AddFile("/a/b/c/e.txt", []byte("e"))
	warm(t, r)
	fake.ResetCounters()
	ctx := context.Background()
	it, err := r.Stat(ctx, "/a/b/c/d.txt")
	if err != nil || it.Name != "d.txt" || it.Folder {
		t.Fatalf("unexpected item; got %+v, %v", it, err)
	}
	if got := fake.Calls("file/list"); got != 3 { // root is cached; a, b, c
		t.Fatalf("unexpected list calls; got %d; want 3", got)
	}
	if _, err := r.Stat(ctx, "/a/b/c/e.txt"); err != nil { // a sibling: a hit
		t.Fatal(err)
	}
	if _, err := r.Stat(ctx, "/a/b"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("file/list"); got != 3 {
		t.Fatalf("unexpected list calls after hits; got %d; want 3", got)
	}
	if _, err := r.Stat(ctx, "/a/b/c/d.txt/x"); !errors.Is(err, resolver.ErrNotFound) {
		t.Fatalf("unexpected result for a path through a file; got %v", err)
	}
}

func TestNamesThatNeedEscaping(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) { namesThatNeedEscaping(t, driver) })
	}
}

func namesThatNeedEscaping(t *testing.T, driver string) {
	fake, r := startDriver(t, driver, alifake.Options{}, testConfig())
	names := []string{"/a b/c d.mkv", "/电影/千与千寻.mp4", "/x/#1.mkv", "/x/100%.mkv", "/x/why?.mkv", "/x/a+b&c=d.mkv"}
	for _, n := range names {
		fake.AddFile(n, []byte(n))
	}
	for _, n := range names {
		p, err := resolver.CleanPath([]byte(resolver.EscapePath(n)))
		if err != nil || p != n {
			t.Fatalf("unexpected clean path for %q; got %q, %v", n, p, err)
		}
		it, err := r.Stat(context.Background(), p)
		if err != nil || it.Size != int64(len(n)) {
			t.Fatalf("unexpected item for %q; got %+v, %v", n, it, err)
		}
	}
}

func TestNegativeCache(t *testing.T) {
	clock := aliclienttest.NewClock()
	fake, r := start(t, alifake.Options{Now: clock.Now}, testConfig())
	fake.AddFolder("/a")
	warm(t, r)
	ctx := context.Background()
	if _, err := r.Stat(ctx, "/a/missing.mkv"); !errors.Is(err, resolver.ErrNotFound) {
		t.Fatalf("unexpected error; got %v; want ErrNotFound", err)
	}
	calls := fake.Calls("file/list")
	fake.AddFile("/a/missing.mkv", []byte("now here"))
	if _, err := r.Stat(ctx, "/a/missing.mkv"); !errors.Is(err, resolver.ErrNotFound) {
		t.Fatalf("unexpected result inside the negative TTL; got %v", err)
	}
	if got := fake.Calls("file/list"); got != calls {
		t.Fatalf("a cached miss asked the drive; got %d list calls; want %d", got, calls)
	}
	// After the negative TTL and the listing's TTL the file is found.
	clock.Advance(11 * time.Minute)
	if _, err := r.Stat(ctx, "/a/missing.mkv"); err != nil {
		t.Fatalf("unexpected error after the caches expired: %v", err)
	}
}

func TestLinkOneCallPerLifetime(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) { linkOneCallPerLifetime(t, driver) })
	}
}

func linkOneCallPerLifetime(t *testing.T, driver string) {
	ep := aliclienttest.EndpointsOf(driver)
	fake, r := startDriver(t, driver, alifake.Options{}, testConfig())
	fake.AddFile("/hot.mkv", []byte("hot"))
	fake.AddFile("/cold.mkv", []byte("cold"))
	warm(t, r)
	ctx := context.Background()
	it, err := r.Stat(ctx, "/hot.mkv")
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := r.Link(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.Calls(ep.Link); got != 1 {
		t.Fatalf("unexpected link calls for 200 sequential requests; got %d; want 1", got)
	}

	// 50 concurrent cold requests: one listing, one link.
	fake.SetLatency(ep.Link, 50*time.Millisecond)
	lists := fake.Calls(ep.List)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			it, err := r.Stat(ctx, "/cold.mkv")
			if err == nil {
				_, err = r.Link(ctx, it)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := fake.Calls(ep.Link); got != 2 {
		t.Fatalf("unexpected link calls for 50 concurrent cold requests; got %d; want 2 (1 each)", got)
	}
	if got := fake.Calls(ep.List) - lists; got != 0 {
		t.Fatalf("unexpected list calls; got %d; want 0 (root listing cached)", got)
	}
}

// TestLinkMargin: a link is reused until its expiry minus the margin, then
// fetched anew; no link with less than the margin left is ever returned.
func TestLinkMargin(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) { linkMargin(t, driver) })
	}
}

func linkMargin(t *testing.T, driver string) {
	clock := aliclienttest.NewClock()
	cfg := testConfig()
	fake, r := startDriver(t, driver, alifake.Options{Now: clock.Now, LinkTTL: 10 * time.Minute}, cfg)
	fake.AddFile("/f.mkv", []byte("f"))
	ctx := context.Background()
	it, err := r.Stat(ctx, "/f.mkv")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for step := range 60 { // 30 minutes in 30 s steps
		l, err := r.Link(ctx, it)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if left := l.Expires.Sub(clock.Now()); left < cfg.LinkMargin {
			t.Fatalf("step %d: a link with %v left was returned; margin %v", step, left, cfg.LinkMargin)
		}
		if len(urls) == 0 || urls[len(urls)-1] != l.URL {
			urls = append(urls, l.URL)
		}
		clock.Advance(30 * time.Second)
	}
	// Each link serves 9 of its 10 minutes: 30 minutes need 4 links (0, 9, 18, 27).
	if got := fake.Calls(aliclienttest.EndpointsOf(driver).Link); got != 4 || len(urls) != 4 {
		t.Fatalf("unexpected link calls over 30 min; got %d calls, %d urls; want 4", got, len(urls))
	}
}

// TestShortLinksAreServed: a link the drive issues with less life than the
// margin is served, with half its life as the margin: reused for the first
// half, fetched anew after.
func TestShortLinksAreServed(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clock := aliclienttest.NewClock()
			cfg := testConfig() // a 60 s margin
			fake, r := startDriver(t, driver, alifake.Options{Now: clock.Now, LinkTTL: 3 * time.Second}, cfg)
			fake.AddFile("/f.mkv", []byte("f"))
			ctx := context.Background()
			it, err := r.Stat(ctx, "/f.mkv")
			if err != nil {
				t.Fatal(err)
			}
			l1, err := r.Link(ctx, it)
			if err != nil {
				t.Fatalf("a 3-second link under a 60-second margin: %v", err)
			}
			clock.Advance(time.Second) // within the first half: the same link
			if l, err := r.Link(ctx, it); err != nil || l.URL != l1.URL {
				t.Fatalf("the link was not reused within half its life: %v", err)
			}
			clock.Advance(time.Second) // past half its life: a fresh one
			l2, err := r.Link(ctx, it)
			if err != nil || !l2.Expires.After(l1.Expires) {
				t.Fatalf("no fresh link past half the old one's life: %v", err)
			}
			if got := fake.Calls(aliclienttest.EndpointsOf(driver).Link); got != 2 {
				t.Fatalf("%d link calls, want 2", got)
			}
		})
	}
}

func TestDropLink(t *testing.T) {
	fake, r := start(t, alifake.Options{}, testConfig())
	fake.AddFile("/f.mkv", []byte("f"))
	ctx := context.Background()
	it, _ := r.Stat(ctx, "/f.mkv")
	l1, err := r.Link(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	r.DropLink(it.ID, "https://some.other/url") // not the cached one: kept
	if l, _ := r.Link(ctx, it); l.URL != l1.URL {
		t.Fatalf("a DropLink of another URL dropped the cached link")
	}
	r.DropLink(it.ID, l1.URL)
	// The drive may hand out the very same URL again within a second (it is
	// signed over the object and the expiry only), so count the calls.
	if _, err := r.Link(ctx, it); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("get_download_url"); got != 2 {
		t.Fatalf("unexpected link calls; got %d; want 2", got)
	}
}

func TestListFolder(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) { listFolder(t, driver) })
	}
}

func listFolder(t *testing.T, driver string) {
	fake, r := startDriver(t, driver, alifake.Options{PageSize: 9}, testConfig())
	for i := range 100 {
		fake.AddFile("/big/"+string(rune('A'+i%26))+string(rune('a'+i/26))+".jpg", []byte{byte(i)})
	}
	_, items, err := r.List(context.Background(), "/big")
	if err != nil || len(items) != 100 {
		t.Fatalf("unexpected listing; got %d items, %v; want 100", len(items), err)
	}
}

// TestNegativeCacheBoundedInBytes: 20,000 missing 4 KiB paths (the cache's
// full entry count) do not hold their 80 MiB of path text.
func TestNegativeCacheBoundedInBytes(t *testing.T) {
	cfg := testConfig()
	cfg.PathCacheSize = 20000
	_, r := start(t, alifake.Options{}, cfg)
	ctx := context.Background()
	warm(t, r)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	long := strings.Repeat("x", 4000)
	for i := range 20000 {
		if _, err := r.Stat(ctx, "/"+long+strconv.Itoa(i)); !errors.Is(err, resolver.ErrNotFound) {
			t.Fatalf("a missing path: %v", err)
		}
	}
	grew := int64(heap()) - int64(before)
	// The entries are cached: a second look asks the drive nothing.
	if _, err := r.Stat(ctx, "/"+long+"7"); !errors.Is(err, resolver.ErrNotFound) {
		t.Fatal(err)
	}
	runtime.KeepAlive(r)
	t.Logf("20,000 missing 4 KiB paths hold %d KiB", grew>>10)
	if grew > 8<<20 {
		t.Fatalf("20,000 missing 4 KiB paths hold %d MiB", grew>>20)
	}
}
