package streamer_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
)

// TestOpenReauthoriseReadiness: each "log in again" answer of the Open token
// endpoint (spec §13.3) makes /-/readyz say so, and a burst of requests
// costs one refresh attempt, not one each. A refused app names its variable.
func TestOpenReauthoriseReadiness(t *testing.T) {
	f := func(code, want string) {
		t.Helper()
		env := newEnvFor(t, "open", alifake.Options{}, streamer.Config{})
		env.fake.AddFile("/a.mkv", []byte("a"))
		env.fake.RefuseOpenRefresh(code)
		for range 10 {
			if r := env.do(t, http.MethodGet, "/a.mkv"); r.status != http.StatusBadGateway {
				t.Fatalf("%s: unexpected answer without a token; got %d %q", code, r.status, r.body)
			}
		}
		ready := env.do(t, http.MethodGet, "/-/readyz")
		if ready.status != http.StatusServiceUnavailable || !strings.Contains(ready.body, want) {
			t.Fatalf("%s: unexpected readiness; got %d %s; want 503 mentioning %q", code, ready.status, ready.body, want)
		}
		if got := env.fake.Calls("open/token"); got != 1 {
			t.Fatalf("%s: unexpected refresh attempts; got %d; want 1", code, got)
		}
		env.assertNoSecrets(t, "readiness", ready.body)
		env.assertNoSecrets(t, "the log", env.logs.String())
	}
	f("AccessDenied", "re-authorise")
	f("RefreshTokenExpired", "re-authorise")
	f("RefreshTokenInvalid", "re-authorise")
	f("PermissionDenied", "re-authorise")
	f("InvalidClientSecret", "ALILINK_OPEN_CLIENT_SECRET")
	f("AppNotExists", "ALILINK_OPEN_CLIENT_ID")
}
