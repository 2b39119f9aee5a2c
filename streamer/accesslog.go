package streamer

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/VictoriaMetrics/metrics"
)

// AccessLog writes the per-request line at nginx's cost: each line is
// formatted by appending to a stack buffer (no slog attributes, no interface
// boxing, no reflection: nothing allocated), copied into a shared buffer, and
// written in batches by one goroutine at least every flushEvery and whenever
// flushAt bytes are waiting. A request never waits for the output: while a
// write is stuck (a slow stderr, a full pipe), lines go on collecting up to
// maxPending bytes and are then dropped and counted
// (alilink_access_log_dropped_total) rather than stall the server.
//
// The lines are byte for byte what slog's text or JSON handler writes for the
// same record (msg "request", level INFO), so that one log stream stays one
// format and whatever parses slog's lines parses these.
type AccessLog struct {
	w    io.Writer
	json bool

	mu      sync.Mutex
	pending []byte // lines waiting for the writer
	spare   []byte // the buffer being written, reused for the next batch
	closed  bool
	tc      timeCache // the time of the last line, formatted

	dropped *metrics.Counter
	wake    chan struct{} // first line in an empty buffer, or flushAt crossed
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

const (
	accessFlushEvery = time.Second
	// A batch of 256 KiB (~2,000 lines) keeps the writes, and the runtime's
	// hand-off of the P around each blocking write, rare: with 32 KiB the
	// 302 rate with the log on measured 0.60× nginx's, with 256 KiB 0.71–1.02×
	// (bench/README.md).
	accessFlushAt    = 256 << 10
	accessMaxPending = 1 << 20
	// accessLineMax is the stack buffer a line is formatted in; a longer
	// line (a path of escapes) costs an allocation and nothing else.
	accessLineMax = 1 << 10
	// accessHeadMax bounds a line's head (`{"time":"…"`).
	accessHeadMax = 64
)

// NewAccessLog starts an access log writing to w, as JSON lines or slog's
// text lines, counting dropped lines in set (nil: a private set). Close
// flushes it.
func NewAccessLog(w io.Writer, json bool, set *metrics.Set) *AccessLog {
	if set == nil {
		set = metrics.NewSet()
	}
	l := &AccessLog{
		w: w, json: json, dropped: set.NewCounter("alilink_access_log_dropped_total"),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
	}
	go l.run()
	return l
}

// Dropped is the number of lines thrown away because the output could not
// keep up.
func (l *AccessLog) Dropped() uint64 { return l.dropped.Get() }

// Close writes what is pending and stops the writer goroutine. Lines logged
// after Close (streams cut at the shutdown deadline) are written at once.
func (l *AccessLog) Close() {
	l.once.Do(func() {
		close(l.quit)
		<-l.done
	})
}

// Line logs one request. method and path are written quoted or escaped as
// slog would; path must already be free of secrets (the cleaned path, never
// the query).
func (l *AccessLog) Line(now time.Time, method, path string, status int, action string, n int64, d time.Duration) {
	var stack [accessLineMax]byte
	b := l.formatRest(stack[:0], method, path, status, action, n, d)
	l.add(now, b)
}

// format is the whole line: the head (the time) and the rest.
func (l *AccessLog) format(b []byte, now time.Time, method, path string, status int, action string, n int64, d time.Duration) []byte {
	var tc timeCache
	b = l.appendHead(b, &tc, now)
	return l.formatRest(b, method, path, status, action, n, d)
}

// appendHead writes the line up to and including its time, through tc.
func (l *AccessLog) appendHead(b []byte, tc *timeCache, now time.Time) []byte {
	if l.json {
		b = append(b, `{"time":"`...)
		b = tc.appendTime(b, now, true)
		return append(b, '"')
	}
	b = append(b, "time="...)
	return tc.appendTime(b, now, false)
}

// formatRest writes the line after its time.
func (l *AccessLog) formatRest(b []byte, method, path string, status int, action string, n int64, d time.Duration) []byte {
	if l.json {
		b = append(b, `,"level":"INFO","msg":"request","method":`...)
		b = appendJSONString(b, method)
		b = append(b, `,"path":`...)
		b = appendJSONString(b, path)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"action":`...)
		b = appendJSONString(b, action)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(d), 10)
		return append(b, "}\n"...)
	}
	b = append(b, " level=INFO msg=request method="...)
	b = appendTextString(b, method)
	b = append(b, " path="...)
	b = appendTextString(b, path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " action="...)
	b = appendTextString(b, action)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, " duration="...)
	b = appendDuration(b, d)
	return append(b, '\n')
}

// timeCache keeps the formatted second of the last line
// ("2006-01-02T15:04:05" and the zone), as nginx keeps its time string: a
// line in the same second pays for its fraction only, not for AppendFormat's
// calendar arithmetic (~40% of a line).
type timeCache struct {
	sec     int64
	loc     *time.Location
	valid   bool
	zoneLen uint8
	date    [len("2006-01-02T15:04:05")]byte
	zone    [len("-07:00")]byte
}

// appendTime writes t in RFC 3339 as slog does: nano=false is the text
// handler's (exactly three fraction digits), nano=true the JSON handler's
// (RFC3339Nano: trailing zeros dropped, no fraction for a whole second).
func (c *timeCache) appendTime(b []byte, t time.Time, nano bool) []byte {
	sec, loc := t.Unix(), t.Location()
	if !c.valid || c.sec != sec || c.loc != loc {
		var tmp [64]byte
		f := t.AppendFormat(tmp[:0], "2006-01-02T15:04:05Z07:00")
		if n := len(c.date); len(f) <= n || len(f)-n > len(c.zone) || f[4] != '-' || f[n-3] != ':' {
			// A year outside 0000–9999: not worth a cache.
			c.valid = false
			if nano {
				return t.AppendFormat(b, time.RFC3339Nano)
			}
			return appendRFC3339Millis(b, t)
		}
		c.sec, c.loc, c.valid = sec, loc, true
		copy(c.date[:], f)
		c.zoneLen = uint8(copy(c.zone[:], f[len(c.date):]))
	}
	b = append(b, c.date[:]...)
	ns := t.Nanosecond()
	digits := 3
	if nano {
		digits = 9
		if ns == 0 {
			digits = 0
		}
		for digits > 0 && ns%10 == 0 {
			ns /= 10
			digits--
		}
	} else {
		ns /= 1e6
	}
	if digits > 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := digits; i > 0; i-- {
			frac[i] = byte(ns%10) + '0'
			ns /= 10
		}
		b = append(b, frac[:digits+1]...)
	}
	return append(b, c.zone[:c.zoneLen]...)
}

// add queues a line (its rest: add writes the time in front, under the
// lock, from the log's time cache), or drops it when maxPending bytes wait.
func (l *AccessLog) add(now time.Time, rest []byte) {
	l.mu.Lock()
	if l.closed {
		// Written from the log's own buffer: rest itself must not reach an
		// interface call, or escape analysis would put every line's stack
		// buffer on the heap.
		l.pending = l.appendHead(l.pending[:0], &l.tc, now)
		l.pending = append(l.pending, rest...)
		_, _ = l.w.Write(l.pending)
		l.pending = l.pending[:0]
		l.mu.Unlock()
		return
	}
	if len(l.pending)+len(rest)+accessHeadMax > accessMaxPending {
		l.mu.Unlock()
		l.dropped.Inc()
		return
	}
	was := len(l.pending)
	l.pending = l.appendHead(l.pending, &l.tc, now)
	l.pending = append(l.pending, rest...)
	signal := was == 0 || (was < accessFlushAt && len(l.pending) >= accessFlushAt)
	l.mu.Unlock()
	if signal {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// run is the writer: woken by the first line, it waits up to flushEvery (or
// until flushAt bytes wait) and writes the batch.
func (l *AccessLog) run() {
	defer close(l.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-l.wake:
		case <-l.quit:
			l.flush(true)
			return
		}
		l.mu.Lock()
		n := len(l.pending)
		l.mu.Unlock()
		if n < accessFlushAt {
			t.Reset(accessFlushEvery)
			select {
			case <-l.wake:
			case <-t.C:
			case <-l.quit:
			}
			t.Stop()
		}
		l.flush(false)
	}
}

// flush writes the pending lines outside the lock, so that requests keep
// appending while the write is in the kernel. last marks the log closed.
func (l *AccessLog) flush(last bool) {
	l.mu.Lock()
	b := l.pending
	l.pending = l.spare[:0]
	l.spare = nil
	if last {
		// Lines arriving from now on are written by add itself, under the
		// lock, after this batch.
		defer l.mu.Unlock()
		l.closed = true
	} else {
		l.mu.Unlock()
	}
	if len(b) > 0 {
		_, _ = l.w.Write(b)
	}
	if !last {
		l.mu.Lock()
		l.spare = b[:0]
		l.mu.Unlock()
	}
}

// appendTextString writes s as slog's text handler does: bare unless it is
// empty or holds a space, '=', '"', a control character, invalid UTF-8 or a
// non-printing rune, then Go-quoted (strconv.Quote's output). A newline can
// thus never split a line. The usual quoted case, printable ASCII with a
// space, is quoted here: strconv's rune-by-rune quoting was half the cost of
// a line.
func appendTextString(b []byte, s string) []byte {
	quote, ascii := textQuoting(s)
	switch {
	case !quote:
		return append(b, s...)
	case !ascii:
		return strconv.AppendQuote(b, s)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// textQuoting tells whether slog quotes s, and whether s is printable ASCII
// only (so that quoting it only escapes '"' and '\\').
func textQuoting(s string) (quote, ascii bool) {
	if s == "" {
		return true, true
	}
	ascii = true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == 0x7f:
				ascii = false
				quote = quote || c != 0x7f // slog leaves DEL bare, strconv escapes it
			case c == ' ' || c == '=' || c == '"':
				quote = true
			}
			i++
			continue
		}
		ascii = false
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			quote = true
		}
		i += size
	}
	return quote, ascii
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string the way slog's JSON handler
// does: '"', '\\' and control characters escaped, invalid UTF-8 as U+FFFD,
// U+2028 and U+2029 escaped, HTML characters left alone.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendRFC3339Millis is slog's text time: RFC 3339 with exactly three
// fraction digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano trims trailing zeros: add 1/10 ms so that four digits
	// remain, then drop the fourth.
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendDuration writes d as time.Duration.String does ("1.5ms", "2m3.1s",
// "0s"), without the string.
func appendDuration(b []byte, d time.Duration) []byte {
	var buf [32]byte
	w := len(buf)
	u := uint64(d)
	neg := d < 0
	if neg {
		u = -u
	}
	if u < uint64(time.Second) {
		// Less than a second: ns, µs or ms with a fraction.
		var prec int
		w--
		buf[w] = 's'
		w--
		switch {
		case u == 0:
			return append(b, "0s"...)
		case u < uint64(time.Microsecond):
			prec = 0
			buf[w] = 'n'
		case u < uint64(time.Millisecond):
			prec = 3
			// U+00B5 'µ' micro sign is 0xC2 0xB5.
			w--
			copy(buf[w:], "µ")
		default:
			prec = 6
			buf[w] = 'm'
		}
		w, u = durFrac(buf[:w], prec, u)
		w = durInt(buf[:w], u)
	} else {
		w--
		buf[w] = 's'
		w, u = durFrac(buf[:w], 9, u)
		w = durInt(buf[:w], u%60) // u is now whole seconds
		u /= 60
		if u > 0 {
			w--
			buf[w] = 'm'
			w = durInt(buf[:w], u%60)
			u /= 60
			if u > 0 {
				w--
				buf[w] = 'h'
				w = durInt(buf[:w], u)
			}
		}
	}
	if neg {
		w--
		buf[w] = '-'
	}
	return append(b, buf[w:]...)
}

// durFrac writes the fraction of v/10^prec at the end of buf, without
// trailing zeros (and without the point if the fraction is zero); it returns
// the new start and v/10^prec.
func durFrac(buf []byte, prec int, v uint64) (int, uint64) {
	w := len(buf)
	printed := false
	for range prec {
		digit := v % 10
		printed = printed || digit != 0
		if printed {
			w--
			buf[w] = byte(digit) + '0'
		}
		v /= 10
	}
	if printed {
		w--
		buf[w] = '.'
	}
	return w, v
}

// durInt writes v in decimal at the end of buf and returns the new start.
func durInt(buf []byte, v uint64) int {
	w := len(buf)
	if v == 0 {
		w--
		buf[w] = '0'
		return w
	}
	for v > 0 {
		w--
		buf[w] = byte(v%10) + '0'
		v /= 10
	}
	return w
}
