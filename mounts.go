package main

import (
	"fmt"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/redisstate"
	"github.com/alilink/alilink/mount"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

// mounts is what ALILINK_MOUNTS_FILE makes of an app: one aliclient.Account
// per account (one token chain, device session and governor however many
// mounts use it), one resolver per mount (its own caches: a file id is only
// unique within a drive), and the router in front of them.
type mounts struct {
	file     *mount.File
	accounts []*aliclient.Account
	mux      *mount.Mux
	// states are the accounts' Redis state (nil without ALILINK_REDIS_URL),
	// all on the connections of app.shared.
	states []*redisstate.State
}

// openMounts reads the mounts file and logs in to its accounts. Every
// failure is one line naming the file (and the account or mount).
func (a *app) openMounts() error {
	cfg := a.cfg
	f, err := mount.Load(cfg.MountsFile)
	if err != nil {
		return err
	}
	if err := f.Check(cfg.Client); err != nil {
		return err
	}
	for _, w := range f.Warnings {
		a.log.Warn(w)
	}
	for i, s := range f.Mounts {
		if door, variable := cfg.Streamer.DoorAt(s.Path); door != "" {
			fix := "turn the door off with " + variable + "=true"
			if variable == "ALILINK_DAV_PREFIX" {
				fix = "move WebDAV with " + variable + " (off turns it off)"
			}
			return fmt.Errorf("%s %s: mounts[%d] (path %q): %s answers there, so the mount would be out of reach; move the mount, or %s",
				mount.Variable, f.Path, i, s.Path, door, fix)
		}
		if s.Mode == "" {
			continue
		}
		sc := cfg.Streamer
		sc.Mode = s.Mode
		if err := sc.Validate(); err != nil {
			return fmt.Errorf("%s %s: mounts[%d] (path %q): mode %s: %v", mount.Variable, f.Path, i, s.Path, s.Mode, err)
		}
	}
	if cfg.RedisURL != "" {
		// One connection pool; each account's keys under its own prefix
		// (redisstate.AccountPrefix), so that replicas reading the same
		// file share one chain per account.
		st, err := redisstate.Open(cfg.RedisURL, cfg.RedisPrefix)
		if err != nil {
			return fmt.Errorf("ALILINK_REDIS_URL: %w", err)
		}
		a.shared = st
	}
	m := &mounts{file: f}
	a.mounts = m
	byName := map[string]*aliclient.Account{}
	stateOf := map[string]*redisstate.State{}
	for _, acc := range f.Accounts {
		acfg := f.AccountConfig(cfg.Client, acc.Name)
		deps := aliclient.Deps{Logger: a.log, Observer: newAccountObserver(a.obs.set, acc.Name)}
		if a.shared != nil {
			st := a.shared.WithPrefix(redisstate.AccountPrefix(cfg.RedisPrefix, acfg))
			deps.Shared, deps.Limiter, deps.ReplicaLease = st, st, cfg.RedisLease
			stateOf[acc.Name] = st
			m.states = append(m.states, st)
		}
		account, err := aliclient.NewAccount(acfg, deps)
		if err != nil {
			return fmt.Errorf("%s %s: %w", mount.Variable, f.Path, err)
		}
		byName[acc.Name] = account
		m.accounts = append(m.accounts, account)
	}
	var entries []mount.Entry
	for i, s := range f.Mounts {
		where := fmt.Sprintf("%s %s: mounts[%d] (path %q)", mount.Variable, f.Path, i, s.Path)
		account := byName[s.Account]
		var drive aliclient.Drive
		key := "drive-" + s.Drive
		switch {
		case s.ShareID != "":
			drive, err = account.Share(s.ShareID, s.SharePwd)
			key = "share-" + s.ShareID
		default:
			drive, err = account.Drive(s.Drive)
			if s.Drive == "" || s.Drive == aliclient.DriveDefault {
				key = "drive-" + aliclient.DriveBackup // the default drive is the backup drive (spec §16)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		rcfg := cfg.Resolver
		if s.RootFolderID != "" {
			rcfg.RootFolderID = s.RootFolderID
		}
		rdeps := resolver.Deps{Log: a.log.With("mount", s.Path), Observer: newMountObserver(a.obs.set, s.Path)}
		if st := stateOf[s.Account]; st != nil {
			// The links of each drive under keys of their own: two drives
			// (or a share) may hold equal file ids.
			rdeps.Shared = st.Sub(key)
		}
		res, err := resolver.New(rcfg, drive, rdeps)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		entries = append(entries, mount.Entry{Path: s.Path, Mode: s.Mode, ReadOnly: s.ReadOnly, Res: res})
	}
	if m.mux, err = mount.New(entries); err != nil {
		return fmt.Errorf("%s %s: %w", mount.Variable, f.Path, err)
	}
	return nil
}

// redisUp is 1 while every account's last Redis operation succeeded.
func (m *mounts) redisUp() float64 {
	for _, st := range m.states {
		if !st.Up() {
			return 0
		}
	}
	return 1
}

func (m *mounts) close() {
	for _, acc := range m.accounts {
		acc.Close()
	}
}

// davLockPrefix is where the replicas' WebDAV locks live: the locks are of
// the server's whole path space, shared by replicas of one mounts file.
func davLockPrefix(cfg Config) string {
	if cfg.MountsFile != "" {
		return cfg.RedisPrefix + ":mounts"
	}
	return redisstate.Prefix(cfg.RedisPrefix, cfg.Client.Driver, cfg.Client.ShareID)
}

var _ streamer.Resolver = (*mount.Mux)(nil)
var _ streamer.Mounts = (*mount.Mux)(nil)
