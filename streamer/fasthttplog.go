package streamer

import (
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
)

// slogPrinter routes fasthttp's own log lines into slog. fasthttp puts pieces
// of the raw request into them (on a malformed request the whole header
// buffer: Authorization, Cookie, X-Emby-Token, a query's sign, percent-encoded
// or not), so every argument but an address is redacted before it is
// formatted: quoted text (fasthttp quotes what it copies from the request),
// buffer contents and query strings go.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case net.Addr:
			safe[i] = a.String()
		case int, int64, uint64, uint, int32, uint32, float64, bool:
			safe[i] = a
		default:
			safe[i] = redactLog(fmt.Sprint(a))
		}
	}
	// The format is fasthttp's own constant text.
	p.log.Warn(fmt.Sprintf(format, safe...), "component", "fasthttp")
}

// logRedactions are compiled on the first fasthttp message, not at start.
var logRedactions = sync.OnceValue(func() (r struct{ quotedText, queryText, signValue *regexp.Regexp }) {
	// quotedText is Go-quoted text, or an opening quote and the rest.
	r.quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"?`)
	// queryText is a query string, encoded or not.
	r.queryText = regexp.MustCompile(`\?\S*`)
	r.signValue = regexp.MustCompile(`(?i)(sign|%73ign|s%69gn|si%67n|sig%6[eE])=\S*`)
	return r
})

// redactLog keeps the shape of a fasthttp message and drops whatever came
// from the request.
func redactLog(s string) string {
	if i := strings.Index(s, "contents:"); i >= 0 {
		s = s[:i] + "contents: [redacted]"
	}
	r := logRedactions()
	s = r.quotedText.ReplaceAllString(s, `"[redacted]"`)
	s = r.queryText.ReplaceAllString(s, "?[redacted]")
	return r.signValue.ReplaceAllString(s, "sign=[redacted]")
}
