package aliclient

import "time"

// Observer is told about the client's work, for metrics. Its methods are
// called from many goroutines and must be cheap.
type Observer interface {
	// APICall reports one HTTP exchange with the drive: result is "ok", the
	// drive's error code (or "HTTP <status>" without one), or "transport".
	APICall(endpoint, result string, took time.Duration)
	// Waited reports a wait before a call: reason "429" (the drive asked) or
	// "governor" (our own bucket); refused waits are reported with reason
	// "refused" and the wait that would have been needed.
	Waited(endpoint, reason string, d time.Duration)
	// TokenRefreshed reports a token refresh: at is when the new access token
	// was issued (zero on failure).
	TokenRefreshed(at time.Time, err error)
}

type nopObserver struct{}

func (nopObserver) APICall(string, string, time.Duration) {}
func (nopObserver) Waited(string, string, time.Duration)  {}
func (nopObserver) TokenRefreshed(time.Time, error)       {}
