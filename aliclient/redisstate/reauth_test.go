package redisstate

import (
	"context"
	"strings"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestDeadOpenTokenMarkedForAllReplicas: a refresh token the Open platform
// refuses for good (spec §13.3) is marked dead in the shared state by the
// replica that met it; the next replica fails without asking the drive. A
// refused app is one replica's configuration: it marks nothing.
func TestDeadOpenTokenMarkedForAllReplicas(t *testing.T) {
	s := open(t)
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := aliclienttest.ConfigFor(t, fake, "open")
	replica := func() aliclient.Drive {
		c, err := aliclient.New(cfg, aliclient.Deps{Shared: s})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()

	fake.RefuseOpenRefresh("InvalidClientSecret")
	if h := replica().Health(ctx); h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "ALILINK_OPEN_CLIENT_SECRET") {
		t.Fatalf("unexpected health with a refused app: %+v", h)
	}
	if st, _, err := s.Load(ctx); err != nil || st.Dead {
		t.Fatalf("a refused app marked the shared token dead: %+v %v", st, err)
	}

	fake.RefuseOpenRefresh("PermissionDenied")
	if h := replica().Health(ctx); h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "re-authorise") {
		t.Fatalf("unexpected health with a revoked authorisation: %+v", h)
	}
	st, _, err := s.Load(ctx)
	if err != nil || !st.Dead {
		t.Fatalf("the dead token is not marked in the shared state: %+v %v", st, err)
	}
	calls := fake.Calls("open/token")
	if h := replica().Health(ctx); h.Ready || !strings.Contains(strings.Join(h.Problems, " "), "re-authorise") {
		t.Fatalf("unexpected health of the next replica: %+v", h)
	}
	if got := fake.Calls("open/token"); got != calls {
		t.Fatalf("the next replica tried the dead token again; %d more refreshes", got-calls)
	}
}
