package flight

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/singleflight"
)

// TestDetached: the caller that starts a run and gives up gets its
// context's error at once, while the run goes on, uncancelled, and answers
// a caller that waits.
func TestDetached(t *testing.T) {
	var g singleflight.Group
	var once sync.Once
	started, release := make(chan struct{}), make(chan struct{})
	runErr := make(chan error, 2)
	fn := func(ctx context.Context) (string, error) {
		once.Do(func() { close(started) })
		<-release
		runErr <- ctx.Err()
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return "answer", nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := Detached(ctx, &g, "k", time.Now().Add(time.Minute), fn)
		first <- err
	}()
	<-started
	second := make(chan string, 1)
	go func() {
		v, err := Detached(context.Background(), &g, "k", time.Now().Add(time.Minute), fn)
		if err != nil {
			v = err.Error()
		}
		second <- v
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("unexpected error of the caller that gave up; got %v; want context.Canceled", err)
	}
	close(release)
	if err := <-runErr; err != nil {
		t.Fatalf("the run of the caller that gave up was cancelled: %v", err)
	}
	if v := <-second; v != "answer" {
		t.Fatalf("unexpected answer of the caller that waited; got %q; want %q", v, "answer")
	}
}

// TestDetachedNilInterface: a nil answer of an interface type is no panic.
func TestDetachedNilInterface(t *testing.T) {
	var g singleflight.Group
	v, err := Detached(context.Background(), &g, "k", time.Now().Add(time.Minute), func(context.Context) (any, error) { return nil, nil })
	if v != nil || err != nil {
		t.Fatalf("unexpected result; got %v, %v; want nil, nil", v, err)
	}
}

func TestDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	d, _ := ctx.Deadline()
	if got := Deadline(ctx, time.Hour); !got.Equal(d) {
		t.Fatalf("unexpected deadline; got %v; want the caller's %v", got, d)
	}
	if got := Deadline(ctx, time.Millisecond); !got.Before(d) {
		t.Fatalf("unexpected deadline; got %v; want the budget's, before %v", got, d)
	}
}
