package alifake

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestTokenRotation(t *testing.T) {
	f := startFake(t, Options{})
	c := testClient(t)
	url := f.APIURL() + "/v2/account/token"
	refresh := func(tok string) response {
		return postJSON(t, c, url, nil, map[string]string{"refresh_token": tok, "grant_type": "refresh_token"})
	}

	first := f.NewRefreshToken()
	r1 := refresh(first)
	if r1.status != http.StatusOK {
		t.Fatalf("unexpected first refresh status; got %d %s; want 200", r1.status, r1.raw)
	}
	second, _ := r1.fields(t)["refresh_token"].(string)
	if second == first || !hex32.MatchString(second) {
		t.Fatalf("unexpected rotated refresh token; got %q; want 32 lowercase hex different from %q", second, first)
	}

	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
	}{
		{"used token is spent", map[string]string{"refresh_token": first, "grant_type": "refresh_token"}, 400, "InvalidParameter.RefreshToken"},
		{"unknown token", map[string]string{"refresh_token": strings.Repeat("ab", 16), "grant_type": "refresh_token"}, 400, "InvalidParameter.RefreshToken"},
		{"missing token", map[string]string{"grant_type": "refresh_token"}, 400, "InvalidParameterMissing.RefreshToken"},
		{"wrong grant type", map[string]string{"refresh_token": second, "grant_type": "password"}, 400, "InvalidParameter.GrantType"},
		{"empty body", "", 400, "InvalidParameter"},
		{"not json", "{", 400, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, c, url, nil, tc.body)
			if resp.status != tc.wantStatus {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.wantStatus)
			}
			if got := resp.code(t); got != tc.wantCode {
				t.Fatalf("unexpected code; got %q; want %q", got, tc.wantCode)
			}
		})
	}

	// The failed attempts above did not spend the live token.
	r2 := refresh(second)
	if r2.status != http.StatusOK {
		t.Fatalf("unexpected refresh status with the rotated token; got %d %s; want 200", r2.status, r2.raw)
	}
	third, _ := r2.fields(t)["refresh_token"].(string)

	f.RevokeRefreshTokens()
	if got := refresh(third); got.status != http.StatusBadRequest || got.code(t) != "InvalidParameter.RefreshToken" {
		t.Fatalf("unexpected refresh after revoke; got %d %s; want 400 InvalidParameter.RefreshToken", got.status, got.raw)
	}
	if got := refresh(f.NewRefreshToken()); got.status != http.StatusOK {
		t.Fatalf("unexpected refresh with a token minted after revoke; got %d %s; want 200", got.status, got.raw)
	}
}

func TestTokenResponseShape(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, AccessTokenTTL: 1500 * time.Millisecond})
	resp := postJSON(t, testClient(t), f.APIURL()+"/v2/account/token", nil,
		map[string]string{"refresh_token": f.NewRefreshToken(), "grant_type": "refresh_token"})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	access, _ := m["access_token"].(string)
	segs := strings.Split(access, ".")
	if len(segs) != 3 {
		t.Fatalf("unexpected access token segments; got %d; want 3 (JWT-shaped)", len(segs))
	}
	for i, s := range segs {
		if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
			t.Fatalf("unexpected access token segment %d; got %q; want base64url (%v)", i, s, err)
		}
	}
	want := map[string]any{
		"token_type":       "Bearer",
		"expires_in":       float64(2), // 1.5 s rounds up
		"user_id":          f.UserID(),
		"user_name":        defaultUserName,
		"nick_name":        defaultUserName,
		"default_drive_id": defaultDriveID,
		"expire_time":      clock.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339),
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("unexpected %s; got %v; want %v", k, m[k], v)
		}
	}
	if rt, _ := m["refresh_token"].(string); !hex32.MatchString(rt) {
		t.Fatalf("unexpected refresh_token; got %q; want 32 lowercase hex", rt)
	}
}

func TestAccessToken(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(f *Fake, clock *testClock, s *testSession) string // returns the Authorization header
		status  int
		message string
	}{
		{"tab separator", func(_ *Fake, _ *testClock, s *testSession) string { return "Bearer\t" + s.access }, 200, ""},
		{"space separator", func(_ *Fake, _ *testClock, s *testSession) string { return "Bearer " + s.access }, 200, ""},
		{"no separator", func(_ *Fake, _ *testClock, s *testSession) string { return "Bearer" + s.access }, 401, msgAccessTokenUnknown},
		{"missing header", func(_ *Fake, _ *testClock, _ *testSession) string { return "" }, 401, msgAccessTokenUnknown},
		{"unknown token", func(_ *Fake, _ *testClock, _ *testSession) string { return "Bearer a.b.c" }, 401, msgAccessTokenUnknown},
		{"just before expiry", func(_ *Fake, clock *testClock, s *testSession) string {
			clock.Advance(2*time.Hour - time.Second)
			return "Bearer " + s.access
		}, 200, ""},
		{"expired by the clock", func(_ *Fake, clock *testClock, s *testSession) string {
			clock.Advance(2 * time.Hour)
			return "Bearer " + s.access
		}, 401, msgAccessTokenExpired},
		{"ExpireAccessTokens", func(f *Fake, _ *testClock, s *testSession) string {
			f.ExpireAccessTokens()
			return "Bearer " + s.access
		}, 401, msgAccessTokenExpired},
		{"old token survives a refresh", func(_ *Fake, _ *testClock, s *testSession) string {
			old := s.access
			s.refreshTokens(t, s.refresh)
			return "Bearer " + old
		}, 200, ""},
		{"new token after ExpireAccessTokens", func(f *Fake, _ *testClock, s *testSession) string {
			f.ExpireAccessTokens()
			s.refreshTokens(t, s.refresh)
			return "Bearer " + s.access
		}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			f := startFake(t, Options{Now: clock.Now})
			s := login(t, f)
			h := http.Header{}
			if a := tc.prepare(f, clock, s); a != "" {
				h.Set("Authorization", a)
			}
			resp := postJSON(t, s.c, f.APIURL()+"/v2/user/get", h, "{}")
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			if tc.status != 200 {
				if m["code"] != "AccessTokenInvalid" || m["message"] != tc.message {
					t.Fatalf("unexpected error; got %v %v; want AccessTokenInvalid %q", m["code"], m["message"], tc.message)
				}
				return
			}
			if m["user_id"] != f.UserID() || m["default_drive_id"] != f.DriveID() {
				t.Fatalf("unexpected user; got %v %v; want %s %s", m["user_id"], m["default_drive_id"], f.UserID(), f.DriveID())
			}
		})
	}
}

func TestAuthBeforeSession(t *testing.T) {
	f := startFake(t, Options{})
	s := login(t, f)
	f.ExpireAccessTokens()
	f.DropDeviceSessions("")
	resp := s.post(t, "/v2/file/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": "root"})
	if resp.status != http.StatusUnauthorized || resp.code(t) != "AccessTokenInvalid" {
		t.Fatalf("unexpected answer with a dead token and no session; got %d %s; want 401 AccessTokenInvalid", resp.status, resp.raw)
	}
}
