package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
)

// runLogin runs `alilink login` in the background and returns a function that
// waits for its exit code.
func runLogin(t *testing.T) (*syncBuffer, *syncBuffer, func() int) {
	t.Helper()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"login", "--interval", "20ms", "--timeout", "20s"}, &stdout, &stderr)
	}()
	return &stdout, &stderr, func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatalf("login did not end; stdout %q stderr %q", stdout.String(), stderr.String())
			return -1
		}
	}
}

// pendingQR waits for the login to show its code and returns the code's id.
func pendingQR(t *testing.T, fake *alifake.Fake) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ids := fake.PendingQR(); len(ids) > 0 {
			return ids[0]
		}
	}
	t.Fatal("no QR code was created")
	return ""
}

func TestLogin(t *testing.T) {
	for _, flow := range []string{"open", "passport"} {
		t.Run(flow, func(t *testing.T) {
			fake := fakeEnv(t)
			t.Setenv("ALILINK_REFRESH_TOKEN", "")
			t.Setenv("ALILINK_PASSPORT_URL", fake.APIURL())
			t.Setenv("ALILINK_OPEN_URL", fake.APIURL())
			driver := "drive"
			if flow == "open" {
				driver = "open"
				t.Setenv("ALILINK_OPEN_CLIENT_ID", fake.OpenClientID())
				t.Setenv("ALILINK_OPEN_CLIENT_SECRET", fake.OpenClientSecret())
			}
			stdout, stderr, wait := runLogin(t)
			id := pendingQR(t, fake)
			fake.ScanQR(id)
			// Confirm once a poll saw the scan (the test asserts its line).
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), "login: scanned"); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no poll saw the scan: %s %s", stdout.String(), stderr.String())
				}
			}
			fake.ConfirmQR(id)
			if code := wait(); code != 0 {
				t.Fatalf("login failed (%d): %s %s", code, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{"█", "login: scanned, confirm in the app", "Logged in", aliclient.TokenFile(driver), "Next: "} {
				if !strings.Contains(out, want) {
					t.Fatalf("the output lacks %q:\n%s", want, out)
				}
			}
			for _, tok := range fake.Secrets() {
				if strings.Contains(out+stderr.String(), tok) {
					t.Fatalf("login printed a token")
				}
			}
			// The saved token starts the driver with nothing configured.
			cfg, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			cfg.Client.Driver = driver
			c, err := aliclient.New(cfg.Client, aliclient.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			if h := c.Health(context.Background()); !h.Ready {
				t.Fatalf("the login's token does not work: %v", h.Problems)
			}
		})
	}
}

func TestLoginEndsWithoutConfirmation(t *testing.T) {
	cases := []struct {
		flow, hook, want string
	}{
		{"open", "expire", "expired"},
		{"passport", "expire", "expired"},
		{"passport", "cancel", "cancelled"},
	}
	for _, c := range cases {
		t.Run(c.flow+"/"+c.hook, func(t *testing.T) {
			fake := fakeEnv(t)
			t.Setenv("ALILINK_PASSPORT_URL", fake.APIURL())
			t.Setenv("ALILINK_OPEN_URL", fake.APIURL())
			if c.flow == "open" {
				t.Setenv("ALILINK_OPEN_CLIENT_ID", fake.OpenClientID())
				t.Setenv("ALILINK_OPEN_CLIENT_SECRET", fake.OpenClientSecret())
			}
			_, stderr, wait := runLogin(t)
			id := pendingQR(t, fake)
			fake.ScanQR(id)
			if c.hook == "cancel" {
				fake.CancelQR(id)
			} else {
				fake.ExpireQR(id)
			}
			if code := wait(); code == 0 {
				t.Fatalf("login succeeded without a confirmation")
			}
			if msg := stderr.String(); !strings.Contains(msg, c.want) || !strings.Contains(msg, "alilink login again") {
				t.Fatalf("unexpected message %q; want it to say %q and what to do", msg, c.want)
			}
		})
	}
}
