package aliclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestExpiringTokenRenewal drives the one expiring token of each driver (the
// access token of drive and open, the share token of share) through the
// fake: a fresh token is used as it is, an expired one is renewed before the
// next call (no call is refused for it), many callers share one renewal, and
// a caller that gives up while it runs neither cancels it nor fails the
// others.
func TestExpiringTokenRenewal(t *testing.T) {
	tests := []struct {
		driver, tokenEP, listEP string
		opts                    alifake.Options
	}{
		{"drive", alifake.EndpointToken, alifake.EndpointFileList, alifake.Options{AccessTokenTTL: time.Hour}},
		{"open", alifake.EndpointOpenToken, alifake.EndpointOpenList, alifake.Options{AccessTokenTTL: time.Hour}},
		// The user's own token outlives the test; the share token does not.
		{"share", alifake.EndpointShareToken, alifake.EndpointShareList, alifake.Options{AccessTokenTTL: 4 * time.Hour, ShareTokenTTL: time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.driver, func(t *testing.T) {
			clock := aliclienttest.NewClock()
			tc.opts.Now = clock.Now
			fake, c := aliclienttest.StartDriver(t, tc.driver, tc.opts, nil)
			fake.AddFile("/a.mkv", []byte("a"))
			bg := context.Background()
			if _, err := c.List(bg, "root"); err != nil {
				t.Fatal(err)
			}
			renewals := fake.Calls(tc.tokenEP)
			userRefreshes := fake.Calls(alifake.EndpointToken) + fake.Calls(alifake.EndpointOpenToken)

			// Fresh: used as it is.
			clock.Advance(30 * time.Minute)
			if _, err := c.List(bg, "root"); err != nil {
				t.Fatal(err)
			}
			if got := fake.Calls(tc.tokenEP); got != renewals {
				t.Fatalf("unexpected renewals of a fresh token; got %d; want %d", got, renewals)
			}

			// Expired, and the renewal is slow: the first caller starts it
			// and gives up; the others, arriving while it runs, share it.
			clock.Advance(31 * time.Minute)
			fake.SetLatency(tc.tokenEP, 500*time.Millisecond)
			lists := fake.Calls(tc.listEP)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			first := make(chan error, 1)
			go func() {
				_, err := c.List(ctx, "root")
				first <- err
			}()
			for deadline := time.Now().Add(5 * time.Second); fake.Calls(tc.tokenEP) == renewals; {
				if time.Now().After(deadline) {
					t.Fatalf("the renewal of the expired token never reached the drive")
				}
				time.Sleep(time.Millisecond)
			}
			const others = 8
			var wg sync.WaitGroup
			errs := make(chan error, others)
			for range others {
				wg.Go(func() {
					if _, err := c.List(bg, "root"); err != nil {
						errs <- err
					}
				})
			}
			cancel()
			if err := <-first; !errors.Is(err, context.Canceled) {
				t.Fatalf("unexpected error of the caller that gave up; got %v; want context.Canceled", err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("unexpected error of a caller waiting for the renewal another caller gave up on: %v", err)
			}
			if got := fake.Calls(tc.tokenEP) - renewals; got != 1 {
				t.Fatalf("unexpected renewals; got %d; want 1 for all callers", got)
			}
			if got := fake.Calls(tc.listEP) - lists; got != others {
				t.Fatalf("unexpected %s calls; got %d; want %d (none refused for an expired token)", tc.listEP, got, others)
			}

			// The renewed token is the one in use.
			fake.SetLatency(tc.tokenEP, 0)
			if _, err := c.List(bg, "root"); err != nil {
				t.Fatal(err)
			}
			if got := fake.Calls(tc.tokenEP) - renewals; got != 1 {
				t.Fatalf("unexpected renewals after the renewed token; got %d; want 1", got)
			}
			if tc.driver == "share" {
				if got := fake.Calls(alifake.EndpointToken) + fake.Calls(alifake.EndpointOpenToken); got != userRefreshes {
					t.Fatalf("the user's token was refreshed for the share token; got %d; want %d", got, userRefreshes)
				}
			}
		})
	}
}
