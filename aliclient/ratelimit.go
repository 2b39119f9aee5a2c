package aliclient

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/alilink/alilink/internal/wait"
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
	// replicas, when set, counts the account's calls across replicas; the
	// local buckets stand in while it is unreachable.
	replicas             ReplicaLimiter
	rList, rLink, rOther float64
}

// governed is the rate the buckets use for a quota of q calls a second:
// calls spaced at exactly the quota can still land two in one of the drive's
// one-second windows when a call is delayed on its way (a loaded host, the
// network). OpenList's Open driver runs at the quota less 0.1 (3.9/0.9/14.9);
// 2% less is kept where that is less, so the link class (1/s) has 111 ms of
// slack between calls, the list class 6 ms and the other class 1.4 ms.
func governed(q float64) float64 {
	if q > 0.2 {
		return min(q*0.98, q-0.1)
	}
	return q * 0.98
}

func newLimits(cfg Config) limits {
	rList, rLink, rOther := governed(cfg.RateList), governed(cfg.RateLink), governed(cfg.RateOther)
	return limits{
		list:  rate.NewLimiter(rate.Limit(rList), 1),
		link:  rate.NewLimiter(rate.Limit(rLink), 1),
		other: rate.NewLimiter(rate.Limit(rOther), 1),
		rList: rList, rLink: rLink, rOther: rOther,
	}
}

// wait takes a token for the call, or fails at once with ErrRateLimited (and
// the wait that would have been needed) when the caller's deadline comes first,
// so that the server can answer 503 with Retry-After instead of hanging.
func (l *limits) wait(ctx context.Context, ep *endpoint, obs Observer) error {
	var lim *rate.Limiter
	var class string
	var perSecond float64
	switch ep.class {
	case classList:
		lim, class, perSecond = l.list, "list", l.rList
	case classLink:
		lim, class, perSecond = l.link, "link", l.rLink
	case classOther:
		lim, class, perSecond = l.other, "other", l.rOther
	default:
		return nil
	}
	if l.replicas != nil {
		if err, ok := l.waitReplicas(ctx, ep, class, perSecond, obs); ok {
			return err
		}
	}
	r := lim.Reserve()
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if !fitsDeadline(ctx, d) {
		r.Cancel()
		obs.Waited(ep.name, "refused", d)
		return &APIError{Endpoint: ep.name, Code: "LocalRateLimit",
			Message: "this account's request budget is spent for now", RetryAfter: d, kind: ErrRateLimited}
	}
	obs.Waited(ep.name, "governor", d)
	if !wait.Sleep(ctx, d) {
		r.Cancel()
		return ctx.Err()
	}
	return nil
}

// waitReplicas takes a call from the replicas' common bucket; ok is false when
// the shared state is unreachable and the local bucket must decide.
func (l *limits) waitReplicas(ctx context.Context, ep *endpoint, class string, perSecond float64, obs Observer) (error, bool) {
	for {
		d, err := l.replicas.Take(ctx, class, perSecond)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err(), true
			}
			return nil, false
		}
		if d <= 0 {
			return nil, true
		}
		if !fitsDeadline(ctx, d) {
			obs.Waited(ep.name, "refused", d)
			return &APIError{Endpoint: ep.name, Code: "LocalRateLimit",
				Message: "this account's request budget is spent for now", RetryAfter: d, kind: ErrRateLimited}, true
		}
		obs.Waited(ep.name, "governor", d)
		if !wait.Sleep(ctx, d) {
			return ctx.Err(), true
		}
	}
}
