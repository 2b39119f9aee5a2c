package streamer

import (
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Mounts is what a resolver over several mounts (package mount's Mux) tells
// the streamer besides being a Resolver. The server finds it by a type
// assertion: over a plain resolver (no mounts file) nothing changes, the
// metrics' names and labels included.
type Mounts interface {
	// ModeFor is the mode of the mount serving the clean path p; "" is the
	// server's (ALILINK_MODE).
	ModeFor(p string) string
	// ReadOnlyAt tells whether a write at p is refused whatever the drive
	// could do (a read-only mount, a path outside every mount).
	ReadOnlyAt(p string) bool
	// MountOf is the index in Paths of the mount serving p, -1 for none.
	MountOf(p string) int
	// Paths are the mount paths, which label the metrics (mount="/Movies").
	Paths() []string
}

// modeFor is the mode a drive path is answered in.
func (s *Server) modeFor(p string) string {
	if s.mounts != nil {
		if mode := s.mounts.ModeFor(p); mode != "" {
			return mode
		}
	}
	return s.cfg.Mode
}

// readOnlyAt tells whether the mount of p refuses writes (never without mounts).
func (s *Server) readOnlyAt(p string) bool {
	return s.mounts != nil && s.mounts.ReadOnlyAt(p)
}

// useMounts keeps the resolver's Mounts (found once, not per request) and
// labels the request metrics with the mount each request went to, when the
// resolver has mounts. A WebDAV path is judged without its prefix;
// alilink's own endpoints (/-/, the AList API) are no mount's, even with a
// mount at /.
func (s *Server) useMounts() {
	m, ok := s.res.(Mounts)
	if !ok {
		return
	}
	s.mounts = m
	s.obs.labelMounts(m.Paths(), func(p string) int {
		if strings.HasPrefix(p, "/-/") || s.alist != nil && (strings.HasPrefix(p, "/api/") || p == "/ping") {
			return -1
		}
		if s.dav != nil {
			if rest, ok := strings.CutPrefix(p, s.dav.prefix); ok && (rest == "" || rest[0] == '/') {
				p = "/" + strings.TrimPrefix(rest, "/")
			}
		}
		return m.MountOf(p)
	})
}

// labelMounts makes every request counter carry a mount label: the path of
// the mount the request went to, "" for none (the /-/ endpoints, the folders
// listing the mounts, a path outside every mount).
func (o *observer) labelMounts(paths []string, mountOf func(p string) int) {
	o.mountOf = mountOf
	o.mountLabels = make([]string, len(paths)+1)
	for i, p := range paths {
		o.mountLabels[i+1] = promLabel(p)
	}
	o.byMount = make([][nActions][600]atomic.Pointer[metrics.Counter], len(paths)+1)
}

// requestAt counts one answer for the clean (or logged) path p.
func (o *observer) requestAt(p string, act, status int) {
	if o.mountOf == nil {
		o.request(act, status)
		return
	}
	o.count(o.mountOf(p), act, status)
}

// count counts one answer of mount m (-1: none) when the counters carry mounts.
func (o *observer) count(m, act, status int) {
	if status < 100 || status >= 600 {
		status = 599
	}
	slot := &o.byMount[m+1][act][status]
	c := slot.Load()
	if c == nil {
		c = o.set.GetOrCreateCounter(`alilink_requests_total{action="` + actionNames[act] + `",status="` + strconv.Itoa(status) +
			`",mount="` + o.mountLabels[m+1] + `"}`)
		slot.Store(c)
	}
	c.Inc()
}

// promLabel escapes a label value for the Prometheus text format.
func promLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
