package aliclient_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestDriversListAndLink: every driver lists every page and hands out links
// with the Referer rule of its family (spec §5.3).
func TestDriversListAndLink(t *testing.T) {
	// share: the link is the ordinary one of a copy in the user's drive (spec §15).
	wantReferer := map[string]string{"drive": "", "open": "", "share": ""}
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			log, logs := aliclienttest.Logger()
			fake, c := aliclienttest.StartDriver(t, driver, alifake.Options{PageSize: 7}, log)
			for i := range 30 {
				fake.AddFile(fmt.Sprintf("/Many/f%02d.txt", i), []byte{byte(i)})
			}
			id := fake.AddFile("/a b #1 100%?.mkv", []byte("hello"))
			ctx := context.Background()
			root, err := c.List(ctx, "root")
			if err != nil {
				t.Fatal(err)
			}
			var many string
			for _, it := range root {
				if it.Name == "Many" {
					many = it.ID
				}
			}
			items, err := c.List(ctx, many)
			if err != nil || len(items) != 30 {
				t.Fatalf("unexpected listing: %d items, %v", len(items), err)
			}
			l, err := c.Link(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if l.Referer != wantReferer[driver] || !strings.HasPrefix(l.URL, fake.CDNURL()) || time.Until(l.Expires) < 5*time.Minute {
				t.Fatalf("unexpected link %+v", l)
			}
			f, err := c.Get(ctx, id)
			if driver == "share" {
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Fatalf("unexpected Get on a share: %v", err)
				}
			} else if err != nil || f.Name != "a b #1 100%?.mkv" || f.Size != 5 {
				t.Fatalf("unexpected Get: %+v, %v", f, err)
			}
			assertNoSecrets(t, fake, "the log", logs.String())
		})
	}
}

// TestDriversRestartWithSpentToken: the rotated token is on disk before use, and
// a restart with the same configured (now spent) token becomes ready.
func TestDriversRestartWithSpentToken(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			fake := alifake.New(alifake.Options{})
			if err := fake.Start(); err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			cfg := aliclienttest.ConfigFor(t, fake, driver)
			for restart := range 3 {
				c, err := aliclient.New(cfg, aliclient.Deps{})
				if err != nil {
					t.Fatal(err)
				}
				if h := c.Health(context.Background()); !h.Ready {
					t.Fatalf("restart %d: not ready: %v", restart, h.Problems)
				}
				raw, err := os.ReadFile(filepath.Join(cfg.StateDir, aliclient.TokenFile(driver)))
				if err != nil || strings.Contains(string(raw), cfg.RefreshToken) {
					t.Fatalf("restart %d: the state is missing or still holds the spent token (%v)", restart, err)
				}
			}
			// One refresh: the restarts use the saved access token.
			if got := fake.Calls(aliclienttest.EndpointsOf(driver).Token); got != 1 {
				t.Fatalf("unexpected token calls; got %d; want 1", got)
			}
		})
	}
}

func TestDriversAccessTokenExpiry(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			fake, c := aliclienttest.StartDriver(t, driver, alifake.Options{}, nil)
			id := fake.AddFile("/a.mkv", []byte("a"))
			ctx := context.Background()
			if _, err := c.Link(ctx, id); err != nil {
				t.Fatal(err)
			}
			fake.ExpireAccessTokens()
			if _, err := c.Link(ctx, id); err != nil {
				t.Fatalf("unexpected error after access-token expiry: %v", err)
			}
			if got := fake.Calls(aliclienttest.EndpointsOf(driver).Token); got != 2 {
				t.Fatalf("unexpected token calls; got %d; want 2", got)
			}
		})
	}
}

func TestDriversDeadToken(t *testing.T) {
	for _, driver := range aliclienttest.Drivers {
		t.Run(driver, func(t *testing.T) {
			fake, c := aliclienttest.StartDriver(t, driver, alifake.Options{}, nil)
			id := fake.AddFile("/a.mkv", []byte("a"))
			fake.RevokeRefreshTokens()
			_, err := c.Link(context.Background(), id)
			if !errors.Is(err, aliclient.ErrTokenDead) {
				t.Fatalf("unexpected error; got %v; want ErrTokenDead", err)
			}
			if h := c.Health(context.Background()); h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "ALILINK_REFRESH_TOKEN") {
				t.Fatalf("unexpected health %+v", h)
			}
		})
	}
}

func TestOpenDriveType(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.AddFile("/in-default.mkv", []byte("d"))
	fake.AddFileTo(alifake.DriveResource, "/in-resource.mkv", []byte("r"))
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	cfg.OpenDriveType = "resource"
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	items, err := c.List(context.Background(), "root")
	if err != nil || len(items) != 1 || items[0].Name != "in-resource.mkv" {
		t.Fatalf("unexpected listing of the resource drive: %+v, %v", items, err)
	}
}

func TestOpenBroker(t *testing.T) {
	fake := alifake.New(alifake.Options{OpenBrokerPath: "/broker/token"})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	cfg.OpenClientID, cfg.OpenClientSecret = "", ""
	cfg.OpenTokenURL = fake.APIURL() + "/broker/token"
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Health(context.Background()); !h.Ready {
		t.Fatalf("not ready through the broker: %v", h.Problems)
	}
	if fake.Calls("open/broker") != 1 || fake.Calls("open/token") != 0 {
		t.Fatalf("unexpected token calls: broker %d, official %d", fake.Calls("open/broker"), fake.Calls("open/token"))
	}
}

// TestOpenRefusesAnotherUsersToken: a token service that answers with a refresh
// token for another user (JWT sub differs) is refused and nothing is saved.
func TestOpenRefusesAnotherUsersToken(t *testing.T) {
	jwt := func(sub string) string {
		p, _ := json.Marshal(map[string]any{"sub": sub, "exp": 2000000000})
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawStdEncoding.EncodeToString(p) + ".c2ln"
	}
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "acc", "refresh_token": jwt("someone-else"), "expires_in": 7200})
	}))
	defer broker.Close()
	dir := t.TempDir()
	cfg := aliclient.Config{Driver: "open", RefreshToken: jwt("me"), StateDir: dir, OpenURL: broker.URL, OpenTokenURL: broker.URL,
		APIURL: broker.URL, AuthURL: broker.URL, Timeout: 2 * time.Second, RateList: 100, RateLink: 100, RateOther: 100, LinkExpireSec: 900}
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Health(context.Background())
	if h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "another user") {
		t.Fatalf("unexpected health with a foreign token: %+v", h)
	}
	if _, err := os.Stat(filepath.Join(dir, "open-token.json")); !os.IsNotExist(err) {
		t.Fatalf("the foreign token was saved: %v", err)
	}
}

// TestShareTokenRenewed: an expired share token is renewed transparently,
// during a listing and during a download, once each.
func TestShareTokenRenewed(t *testing.T) {
	fake, c := aliclienttest.StartDriver(t, "share", alifake.Options{}, nil)
	id := fake.AddFile("/Shows/e1.mkv", []byte("e1"))
	ctx := context.Background()
	if _, err := c.List(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	fake.ExpireShareTokens()
	if items, err := c.List(ctx, "root"); err != nil || len(items) != 1 {
		t.Fatalf("listing after the share token expired: %v, %v", items, err)
	}
	fake.ExpireShareTokens()
	if _, err := c.Link(ctx, id); err != nil {
		t.Fatalf("download link after the share token expired: %v", err)
	}
	if got := fake.Calls("share/token"); got != 3 {
		t.Fatalf("unexpected share token calls; got %d; want 3", got)
	}
}

// TestShareTokenRenewedAhead: a share token close to its expiry is renewed
// before the drive refuses it.
func TestShareTokenRenewedAhead(t *testing.T) {
	clock := aliclienttest.NewClock()
	fake, c := aliclienttest.StartDriver(t, "share", alifake.Options{Now: clock.Now, ShareTokenTTL: time.Hour}, nil)
	fake.AddFile("/x.mkv", []byte("x"))
	ctx := context.Background()
	if _, err := c.List(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(55 * time.Minute)
	lists := fake.Calls("share/list")
	if _, err := c.List(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	if fake.Calls("share/token") != 2 || fake.Calls("share/list")-lists != 1 {
		t.Fatalf("the share token was not renewed ahead: %d token calls, %d list calls", fake.Calls("share/token"), fake.Calls("share/list")-lists)
	}
}

func TestShareWrongPassword(t *testing.T) {
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := aliclienttest.ConfigFor(t, fake, "share")
	cfg.SharePwd = "wrong"
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Health(context.Background())
	if h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "share link") {
		t.Fatalf("unexpected health with a wrong share password: %+v", h)
	}
	assertNoSecrets(t, fake, "readiness", strings.Join(h.Problems, " "))
}
