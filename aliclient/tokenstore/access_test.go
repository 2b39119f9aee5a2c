package tokenstore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAccessTokenSavedWithRefresh: the access token and its life are saved
// in the same write as the refresh token, in a file only the owner reads,
// and come back only with the chain they belong to.
func TestAccessTokenSavedWithRefresh(t *testing.T) {
	dir := t.TempDir()
	issued := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := New(dir, "t.json")
	if _, _, err := s.Load("env1"); err != nil {
		t.Fatal(err)
	}
	want := Tokens{Refresh: "rot2", Access: "acc2", Issued: issued, Expires: issued.Add(2 * time.Hour)}
	if err := s.SaveTokens(want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "t.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("unexpected state file mode; got %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "t.json"))
	var st state
	if err := json.Unmarshal(raw, &st); err != nil || st.Version != 2 || st.RefreshToken != "rot2" || st.AccessToken != "acc2" {
		t.Fatalf("unexpected state file %s (%v)", raw, err)
	}

	f := func(configured string, wantOK bool) {
		t.Helper()
		s := New(dir, "t.json")
		if _, _, err := s.Load(configured); err != nil {
			t.Fatal(err)
		}
		got, ok := s.Saved()
		if ok != wantOK || (ok && (got.Refresh != want.Refresh || got.Access != want.Access || !got.Issued.Equal(want.Issued) || !got.Expires.Equal(want.Expires))) {
			t.Fatalf("configured %q: unexpected saved tokens; got %+v, %v; want %+v, %v", configured, got, ok, want, wantOK)
		}
	}
	f("env1", true)  // the same chain
	f("", true)      // nothing configured: the saved chain
	f("env9", false) // a pasted token starts a new chain: the old access token is not its own

	// A login saves a refresh token alone: no access token comes back.
	if err := s.Save("rot3"); err != nil {
		t.Fatal(err)
	}
	f("env1", false)
}

// TestVersion1StateLoads: a state file written before access tokens were
// saved (refresh token only) still gives its refresh token.
func TestVersion1StateLoads(t *testing.T) {
	dir := t.TempDir()
	seed := seedOf("env1")
	v1 := `{"version":1,"refresh_token":"rot2","seed_sha256":"` + seed + `","saved_at":"2026-11-01T10:00:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, "t.json"), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s := New(dir, "t.json")
	got, fromState, err := s.Load("env1")
	if err != nil || got != "rot2" || !fromState {
		t.Fatalf("unexpected load of a version 1 file; got %q %v %v; want rot2 from the state", got, fromState, err)
	}
	if _, ok := s.Saved(); ok {
		t.Fatalf("a version 1 file yielded an access token")
	}
}
