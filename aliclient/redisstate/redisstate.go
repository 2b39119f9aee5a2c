// Package redisstate is the state that several alilink replicas of one account
// share in Redis (ALILINK_REDIS_URL): the token pair and its refresh lock
// (aliclient.ReplicaTokens), the account's rate buckets (aliclient.ReplicaLimiter)
// and the download links (resolver.SharedLinks).
//
// Keys, under a prefix naming the account (e.g. "alilink:drive"):
//
//	<p>:token          hash: refresh, access, issued, expires (Unix ms), dead
//	<p>:seeds          set of the SHA-256 of every configured token that seeded the chain
//	<p>:lock           the refresh lock, a random owner id with a lease (PX)
//	<p>:rate:<class>   GCRA state of a quota (go-redis/redis_rate)
//	<p>:link:<file id> a download link as JSON, expiring with the link (PX)
//	<p>:linklock:<id>  the lock of the replica asking the drive for that link
//
// The token key has no expiry: an eviction policy limited to volatile keys
// (k8s/redis.yaml) never drops it. The refresh token is a credential: Redis
// must not be reachable by anything but alilink.
package redisstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/alilink/alilink/aliclient"
)

// State is the shared state of one account. It is safe for concurrent use.
type State struct {
	rdb    *redis.Client
	prefix string
	rate   *redis_rate.Limiter
	up     atomic.Bool
}

// Open connects lazily: a Redis that is down at start is reported by Up and
// Ping, and alilink serves with what it has until it comes back.
func Open(url, prefix string) (*State, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	opt.MaxRetries = 1
	rdb := redis.NewClient(opt)
	s := &State{rdb: rdb, prefix: prefix, rate: redis_rate.NewLimiter(rdb)}
	s.up.Store(true)
	return s, nil
}

// Close closes the connections.
func (s *State) Close() error { return s.rdb.Close() }

// Up tells whether the last operation reached Redis.
func (s *State) Up() bool { return s.up.Load() }

// seen records whether an operation reached Redis (a missing key did).
func (s *State) seen(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		s.up.Store(true)
		return nil
	}
	s.up.Store(false)
	return err
}

// Ping implements aliclient.ReplicaTokens.
func (s *State) Ping(ctx context.Context) error {
	return s.seen(s.rdb.Ping(ctx).Err())
}

var _ aliclient.ReplicaTokens = (*State)(nil)
var _ aliclient.ReplicaLimiter = (*State)(nil)

// Load implements aliclient.ReplicaTokens.
func (s *State) Load(ctx context.Context) (aliclient.TokenState, bool, error) {
	m, err := s.rdb.HGetAll(ctx, s.prefix+":token").Result()
	if err := s.seen(err); err != nil {
		return aliclient.TokenState{}, false, err
	}
	if len(m) == 0 || m["refresh"] == "" {
		return aliclient.TokenState{}, false, nil
	}
	return aliclient.TokenState{
		Refresh: m["refresh"], Access: m["access"],
		Issued: fromMillis(m["issued"]), Expires: fromMillis(m["expires"]), Dead: m["dead"] == "1",
	}, true, nil
}

// seedScript starts a chain: when there is none, or when the seed is new (a
// token the user just configured). It answers the token in force.
var seedScript = redis.NewScript(`
local fresh = ARGV[2] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0
if fresh then redis.call('SADD', KEYS[2], ARGV[2]) end
if fresh or redis.call('HGET', KEYS[1], 'refresh') == false then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'refresh', ARGV[1], 'access', '', 'issued', 0, 'expires', 0, 'dead', 0)
end
return redis.call('HGET', KEYS[1], 'refresh')
`)

// Seed implements aliclient.ReplicaTokens.
func (s *State) Seed(ctx context.Context, refresh, seed string) (aliclient.TokenState, error) {
	err := seedScript.Run(ctx, s.rdb, []string{s.prefix + ":token", s.prefix + ":seeds"}, refresh, seed).Err()
	if err := s.seen(err); err != nil {
		return aliclient.TokenState{}, err
	}
	st, _, err := s.Load(ctx)
	return st, err
}

// releaseScript deletes a lock only if this owner still holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// lock takes key for lease with a random owner id.
func (s *State) lock(ctx context.Context, key string, lease time.Duration) (func(), bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	ok, err := s.rdb.SetNX(ctx, key, owner, lease).Result()
	if err := s.seen(err); err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		// The release must happen even when the caller's context ended.
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.seen(releaseScript.Run(c, s.rdb, []string{key}, owner).Err())
	}, true, nil
}

// Lock implements aliclient.ReplicaTokens.
func (s *State) Lock(ctx context.Context, lease time.Duration) (func(), bool, error) {
	return s.lock(ctx, s.prefix+":lock", lease)
}

// Store implements aliclient.ReplicaTokens.
func (s *State) Store(ctx context.Context, st aliclient.TokenState) error {
	dead := "0"
	if st.Dead {
		dead = "1"
	}
	err := s.rdb.HSet(ctx, s.prefix+":token", "refresh", st.Refresh, "access", st.Access,
		"issued", millis(st.Issued), "expires", millis(st.Expires), "dead", dead).Err()
	return s.seen(err)
}

// Take implements aliclient.ReplicaLimiter with GCRA (go-redis/redis_rate):
// perSecond is expressed per 1000 s so that fractional quotas (0.98/s) keep
// their precision; burst 1 as the local buckets.
func (s *State) Take(ctx context.Context, class string, perSecond float64) (time.Duration, error) {
	lim := redis_rate.Limit{Rate: int(math.Round(perSecond * 1000)), Burst: 1, Period: 1000 * time.Second}
	res, err := s.rate.Allow(ctx, s.prefix+":rate:"+class, lim)
	if err := s.seen(err); err != nil {
		return 0, err
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// linkJSON is a link as stored.
type linkJSON struct {
	URL     string `json:"url"`
	Referer string `json:"referer,omitempty"`
	Expires int64  `json:"expires"` // Unix ms
	Size    int64  `json:"size"`
	Hash    string `json:"hash,omitempty"`
	Part    string `json:"part,omitempty"`
}

// GetLink implements resolver.SharedLinks.
func (s *State) GetLink(ctx context.Context, fileID string) (aliclient.Link, bool, error) {
	raw, err := s.rdb.Get(ctx, s.prefix+":link:"+fileID).Bytes()
	if errors.Is(err, redis.Nil) {
		s.up.Store(true)
		return aliclient.Link{}, false, nil
	}
	if err := s.seen(err); err != nil {
		return aliclient.Link{}, false, err
	}
	var j linkJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return aliclient.Link{}, false, nil // a key we cannot read is a miss
	}
	return aliclient.Link{URL: j.URL, Referer: j.Referer, Expires: time.UnixMilli(j.Expires), Size: j.Size, ContentHash: j.Hash, Part: j.Part}, true, nil
}

// PutLink implements resolver.SharedLinks; the key expires after ttl.
func (s *State) PutLink(ctx context.Context, fileID string, l aliclient.Link, ttl time.Duration) error {
	raw, _ := json.Marshal(linkJSON{URL: l.URL, Referer: l.Referer, Expires: l.Expires.UnixMilli(), Size: l.Size, Hash: l.ContentHash, Part: l.Part})
	return s.seen(s.rdb.Set(ctx, s.prefix+":link:"+fileID, raw, ttl).Err())
}

// DeleteLink implements resolver.SharedLinks: an overwritten file's link is stale.
func (s *State) DeleteLink(ctx context.Context, fileID string) error {
	return s.seen(s.rdb.Del(ctx, s.prefix+":link:"+fileID).Err())
}

// LockLink implements resolver.SharedLinks.
func (s *State) LockLink(ctx context.Context, fileID string, lease time.Duration) (func(), bool, error) {
	return s.lock(ctx, s.prefix+":linklock:"+fileID, lease)
}

func millis(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func fromMillis(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// Prefix names an account's keys: the configured prefix, the driver, and
// for a share driver the share, so that accounts never mix.
func Prefix(base, driver, shareID string) string {
	p := fmt.Sprintf("%s:%s", base, driver)
	if driver == "share" {
		p += ":" + shareID
	}
	return p
}
