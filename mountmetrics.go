package main

import (
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

// With a mounts file the metrics say whose they are: the client's (drive
// calls, waits, refreshes, token age) carry account="<name>", the
// resolver's (cache lookups, resolve latency) mount="<path>", as the
// streamer's request counters do. Without the file no label is added.

// newAccountObserver is the observer of one account's client.
func newAccountObserver(set *metrics.Set, name string) *observer {
	o := newLabelledObserver(set, `,account="`+promLabel(name)+`"`)
	o.tokenAge()
	return o
}

// newMountObserver is the observer of one mount's resolver.
func newMountObserver(set *metrics.Set, path string) *observer {
	o := newLabelledObserver(set, `,mount="`+promLabel(path)+`"`)
	o.cacheCounters()
	return o
}

// promLabel escapes a label value for the Prometheus text format.
func promLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
