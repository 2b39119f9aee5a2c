package aliclient

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// rateClass is one of the drive's per-account quotas (spec §3.4).
type rateClass int

const (
	classNone rateClass = iota
	classList
	classLink
	classOther
)

// limits are the client-side token buckets of one account: list, link and other
// calls, burst 1 as AList does, so the drive never sees more than its quota and
// answers 429 only when someone else shares the account.
type limits struct {
	list, link, other *rate.Limiter
}

// governed is the share of a quota the buckets use: calls spaced at exactly
// the quota can still land two in one of the drive's one-second windows when
// clocks jitter (OpenList runs at 3.9/0.9/14.9 for the same reason).
const governed = 0.98

func newLimits(cfg Config) limits {
	return limits{
		list:  rate.NewLimiter(rate.Limit(cfg.RateList*governed), 1),
		link:  rate.NewLimiter(rate.Limit(cfg.RateLink*governed), 1),
		other: rate.NewLimiter(rate.Limit(cfg.RateOther*governed), 1),
	}
}

// wait takes a token for the call, or fails at once with ErrRateLimited (and
// the wait that would have been needed) when the caller's deadline comes first,
// so that the server can answer 503 with Retry-After instead of hanging.
func (l *limits) wait(ctx context.Context, ep *endpoint) error {
	var lim *rate.Limiter
	switch ep.class {
	case classList:
		lim = l.list
	case classLink:
		lim = l.link
	case classOther:
		lim = l.other
	default:
		return nil
	}
	r := lim.Reserve()
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if !fitsDeadline(ctx, d) {
		r.Cancel()
		return &APIError{Endpoint: ep.name, Code: "LocalRateLimit",
			Message: "this account's request budget is spent for now", RetryAfter: d, kind: ErrRateLimited}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}
