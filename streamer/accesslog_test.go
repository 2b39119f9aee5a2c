package streamer

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// accessCases are lines with everything a path or method can bring: spaces,
// quotes, '=', control characters, a newline (which must never split the
// line), invalid UTF-8, non-printing and line-separator runes, HTML.
var accessCases = []struct {
	method, path string
	status       int
	action       string
	n            int64
	d            time.Duration
}{
	{"GET", "/Movies/Big Buck Bunny (2008).mkv", 302, "redirect", 0, 1234567},
	{"HEAD", "/a.mkv", 200, "proxy", 1 << 40, 3*time.Hour + 2*time.Minute + 1500*time.Millisecond},
	{"GET", "/电影/千与千寻.mkv", 404, "error", 13, 999},
	{"PUT", `/quote"and\back=slash`, 201, "upload", 5, 90 * time.Second},
	{"GET", "/new\nline\ttab\r\x01\x7f", 400, "error", 11, time.Microsecond + 1},
	{"FOO", "/bad\xff\xfeutf8", 405, "error", 18, -5 * time.Millisecond},
	{"GET", "/sep\u2028\u2029<&>\u00a0\u200b", 200, "listing", 42, 59*time.Second + 999*time.Millisecond},
	{"GET", "", 400, "error", 0, 0},
	{"GET", "/-/healthz", 200, "internal", 2, 17 * time.Nanosecond},
	{"GET", `/back\slash`, 200, "proxy", 1, time.Second},
	{"GET", "/del\x7f", 200, "proxy", 1, time.Second},
	{"GET", "/del\x7f and space", 200, "proxy", 1, time.Second},
	{"GET", `/a b\c"d=e`, 200, "proxy", 1, time.Second},
	{"GET", "/a b/电影", 200, "proxy", 1, time.Second},
}

// TestAccessLineIsSlogs: each line is byte for byte what slog's handler
// writes for the same record, in both forms and in any time zone.
func TestAccessLineIsSlogs(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("NST", -(3*3600 + 1800))}
	for _, json := range []bool{false, true} {
		l := &AccessLog{json: json}
		for i, c := range accessCases {
			now := time.Date(2026, 12, 1, 21, 10, 46, i*123456789%1e9, zones[i%len(zones)])
			if i == 1 {
				now = now.Truncate(time.Second) // a time with no fraction
			}
			var want bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&want, nil)
			if json {
				h = slog.NewJSONHandler(&want, nil)
			}
			r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("method", c.method), slog.String("path", c.path), slog.Int("status", c.status),
				slog.String("action", c.action), slog.Int64("bytes", c.n), slog.Duration("duration", c.d))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			got := l.format(nil, now, c.method, c.path, c.status, c.action, c.n, c.d)
			if string(got) != want.String() {
				t.Errorf("json=%v case %d:\n got %q\nwant %q", json, i, got, want.String())
			}
			if bytes.Count(got, []byte("\n")) != 1 {
				t.Errorf("json=%v case %d: not one line: %q", json, i, got)
			}
		}
	}
}

// TestAccessTimeCacheIsSlogs: lines logged one after another reuse the
// formatted second; across fractions (none, trailing zeros, full), second
// and minute boundaries and zone changes the times still are slog's.
func TestAccessTimeCacheIsSlogs(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("NST", -(3*3600 + 1800)), time.Local}
	base := time.Date(2026, 12, 1, 23, 59, 58, 0, time.UTC)
	var times []time.Time
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		ns := []int{0, 100e6, 120e6, 123e6, 123400000, 1, 999999999, rnd.IntN(1e9)}[i%8]
		at := base.Add(time.Duration(i/7) * 300 * time.Millisecond).Truncate(time.Second).Add(time.Duration(ns))
		times = append(times, at.In(zones[(i/40)%len(zones)]))
	}
	for _, json := range []bool{false, true} {
		var got, want bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&want, nil)
		if json {
			h = slog.NewJSONHandler(&want, nil)
		}
		l := NewAccessLog(&got, json, nil)
		for _, at := range times {
			r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/a"), slog.Int("status", 302),
				slog.String("action", "redirect"), slog.Int64("bytes", 0), slog.Duration("duration", time.Millisecond))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			l.Line(at, "GET", "/a", 302, "redirect", 0, time.Millisecond)
		}
		l.Close()
		g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
		if len(g) != len(w) {
			t.Fatalf("json=%v: %d lines, want %d", json, len(g), len(w))
		}
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("json=%v line %d:\n got %q\nwant %q", json, i, g[i], w[i])
			}
		}
	}
}

func TestAppendDuration(t *testing.T) {
	ds := []time.Duration{0, 1, -1, 999, 1000, 1001, 999999, 1e6, 1e9, 60e9, 3600e9, 1<<63 - 1, -1 << 63}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		ds = append(ds, time.Duration(rnd.Int64N(1<<uint(rnd.IntN(62)+1))))
	}
	for _, d := range ds {
		if got := string(appendDuration(nil, d)); got != d.String() {
			t.Fatalf("%d: got %q, want %q", int64(d), got, d.String())
		}
	}
}

// TestAccessLineAllocatesNothing: the hot path of a line (format, queue)
// allocates nothing once the log's buffer has grown.
func TestAccessLineAllocatesNothing(t *testing.T) {
	for _, json := range []bool{false, true} {
		l := NewAccessLog(io.Discard, json, nil)
		now := time.Now()
		c := accessCases[0]
		line := func() { l.Line(now, c.method, c.path, c.status, c.action, c.n, c.d) }
		for range 5000 {
			line() // grow the buffers
		}
		if a := testing.AllocsPerRun(1000, line); a != 0 {
			t.Errorf("json=%v: %v allocations per line", json, a)
		}
		l.Close()
	}
}

// stuckWriter blocks every Write until released.
type stuckWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *stuckWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestAccessLogNeverBlocks: with the output stuck, logging goes on at once;
// lines beyond the bound are dropped and counted, the rest arrive whole once
// the output moves, and Close writes what was pending.
func TestAccessLogNeverBlocks(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{})}
	set := metrics.NewSet()
	l := NewAccessLog(w, false, set)
	const total = 20000 // ~2.5 MiB of lines, ten times the bound
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			l.Line(time.Now(), "GET", "/Movies/film.mkv", 302, "redirect", int64(i), time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("logging blocked on a stuck output")
	}
	dropped := l.Dropped()
	if dropped == 0 || dropped >= total {
		t.Fatalf("dropped %d of %d lines; want some, not all", dropped, total)
	}
	var m bytes.Buffer
	set.WritePrometheus(&m)
	if !strings.Contains(m.String(), "alilink_access_log_dropped_total ") {
		t.Fatalf("no drop counter in the metrics:\n%s", m.String())
	}
	close(w.release)
	l.Close()
	out := w.String()
	if n := strings.Count(out, "\n"); uint64(n) != total-dropped {
		t.Fatalf("%d lines written; want %d (%d dropped)", n, total-dropped, dropped)
	}
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "time=") || !strings.HasSuffix(line, " duration=1ms\n") {
			t.Fatalf("a torn line: %q", line)
		}
	}
	l.Line(time.Now(), "GET", "/after", 302, "redirect", 0, 0) // after Close: written at once
	if !strings.Contains(w.String(), "path=/after ") {
		t.Fatal("a line after Close was lost")
	}
}

// syncBuf is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLogFlushesBySecond: a lone line is written within the flush
// interval, without Close.
func TestAccessLogFlushesBySecond(t *testing.T) {
	var out syncBuf
	l := NewAccessLog(&out, true, nil)
	defer l.Close()
	l.Line(time.Now(), "GET", "/one", 200, "proxy", 1, time.Millisecond)
	deadline := time.Now().Add(accessFlushEvery + 2*time.Second)
	for !strings.Contains(out.String(), `"path":"/one"`) {
		if time.Now().After(deadline) {
			t.Fatalf("a line was not written within %v", accessFlushEvery)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func BenchmarkAccessLine(b *testing.B) {
	for _, form := range []string{"text", "json"} {
		b.Run(form, func(b *testing.B) {
			l := NewAccessLog(io.Discard, form == "json", nil)
			defer l.Close()
			now := time.Now()
			c := accessCases[0]
			b.ReportAllocs()
			for b.Loop() {
				l.Line(now, c.method, c.path, c.status, c.action, c.n, c.d)
			}
		})
	}
}

func BenchmarkAccessFormat(b *testing.B) {
	for _, form := range []string{"text", "json"} {
		b.Run(form, func(b *testing.B) {
			l := &AccessLog{json: form == "json"}
			buf := make([]byte, 0, accessLineMax)
			now := time.Now()
			c := accessCases[0]
			b.ReportAllocs()
			for b.Loop() {
				buf = l.format(buf[:0], now, c.method, c.path, c.status, c.action, c.n, c.d)
			}
		})
	}
}
