package main

import (
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// observer turns what the client and the resolver report into metrics, all
// named alilink_*, in the set that /-/metrics serves. (VictoriaMetrics/metrics:
// small, no dependencies, no global registry needed, writes the Prometheus
// text format; prometheus/client_golang would bring a protobuf stack along.)
type observer struct {
	set         *metrics.Set
	now         func() time.Time
	lastRefresh atomic.Int64 // Unix nanoseconds of the current access token
	// labels is added to every metric's labels: "" without a mounts file,
	// `,mount="/Movies"` for a mount's resolver, `,account="bob"` for an
	// account's client (mountmetrics.go).
	labels string

	pathHit, pathMiss, listHit, listMiss, linkHit, linkMiss *metrics.Counter
}

func newObserver(set *metrics.Set) *observer {
	o := newLabelledObserver(set, "")
	o.cacheCounters()
	o.tokenAge()
	return o
}

// newLabelledObserver is an observer whose metrics carry labels too
// (`,name="value"`, escaped), with neither cache counters nor token age.
func newLabelledObserver(set *metrics.Set, labels string) *observer {
	return &observer{set: set, now: time.Now, labels: labels}
}

// cacheCounters makes the counters Cache counts in.
func (o *observer) cacheCounters() {
	c := func(cache, result string) *metrics.Counter {
		return o.set.NewCounter(`alilink_cache_lookups_total{cache="` + cache + `",result="` + result + `"` + o.labels + `}`)
	}
	o.pathHit, o.pathMiss = c("path", "hit"), c("path", "miss")
	o.listHit, o.listMiss = c("list", "hit"), c("list", "miss")
	o.linkHit, o.linkMiss = c("link", "hit"), c("link", "miss")
}

// tokenAge makes the gauge of the access token's age.
func (o *observer) tokenAge() {
	age := "alilink_token_age_seconds"
	if o.labels != "" {
		age += "{" + o.labels[1:] + "}"
	}
	o.set.NewGauge(age, func() float64 {
		if at := o.lastRefresh.Load(); at != 0 {
			return o.now().Sub(time.Unix(0, at)).Seconds()
		}
		return 0
	})
}

// Cache implements resolver.Observer, without an allocation: it runs for
// every request.
func (o *observer) Cache(name string, hit bool) {
	var c *metrics.Counter
	switch {
	case name == "path" && hit:
		c = o.pathHit
	case name == "path":
		c = o.pathMiss
	case name == "list" && hit:
		c = o.listHit
	case name == "list":
		c = o.listMiss
	case name == "link" && hit:
		c = o.linkHit
	case name == "link":
		c = o.linkMiss
	default:
		return
	}
	if c != nil {
		c.Inc()
	}
}

// Fetched implements resolver.Observer: the resolve latency behind misses.
func (o *observer) Fetched(kind string, took time.Duration, err error) {
	o.set.GetOrCreatePrometheusHistogram(`alilink_resolve_duration_seconds{kind="` + kind + `",result="` + result(err) + `"` + o.labels + `}`).Update(took.Seconds())
}

// APICall implements aliclient.Observer.
func (o *observer) APICall(endpoint, res string, took time.Duration) {
	o.set.GetOrCreateCounter(`alilink_drive_calls_total{endpoint="` + endpoint + `",result="` + escapeLabel(res) + `"` + o.labels + `}`).Inc()
	o.set.GetOrCreatePrometheusHistogram(`alilink_drive_call_duration_seconds{endpoint="` + endpoint + `"` + o.labels + `}`).Update(took.Seconds())
	if res == "TooManyRequests" || res == "HTTP 429" {
		o.set.GetOrCreateCounter(`alilink_drive_429_total{endpoint="` + endpoint + `"` + o.labels + `}`).Inc()
	}
}

// Waited implements aliclient.Observer.
func (o *observer) Waited(endpoint, reason string, d time.Duration) {
	o.set.GetOrCreateCounter(`alilink_rate_waits_total{endpoint="` + endpoint + `",reason="` + reason + `"` + o.labels + `}`).Inc()
	o.set.GetOrCreateFloatCounter(`alilink_rate_wait_seconds_total{endpoint="` + endpoint + `",reason="` + reason + `"` + o.labels + `}`).Add(d.Seconds())
}

// TokenRefreshed implements aliclient.Observer.
func (o *observer) TokenRefreshed(at time.Time, err error) {
	o.set.GetOrCreateCounter(`alilink_token_refreshes_total{result="` + result(err) + `"` + o.labels + `}`).Inc()
	if err == nil {
		o.lastRefresh.Store(at.UnixNano())
	}
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// escapeLabel keeps a label value to a safe alphabet: drive error codes are
// letters, digits, dots and spaces; anything else becomes "_".
func escapeLabel(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ' ' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}
