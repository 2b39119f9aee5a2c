package aliclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel kinds of failure. Every error this package returns wraps one of them
// (or a context error), so callers decide with errors.Is and never parse text.
var (
	// ErrNotFound: the file or folder does not exist.
	ErrNotFound = errors.New("not found")
	// ErrIsFolder: a file operation (a download link) was asked of a folder.
	ErrIsFolder = errors.New("is a folder")
	// ErrNotFolder: a folder operation (a listing) was asked of a file.
	ErrNotFolder = errors.New("not a folder")
	// ErrTokenDead: the refresh token was refused; only a new token helps.
	ErrTokenDead = errors.New("refresh token rejected by the drive")
	// ErrBadApp: the Open platform refused the app itself (InvalidClientId,
	// InvalidClientSecret, AppNotExists, spec §13.3): the operator's
	// configuration is wrong, not the login; the message names the variable.
	ErrBadApp = errors.New("the Open platform refused the app's credentials")
	// ErrNoToken: no refresh token is configured or saved.
	ErrNoToken = errors.New("no refresh token")
	// ErrUnauthorized: the drive refused the access token even after a refresh.
	ErrUnauthorized = errors.New("drive refused the access token")
	// ErrDeviceSession: the device session could not be established.
	ErrDeviceSession = errors.New("device session refused")
	// ErrShareToken: the share token expired or was refused; a new one helps.
	ErrShareToken = errors.New("share token refused")
	// ErrRateLimited: the drive (or our own governor) says wait; see RetryAfter.
	ErrRateLimited = errors.New("drive rate limit")
	// ErrForbidden: the drive refuses the operation on this item.
	ErrForbidden = errors.New("forbidden by the drive")
	// ErrUpstream: the drive failed or answered something unusable.
	ErrUpstream = errors.New("drive error")
)

// APIError is one refusal from the drive: its HTTP status and {code, message}.
// It unwraps to the sentinel its code maps to.
type APIError struct {
	Endpoint   string
	HTTPStatus int
	Code       string
	Message    string
	// RetryAfter is the wait the drive asked for on a 429 (0 if unknown).
	RetryAfter time.Duration
	kind       error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("aliyundrive")
	if e.Endpoint != "" {
		b.WriteString(" " + e.Endpoint)
	}
	if e.HTTPStatus != 0 {
		b.WriteString(": HTTP " + strconv.Itoa(e.HTTPStatus))
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Unwrap exposes the sentinel kind.
func (e *APIError) Unwrap() error { return e.kind }

// RetryAfter reports how long the drive asked us to wait, for a 503's Retry-After.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && errors.Is(ae.kind, ErrRateLimited) {
		return ae.RetryAfter, true
	}
	return 0, false
}

// decodeError turns a non-2xx answer into an *APIError: the one place that reads
// the drive's error codes (spec §9).
func decodeError(endpoint string, status int, header http.Header, body []byte) *APIError {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body without {code,message} still yields an error by status
	e := &APIError{Endpoint: endpoint, HTTPStatus: status, Code: eb.Code, Message: sanitizeMessage(eb.Message)}
	e.kind = kindOf(status, eb.Code)
	if k := tokenKind(endpoint, eb.Code); k != nil {
		e.kind = k
	}
	// The drive lost the device: told only by the text, whatever the code
	// (spec §13.6; aligo matches it in the body).
	if status == http.StatusBadRequest && bytes.Contains(body, []byte("not found device info")) {
		e.kind = ErrDeviceSession
	}
	if errors.Is(e.kind, ErrRateLimited) {
		e.RetryAfter = retryAfterHeader(header, time.Now())
	}
	return e
}

// kindOf maps a status and code to a sentinel.
func kindOf(status int, code string) error {
	switch {
	case code == "TooManyRequests" || status == http.StatusTooManyRequests:
		return ErrRateLimited
	case code == "InvalidParameter.RefreshToken" || code == "InvalidParameterMissing.RefreshToken" ||
		code == "RefreshTokenExpired":
		return ErrTokenDead
	case code == "AccessTokenInvalid" || code == "AccessTokenExpired" || code == "I400JD":
		return ErrUnauthorized
	case code == "DeviceSessionSignatureInvalid" || code == "UserDeviceOffline" || code == "UserDeviceIllegality":
		return ErrDeviceSession
	case code == "ShareLinkTokenInvalid":
		return ErrShareToken
	case code == "InvalidResource.FileTypeFolder":
		return ErrIsFolder
	case strings.HasPrefix(code, "InvalidResource.FileTypeFile"):
		return ErrNotFolder
	case strings.HasPrefix(code, "NotFound") || status == http.StatusNotFound:
		return ErrNotFound
	case strings.HasPrefix(code, "Forbidden") || status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	default:
		return ErrUpstream
	}
}

// tokenKind classifies the refusals of the token endpoints (legacy, Open, a
// broker relaying the Open answer), whose codes mean something else there:
// AccessDenied "invalid token", RefreshTokenExpired, RefreshTokenInvalid,
// PermissionDenied and the legacy InvalidParameter.RefreshToken all say
// "log in again" (spec §13.3); InvalidClientId, InvalidClientSecret and
// AppNotExists say the app is misconfigured. nil: not a token refusal.
func tokenKind(endpoint, code string) error {
	if endpoint != epToken.name && endpoint != epOpenToken.name {
		return nil
	}
	switch code {
	case "AccessDenied", "RefreshTokenExpired", "RefreshTokenInvalid", "PermissionDenied",
		"InvalidParameter.RefreshToken", "InvalidParameterMissing.RefreshToken":
		return ErrTokenDead
	case "InvalidClientId", "InvalidClientSecret", "AppNotExists":
		return ErrBadApp
	}
	return nil
}

// retryAfterHeader reads the wait a 429 asks for; 0 means not given. The
// drive's x-retry-after is in milliseconds (spec §13.1: "wait x-retry-after
// milliseconds"); the standard Retry-After, which a broker or gateway may
// send, is seconds or an HTTP date and counts only without x-retry-after.
func retryAfterHeader(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("X-Retry-After")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < maxRetryAfterMillis {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if sec, err := strconv.ParseFloat(v, 64); err == nil && sec >= 0 && sec < maxRetryAfterMillis/1000 {
		return time.Duration(sec * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// maxRetryAfterMillis bounds what a header may ask for (a day) so that a
// silly value cannot overflow a Duration; the caller's deadline bounds the
// actual wait anyway.
const maxRetryAfterMillis = 24 * 3600 * 1000

// sanitizeMessage keeps the drive's message readable and safe to log: bounded in
// length, printable, and with anything shaped like a token (a long run of token
// characters) replaced, in case a message ever echoes one.
func sanitizeMessage(s string) string {
	const maxLen = 200
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	var b strings.Builder
	run := 0
	flush := func(word string) {
		if run >= 32 {
			b.WriteString("[redacted]")
		} else {
			b.WriteString(word)
		}
	}
	start := 0
	for i, r := range s {
		if isTokenRune(r) {
			if run == 0 {
				start = i
			}
			run++
			continue
		}
		if run > 0 {
			flush(s[start:i])
			run = 0
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	if run > 0 {
		flush(s[start:])
	}
	return b.String()
}

func isTokenRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '_' || r == '.' || r == '+' || r == '/' || r == '='
}

// errorf wraps a sentinel with context, for failures that are ours rather than the drive's.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind)
}

// ErrDriveFull: the user's drive has no room (QuotaExhausted.Drive,
// ExceedCapacityForbidden, spec §14.8); the share driver copies every file it
// plays into it (spec §15.2).
var ErrDriveFull = errors.New("the drive is full")
