package aliclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// accountFake is a fake with a file on each drive and a share of a folder of
// the backup drive.
type accountFake struct {
	fake                 *alifake.Fake
	backupID, resourceID string
	shareID              string
	backup, resource     []byte
	shared               []byte
}

func startAccountFake(t *testing.T, opts alifake.Options) *accountFake {
	t.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	af := &accountFake{fake: fake, backup: []byte("backup bytes"), resource: []byte("resource bytes"), shared: []byte("shared bytes")}
	af.backupID = fake.AddFileTo(alifake.DriveBackup, "/b.mkv", af.backup)
	af.resourceID = fake.AddFileTo(alifake.DriveResource, "/Films/r.mkv", af.resource)
	fake.AddFileTo(alifake.DriveBackup, "/Shared/s.mkv", af.shared)
	af.shareID = fake.AddShare("/Shared", aliclienttest.SharePwd)
	return af
}

// namedConfig is the config of a mounts file's account "bob".
func namedConfig(t *testing.T, fake *alifake.Fake, driver string) aliclient.Config {
	cfg := aliclienttest.ConfigFor(t, fake, driver)
	cfg.AccountName, cfg.StateKey = "bob", "bob"
	return cfg
}

// play lists folder on d, finds name and plays it through its link as a
// player would, byte for byte (want nil: only find it).
func play(d aliclient.Drive, folder, name string, want []byte) error {
	ctx := context.Background()
	items, err := d.List(ctx, folder)
	if err != nil {
		return fmt.Errorf("list %s: %w", folder, err)
	}
	for _, it := range items {
		if it.Name != name {
			continue
		}
		if want == nil {
			return nil
		}
		l, err := d.Link(ctx, it.ID)
		if err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		body, err := get(l)
		if err != nil || !bytes.Equal(body, want) {
			return fmt.Errorf("play %s: got %q (%v); want %q", name, body, err, want)
		}
		return nil
	}
	return fmt.Errorf("%s not in the listing of %s (%d items)", name, folder, len(items))
}

// get fetches a link as a player would (from any goroutine).
func get(l aliclient.Link) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, l.URL, nil)
	if l.Referer != "" {
		req.Header.Set("Referer", l.Referer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func playName(t *testing.T, d aliclient.Drive, folder, name string, want []byte) {
	t.Helper()
	if err := play(d, folder, name, want); err != nil {
		t.Fatal(err)
	}
}

// TestAccountThreeDrivesOneRefresh: the backup drive, the resource drive
// and a share played through one legacy account, all used at once from a
// cold start, list and play their own files with one refresh of the
// account's token, one user/get and one device session (spec §16). A
// "kill -9" and a new Account over the same state dir keep one valid
// chain: the rotated token was saved under the account's state key, the
// restart refreshes with it, and the configured (spent) token is refused by
// the drive.
func TestAccountThreeDrivesOneRefresh(t *testing.T) {
	af := startAccountFake(t, alifake.Options{})
	fake := af.fake
	cfg := namedConfig(t, fake, "drive")
	configured := cfg.RefreshToken
	open := func() (aliclient.Drive, aliclient.Drive, aliclient.Drive) {
		t.Helper()
		a, err := aliclient.NewAccount(cfg, aliclient.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		backup, err := a.Drive(aliclient.DriveBackup)
		if err != nil {
			t.Fatal(err)
		}
		resource, err := a.Drive(aliclient.DriveResource)
		if err != nil {
			t.Fatal(err)
		}
		share, err := a.Share(af.shareID, aliclienttest.SharePwd)
		if err != nil {
			t.Fatal(err)
		}
		return backup, resource, share
	}
	backup, resource, share := open()

	// All three at once from a cold start: one refresh between them.
	errs := make(chan error, 3)
	go func() { errs <- play(backup, "root", "b.mkv", af.backup) }()
	go func() { errs <- play(resource, "root", "Films", nil) }()
	go func() { errs <- play(share, "root", "s.mkv", af.shared) }()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	films, err := resource.GetByPath(context.Background(), "/Films")
	if err != nil {
		t.Fatal(err)
	}
	playName(t, resource, films.ID, "r.mkv", af.resource)
	// Each drive sees only its own files.
	if _, err := backup.Link(context.Background(), af.resourceID); !errors.Is(err, aliclient.ErrNotFound) {
		t.Fatalf("unexpected link of a resource file on the backup drive; got %v; want ErrNotFound", err)
	}
	if got := fake.Refreshes(); got != 1 {
		t.Fatalf("unexpected refreshes for three drives of one account; got %d; want 1", got)
	}
	if got := fake.Calls(alifake.EndpointUserGet); got != 1 {
		t.Fatalf("unexpected user/get calls; got %d; want 1", got)
	}
	if got := fake.Calls(alifake.EndpointCreateSession); got > 1 {
		t.Fatalf("unexpected device sessions; got %d; want at most 1", got)
	}
	if got := fake.Calls(alifake.EndpointShareToken); got != 1 {
		t.Fatalf("unexpected share tokens; got %d; want 1", got)
	}

	// The chain lives in the account's own state file.
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "bob-drive-token.json")); err != nil {
		t.Fatalf("the account's state file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "drive-token.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unexpected env-only state file next to the account's; got %v", err)
	}

	// kill -9 (nothing closed, nothing flushed) and start again, with the
	// access tokens gone so that the restart must refresh.
	fake.ExpireAccessTokens()
	backup, resource, share = open()
	playName(t, backup, "root", "b.mkv", af.backup)
	playName(t, share, "root", "s.mkv", af.shared)
	if _, err := resource.List(context.Background(), "root"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Refreshes(); got != 2 {
		t.Fatalf("unexpected refreshes after the restart; got %d; want 2 (one per start)", got)
	}
	if got := fake.Calls(alifake.EndpointToken); got != 2 {
		t.Fatalf("unexpected token calls (a refused refresh is one too); got %d; want 2", got)
	}
	// The token in the configuration was spent by the first start.
	if code := refreshWith(t, fake, configured); code != http.StatusBadRequest {
		t.Fatalf("unexpected answer to the spent configured token; got %d; want 400", code)
	}
	for _, h := range []aliclient.Health{backup.Health(context.Background()), resource.Health(context.Background()), share.Health(context.Background())} {
		if !h.Ready {
			t.Fatalf("unexpected problems after the restart: %v", h.Problems)
		}
	}
}

// refreshWith trades a refresh token at the fake as any client would.
func refreshWith(t *testing.T, fake *alifake.Fake, rt string) int {
	t.Helper()
	body := strings.NewReader(`{"grant_type":"refresh_token","refresh_token":"` + rt + `"}`)
	resp, err := http.Post(fake.APIURL()+"/v2/account/token", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAccountOpenDrives: an Open account serves its default, backup and
// resource drives with one refresh and one getDriveInfo; a drive the user
// did not grant the app fails with ErrNoDrive naming the account and the
// drive, and its Health says so, while the granted ones stay ready; shares
// cannot be played through an Open account.
func TestAccountOpenDrives(t *testing.T) {
	af := startAccountFake(t, alifake.Options{})
	fake := af.fake
	cfg := namedConfig(t, fake, "open")
	a, err := aliclient.NewAccount(cfg, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	def, err := a.Drive("")
	if err != nil {
		t.Fatal(err)
	}
	backup, _ := a.Drive(aliclient.DriveBackup)
	resource, _ := a.Drive(aliclient.DriveResource)
	if again, _ := a.Drive(aliclient.DriveResource); again != resource {
		t.Fatalf("unexpected second resource drive of one account")
	}
	if _, ok := resource.(aliclient.Manager); !ok {
		t.Fatalf("unexpected resource drive without file management")
	}
	playName(t, def, "root", "b.mkv", af.backup)
	playName(t, backup, "root", "b.mkv", af.backup)
	if _, err := resource.Link(ctx, af.resourceID); err != nil {
		t.Fatalf("unexpected error linking the resource file: %v", err)
	}
	if got := fake.Refreshes(); got != 1 {
		t.Fatalf("unexpected refreshes; got %d; want 1", got)
	}
	if got := fake.Calls(alifake.EndpointOpenDriveInfo); got != 1 {
		t.Fatalf("unexpected getDriveInfo calls; got %d; want 1", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "bob-open-token.json")); err != nil {
		t.Fatalf("the account's state file: %v", err)
	}

	_, err = a.Share(af.shareID, aliclienttest.SharePwd)
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), `account "bob"`) {
		t.Fatalf("unexpected share through an open account; got %v; want ErrUnsupported naming the account", err)
	}
	if strings.Contains(err.Error(), aliclienttest.SharePwd) {
		t.Fatalf("the share password is in the error: %v", err)
	}
	if _, err := a.Drive("safebox"); err == nil || !strings.Contains(err.Error(), `"safebox" is not one of default, backup, resource`) {
		t.Fatalf("unexpected answer to an unknown drive kind; got %v", err)
	}

	// A new account whose user granted only the backup drive.
	fake.SetOpenGrant(false, true)
	cfg2 := aliclienttest.ConfigFor(t, fake, "open")
	cfg2.AccountName, cfg2.StateKey = "carol", "carol"
	b, err := aliclient.NewAccount(cfg2, aliclient.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := b.Drive(aliclient.DriveResource)
	_, err = res.List(ctx, "root")
	want := `account "carol": the Open app was not granted the resource drive (getDriveInfo has no resource_drive_id)`
	if !errors.Is(err, aliclient.ErrNoDrive) || !strings.Contains(err.Error(), want) {
		t.Fatalf("unexpected listing of an ungranted drive; got %v; want ErrNoDrive with %q", err, want)
	}
	assertNoSecrets(t, fake, "the ungranted drive's error", err.Error())
	if h := res.Health(ctx); h.Ready || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], want) {
		t.Fatalf("unexpected health of an ungranted drive; got %+v", h)
	}
	bk, _ := b.Drive(aliclient.DriveBackup)
	if h := bk.Health(ctx); !h.Ready {
		t.Fatalf("unexpected problems of the granted drive: %v", h.Problems)
	}
}

// TestAccountNoToken: an account with no token configured and none saved
// fails at start naming the account, without a secret.
func TestAccountNoToken(t *testing.T) {
	af := startAccountFake(t, alifake.Options{})
	cfg := namedConfig(t, af.fake, "drive")
	cfg.RefreshToken = ""
	_, err := aliclient.NewAccount(cfg, aliclient.Deps{})
	if !errors.Is(err, aliclient.ErrNoToken) || !strings.HasPrefix(err.Error(), `account "bob": no refresh token`) {
		t.Fatalf("unexpected start without a token; got %v; want ErrNoToken naming the account", err)
	}
}

// TestAccountsKeepTheirChains: two accounts of one drive user in one state
// dir each rotate their own chain in their own file; a third Account over
// the first one's state takes its rotated token, not the other's.
func TestAccountsKeepTheirChains(t *testing.T) {
	clock := aliclienttest.NewClock()
	af := startAccountFake(t, alifake.Options{Now: clock.Now, AccessTokenTTL: time.Hour})
	fake := af.fake
	bob := namedConfig(t, fake, "drive")
	alice := bob
	alice.AccountName, alice.StateKey, alice.RefreshToken = "alice", "alice", fake.NewRefreshToken()
	for _, cfg := range []aliclient.Config{bob, alice} {
		a, err := aliclient.NewAccount(cfg, aliclient.Deps{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := a.Drive(aliclient.DriveResource)
		if _, err := d.List(context.Background(), "root"); err != nil {
			t.Fatalf("%s: %v", cfg.AccountName, err)
		}
	}
	if got := fake.Refreshes(); got != 2 {
		t.Fatalf("unexpected refreshes; got %d; want 2", got)
	}
	clock.Advance(2 * time.Hour) // both access tokens expired
	a, err := aliclient.NewAccount(bob, aliclient.Deps{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := a.Drive(aliclient.DriveBackup)
	if _, err := d.List(context.Background(), "root"); err != nil {
		t.Fatalf("unexpected error of bob's chain after a restart: %v", err)
	}
	if got := fake.Refreshes(); got != 3 {
		t.Fatalf("unexpected refreshes; got %d; want 3", got)
	}
}

// TestAccountResourceDriveWrites: uploads, folders, renames, moves and
// trash on an account's resource drive land on that drive, for both
// drivers, and get_by_path looks up from its root; the backup drive does
// not see them.
func TestAccountResourceDriveWrites(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			af := startAccountFake(t, alifake.Options{})
			fake := af.fake
			a, err := aliclient.NewAccount(namedConfig(t, fake, driver), aliclient.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			d, _ := a.Drive(aliclient.DriveResource)
			m := d.(aliclient.Manager)
			dir, err := m.Mkdir(ctx, "root", "New")
			if err != nil {
				t.Fatal(err)
			}
			data := []byte("uploaded to the resource drive")
			up, _, err := m.Upload(ctx, dir.ID, "u.mkv", aliclient.UploadSource{Size: int64(len(data)), Data: bytes.NewReader(data)}, false)
			if err != nil {
				t.Fatal(err)
			}
			if id, ok := fake.FileIDIn(alifake.DriveResource, "/New/u.mkv"); !ok || id != up.ID {
				t.Fatalf("the upload is not on the resource drive (%q %v)", id, ok)
			}
			if _, ok := fake.FileIDIn(alifake.DriveBackup, "/New/u.mkv"); ok {
				t.Fatalf("the upload is on the backup drive too")
			}
			if _, err := m.Rename(ctx, up.ID, "v.mkv"); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Move(ctx, up.ID, "root", ""); err != nil {
				t.Fatal(err)
			}
			got, err := d.GetByPath(ctx, "/v.mkv")
			if err != nil || got.ID != up.ID {
				t.Fatalf("unexpected get_by_path on the resource drive: %+v %v", got, err)
			}
			playName(t, d, "root", "v.mkv", data)
			if err := m.Trash(ctx, up.ID); err != nil {
				t.Fatal(err)
			}
			if !fake.InTrashOf(alifake.DriveResource, up.ID) {
				t.Fatalf("the trashed file is not in the resource drive's bin")
			}
		})
	}
}

// TestAccountLogin: `ALILINK_STATE_KEY=me alilink login` saves the token
// where the mounts file's account "me" reads it: that account then starts
// with no token in the file.
func TestAccountLogin(t *testing.T) {
	for _, driver := range []string{"drive", "open"} {
		t.Run(driver, func(t *testing.T) {
			af := startAccountFake(t, alifake.Options{})
			fake := af.fake
			cfg := namedConfig(t, fake, driver)
			cfg.StateKey, cfg.RefreshToken = "me", ""
			if driver == "drive" {
				cfg.OpenClientID, cfg.OpenClientSecret = "", "" // the passport flow
			}
			ctx := context.Background()
			q, err := aliclient.StartQRLogin(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids := fake.PendingQR()
			if len(ids) != 1 {
				t.Fatalf("unexpected pending codes: %v", ids)
			}
			fake.ScanQR(ids[0])
			fake.ConfirmQR(ids[0])
			for n := 0; ; n++ {
				st, err := q.Poll(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st == aliclient.QRConfirmed {
					break
				}
				if n > 10 {
					t.Fatalf("the login is not confirmed: %v", st)
				}
			}
			path, err := q.Save()
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(cfg.StateDir, "me-"+aliclient.TokenFile(driver)); path != want {
				t.Fatalf("unexpected state file; got %s; want %s", path, want)
			}
			a, err := aliclient.NewAccount(cfg, aliclient.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := a.Drive(aliclient.DriveBackup)
			playName(t, d, "root", "b.mkv", af.backup)
		})
	}
}
