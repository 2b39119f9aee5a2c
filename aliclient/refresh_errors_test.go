package aliclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestOpenRefreshRefusals: every refusal of the Open token endpoint (spec
// §13.3) ends in a typed error after exactly one refresh attempt, whatever
// asks afterwards; a dead login says "re-authorise", a refused app names the
// variable to fix. Nothing secret reaches the error, readiness or the log.
func TestOpenRefreshRefusals(t *testing.T) {
	tests := []struct {
		code    string
		kind    error
		mention string
	}{
		{"AccessDenied", aliclient.ErrTokenDead, "re-authorise"},
		{"RefreshTokenExpired", aliclient.ErrTokenDead, "re-authorise"},
		{"RefreshTokenInvalid", aliclient.ErrTokenDead, "re-authorise"},
		{"PermissionDenied", aliclient.ErrTokenDead, "re-authorise"},
		{"InvalidParameter.RefreshToken", aliclient.ErrTokenDead, "re-authorise"},
		{"InvalidClientId", aliclient.ErrBadApp, "ALILINK_OPEN_CLIENT_ID"},
		{"InvalidClientSecret", aliclient.ErrBadApp, "ALILINK_OPEN_CLIENT_SECRET"},
		{"AppNotExists", aliclient.ErrBadApp, "ALILINK_OPEN_CLIENT_ID"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			log, logs := aliclienttest.Logger()
			fake, c := aliclienttest.StartDriver(t, "open", alifake.Options{}, log)
			id := fake.AddFile("/a.mkv", []byte("a"))
			fake.RefuseOpenRefresh(tc.code)
			ctx := context.Background()
			for range 5 {
				_, err := c.Link(ctx, id)
				if !errors.Is(err, tc.kind) {
					t.Fatalf("unexpected error; got %v; want %v", err, tc.kind)
				}
				if tc.kind == aliclient.ErrBadApp && !strings.Contains(err.Error(), tc.mention+": ") {
					t.Fatalf("the error does not name %s: %v", tc.mention, err)
				}
				assertNoSecrets(t, fake, "the error", err.Error())
			}
			h := c.Health(ctx)
			problems := strings.Join(h.Problems, " ")
			if h.Ready || !strings.Contains(problems, tc.mention) {
				t.Fatalf("unexpected health; got %+v; want unready, mentioning %s", h, tc.mention)
			}
			if tc.kind == aliclient.ErrTokenDead && !strings.Contains(problems, tc.code) {
				t.Fatalf("readiness does not name the drive's code %s: %s", tc.code, problems)
			}
			if got := fake.Calls("open/token"); got != 1 {
				t.Fatalf("unexpected refresh attempts; got %d; want 1 (no retry storm)", got)
			}
			if got := fake.Calls("open/download_url"); got != 0 {
				t.Fatalf("unexpected link calls without a token; got %d", got)
			}
			assertNoSecrets(t, fake, "readiness", problems)
			assertNoSecrets(t, fake, "the log", logs.String())
		})
	}
}

// TestOpenUsedRefreshTokenIsDead: a refresh token the service already spent
// answers AccessDenied "invalid token" (spec §13.3): re-authorise.
func TestOpenUsedRefreshTokenIsDead(t *testing.T) {
	fake, c := aliclienttest.StartDriver(t, "open", alifake.Options{}, nil)
	fake.RevokeRefreshTokens()
	if _, err := c.List(context.Background(), "root"); !errors.Is(err, aliclient.ErrTokenDead) {
		t.Fatalf("unexpected error with a spent token; got %v; want ErrTokenDead", err)
	}
	if h := c.Health(context.Background()); h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "AccessDenied") {
		t.Fatalf("unexpected health; got %+v", h)
	}
	if got := fake.Calls("open/token"); got != 1 {
		t.Fatalf("unexpected refresh attempts; got %d; want 1", got)
	}
}
