package streamer

import (
	"testing"
	"time"
)

// client replays a reader of the copy loop on a made-up clock: each write of
// the current buffer's size takes size/rate, plus a stall where asked.
type client struct {
	s     sizer
	now   time.Time
	moves []int64 // written when the buffer changed size
}

func newClient() *client {
	now := time.Unix(1_700_000_000, 0)
	return &client{s: newSizer(now), now: now}
}

func (c *client) size() int {
	if c.s.large {
		return 256 << 10
	}
	return 16 << 10
}

// read delivers n bytes at rate bytes/s; the first write blocks for stall.
func (c *client) read(n int64, rate float64, stall time.Duration) {
	for end := c.s.written + n; c.s.written < end; {
		size := c.size()
		start := c.now
		c.now = c.now.Add(time.Duration(float64(size)/rate*float64(time.Second)) + stall)
		stall = 0
		if c.s.wrote(size, start, c.now) {
			c.moves = append(c.moves, c.s.written)
		}
	}
}

const mib = 1 << 20

// TestBufferRule holds the copy loop's buffer rule: a player never holds the
// large buffer, a download earns it after 32 MiB, and loses it when it pauses
// or slows down.
func TestBufferRule(t *testing.T) {
	t.Run("a slow player stays small", func(t *testing.T) {
		c := newClient()
		c.read(40*mib, 100<<10, 0)
		if c.s.large || len(c.moves) != 0 {
			t.Fatalf("100 KiB/s: moves at %v", c.moves)
		}
	})
	t.Run("a player at UHD bitrate stays small, its socket buffer's burst included", func(t *testing.T) {
		c := newClient()
		c.read(4*mib, 1e12, 0) // what the kernel's send buffer took at once
		c.read(200*mib, 12*mib, 0)
		if c.s.large {
			t.Fatalf("12 MiB/s after a 4 MiB burst: promoted at %v", c.moves)
		}
	})
	t.Run("a download is promoted after 32 MiB", func(t *testing.T) {
		c := newClient()
		c.read(100*mib, 100*mib, 0)
		if !c.s.large || len(c.moves) != 1 || c.moves[0] != promoteBytes {
			t.Fatalf("100 MiB/s: moves at %v, want one at %d", c.moves, promoteBytes)
		}
	})
	t.Run("a paused download is demoted at once, and promoted again after 8 MiB", func(t *testing.T) {
		c := newClient()
		c.read(64*mib, 100*mib, 0)
		c.read(256<<10, 100*mib, pausedWrite+time.Millisecond)
		if c.s.large || len(c.moves) != 2 || c.moves[1] != 64*mib+256<<10 {
			t.Fatalf("a write blocked over %v: moves at %v", pausedWrite, c.moves)
		}
		c.read(64*mib, 100*mib, 0)
		if !c.s.large || len(c.moves) != 3 || c.moves[2] != c.moves[1]+demoteWindow {
			t.Fatalf("fast again: moves at %v", c.moves)
		}
	})
	t.Run("a player that buffered fast and paused stays small when it plays on", func(t *testing.T) {
		c := newClient()
		c.read(64*mib, 100*mib, 0) // filling its cache
		c.read(256<<10, 100*mib, 10*time.Second)
		c.read(4*mib, 1e12, 0) // the socket buffer's burst on resuming
		c.read(200*mib, 5*mib, 0)
		if c.s.large || len(c.moves) != 2 {
			t.Fatalf("5 MiB/s after a pause: moves at %v", c.moves)
		}
	})
	t.Run("the price: the same player at a UHD remux rate gets the large buffer back", func(t *testing.T) {
		c := newClient()
		c.read(64*mib, 100*mib, 0)
		c.read(256<<10, 100*mib, 10*time.Second)
		c.read(4*mib, 1e12, 0)
		c.read(200*mib, 12*mib, 0)
		if !c.s.large || len(c.moves) != 3 {
			t.Fatalf("12 MiB/s after a pause: moves at %v", c.moves)
		}
	})
	t.Run("a short stall does not demote", func(t *testing.T) {
		c := newClient()
		c.read(64*mib, 100*mib, 0)
		c.read(64*mib, 100*mib, pausedWrite/2)
		if !c.s.large || len(c.moves) != 1 {
			t.Fatalf("a %v stall: moves at %v", pausedWrite/2, c.moves)
		}
	})
	t.Run("a download that slows under 8 MiB/s over a window is demoted", func(t *testing.T) {
		c := newClient()
		c.read(64*mib, 100*mib, 0)
		c.read(2*demoteWindow, 6*mib, 0)
		if c.s.large || len(c.moves) != 2 {
			t.Fatalf("6 MiB/s: moves at %v", c.moves)
		}
		// 10 MiB/s is below the promote rate but above half of it: once
		// promoted it would stay; from small it is not promoted.
		c.read(100*mib, 10*mib, 0)
		if c.s.large {
			t.Fatalf("10 MiB/s from small: promoted at %v", c.moves)
		}
	})
}
