package alifake

import (
	"net/http"
	"testing"
)

// TestRefuseOpenRefresh: each refusal of §13.3 is answered with its code at
// the token endpoint and at the broker, without spending the token, until it
// is turned off.
func TestRefuseOpenRefresh(t *testing.T) {
	f := startFake(t, Options{OpenBrokerPath: "/broker/token"})
	s := &openSession{f: f, c: testClient(t)}
	tok := f.NewOpenRefreshToken()
	tests := []struct {
		code   string
		status int
	}{
		{"AccessDenied", 400},
		{"RefreshTokenExpired", 401},
		{"RefreshTokenInvalid", 400},
		{"PermissionDenied", 403},
		{"InvalidParameter.RefreshToken", 400},
		{"InvalidClientId", 400},
		{"InvalidClientSecret", 400},
		{"AppNotExists", 400},
	}
	for _, tc := range tests {
		f.RefuseOpenRefresh(tc.code)
		for _, resp := range []response{
			s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": tok}),
			postJSON(t, s.c, f.APIURL()+"/broker/token", nil, map[string]string{"grant_type": "refresh_token", "refresh_token": tok}),
		} {
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected refusal; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		}
	}
	f.RefuseOpenRefresh("")
	if resp := s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": tok}); resp.status != http.StatusOK {
		t.Fatalf("the refused token was spent; got %d %s; want 200", resp.status, resp.raw)
	}
	if resp := s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": tok}); resp.status != http.StatusBadRequest || resp.code(t) != "AccessDenied" {
		t.Fatalf("unexpected answer to a used token; got %d %s; want 400 AccessDenied", resp.status, resp.raw)
	}
}
