package aliclient_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestRestartInsideTokenLifeRefreshesNothing: the access token is saved with
// the refresh token, so a process started again while it lives uses it and
// does not refresh at all (issue 10 C8); once it has expired, a restart
// refreshes once with the saved refresh token. A state file of the older
// format (refresh token only) still loads, at the cost of one refresh.
func TestRestartInsideTokenLifeRefreshesNothing(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clock := aliclienttest.NewClock()
			fake := alifake.New(alifake.Options{Now: clock.Now, AccessTokenTTL: time.Hour})
			if err := fake.Start(); err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			id := fake.AddFile("/a.mkv", []byte("a"))
			cfg := aliclienttest.ConfigFor(t, fake, driver)
			tokenEP := aliclienttest.EndpointsOf(driver).Token
			ctx := context.Background()
			start := func() aliclient.Drive {
				t.Helper()
				c, err := aliclient.New(cfg, aliclient.Deps{Now: clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Link(ctx, id); err != nil {
					t.Fatalf("unexpected error after a start: %v", err)
				}
				return c
			}
			start()
			if got := fake.Calls(tokenEP); got != 1 {
				t.Fatalf("unexpected refreshes of the first start; got %d; want 1", got)
			}

			// Restart 40 minutes into the token's hour: no refresh.
			clock.Advance(40 * time.Minute)
			start()
			if got := fake.Calls(tokenEP); got != 1 {
				t.Fatalf("a restart inside the token's life refreshed; got %d refreshes; want 1", got)
			}

			// Restart after it expired: one refresh, with the saved token.
			clock.Advance(30 * time.Minute)
			start()
			if got := fake.Calls(tokenEP); got != 2 {
				t.Fatalf("unexpected refreshes after expiry; got %d; want 2", got)
			}

			// An older state file (refresh token only) still loads.
			path := filepath.Join(cfg.StateDir, aliclient.TokenFile(driver))
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			old := stripAccess(t, raw)
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
			start()
			if got := fake.Calls(tokenEP); got != 3 {
				t.Fatalf("unexpected refreshes with an older state file; got %d; want 3", got)
			}
		})
	}
}

// stripAccess turns a state file into the version-1 form: the refresh token
// and its seed, no access token.
func stripAccess(t *testing.T, raw []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["access_token"] == nil || m["access_expires"] == nil {
		t.Fatalf("the state file holds no access token: %v", keys(m))
	}
	for _, k := range []string{"access_token", "access_issued", "access_expires"} {
		delete(m, k)
	}
	m["version"] = 1
	out, _ := json.Marshal(m)
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
