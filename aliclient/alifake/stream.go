package alifake

import (
	"io"
	"net/http"
	"time"
)

// streamChunk is the most the CDN writes (and flushes) at once.
const streamChunk = 32 << 10

// SetCDNThrottle limits every CDN response body to bytesPerSec, paced by the
// real clock (bandwidth is not validity, so Options.Now does not apply). It
// affects responses that start afterwards; 0 turns it off.
func (f *Fake) SetCDNThrottle(bytesPerSec int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.throttle = max(bytesPerSec, 0)
}

// CutCDNAfter makes the next `times` CDN GET responses that carry a body drop
// the TCP connection abruptly after n body bytes, so the client reads fewer
// bytes than Content-Length and gets an error. A response whose body is not
// longer than n still uses up one of the times but arrives whole.
func (f *Fake) CutCDNAfter(n int64, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.cutAfter = max(n, 0)
	f.ctl.cutTimes = max(times, 0)
}

// StallCDNAfter makes the next `times` CDN GET responses send their headers
// and n body bytes, then nothing more, holding the connection open until the
// client goes away or the fake closes: a CDN that hangs mid-body.
func (f *Fake) StallCDNAfter(n int64, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.stallAfter = max(n, 0)
	f.ctl.stallTimes = int64(max(times, 0))
}

// SetCDNCutOnExpiry makes an in-flight body stop, with the connection
// dropped, once Options.Now passes its link's x-oss-expires, as the real CDN
// cuts long downloads when the signature lapses (§5.3).
func (f *Fake) SetCDNCutOnExpiry(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.cutOnExpiry = on
}

// OpenCDNConns reports the TCP connections currently open on the CDN
// listener started by Start (new, active or idle; not closed or hijacked).
func (f *Fake) OpenCDNConns() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cdnConns)
}

// ActiveCDNStreams reports the CDN handlers currently writing a body.
func (f *Fake) ActiveCDNStreams() int { return int(f.streams.Load()) }

// stream copies length bytes from rd at start to the client in flushed
// chunks. It stops at once when the client goes away or the fake closes, and
// aborts the connection (never writing an error after the status line) for a
// scripted cut or an expiry cut.
func (f *Fake) stream(w http.ResponseWriter, r *http.Request, rd io.ReaderAt, start, length int64, expires time.Time) {
	f.streams.Add(1)
	defer f.streams.Add(-1)

	f.mu.Lock()
	rate, cutOnExpiry := f.ctl.throttle, f.ctl.cutOnExpiry
	cutAt, stallAt := int64(-1), int64(-1)
	if r.Method == http.MethodGet && f.ctl.stallTimes > 0 {
		f.ctl.stallTimes--
		stallAt = f.ctl.stallAfter
	}
	if r.Method == http.MethodGet && f.ctl.cutTimes > 0 {
		f.ctl.cutTimes--
		if f.ctl.cutAfter < length {
			cutAt = f.ctl.cutAfter
		}
	}
	f.mu.Unlock()

	chunk := int64(streamChunk)
	if rate > 0 {
		chunk = max(min(chunk, rate/8), 1) // about eight writes a second keeps pacing smooth
	}
	buf := make([]byte, chunk)
	rc := http.NewResponseController(w)
	began := time.Now()
	ctx := r.Context()
	for sent := int64(0); sent < length; {
		if stallAt >= 0 && sent >= stallAt {
			_ = rc.Flush() // the headers, if no byte went yet
			for ctx.Err() == nil && !f.isClosed() {
				time.Sleep(10 * time.Millisecond)
			}
			return
		}
		if cutAt >= 0 && sent >= cutAt {
			abortResponse(rc)
		}
		if ctx.Err() != nil || f.isClosed() {
			return
		}
		if cutOnExpiry && f.now().After(expires) {
			abortResponse(rc)
		}
		n := min(chunk, length-sent)
		if cutAt >= 0 {
			n = min(n, cutAt-sent)
		}
		if stallAt >= 0 {
			n = min(n, stallAt-sent)
		}
		if m, _ := rd.ReadAt(buf[:n], start+sent); int64(m) < n {
			abortResponse(rc) // content shorter than announced; cannot happen for blobs
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return // the client is gone
		}
		_ = rc.Flush()
		sent += n
		if rate > 0 {
			due := began.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
			if !f.sleep(ctx, time.Until(due)) {
				return
			}
		}
	}
}

// abortResponse pushes out what was written and then drops the connection:
// net/http closes it silently when a handler panics with ErrAbortHandler.
func abortResponse(rc *http.ResponseController) {
	_ = rc.Flush()
	panic(http.ErrAbortHandler)
}

// isClosed reports whether Close has begun.
func (f *Fake) isClosed() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}
