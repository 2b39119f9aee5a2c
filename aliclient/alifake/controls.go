package alifake

import (
	"net/http"
	"strings"
	"time"
)

// Fault is a scripted failure answered instead of the real operation.
type Fault struct {
	// Status is the HTTP status (default 500).
	Status int
	// Code and Message make the error body: JSON {"code","message"} on the
	// API, OSS XML on the CDN. Empty fields get defaults from Status
	// (429 → "TooManyRequests", "Too Many Requests").
	Code, Message string
	// RetryAfter, if positive, is sent in the unit of RetryAfterHeader:
	// milliseconds in x-retry-after (§13.1), whole seconds (rounded up) in
	// Retry-After.
	RetryAfter time.Duration
	// RetryAfterHeader names that header: "x-retry-after" (default, what the
	// service sends, §3.4, §13.1) or "Retry-After".
	RetryAfterHeader string
	// Header adds headers to the answer as given, e.g. both x-retry-after
	// and Retry-After, or a Retry-After far in the future.
	Header http.Header
	// Delay is slept before answering; a client disconnect or Close ends it.
	Delay time.Duration
	// Drop closes the connection without any response, so the client sees a
	// transport error instead of a status.
	Drop bool
}

// Request is one entry of the request log.
type Request struct {
	Endpoint string
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	// Status is the status sent, logged as the status line goes out; 0 when
	// none went out (yet, or ever: client gone, dropped connection). A body
	// cut after the status line keeps its status.
	Status int
	Time   time.Time
	// Done is set once the handler has returned (after a client disconnect
	// too), so tests can wait for a request to be over on the server side.
	Done bool
}

// maxLogged bounds the request log so long benchmarks do not grow it without
// limit; the oldest entries go first.
const maxLogged = 4096

// controls holds the test knobs; it is guarded by Fake.mu.
type controls struct {
	faults   map[string][]Fault
	latency  map[string]time.Duration
	quotas   map[string]*quota
	calls    map[string]int
	rejected map[string]int
	peaks    map[string]*peak
	log      []*Request
	throttle int64
	// stallAfter/stallTimes: the next stallTimes CDN bodies stop after
	// stallAfter bytes and send nothing more (StallCDNAfter).
	stallAfter, stallTimes int64
	cutAfter               int64
	cutTimes               int
	cutOnExpiry            bool
}

// quota is a sliding one-second window of accepted calls.
type quota struct {
	perSecond int
	stamps    []time.Time
}

// peak tracks the most accepted calls of an endpoint within one second,
// over the same sliding window a quota uses, whether or not one is set.
type peak struct {
	stamps []time.Time // accepted calls of the last second
	most   int
}

func (c *controls) init() {
	c.faults = make(map[string][]Fault)
	c.latency = make(map[string]time.Duration)
	c.quotas = make(map[string]*quota)
	c.calls = make(map[string]int)
	c.rejected = make(map[string]int)
	c.peaks = make(map[string]*peak)
}

// FailNext makes the next n calls of endpoint answer fault. Calls queue up:
// FailNext("x", 1, a) then FailNext("x", 1, b) answers a, then b.
func (f *Fake) FailNext(endpoint string, n int, fault Fault) {
	fault = fault.withDefaults()
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.ctl.faults[endpoint] = append(f.ctl.faults[endpoint], fault)
	}
}

// ClearFaults drops the faults still queued for endpoint.
func (f *Fake) ClearFaults(endpoint string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ctl.faults, endpoint)
}

// SetLatency makes every call of endpoint wait d before anything else
// happens (0 turns it off).
func (f *Fake) SetLatency(endpoint string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.latency[endpoint] = d
}

// SetRateLimit sets a quota on an API endpoint: a call that would make more
// than perSecond accepted calls within any one-second window (by Options.Now)
// is answered 429 TooManyRequests with x-retry-after (milliseconds until
// the window has room, §13.1). Rejected calls do not
// fill the window, so a client that backs off gets through. 0 turns it off.
// Download links on the CDN have no quota; part PUTs (EndpointUploadPart,
// EndpointUploadInternalPart) do, answered 429 in OSS XML.
func (f *Fake) SetRateLimit(endpoint string, perSecond int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if perSecond <= 0 {
		delete(f.ctl.quotas, endpoint)
		return
	}
	f.ctl.quotas[endpoint] = &quota{perSecond: perSecond}
}

// Calls reports how many requests reached endpoint, whatever their outcome.
func (f *Fake) Calls(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctl.calls[endpoint]
}

// Rejected reports how many calls of endpoint the quota answered with 429.
func (f *Fake) Rejected(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctl.rejected[endpoint]
}

// MaxPerSecond reports the largest number of calls of an API endpoint that
// were accepted (not answered 429 by a quota) within any one-second window
// so far, by Options.Now. It is measured whether or not a quota is set, so a
// test can prove a client kept under the service's limits (§3.4) by itself.
// Calls refused before the quota (wrong method) do not count; calls answered
// with a fault or an auth error after it do, as the quota saw them.
func (f *Fake) MaxPerSecond(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.ctl.peaks[endpoint]; p != nil {
		return p.most
	}
	return 0
}

// ResetCounters zeroes Calls, Rejected and MaxPerSecond and empties the
// request log; it keeps faults, latencies and quotas.
func (f *Fake) ResetCounters() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.ctl.calls)
	clear(f.ctl.rejected)
	clear(f.ctl.peaks)
	f.ctl.log = nil
}

// Requests returns a copy of the request log (at most the last 4096
// requests, API and CDN, oldest first).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.ctl.log))
	for i, r := range f.ctl.log {
		out[i] = *r
		out[i].Header = r.Header.Clone()
	}
	return out
}

// begin counts and logs a request and returns the writer to answer with
// (it logs the status) plus the function that marks the entry done. finish
// runs in a defer, so it also sees responses aborted with
// http.ErrAbortHandler.
func (f *Fake) begin(endpoint string, w http.ResponseWriter, r *http.Request) (*statusWriter, func()) {
	entry := &Request{
		Endpoint: endpoint,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
	}
	sw := &statusWriter{ResponseWriter: w, f: f, entry: entry}
	f.mu.Lock()
	entry.Time = f.now()
	f.ctl.calls[endpoint]++
	if len(f.ctl.log) >= maxLogged {
		f.ctl.log = append(f.ctl.log[:0], f.ctl.log[maxLogged/2:]...)
	}
	f.ctl.log = append(f.ctl.log, entry)
	f.mu.Unlock()
	return sw, func() {
		f.mu.Lock()
		entry.Done = true
		f.mu.Unlock()
	}
}

// latency returns the configured wait of endpoint.
func (f *Fake) latency(endpoint string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctl.latency[endpoint]
}

// admit applies the quota of endpoint; when it refuses, it returns how long
// until the oldest accepted call leaves the window. Accepted calls feed
// MaxPerSecond.
func (f *Fake) admit(endpoint string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	cutoff := now.Add(-time.Second)
	if q := f.ctl.quotas[endpoint]; q != nil {
		q.stamps = dropUntil(q.stamps, cutoff)
		if len(q.stamps) >= q.perSecond {
			f.ctl.rejected[endpoint]++
			return q.stamps[0].Add(time.Second).Sub(now), false
		}
		q.stamps = append(q.stamps, now)
	}
	p := f.ctl.peaks[endpoint]
	if p == nil {
		p = &peak{}
		f.ctl.peaks[endpoint] = p
	}
	p.stamps = append(dropUntil(p.stamps, cutoff), now)
	p.most = max(p.most, len(p.stamps))
	return 0, true
}

// dropUntil removes the leading stamps at or before cutoff: the window is
// (now-1s, now], the same for quotas and peaks, so a quota of n makes
// MaxPerSecond at most n.
func dropUntil(stamps []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(stamps) && !stamps[i].After(cutoff) {
		i++
	}
	return stamps[i:]
}

// takeFault pops the next scripted fault of endpoint.
func (f *Fake) takeFault(endpoint string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.ctl.faults[endpoint]
	if len(q) == 0 {
		return Fault{}, false
	}
	f.ctl.faults[endpoint] = q[1:]
	return q[0], true
}

// answerFault sleeps the fault's delay and answers it with the given error
// writer (JSON for the API, XML for the CDN).
func (f *Fake) answerFault(w http.ResponseWriter, r *http.Request, ft Fault, write func(http.ResponseWriter, int, string, string)) {
	if !f.sleep(r.Context(), ft.Delay) {
		return
	}
	if ft.Drop {
		panic(http.ErrAbortHandler) // net/http closes the connection, silently
	}
	if ft.RetryAfter > 0 {
		w.Header().Set(ft.RetryAfterHeader, retryHeader(ft.RetryAfterHeader, ft.RetryAfter))
	}
	for name, values := range ft.Header {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	write(w, ft.Status, ft.Code, ft.Message)
}

// withDefaults fills the fields a test left empty.
func (ft Fault) withDefaults() Fault {
	if ft.Status == 0 {
		ft.Status = http.StatusInternalServerError
	}
	if ft.Code == "" {
		ft.Code = defaultErrorCode(ft.Status)
	}
	if ft.Message == "" {
		ft.Message = http.StatusText(ft.Status)
	}
	if ft.RetryAfterHeader == "" {
		ft.RetryAfterHeader = "x-retry-after"
	}
	return ft
}

// defaultErrorCode names a status the way the service's codes read (§9).
func defaultErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "InvalidParameter"
	case http.StatusUnauthorized:
		return "AccessTokenInvalid"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusInternalServerError:
		return "InternalError"
	}
	if t := http.StatusText(status); t != "" {
		return strings.ReplaceAll(t, " ", "")
	}
	return "UnknownError"
}
