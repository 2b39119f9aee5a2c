package redisstate

import "github.com/alilink/alilink/aliclient"

// AccountPrefix names the keys of one account (its token chain, refresh lock
// and rate buckets): base, then the account's state key and its kind of
// token, e.g. "alilink:account:bob:drive", so that replicas reading the same
// mounts file share one chain per account, however many drives and shares
// the account serves. The env-only account (no state key) keeps the names
// of Prefix, so an existing deployment keeps its chain.
func AccountPrefix(base string, cfg aliclient.Config) string {
	if cfg.StateKey == "" {
		return Prefix(base, cfg.Driver, cfg.ShareID)
	}
	kind := "drive" // the legacy token, of drivers drive and share
	if cfg.Driver == "open" {
		kind = "open"
	}
	return base + ":account:" + cfg.StateKey + ":" + kind
}

// WithPrefix is a State over the same connections with keys under prefix
// (e.g. AccountPrefix's), so that one Redis client serves every account of a
// mounts file. Close the parent, not the copy; its Up reports its own
// operations.
func (s *State) WithPrefix(prefix string) *State {
	c := &State{rdb: s.rdb, prefix: prefix, rate: s.rate}
	c.up.Store(true)
	return c
}

// Sub is a State over the same connections whose keys start with
// prefix ":" name, for state that must not mix between the drives of one
// account (each mount's links: file ids are only unique within a drive).
// Close the parent, not the Sub; a Sub's Up reports its own operations.
func (s *State) Sub(name string) *State { return s.WithPrefix(s.prefix + ":" + name) }
