package streamer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/alilink/alilink/internal/wait"
	"github.com/alilink/alilink/resolver"
)

// proxyStream is the body of a proxied response: bytes next..end of a file,
// read from the CDN and resumed from the next byte whenever the CDN stream
// breaks (an expired link, a reset, a short body), so that the client sees one
// uninterrupted body. fasthttp drives it through WriteTo from the connection's
// goroutine after the handler returned, and calls Close when done.
type proxyStream struct {
	s    *Server
	item resolver.Item
	link resolver.Link
	// linkStale: the CDN refused the link or it has expired; ask the drive
	// for a fresh one before reconnecting.
	linkStale bool
	next, end int64 // the next byte to deliver and the last one, inclusive
	// sizing: the link serves a part of the item (Link.Part), whose size
	// only the CDN tells; connect learns it first (openPart). sizeOnly: a
	// HEAD, which needs nothing else.
	sizing, sizeOnly bool
	up               *upstreamResp
	etag             string // the CDN's ETag for this object, checked on every resume
	// failures counts consecutive failed attempts since bytes last flowed.
	failures int
	ctx      context.Context
	cancel   context.CancelFunc
	// conn is the client's connection, whose write deadline each write
	// moves on by ClientWriteTimeout.
	conn   net.Conn
	closed bool
	// written counts the bytes the client got; report is what Close puts in
	// the metrics and the access log.
	written int64
	report  streamReport
	// clientLeft: the client went away before the body's end; the log says
	// 499, as nginx does.
	clientLeft bool
}

// streamReport is what a proxied request reports when its body ends.
type streamReport struct {
	method, path string
	status       int
	start        time.Time
}

func (s *Server) newProxyStream(it resolver.Item, link *resolver.Link, r byteRange) *proxyStream {
	ctx, cancel := context.WithCancel(context.Background())
	p := &proxyStream{s: s, item: it, next: r.start, end: r.end, ctx: ctx, cancel: cancel}
	if link != nil {
		p.link = *link
	} else {
		p.linkStale = true // no link yet
	}
	return p
}

// connect opens the CDN response for the remaining bytes, getting a fresh link
// first when needed, with at most cfg.ResumeAttempts consecutive tries and
// jittered backoff between them.
func (p *proxyStream) connect() error {
	var last error
	for {
		// A stream that makes progress resumes as often as it breaks (a
		// two-hour film whose links live 15 minutes needs about eight); only
		// attempts without progress are bounded.
		if p.failures >= p.s.cfg.ResumeAttempts {
			return fmt.Errorf("reading upstream: gave up after %d attempts without progress: %w", p.failures, last)
		}
		if p.failures > 0 && !wait.Sleep(p.ctx, retryDelay(p.failures)) {
			return p.ctx.Err()
		}
		p.failures++
		if p.linkStale {
			if p.link.URL != "" {
				p.s.res.DropLink(p.item.ID, p.link.URL)
			}
			l, err := p.s.res.Link(p.ctx, p.item)
			if err != nil {
				if errors.Is(err, resolver.ErrRateLimited) || p.ctx.Err() != nil {
					return err
				}
				last = err
				continue
			}
			p.link, p.linkStale = l, false
		}
		var (
			up  *upstreamResp
			err error
		)
		if p.sizing {
			up, err = p.openPart()
		} else {
			up, err = p.s.cdn.open(p.ctx, p.link, byteRange{p.next, p.end}, p.item.Size)
		}
		switch {
		case err == nil && up == nil:
			return nil // a part's size learnt, and no body to keep
		case err == nil:
			if p.etag != "" && up.etag != "" && up.etag != p.etag {
				_ = up.body.Close()
				return fmt.Errorf("%w: the CDN's ETag changed from %s to %s", errChanged, p.etag, up.etag)
			}
			if p.etag == "" {
				p.etag = up.etag
			}
			p.up = up
			return nil
		case errors.Is(err, errLinkRefused):
			p.linkStale = true
		case errors.Is(err, errChanged), errors.Is(err, errCDNBusy), p.ctx.Err() != nil:
			return err
		}
		last = err
	}
}

// openPart opens the part the link serves from next on (its first byte for
// sizeOnly) and learns its size: the item's Size becomes the part's. It
// keeps the body only when it starts at next.
func (p *proxyStream) openPart() (*upstreamResp, error) {
	start, end := p.next, int64(-1)
	if p.sizeOnly {
		start, end = 0, 0
	}
	up, from, size, err := p.s.cdn.openPart(p.ctx, p.link, start, end)
	if err != nil {
		return nil, err
	}
	p.item.Size, p.sizing = size, false
	if up != nil && (p.sizeOnly || from != p.next) {
		drainClose(up.body)
		up = nil
	}
	return up, nil
}

// Read delivers the next bytes, reconnecting as often as needed. Bytes it
// returns count as delivered: a caller that cannot pass them on must abort.
func (p *proxyStream) Read(b []byte) (int, error) {
	for {
		if p.next > p.end {
			return 0, io.EOF
		}
		if p.closed {
			return 0, errStreamClosed
		}
		if p.up == nil {
			if err := p.connect(); err != nil {
				return 0, err
			}
		}
		want := min(int64(len(b)), p.end-p.next+1)
		n, err := p.up.body.Read(b[:want])
		p.next += int64(n)
		if n > 0 {
			p.failures = 0
		}
		if err == nil || p.next > p.end {
			return n, nil
		}
		// The CDN stream broke before the last byte (or stalled for the idle
		// timeout); a client that left meanwhile ends the stream here.
		p.dropUpstream()
		if clientGone(p.conn) {
			return n, errClientGone
		}
		if !time.Now().Before(p.link.Expires) {
			p.linkStale = true
		}
		p.s.obs.resumes.Inc()
		p.s.log.Info("CDN stream broke; resuming", "file", p.item.Name, "at", p.next, "of", p.end+1, "err", err)
		if n > 0 {
			return n, nil
		}
	}
}

// Buffer sizing of the copy loop. A stream starts with a small buffer and
// moves to a large one once the client has shown it is fast: at least
// promoteBytes delivered at promoteRate or more on average. promoteRate is
// just above the highest bitrate a film plays at (UHD Blu-ray: 128 Mbit/s,
// 15.3 MiB/s): a client reading faster is downloading or buffering ahead, not
// playing. The kernel's socket buffers absorb several MiB for a reader that
// does not read (on this project's machines up to 4 MiB to send and 32 MiB
// to receive, though autotuning grows them only for readers that do read),
// so a slow player cannot look fast for long. Large buffers halve the CPU per
// GiB of a fast download (bench/README.md).
//
// It goes back to small when the client slows down: when the large writes of
// a window of demoteWindow bytes averaged under promoteRate/2, or at once
// when one write blocks longer than pausedWrite (the player paused). A slow
// player thus holds 16 KiB; a fast download does few large system calls.
// A stream that was demoted earns the large buffer back over demoteWindow,
// not promoteBytes: it has shown it is fast once, and a client that stalls
// for a second now and then (wrk reading eight connections from one thread
// left some waiting 0.2–4 s, 32 times in 8 s) otherwise spent most of its
// calls re-earning it in 16 KiB writes: 20% more CPU per GiB
// (bench/README.md). The price: a player that buffered fast, paused, and
// then reads at 10–16 MiB/s (UHD remux rates) gets the large buffer back
// within 8 MiB, its socket buffer's burst counted in; at common film rates
// (under 8 MiB/s) it does not.
//
// (Until issue 16 the rule was 32 MiB/s to promote and any large write
// blocked over 20 ms to demote: eight downloads sharing this project's busy
// 2-core VM got 17–33 MiB/s each and scheduler stalls of 25–80 ms, so they
// stayed on, or fell back to, 16 KiB writes — one wake-up of the writer per
// 16 KiB — and cost 1.4× nginx's CPU per GiB.) The clock is read once per
// write (for the write deadline: ALILINK_CLIENT_WRITE_TIMEOUT) and once after.
const (
	promoteBytes = 32 << 20
	promoteRate  = 16 << 20 // bytes per second
	checkEvery   = 1 << 20
	demoteWindow = 8 << 20
	pausedWrite  = 250 * time.Millisecond
)

// sizer is the buffer rule above, told of each write as it ends: whether
// the copy loop's buffer is large, and from when and which byte the client's
// rate is judged (the start, or the last move in either direction).
type sizer struct {
	large     bool
	written   int64
	base      int64 // written at began
	began     time.Time
	nextCheck int64
}

func newSizer(now time.Time) sizer { return sizer{began: now, nextCheck: promoteBytes} }

// wrote counts a write of n bytes that began at start and ended at end, and
// tells whether the buffer changes size (to s.large). A move either way, and
// each window of a large buffer, judge the rate afresh from end.
func (s *sizer) wrote(n int, start, end time.Time) bool {
	s.written += int64(n)
	rate := func() float64 { return float64(s.written-s.base) / end.Sub(s.began).Seconds() }
	was := s.large
	switch {
	case s.large && (end.Sub(start) > pausedWrite || s.written >= s.nextCheck && rate() < promoteRate/2):
		s.large = false
	case s.large && s.written >= s.nextCheck:
	case !s.large && s.written >= s.nextCheck && rate() >= promoteRate:
		s.large = true
	case !s.large && s.written >= s.nextCheck:
		s.nextCheck = s.written + checkEvery
		return false
	default:
		return false
	}
	s.began, s.base, s.nextCheck = end, s.written, s.written+demoteWindow
	return s.large != was
}

// WriteTo is the copy loop fasthttp uses (through io.WriterTo): upstream bytes
// go to the client from a pooled buffer sized as above. Read errors and write
// errors are told apart; after the headers went out an error can only abort
// the response (fasthttp then closes the connection).
func (p *proxyStream) WriteTo(w io.Writer) (int64, error) {
	buf, sz := smallBuffers.get(), newSizer(time.Now())
	defer func() {
		if sz.large {
			largeBuffers.put(buf)
		} else {
			smallBuffers.put(buf)
		}
	}()
	for {
		n, err := p.Read(*buf)
		// With the large buffer, fill it before writing: over TLS a read
		// returns one record (16 KiB), so without this a fast HTTPS stream
		// made sixteen client writes per 256 KiB instead of one.
		for sz.large && err == nil && n < len(*buf) {
			var m int
			m, err = p.Read((*buf)[n:])
			n += m
		}
		if n > 0 {
			start := time.Now()
			if p.conn != nil {
				_ = p.conn.SetWriteDeadline(start.Add(p.s.cfg.ClientWriteTimeout))
			}
			wn, werr := w.Write((*buf)[:n])
			p.written += int64(wn)
			if werr != nil {
				p.clientLeft = true
				return sz.written + int64(wn), fmt.Errorf("writing client: %w", werr)
			}
			if sz.wrote(wn, start, time.Now()) {
				if sz.large {
					smallBuffers.put(buf)
					buf = largeBuffers.get()
				} else {
					largeBuffers.put(buf)
					buf = smallBuffers.get()
				}
			}
		}
		if err == io.EOF {
			return sz.written, nil
		}
		if errors.Is(err, errClientGone) {
			p.clientLeft = true
			return sz.written, fmt.Errorf("writing client: %w", err)
		}
		if err != nil {
			p.s.obs.aborts.Inc()
			p.s.log.Warn("proxied stream aborted", "file", p.item.Name, "at", p.next, "err", err)
			return sz.written, fmt.Errorf("reading upstream: %w", err)
		}
	}
}

// Close ends the CDN request at once and frees the stream slot; fasthttp calls
// it when the response is done, failed or was never written.
func (p *proxyStream) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	p.dropUpstream()
	p.cancel()
	p.s.releaseStream()
	if r := p.report; r.status != 0 {
		if p.clientLeft {
			r.status = StatusClientClosed
		}
		o := p.s.obs
		o.bytes.Add(int(p.written))
		o.requestAt(r.path, actProxy, r.status)
		o.access(r.method, r.path, r.status, actProxy, p.written, r.start)
	}
	return nil
}

// dropUpstream closes the current CDN response. A body read to its end has
// already returned its connection to the pool; an unfinished one is closed.
func (p *proxyStream) dropUpstream() {
	if p.up != nil {
		_ = p.up.body.Close()
		p.up = nil
	}
}

var errStreamClosed = errors.New("stream closed")

// retryDelay is the pause before reconnection attempt n (n ≥ 1): 100 ms,
// 200 ms, 400 ms… at most 2 s, with jitter.
func retryDelay(n int) time.Duration {
	d := min(100*time.Millisecond<<min(n-1, 5), 2*time.Second)
	return d/2 + time.Duration(time.Now().UnixNano()%int64(d/2))
}
