package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/mount"
)

// loginCmd gets a refresh token by QR code (spec §12): the Open platform flow
// when ALILINK_OPEN_CLIENT_ID and _SECRET are set, else the passport flow of
// the drive's own apps. The token is saved in the state dir like a rotated
// one; it is never printed.
func loginCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interval := fs.Duration("interval", 2*time.Second, "how often to ask whether the code was scanned")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	account := fs.String("account", "", "with ALILINK_MOUNTS_FILE: the account to log in (default: the file's only one)")
	if pos, err := parseInterspersed(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("usage: alilink login [--account NAME] [--interval 2s] [--timeout 5m]")
	}
	if *interval <= 0 || *timeout <= 0 {
		return fmt.Errorf("--interval and --timeout must be positive")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	next := ""
	if cfg.MountsFile != "" || *account != "" {
		if cfg.Client, err = loginAccount(cfg, *account); err != nil {
			return err
		}
		next = "alilink serve with the same ALILINK_MOUNTS_FILE and ALILINK_STATE_DIR (the account needs no refresh_token in the file)"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	q, err := aliclient.StartQRLogin(ctx, cfg.Client, nil)
	if err != nil {
		return err
	}
	code, err := qrcode.New(q.Text, qrcode.Low)
	if err != nil {
		return fmt.Errorf("draw the QR code: %w", err)
	}
	fmt.Fprint(stdout, code.ToSmallString(false))
	fmt.Fprintf(stdout, "Scan this with the alipan (Aliyundrive) app and confirm, or open:\n  %s\n", q.Text)
	if q.ImageURL != "" {
		fmt.Fprintf(stdout, "The code as an image: %s\n", q.ImageURL)
	}

	last, failures := aliclient.QRWaiting, 0
	for {
		st, err := q.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("login: nobody confirmed the code within %s; run alilink login again", *timeout)
			}
			return fmt.Errorf("login interrupted")
		case err != nil:
			if failures++; failures >= 5 {
				return fmt.Errorf("login: %w", err)
			}
			fmt.Fprintf(stderr, "alilink login: %v (retrying)\n", err)
		default:
			failures = 0
		}
		if err == nil && st != last {
			fmt.Fprintf(stdout, "login: %s\n", st)
			last = st
		}
		switch st {
		case aliclient.QRExpired:
			return fmt.Errorf("login: the QR code expired before it was confirmed; run alilink login again for a new one")
		case aliclient.QRCancelled:
			return fmt.Errorf("login: cancelled in the app; run alilink login again to retry")
		case aliclient.QRConfirmed:
			path, err := q.Save()
			if err != nil {
				return fmt.Errorf("login: could not save the refresh token: %w", err)
			}
			if next == "" {
				next = nextStep(q.Driver)
			}
			fmt.Fprintf(stdout, "Logged in. The refresh token is saved in %s.\nNext: %s\n", path, next)
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(*interval):
		}
	}
}

func nextStep(driver string) string {
	if driver == "open" {
		return "ALILINK_DRIVER=open alilink serve, with the same ALILINK_OPEN_CLIENT_ID, ALILINK_OPEN_CLIENT_SECRET and ALILINK_STATE_DIR (ALILINK_REFRESH_TOKEN is not needed)"
	}
	return "alilink serve (or ALILINK_DRIVER=share for a share link) with the same ALILINK_STATE_DIR (ALILINK_REFRESH_TOKEN is not needed)"
}

// loginAccount is the client configuration of one account of the mounts
// file, for a login whose token goes to that account's state file.
func loginAccount(cfg Config, name string) (aliclient.Config, error) {
	if cfg.MountsFile == "" {
		return cfg.Client, fmt.Errorf("--account: names an account of ALILINK_MOUNTS_FILE, which is not set")
	}
	f, err := mount.Load(cfg.MountsFile)
	if err != nil {
		return cfg.Client, err
	}
	var names []string
	for _, a := range f.Accounts {
		names = append(names, a.Name)
	}
	switch {
	case name == "" && len(names) == 1:
		name = names[0]
	case name == "":
		return cfg.Client, fmt.Errorf("--account: %s has several accounts; name one of %s", f.Path, strings.Join(names, ", "))
	case !slices.Contains(names, name):
		return cfg.Client, fmt.Errorf("--account: %s has no account %q (it has %s)", f.Path, name, strings.Join(names, ", "))
	}
	c := f.AccountConfig(cfg.Client, name)
	if c.Driver != "open" {
		// The passport flow of the drive's apps, whatever ALILINK_OPEN_* say.
		c.OpenClientID, c.OpenClientSecret = "", ""
	}
	return c, nil
}
