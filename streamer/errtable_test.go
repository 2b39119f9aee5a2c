package streamer

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestErrTable walks the error table: every kind answers a 4xx or 5xx with
// a message, through writeError and through the AList door, finds its own
// row (none is shadowed by an earlier one), and never shows the text of the
// error it answers (a token, a secret, a signature wrapped into it).
func TestErrTable(t *testing.T) {
	const secret = "s3cr3t-refresh-token-0123456789abcdef"
	s := &Server{log: slog.New(slog.DiscardHandler)}
	seen := map[error]int{}
	for i := range errTable {
		row := &errTable[i]
		if row.kind == nil {
			t.Fatalf("row %d has no kind", i)
		}
		if j, dup := seen[row.kind]; dup {
			t.Errorf("%v: rows %d and %d", row.kind, j, i)
		}
		seen[row.kind] = i
		if row.status < 400 || row.status > 599 {
			t.Errorf("%v: status %d", row.kind, row.status)
		}
		if strings.TrimSpace(row.msg) == "" {
			t.Errorf("%v: no message", row.kind)
		}
		if got := errRowOf(row.kind); got != row {
			t.Errorf("%v (row %d) is answered by the row of %v", row.kind, i, got.kind)
		}
		for j := range i {
			if errors.Is(row.kind, errTable[j].kind) {
				t.Errorf("%v (row %d) is also %v (row %d)", row.kind, i, errTable[j].kind, j)
			}
		}
		for _, err := range []error{
			fmt.Errorf("%w: refresh_token=%s", row.kind, secret),
			fmt.Errorf("calling the drive with Authorization: Bearer %s: %w", secret, row.kind),
			named(withHeader(fmt.Errorf("sign=%s: %w", secret, row.kind), "Allow", "GET"), "clip.mp4"),
		} {
			if got := errRowOf(err); got != row {
				t.Errorf("%q is answered by the row of %v, not %v", err, got.kind, row.kind)
			}
			var ctx fasthttp.RequestCtx
			s.writeError(&ctx, err)
			body := string(ctx.Response.Body())
			if row.status == StatusClientClosed {
				if body != "" || !ctx.Response.ConnectionClose() {
					t.Errorf("%v: a client gone got %q (close %v)", row.kind, body, ctx.Response.ConnectionClose())
				}
			} else {
				if ctx.Response.StatusCode() != row.status || strings.TrimSpace(body) == "" {
					t.Errorf("%v: answered %d %q, want %d and a message", row.kind, ctx.Response.StatusCode(), body, row.status)
				}
				if strings.Contains(body, secret) {
					t.Errorf("%v: the body shows the error: %q", row.kind, body)
				}
				if row.davCond != "" && !strings.Contains(body, `<D:error xmlns:D="DAV:"><D:`+row.davCond+`/></D:error>`) {
					t.Errorf("%v: not WebDAV's error body: %q", row.kind, body)
				}
			}
			code, msg := row.alist(err)
			if code < 400 || code > 599 || strings.TrimSpace(msg) == "" || strings.Contains(msg, secret) {
				t.Errorf("%v: AList answer %d %q", row.kind, code, msg)
			}
		}
	}
	// What no row names is the drive's failure, and still shows nothing.
	var ctx fasthttp.RequestCtx
	s.writeError(&ctx, fmt.Errorf("drive said: token %s expired", secret))
	if ctx.Response.StatusCode() != fasthttp.StatusBadGateway || strings.Contains(string(ctx.Response.Body()), secret) {
		t.Errorf("an unknown failure: %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}
