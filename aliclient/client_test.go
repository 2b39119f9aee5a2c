package aliclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// assertNoSecrets fails when any token the fake ever issued shows up in s.
func assertNoSecrets(t *testing.T, fake *alifake.Fake, what, s string) {
	t.Helper()
	for _, tok := range fake.Secrets() {
		if strings.Contains(s, tok) {
			t.Fatalf("%s contains a token", what)
		}
	}
}

func TestListGetLink(t *testing.T) {
	log, logs := aliclienttest.Logger()
	fake, c := aliclienttest.Start(t, alifake.Options{PageSize: 7}, log)
	ctx := context.Background()
	for i := range 50 {
		fake.AddFile(fmt.Sprintf("/Many/f%02d.txt", i), []byte{byte(i)})
	}
	id := fake.AddFile("/Movies/a b #1 100%?.mkv", []byte("hello"))

	many, _ := fake.FileID("/Many")
	items, err := c.List(ctx, many)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range items {
		seen[it.Name] = true
	}
	if len(items) != 50 || len(seen) != 50 {
		t.Fatalf("unexpected listing; got %d items (%d distinct); want 50", len(items), len(seen))
	}
	// 8 pages of 7, plus the first attempt that the drive refused for want of a
	// device session (created lazily, as AList does: spec §2.4).
	if got := fake.Calls("file/list"); got != 9 {
		t.Fatalf("unexpected list calls; got %d; want 9", got)
	}

	f, err := c.Get(ctx, id)
	if err != nil || f.Name != "a b #1 100%?.mkv" || f.Size != 5 || f.Folder {
		t.Fatalf("unexpected file; got %+v, %v", f, err)
	}
	if f.ContentHash != "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" {
		t.Fatalf("unexpected content hash (must be lower-cased); got %q", f.ContentHash)
	}
	byPath, err := c.GetByPath(ctx, "/Movies/a b #1 100%?.mkv")
	if err != nil || byPath.ID != id {
		t.Fatalf("unexpected get_by_path; got %+v, %v", byPath, err)
	}
	l, err := c.Link(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if l.RefererBound() || l.Size != 5 || time.Until(l.Expires) < time.Hour {
		t.Fatalf("unexpected link; got %+v", l)
	}
	if _, err := c.Get(ctx, "no-such-id"); !errors.Is(err, aliclient.ErrNotFound) {
		t.Fatalf("unexpected error for a missing id; got %v; want ErrNotFound", err)
	}
	movies, _ := fake.FileID("/Movies")
	if _, err := c.Link(ctx, movies); !errors.Is(err, aliclient.ErrIsFolder) {
		t.Fatalf("unexpected error for a folder link; got %v; want ErrIsFolder", err)
	}
	if _, err := c.List(ctx, id); !errors.Is(err, aliclient.ErrNotFolder) {
		t.Fatalf("unexpected error listing a file; got %v; want ErrNotFolder", err)
	}
	assertNoSecrets(t, fake, "the log", logs.String())
}

func TestRefererBoundLink(t *testing.T) {
	fake, c := aliclienttest.Start(t, alifake.Options{RefererBound: true}, nil)
	id := fake.AddFile("/x.mkv", []byte("x"))
	l, err := c.Link(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !l.RefererBound() || l.Referer != "https://www.alipan.com/" {
		t.Fatalf("unexpected referer binding; got %q", l.Referer)
	}
}

// TestRotationPersistedAndRestart: the rotated token is on disk, and a restart
// with the same (now spent) configured token and state dir becomes ready.
func TestRotationPersistedAndRestart(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := aliclienttest.Config(t, fake)
	seed := cfg.RefreshToken
	ctx := context.Background()
	for restart := range 3 {
		c, err := aliclient.New(cfg, aliclient.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if h := c.Health(ctx); !h.Ready {
			t.Fatalf("restart %d: unexpected health; got %+v; want ready", restart, h)
		}
		raw, err := os.ReadFile(filepath.Join(cfg.StateDir, "drive-token.json"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), seed) {
			t.Fatalf("restart %d: the state still holds the spent seed token", restart)
		}
	}
	// The restarts use the access token saved with the rotated refresh
	// token: one refresh in all (TestRestartInsideTokenLifeRefreshesNothing
	// restarts after expiry too).
	if got := fake.Calls("token"); got != 1 {
		t.Fatalf("unexpected token calls; got %d; want 1", got)
	}
	// A token the user pasted replaces the saved chain.
	cfg.RefreshToken = fake.NewRefreshToken()
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Health(ctx); !h.Ready {
		t.Fatalf("unexpected health with a pasted token; got %+v", h)
	}
	// The saved access token belongs to the old chain: the pasted one refreshes.
	if got := fake.Calls("token"); got != 2 {
		t.Fatalf("unexpected token calls with a pasted token; got %d; want 2", got)
	}
}

func TestAccessTokenExpiryRecovered(t *testing.T) {
	fake, c := aliclienttest.Start(t, alifake.Options{}, nil)
	id := fake.AddFile("/a.txt", []byte("a"))
	ctx := context.Background()
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	fake.ExpireAccessTokens()
	// Many requests fail on the same dead token at once: one refresh serves all.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.Get(ctx, id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("unexpected error after access-token expiry: %v", err)
	}
	if got := fake.Calls("token"); got != 2 {
		t.Fatalf("unexpected token calls; got %d; want 2 (start + one refresh)", got)
	}
}

// TestAccessTokenRefreshedAhead: with the clock near expires_in, the client
// refreshes before the drive would refuse the token.
func TestAccessTokenRefreshedAhead(t *testing.T) {
	clock := aliclienttest.NewClock()
	fake, c := aliclienttest.Start(t, alifake.Options{Now: clock.Now, AccessTokenTTL: time.Hour}, nil)
	id := fake.AddFile("/a.txt", []byte("a"))
	ctx := context.Background()
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	clock.Advance(50 * time.Minute) // inside the last fifth of the hour
	before := fake.Calls("file/get")
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("token"); got != 2 {
		t.Fatalf("unexpected token calls; got %d; want 2", got)
	}
	if got := fake.Calls("file/get") - before; got != 1 {
		t.Fatalf("unexpected file/get calls; got %d; want 1 (no refused attempt)", got)
	}
}

func TestDeviceSessionRecovered(t *testing.T) {
	// Every way the drive says the session is gone (spec §2.4, §13.6).
	for _, code := range []string{"UserDeviceOffline", "DeviceSessionSignatureInvalid", "UserDeviceIllegality", alifake.DeviceInfoNotFound} {
		t.Run(code, func(t *testing.T) {
			fake, c := aliclienttest.Start(t, alifake.Options{}, nil)
			id := fake.AddFile("/a.txt", []byte("a"))
			ctx := context.Background()
			if _, err := c.Get(ctx, id); err != nil {
				t.Fatal(err)
			}
			if got := fake.Calls("create_session"); got != 1 {
				t.Fatalf("unexpected create_session calls; got %d; want 1", got)
			}
			fake.DropDeviceSessions(code)
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					if _, err := c.Link(ctx, id); err != nil {
						t.Errorf("unexpected error after the session was lost: %v", err)
					}
				})
			}
			wg.Wait()
			if got := fake.Calls("create_session"); got != 2 {
				t.Fatalf("unexpected create_session calls; got %d; want 2", got)
			}
		})
	}
}

func TestDeadRefreshToken(t *testing.T) {
	log, logs := aliclienttest.Logger()
	fake, c := aliclienttest.Start(t, alifake.Options{}, log)
	id := fake.AddFile("/a.txt", []byte("a"))
	ctx := context.Background()
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	fake.RevokeRefreshTokens()
	fake.ExpireAccessTokens()
	_, err := c.Get(ctx, id)
	if !errors.Is(err, aliclient.ErrTokenDead) {
		t.Fatalf("unexpected error; got %v; want ErrTokenDead", err)
	}
	h := c.Health(ctx)
	if h.Ready || len(h.Problems) == 0 || !strings.Contains(h.Problems[0], "ALILINK_REFRESH_TOKEN") {
		t.Fatalf("unexpected health; got %+v; want not ready, naming ALILINK_REFRESH_TOKEN", h)
	}
	calls := fake.Calls("token")
	for range 5 {
		if _, err := c.Get(ctx, id); !errors.Is(err, aliclient.ErrTokenDead) {
			t.Fatalf("unexpected error; got %v; want ErrTokenDead", err)
		}
	}
	if got := fake.Calls("token"); got != calls {
		t.Fatalf("a dead token kept hammering the token endpoint; got %d calls; want %d", got, calls)
	}
	if !strings.Contains(logs.String(), "rejected the refresh token") {
		t.Fatalf("the log does not say the token is dead:\n%s", logs.String())
	}
	assertNoSecrets(t, fake, "the log", logs.String())
	assertNoSecrets(t, fake, "the error", err.Error())
}

// TestStateNotWritable: the rotated token cannot be saved; serving goes on with
// it in memory, the log says so loudly, readiness reports it.
func TestStateNotWritable(t *testing.T) {
	log, logs := aliclienttest.Logger()
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := aliclienttest.Config(t, fake)
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = filepath.Join(blocker, "state") // a dir under a file: never creatable
	c, err := aliclient.New(cfg, aliclient.Deps{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	id := fake.AddFile("/a.txt", []byte("a"))
	if _, err := c.Get(context.Background(), id); err != nil {
		t.Fatalf("unexpected error with an unwritable state dir: %v", err)
	}
	h := c.Health(context.Background())
	if !h.Ready || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "could not be saved") {
		t.Fatalf("unexpected health; got %+v; want ready with one problem about saving", h)
	}
	if !strings.Contains(logs.String(), "COULD NOT SAVE") {
		t.Fatalf("the log does not shout about the lost state:\n%s", logs.String())
	}
	assertNoSecrets(t, fake, "the log", logs.String())
	assertNoSecrets(t, fake, "readiness", strings.Join(h.Problems, " "))
}

func TestRateLimitedByDrive(t *testing.T) {
	fake, c := aliclienttest.Start(t, alifake.Options{}, nil)
	id := fake.AddFile("/a.txt", []byte("a"))
	ctx := context.Background()
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}

	// The drive asks for 1500 ms (x-retry-after is milliseconds, spec §13.1);
	// the caller can wait: it succeeds after about 1.5 s.
	fake.FailNext("get_download_url", 1, alifake.Fault{Status: 429, RetryAfter: 1500 * time.Millisecond})
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Link(wctx, id); err != nil {
		t.Fatalf("unexpected error after a waitable 429: %v", err)
	}
	if waited := time.Since(start); waited < 1400*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("did not wait x-retry-after milliseconds; got %v; want about 1.5s", waited)
	}

	// x-retry-after wins over a Retry-After (seconds) sent along with it.
	fake.FailNext("get_download_url", 1, alifake.Fault{Status: 429, RetryAfter: 200 * time.Millisecond,
		Header: http.Header{"Retry-After": {"30"}}})
	start = time.Now()
	if _, err := c.Link(wctx, id); err != nil {
		t.Fatalf("unexpected error after a 429 with both headers: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || waited > 2*time.Second {
		t.Fatalf("unexpected wait with x-retry-after 200 and Retry-After 30; got %v; want about 200ms", waited)
	}

	// The caller's deadline is shorter than the wait: fail at once with the
	// delay, whichever header asked for it.
	for _, header := range []string{"x-retry-after", "Retry-After"} {
		fake.FailNext("get_download_url", 1, alifake.Fault{Status: 429, RetryAfter: 3 * time.Second, RetryAfterHeader: header})
		sctx, cancel2 := context.WithTimeout(ctx, 500*time.Millisecond)
		start = time.Now()
		_, err := c.Link(sctx, id)
		cancel2()
		if !errors.Is(err, aliclient.ErrRateLimited) {
			t.Fatalf("%s: unexpected error; got %v; want ErrRateLimited", header, err)
		}
		if d, ok := aliclient.RetryAfter(err); !ok || d != 3*time.Second {
			t.Fatalf("%s: unexpected retry delay; got %v, %v; want 3s", header, d, ok)
		}
		if time.Since(start) > 300*time.Millisecond {
			t.Fatalf("%s: waited although the deadline could not be met", header)
		}
	}
}

func TestServerErrorsRetried(t *testing.T) {
	fake, c := aliclienttest.Start(t, alifake.Options{}, nil)
	id := fake.AddFile("/a.txt", []byte("a"))
	fake.FailNext("file/get", 2, alifake.Fault{Status: 503})
	if _, err := c.Get(context.Background(), id); err != nil {
		t.Fatalf("unexpected error after two 503s: %v", err)
	}
	fake.FailNext("file/get", 10, alifake.Fault{Status: 500})
	if _, err := c.Get(context.Background(), id); !errors.Is(err, aliclient.ErrUpstream) {
		t.Fatalf("unexpected error after persistent 500s; got %v; want ErrUpstream", err)
	}
}

// TestLocalGovernor: our own bucket (link 2/s here) refuses at once, with the
// wait, when the caller's deadline cannot cover it; the drive sees no excess.
func TestLocalGovernor(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.SetRateLimit("get_download_url", 2)
	cfg := aliclienttest.Config(t, fake)
	cfg.RateLink = 2
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	id := fake.AddFile("/a.txt", []byte("a"))
	ctx := context.Background()
	// The token, the user and the device session first (a list call: the
	// list budget, not the link one), so that the 100 ms below are the link
	// governor's, not a cold start's (which under -race can take 190 ms).
	if _, err := c.List(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	var limited int
	for range 4 {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := c.Link(cctx, id)
		cancel()
		switch {
		case errors.Is(err, aliclient.ErrRateLimited):
			limited++
			if d, _ := aliclient.RetryAfter(err); d <= 0 || d > time.Second {
				t.Fatalf("unexpected local retry delay %v", d)
			}
		case err != nil:
			t.Fatal(err)
		}
	}
	if limited == 0 {
		t.Fatalf("the local governor let 4 link calls through in 100 ms at 2/s")
	}
	if got := fake.Rejected("get_download_url"); got != 0 {
		t.Fatalf("unexpected 429s from the drive; got %d; want 0", got)
	}
}
