// Package aliclienttest starts the fake drive and a real client talking to it,
// the pair every resolver, streamer and benchmark test uses.
package aliclienttest

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
)

// Config is a client configuration for a started fake: generous rates so that
// tests are not slowed by the real quotas, a fresh token, a temp state dir.
func Config(tb testing.TB, fake *alifake.Fake) aliclient.Config {
	tb.Helper()
	return aliclient.Config{
		Driver:        "drive",
		RefreshToken:  fake.NewRefreshToken(),
		StateDir:      tb.TempDir(),
		APIURL:        fake.APIURL(),
		AuthURL:       fake.APIURL(),
		Timeout:       5 * time.Second,
		RateList:      1000,
		RateLink:      1000,
		RateOther:     1000,
		LinkExpireSec: 14400,
		MaxRetries:    3,
		RapidUpload:   true,
	}
}

// Start starts a fake drive with opts and returns it with a client logged in
// to it; both are closed when the test ends.
func Start(tb testing.TB, opts alifake.Options, log *slog.Logger) (*alifake.Fake, aliclient.Drive) {
	tb.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fake.Close)
	c, err := aliclient.New(Config(tb, fake), aliclient.Deps{Logger: log, Now: opts.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return fake, c
}

// Clock is a manual clock shared by the fake and the code under test, so that
// expiry is tested without sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed, whole-second instant.
func NewClock() *Clock { return &Clock{t: time.Unix(1_790_000_000, 0)} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// LogBuffer is a concurrency-safe sink for a test logger.
type LogBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b = append(l.b, p...)
	l.mu.Unlock()
	return len(p), nil
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// Logger returns a debug-level text logger writing into a new buffer.
func Logger() (*slog.Logger, *LogBuffer) {
	buf := &LogBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
