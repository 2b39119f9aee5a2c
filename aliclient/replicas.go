package aliclient

import (
	"context"
	"errors"
	"time"
)

// Several replicas of alilink can serve one account (ALILINK_REDIS_URL). The
// refresh token rotates on every refresh, so two replicas that refresh on
// their own spend each other's token: with ReplicaTokens exactly one replica
// refreshes at a time, under a lock with a lease, and the rotated pair is
// stored in the shared state before anyone uses it; the others read it.
// With ReplicaLimiter the per-account quotas are counted across replicas.

// TokenState is the account's token state as the replicas share it.
type TokenState struct {
	Refresh string
	Access  string
	Expires time.Time // of Access
	Issued  time.Time // of Access
	// Dead marks a refresh token the drive refused, so that no replica tries it again.
	Dead bool
}

// ReplicaTokens is the shared token state (implemented on Redis by
// aliclient/redisstate). Every method fails when the state is unreachable.
type ReplicaTokens interface {
	// Load reads the state; ok is false when there is none yet.
	Load(ctx context.Context) (st TokenState, ok bool, err error)
	// Seed starts the state with this replica's refresh token when there is
	// none, or when seed (the SHA-256 of a configured token) was never seen
	// before (a token the user just pasted replaces the chain once, not every
	// time an older replica starts). It returns the state now in force.
	Seed(ctx context.Context, refresh, seed string) (TokenState, error)
	// Lock takes the refresh lock for lease; release gives it back (a replica
	// that dies holding it loses it when the lease ends).
	Lock(ctx context.Context, lease time.Duration) (release func(), ok bool, err error)
	// Store saves a rotated pair (or a dead mark); the caller holds the lock.
	Store(ctx context.Context, st TokenState) error
	// Ping tells whether the shared state is reachable now.
	Ping(ctx context.Context) error
}

// ReplicaLimiter counts an account's calls across replicas.
type ReplicaLimiter interface {
	// Take asks for one call of class ("list", "link", "other") at perSecond;
	// wait is 0 when the call may go now, else how long until it may.
	Take(ctx context.Context, class string, perSecond float64) (wait time.Duration, err error)
}

// ErrSharedDown: the shared state is unreachable and this replica has no
// usable token of its own; it will not refresh alone (that could spend the
// token the others rely on).
var ErrSharedDown = errors.New("shared token state unreachable")

// defaultReplicaLease is how long a replica may hold the refresh lock: long
// enough for a refresh with retries, short enough that a dead holder is
// replaced soon.
const defaultReplicaLease = 15 * time.Second
