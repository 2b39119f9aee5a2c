package redisstate

import (
	"context"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestAccountPrefix: the env-only account keeps today's keys; a mounts
// file's account is keyed by its state key and kind of token, whatever
// drive or share it serves.
func TestAccountPrefix(t *testing.T) {
	for _, c := range []struct {
		cfg  aliclient.Config
		want string
	}{
		{aliclient.Config{Driver: "drive"}, "alilink:drive"},
		{aliclient.Config{Driver: "share", ShareID: "S1"}, "alilink:share:S1"},
		{aliclient.Config{Driver: "drive", StateKey: "bob"}, "alilink:account:bob:drive"},
		{aliclient.Config{Driver: "share", StateKey: "bob", ShareID: "S1"}, "alilink:account:bob:drive"},
		{aliclient.Config{Driver: "open", StateKey: "bob"}, "alilink:account:bob:open"},
	} {
		if got := AccountPrefix("alilink", c.cfg); got != c.want {
			t.Errorf("AccountPrefix(%+v); got %q; want %q", c.cfg, got, c.want)
		}
	}
}

// TestReplicasShareOneChainPerAccount: two replicas reading the same mounts
// file (the same account, each with its own state dir) serve the backup
// drive, the resource drive and a share of one account with one refresh
// between them, through the account's Redis keys; a Sub keeps per-drive
// state apart under the same connection.
func TestReplicasShareOneChainPerAccount(t *testing.T) {
	base := open(t)
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.AddFileTo(alifake.DriveBackup, "/Shared/s.mkv", []byte("s"))
	rid := fake.AddFileTo(alifake.DriveResource, "/r.mkv", []byte("r"))
	shareID := fake.AddShare("/Shared", aliclienttest.SharePwd)
	cfg := aliclienttest.ConfigFor(t, fake, "drive")
	cfg.AccountName, cfg.StateKey = "bob", "bob"
	ctx := context.Background()
	for range 2 {
		cfg.StateDir = t.TempDir()
		st := base.WithPrefix(AccountPrefix(base.prefix, cfg))
		a, err := aliclient.NewAccount(cfg, aliclient.Deps{Shared: st, Limiter: st})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		backup, _ := a.Drive(aliclient.DriveBackup)
		resource, _ := a.Drive(aliclient.DriveResource)
		share, err := a.Share(shareID, aliclienttest.SharePwd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := backup.List(ctx, "root"); err != nil {
			t.Fatal(err)
		}
		if _, err := resource.Link(ctx, rid); err != nil {
			t.Fatal(err)
		}
		if _, err := share.List(ctx, "root"); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.Refreshes(); got != 1 {
		t.Fatalf("unexpected refreshes of two replicas of one account; got %d; want 1", got)
	}
	// Sub keys do not mix.
	a, b := base.Sub("m1"), base.Sub("m2")
	if err := a.PutLink(ctx, "f", aliclient.Link{URL: "http://127.0.0.1/x"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.GetLink(ctx, "f"); ok || err != nil {
		t.Fatalf("unexpected link of another Sub: %v %v", ok, err)
	}
	if _, ok, _ := a.GetLink(ctx, "f"); !ok {
		t.Fatalf("the Sub lost its own link")
	}
}
