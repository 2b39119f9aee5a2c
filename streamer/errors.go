package streamer

import (
	"context"
	"errors"
	"math"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/sign"
)

// StatusClientClosed is nginx's 499: the client went away; it is logged, never sent.
const StatusClientClosed = 499

// httpStatus is the one map from failure kinds to HTTP statuses.
func httpStatus(err error) int {
	switch {
	case errors.Is(err, resolver.ErrBadPath):
		return fasthttp.StatusBadRequest
	case errors.Is(err, sign.ErrMissing):
		return fasthttp.StatusUnauthorized
	case errors.Is(err, sign.ErrInvalid), errors.Is(err, sign.ErrExpired):
		return fasthttp.StatusForbidden
	case errors.Is(err, resolver.ErrReadOnly): // a read-only mount (mounts.go)
		return fasthttp.StatusForbidden
	case errors.Is(err, resolver.ErrNotFound):
		return fasthttp.StatusNotFound
	case errors.Is(err, resolver.ErrRateLimited), errors.Is(err, errStreamsFull), errors.Is(err, errCDNBusy):
		return fasthttp.StatusServiceUnavailable
	case errors.Is(err, resolver.ErrDriveFull):
		return fasthttp.StatusInsufficientStorage
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		return fasthttp.StatusGatewayTimeout
	default: // the drive failed, refused our token, or answered nonsense
		return fasthttp.StatusBadGateway
	}
}

// publicMessage is what a client reads: fixed text per kind, never err.Error(),
// so nothing from the drive (or a token) reaches a response body.
func publicMessage(err error, status int) string {
	switch {
	case status == fasthttp.StatusBadRequest:
		return "bad path"
	case errors.Is(err, sign.ErrMissing):
		return "sign missing: this server needs a signed link (?sign=…)"
	case errors.Is(err, sign.ErrExpired):
		return "sign expired"
	case errors.Is(err, sign.ErrInvalid):
		return "sign invalid"
	case errors.Is(err, resolver.ErrReadOnly):
		return "read-only: nothing is written here (a read-only mount, or outside every mount)"
	case status == fasthttp.StatusNotFound:
		return "not found"
	case errors.Is(err, errStreamsFull):
		return "too many streams are running; retry later"
	case errors.Is(err, errCDNBusy):
		return "the drive's CDN is busy; retry later"
	case status == fasthttp.StatusServiceUnavailable:
		return "the drive is rate limiting requests; retry later"
	case status == fasthttp.StatusGatewayTimeout:
		return "the drive did not answer in time"
	case errors.Is(err, resolver.ErrDriveFull):
		return "your drive is full (QuotaExhausted.Drive): the share driver copies each file it plays into your drive; free space there"
	case errors.Is(err, resolver.ErrTokenDead):
		return "the drive rejected alilink's refresh token; the operator must set a new one"
	case errors.Is(err, resolver.ErrLinkTooShort):
		return "the drive's download links expire too soon for the configured margin"
	case errors.Is(err, errChanged):
		return "the file changed on the drive while it was being read"
	case errors.Is(err, errLinkRefused), errors.Is(err, errCDN):
		return "the drive's CDN failed to serve the file"
	default:
		return "the drive failed to answer"
	}
}

// writeError answers a failure before any header went out.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error) {
	status := httpStatus(err)
	if status == StatusClientClosed {
		ctx.SetConnectionClose()
		return
	}
	if status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	}
	if status >= 500 {
		s.log.Warn("request failed", "path", string(ctx.Path()), "status", status, "err", err)
	} else {
		s.log.Debug("request refused", "status", status, "err", err)
	}
	writeText(ctx, status, publicMessage(err, status))
}

// maxRetryAfter caps the Retry-After we send. The drive's wait for its quota
// is a second or so (x-retry-after is milliseconds, spec §13.1), and a
// client told to come back in minutes (a misread header, a CDN or gateway
// asking for an hour) gives up on a file it could play a moment later; our
// own governor refuses again, cheaply, if the client is early.
const maxRetryAfter = 5

// retryAfter is the Retry-After of a 503, in whole seconds within
// [1, maxRetryAfter]: the drive's or the CDN's own wait when they gave one.
func retryAfter(err error) int {
	var busy *busyError
	if errors.As(err, &busy) {
		return min(busy.seconds(), maxRetryAfter)
	}
	if errors.Is(err, errStreamsFull) {
		return 2 // a guess: streams end at their own pace
	}
	d, _ := resolver.RetryAfter(err)
	return min(max(1, int(math.Ceil(d.Seconds()))), maxRetryAfter)
}

func writeText(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(status)
	ctx.SetBodyString(msg + "\n")
}
