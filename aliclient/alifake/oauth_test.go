package alifake

import (
	"net/http"
	"testing"
	"time"
)

func TestOpenRefreshTokenShape(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	seen := make(map[string]bool)
	for range 200 {
		tok := f.NewOpenRefreshToken()
		c := jwtClaims(t, tok)
		if c["sub"] != f.UserID() {
			t.Fatalf("unexpected sub; got %v; want %s", c["sub"], f.UserID())
		}
		if exp, _ := c["exp"].(float64); int64(exp) != clock.Now().Add(openRefreshTTL).Unix() {
			t.Fatalf("unexpected exp; got %v; want now + 90 days", c["exp"])
		}
		jti, _ := c["jti"].(string)
		if jti == "" || seen[jti] {
			t.Fatalf("unexpected jti; got %q; want a fresh random value", jti)
		}
		seen[jti] = true
	}
}

func TestOpenTokenRotation(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, AccessTokenTTL: 90 * time.Minute})
	s := &openSession{f: f, c: testClient(t)}
	first := f.NewOpenRefreshToken()
	resp := s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": first})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	if m["token_type"] != "Bearer" || m["expires_in"] != float64(5400) {
		t.Fatalf("unexpected token_type/expires_in; got %v/%v; want Bearer/5400", m["token_type"], m["expires_in"])
	}
	s.keep(t, resp)
	second := s.refresh
	if second == first || jwtClaims(t, second)["sub"] != jwtClaims(t, first)["sub"] {
		t.Fatalf("unexpected rotated token; got %q; want a new JWT with the same sub", second)
	}
	jwtClaims(t, s.access)

	url := f.APIURL() + "/oauth/access_token"
	app := func(extra map[string]string) map[string]string {
		m := map[string]string{"client_id": f.OpenClientID(), "client_secret": f.OpenClientSecret()}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"used token is spent", app(map[string]string{"grant_type": "refresh_token", "refresh_token": first}), 400, "AccessDenied"},
		{"legacy token is unknown", app(map[string]string{"grant_type": "refresh_token", "refresh_token": f.NewRefreshToken()}), 400, "AccessDenied"},
		{"missing token", app(map[string]string{"grant_type": "refresh_token"}), 400, "InvalidParameterMissing.RefreshToken"},
		{"wrong grant type", app(map[string]string{"grant_type": "password", "refresh_token": second}), 400, "InvalidParameter.GrantType"},
		{"missing code", app(map[string]string{"grant_type": "authorization_code"}), 400, "InvalidParameterMissing.Code"},
		{"unknown code", app(map[string]string{"grant_type": "authorization_code", "code": "0123"}), 400, "InvalidParameter.Code"},
		{"wrong client id", map[string]string{"client_id": "other", "client_secret": f.OpenClientSecret(), "grant_type": "refresh_token", "refresh_token": second}, 400, "InvalidClientId"},
		{"wrong client secret", map[string]string{"client_id": f.OpenClientID(), "client_secret": "nope", "grant_type": "refresh_token", "refresh_token": second}, 400, "InvalidClientSecret"},
		{"no credentials", map[string]string{"grant_type": "refresh_token", "refresh_token": second}, 400, "InvalidClientId"},
		{"not json", "{", 400, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, s.c, url, nil, tc.body)
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		})
	}

	// The failed attempts did not spend the live token; Open tokens do not
	// work at the legacy endpoint.
	legacy := postJSON(t, s.c, f.APIURL()+"/v2/account/token", nil, map[string]string{"grant_type": "refresh_token", "refresh_token": second})
	if legacy.status != http.StatusBadRequest || legacy.code(t) != "InvalidParameter.RefreshToken" {
		t.Fatalf("unexpected legacy refresh with an Open token; got %d %s; want 400 InvalidParameter.RefreshToken", legacy.status, legacy.raw)
	}
	s.refreshTokens(t, second)
	f.RevokeRefreshTokens()
	if got := s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": s.refresh}); got.status != http.StatusBadRequest {
		t.Fatalf("unexpected refresh after revoke; got %d %s; want 400", got.status, got.raw)
	}
	if f.Calls(EndpointOpenToken) != 13 {
		t.Fatalf("unexpected Calls(open/token); got %d; want 13", f.Calls(EndpointOpenToken))
	}
}

func TestOpenBroker(t *testing.T) {
	f := startFake(t, Options{OpenBrokerPath: "/broker/token"})
	c := testClient(t)
	broker := f.APIURL() + "/broker/token"
	first := f.NewOpenRefreshToken()
	// AList sends empty credentials to an online API (§3.1); the broker
	// ignores whatever credentials come in and uses the app's.
	resp := postJSON(t, c, broker, nil, map[string]string{"client_id": "", "client_secret": "", "grant_type": "refresh_token", "refresh_token": first})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected broker status; got %d %s; want 200", resp.status, resp.raw)
	}
	second, _ := resp.fields(t)["refresh_token"].(string)
	if jwtClaims(t, second)["sub"] != f.UserID() {
		t.Fatalf("unexpected sub from the broker; got %v; want %s", jwtClaims(t, second)["sub"], f.UserID())
	}
	tests := []struct {
		name   string
		url    string
		body   any
		status int
		code   string
	}{
		{"used token", broker, map[string]string{"grant_type": "refresh_token", "refresh_token": first}, 400, "AccessDenied"},
		{"neither token nor code", broker, map[string]string{"grant_type": "refresh_token"}, 400, "InvalidParameterMissing.RefreshToken"},
		{"rotated token", broker, map[string]string{"grant_type": "refresh_token", "refresh_token": second}, 200, ""},
		{"the real endpoint still wants credentials", f.APIURL() + "/oauth/access_token", map[string]string{"grant_type": "refresh_token", "refresh_token": f.NewOpenRefreshToken()}, 400, "InvalidClientId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, c, tc.url, nil, tc.body)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.code != "" && resp.code(t) != tc.code {
				t.Fatalf("unexpected code; got %q; want %q", resp.code(t), tc.code)
			}
		})
	}
	if got := f.Calls(EndpointOpenBroker); got != 4 {
		t.Fatalf("unexpected Calls(open/broker); got %d; want 4", got)
	}

	plain := startFake(t, Options{})
	if resp := postJSON(t, c, plain.APIURL()+"/broker/token", nil, "{}"); resp.status != http.StatusNotFound {
		t.Fatalf("unexpected broker without OpenBrokerPath; got %d; want 404", resp.status)
	}
}

func TestOpenAccessToken(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(f *Fake, clock *testClock, s *openSession) string // the Authorization header
		status  int
		code    string
	}{
		{"space separator", func(_ *Fake, _ *testClock, s *openSession) string { return "Bearer " + s.access }, 200, ""},
		{"missing header", func(*Fake, *testClock, *openSession) string { return "" }, 401, "AccessTokenInvalid"},
		{"unknown token", func(*Fake, *testClock, *openSession) string { return "Bearer a.b.c" }, 401, "AccessTokenInvalid"},
		{"legacy token", func(f *Fake, _ *testClock, _ *openSession) string {
			return "Bearer " + login(t, f).access
		}, 401, "AccessTokenInvalid"},
		{"expired by the clock", func(_ *Fake, clock *testClock, s *openSession) string {
			clock.Advance(2 * time.Hour)
			return "Bearer " + s.access
		}, 401, "AccessTokenExpired"},
		{"ExpireAccessTokens", func(f *Fake, _ *testClock, s *openSession) string {
			f.ExpireAccessTokens()
			return "Bearer " + s.access
		}, 401, "AccessTokenExpired"},
		{"refreshed after expiry", func(f *Fake, _ *testClock, s *openSession) string {
			f.ExpireAccessTokens()
			s.refreshTokens(t, s.refresh)
			return "Bearer " + s.access
		}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			f := startFake(t, Options{Now: clock.Now})
			s := openLogin(t, f)
			h := http.Header{}
			if a := tc.prepare(f, clock, s); a != "" {
				h.Set("Authorization", a)
			}
			resp := postJSON(t, s.c, f.APIURL()+"/adrive/v1.0/user/getDriveInfo", h, "{}")
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.code != "" && resp.code(t) != tc.code {
				t.Fatalf("unexpected code; got %q; want %q", resp.code(t), tc.code)
			}
		})
	}

	// An Open token does not open the legacy API either.
	f := startFake(t, Options{})
	s := openLogin(t, f)
	resp := postJSON(t, s.c, f.APIURL()+"/v2/user/get", http.Header{"Authorization": {"Bearer " + s.access}}, "{}")
	if resp.status != http.StatusUnauthorized || resp.code(t) != "AccessTokenInvalid" {
		t.Fatalf("unexpected legacy call with an Open token; got %d %s; want 401 AccessTokenInvalid", resp.status, resp.raw)
	}
}
