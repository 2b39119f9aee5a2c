// Package davlocks holds WebDAV lock systems that replicas share: the locks
// of golang.org/x/net/webdav's LockSystem kept in Redis, so that a lock one
// replica granted is honoured by all of them.
package davlocks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/net/webdav"
)

// Redis is a webdav.LockSystem in one Redis hash (token → lock). Every
// change is an optimistic transaction (WATCH, check, MULTI) over the whole
// hash, which holds only the live locks: a handful, short-lived. Unlike
// x/net/webdav's memory lock system it does not "hold" a lock for the time
// of a request (two requests with the same token may overlap); conflicts
// between different locks and tokens are checked as there.
type Redis struct {
	rdb     redis.UniversalClient
	key     string
	timeout time.Duration
}

var _ webdav.LockSystem = (*Redis)(nil)

// NewRedis keeps the locks under prefix + ":dav:locks".
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{rdb: rdb, key: prefix + ":dav:locks", timeout: 2 * time.Second}
}

// lock is one lock as stored.
type lock struct {
	Root      string `json:"root"`
	ZeroDepth bool   `json:"zero_depth"`
	OwnerXML  string `json:"owner,omitempty"`
	Duration  int64  `json:"duration"` // nanoseconds; negative: infinite
	Expires   int64  `json:"expires"`  // Unix nanoseconds; 0: never
}

func (l lock) live(now time.Time) bool { return l.Expires == 0 || now.UnixNano() < l.Expires }

func (l lock) details() webdav.LockDetails {
	return webdav.LockDetails{Root: l.Root, ZeroDepth: l.ZeroDepth, OwnerXML: l.OwnerXML, Duration: time.Duration(l.Duration)}
}

// covers tells whether the lock applies to name.
func (l lock) covers(name string) bool {
	return l.Root == name || (!l.ZeroDepth && isBelow(name, l.Root))
}

func isBelow(name, root string) bool {
	return root == "/" && name != "/" || strings.HasPrefix(name, root+"/")
}

// clean is x/net/webdav's slashClean.
func clean(name string) string {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	for strings.Contains(name, "//") {
		name = strings.ReplaceAll(name, "//", "/")
	}
	if len(name) > 1 {
		name = strings.TrimSuffix(name, "/")
	}
	return name
}

func (r *Redis) load(ctx context.Context, c redis.Cmdable) (map[string]lock, error) {
	raw, err := c.HGetAll(ctx, r.key).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]lock, len(raw))
	for tok, v := range raw {
		var l lock
		if json.Unmarshal([]byte(v), &l) == nil {
			out[tok] = l
		}
	}
	return out, nil
}

// update runs fn over the live locks and writes what it set and deleted,
// retrying when another replica changed the hash meanwhile.
func (r *Redis) update(now time.Time, fn func(locks map[string]lock) (set map[string]lock, del []string, err error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	for range 20 {
		err := r.rdb.Watch(ctx, func(tx *redis.Tx) error {
			all, err := r.load(ctx, tx)
			if err != nil {
				return err
			}
			var expired []string
			for tok, l := range all {
				if !l.live(now) {
					expired = append(expired, tok)
					delete(all, tok)
				}
			}
			set, del, err := fn(all)
			if err != nil {
				return err
			}
			del = append(del, expired...)
			if len(set) == 0 && len(del) == 0 {
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for tok, l := range set {
					b, _ := json.Marshal(l)
					p.HSet(ctx, r.key, tok, b)
				}
				if len(del) > 0 {
					p.HDel(ctx, r.key, del...)
				}
				return nil
			})
			return err
		}, r.key)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return redis.TxFailedErr
}

// Confirm implements webdav.LockSystem: every named resource must be
// covered by a lock whose token the conditions name.
func (r *Redis) Confirm(now time.Time, name0, name1 string, conditions ...webdav.Condition) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	all, err := r.load(ctx, r.rdb)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{name0, name1} {
		if name == "" {
			continue
		}
		name = clean(name)
		ok := false
		for _, c := range conditions {
			if l, found := all[c.Token]; found && l.live(now) && l.covers(name) {
				ok = true
				break
			}
		}
		if !ok {
			return nil, webdav.ErrConfirmationFailed
		}
	}
	return func() {}, nil
}

// Create implements webdav.LockSystem.
func (r *Redis) Create(now time.Time, d webdav.LockDetails) (string, error) {
	d.Root = clean(d.Root)
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b[:])
	tok := "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	l := lock{Root: d.Root, ZeroDepth: d.ZeroDepth, OwnerXML: d.OwnerXML, Duration: int64(d.Duration)}
	if d.Duration >= 0 {
		l.Expires = now.Add(d.Duration).UnixNano()
	}
	err := r.update(now, func(all map[string]lock) (map[string]lock, []string, error) {
		for _, o := range all {
			if o.Root == l.Root || (!o.ZeroDepth && isBelow(l.Root, o.Root)) || (!l.ZeroDepth && isBelow(o.Root, l.Root)) {
				return nil, nil, webdav.ErrLocked
			}
		}
		return map[string]lock{tok: l}, nil, nil
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// Refresh implements webdav.LockSystem.
func (r *Redis) Refresh(now time.Time, token string, duration time.Duration) (webdav.LockDetails, error) {
	var out webdav.LockDetails
	err := r.update(now, func(all map[string]lock) (map[string]lock, []string, error) {
		l, ok := all[token]
		if !ok {
			return nil, nil, webdav.ErrNoSuchLock
		}
		l.Duration, l.Expires = int64(duration), 0
		if duration >= 0 {
			l.Expires = now.Add(duration).UnixNano()
		}
		out = l.details()
		return map[string]lock{token: l}, nil, nil
	})
	return out, err
}

// Unlock implements webdav.LockSystem.
func (r *Redis) Unlock(now time.Time, token string) error {
	return r.update(now, func(all map[string]lock) (map[string]lock, []string, error) {
		if _, ok := all[token]; !ok {
			return nil, nil, webdav.ErrNoSuchLock
		}
		return nil, []string{token}, nil
	})
}
