package aliclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestBrokerOnlyWithoutOwnApp: the client follows AList (spec §13.4) even
// when handed a configuration that Validate refuses: with a client id it
// talks to the Open platform itself and the broker sees nothing; a secret
// configured without an id never reaches the broker either.
func TestBrokerOnlyWithoutOwnApp(t *testing.T) {
	fake := alifake.New(alifake.Options{OpenBrokerPath: "/broker/token"})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	var mu sync.Mutex
	var seen []string
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, string(b))
		mu.Unlock()
		// Record, then relay to the fake's broker, which adds its app.
		resp, err := http.Post(fake.APIURL()+"/broker/token", "application/json", strings.NewReader(string(b)))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer broker.Close()

	// An id and a secret, and a broker: the Open platform, never the broker.
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	cfg.OpenTokenURL = broker.URL
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "ALILINK_OPEN_TOKEN_URL: ") {
		t.Fatalf("Validate accepted a broker with an app of one's own: %v", err)
	}
	c, err := aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Health(context.Background()); !h.Ready {
		t.Fatalf("not ready with an app of one's own: %v", h.Problems)
	}
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	if n != 0 || fake.Calls("open/token") != 1 {
		t.Fatalf("unexpected token calls: broker %d, Open platform %d; want 0, 1", n, fake.Calls("open/token"))
	}

	// A secret without an id: the broker, without the secret.
	cfg = aliclienttest.ConfigFor(t, fake, "open")
	cfg.OpenTokenURL, cfg.OpenClientID, cfg.OpenClientSecret = broker.URL, "", "do-not-send-me"
	c, err = aliclient.New(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Health(context.Background()); !h.Ready {
		t.Fatalf("not ready through the broker: %v", h.Problems)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || strings.Contains(seen[0], "do-not-send-me") {
		t.Fatalf("unexpected broker requests (the secret must not be among them): %q", seen)
	}
}
