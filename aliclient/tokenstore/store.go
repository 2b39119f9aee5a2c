// Package tokenstore keeps the drive's rotating refresh token, and the access
// token issued with it, durably on disk in the state directory.
//
// The drive spends a refresh token the moment it answers a refresh (spec §1.1), so
// the new one must be durable before anything uses it: it is written to a temporary
// file in the state directory, fsynced, renamed over the old file and the directory
// fsynced. A crash at any point leaves either the old file or the new one, never a
// torn mix.
package tokenstore

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// ErrEmpty: neither a saved token nor a configured one exists.
var ErrEmpty = errors.New("no refresh token saved or configured")

// state is the file's content. Seed is the SHA-256 of the configured token that
// started this chain of rotations, so a restart can tell "the same, now spent,
// configured token" (use the saved one) from "a token the user pasted" (use it).
// Version 2 adds the access token the same refresh returned, with its issue
// and expiry times, so that a restart inside its life needs no refresh;
// version 1 files (refresh token only) load as before.
type state struct {
	Version       int       `json:"version"`
	RefreshToken  string    `json:"refresh_token"`
	AccessToken   string    `json:"access_token,omitempty"`
	AccessIssued  time.Time `json:"access_issued,omitzero"`
	AccessExpires time.Time `json:"access_expires,omitzero"`
	Seed          string    `json:"seed_sha256"`
	SavedAt       time.Time `json:"saved_at"`
}

// Tokens is what one refresh returned: the rotated refresh token and the
// access token with its life. Access may be empty (a login saves only the
// refresh token).
type Tokens struct {
	Refresh         string
	Access          string
	Issued, Expires time.Time
}

// Store is one token file. It is not safe for concurrent Save calls; its user
// serialises refreshes anyway.
type Store struct {
	dir  string
	path string
	fs   FS
	seed string // hex SHA-256 of the configured token of this chain
	// access is the saved access token of the chain Load chose, if any.
	access Tokens
}

// New returns the store for file name (e.g. "drive-token.json") in dir.
func New(dir, name string) *Store {
	return &Store{dir: dir, path: filepath.Join(dir, name), fs: osFS{}}
}

// WithFS swaps the file system, for tests that inject failures.
func (s *Store) WithFS(f FS) *Store {
	s.fs = f
	return s
}

// Seed is the SHA-256 (hex) of the configured token that started the saved
// chain, "" if none: replicas use it to tell a pasted token from an old one.
func (s *Store) Seed() string { return s.seed }

// Path is the token file's path, for messages.
func (s *Store) Path() string { return s.path }

// Load picks the refresh token to start with. configured is the token from the
// environment ("" if none). The saved token wins while configured is the one that
// seeded it; a different configured token replaces the saved chain.
func (s *Store) Load(configured string) (token string, fromState bool, err error) {
	if configured != "" {
		s.seed = seedOf(configured)
	}
	st, readErr := s.read(s.path)
	if rec, ok := s.recover(st); ok {
		st, readErr = rec, nil
	}
	switch {
	case errors.Is(readErr, fs.ErrNotExist):
		if configured == "" {
			return "", false, ErrEmpty
		}
		return configured, false, nil
	case readErr != nil:
		if configured == "" {
			return "", false, fmt.Errorf("token state %s is unreadable (%v); set the refresh token again", s.path, readErr)
		}
		return configured, false, nil
	}
	if configured == "" || subtle.ConstantTimeCompare([]byte(st.Seed), []byte(s.seed)) == 1 || st.RefreshToken == configured {
		s.seed = st.Seed
		s.access = Tokens{Refresh: st.RefreshToken, Access: st.AccessToken, Issued: st.AccessIssued, Expires: st.AccessExpires}
		return st.RefreshToken, true, nil
	}
	return configured, false, nil
}

// Saved returns the tokens saved with the refresh token Load chose, access
// token included, when Load took the saved chain; ok is false otherwise (no
// file, an older file without an access token, or a newly configured token,
// whose chain the saved access token does not belong to).
func (s *Store) Saved() (Tokens, bool) {
	return s.access, s.access.Access != "" && !s.access.Expires.IsZero()
}

func (s *Store) read(name string) (state, error) {
	raw, err := s.fs.ReadFile(name)
	if err != nil {
		return state{}, err
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, errors.New("not valid JSON")
	}
	if st.RefreshToken == "" {
		return state{}, errors.New("no token in it")
	}
	return st, nil
}

// recover finishes a Save that a crash interrupted between writing the temporary
// file and renaming it. Such a file holds the newest token (the drive has already
// spent the one in the state file), so a whole one newer than the state is moved
// into place; torn or older ones are deleted.
func (s *Store) recover(cur state) (state, bool) {
	temps, _ := filepath.Glob(filepath.Join(s.dir, ".token-*.tmp"))
	best, bestName := cur, ""
	for _, name := range temps {
		st, err := s.read(name)
		if err == nil && st.SavedAt.After(best.SavedAt) && (cur.Seed == "" || st.Seed == cur.Seed) {
			best, bestName = st, name
		}
	}
	for _, name := range temps {
		if name != bestName {
			_ = s.fs.Remove(name)
		}
	}
	if bestName == "" {
		return state{}, false
	}
	if err := s.fs.Rename(bestName, s.path); err != nil {
		return best, true // use it anyway; the next Save rewrites the file
	}
	_ = s.fs.SyncDir(s.dir)
	return best, true
}

// Save durably replaces the saved token with a refresh token alone (a
// login). On error the previous file is intact.
func (s *Store) Save(token string) error { return s.SaveTokens(Tokens{Refresh: token}) }

// SaveTokens durably replaces the saved tokens with the pair one refresh
// returned, in one write: the file never holds a refresh token with an
// access token of another refresh. The file is created with mode 0600 (it
// holds credentials). On error the previous file is intact.
func (s *Store) SaveTokens(t Tokens) error {
	if err := s.fs.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create state dir %s: %w", s.dir, err)
	}
	st := state{Version: 2, RefreshToken: t.Refresh, Seed: s.seed, SavedAt: time.Now().UTC()}
	if t.Access != "" {
		st.AccessToken, st.AccessIssued, st.AccessExpires = t.Access, t.Issued.UTC(), t.Expires.UTC()
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f, err := s.fs.CreateTemp(s.dir, ".token-*.tmp")
	if err != nil {
		return fmt.Errorf("write token state in %s: %w", s.dir, err)
	}
	tmp := f.Name()
	fail := func(step string, err error) error {
		_ = f.Close()
		_ = s.fs.Remove(tmp)
		return fmt.Errorf("write token state %s: %s: %w", s.path, step, err)
	}
	if _, err := f.Write(raw); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync", err)
	}
	if err := f.Close(); err != nil {
		_ = s.fs.Remove(tmp)
		return fmt.Errorf("write token state %s: close: %w", s.path, err)
	}
	if err := s.fs.Rename(tmp, s.path); err != nil {
		_ = s.fs.Remove(tmp)
		return fmt.Errorf("write token state %s: rename: %w", s.path, err)
	}
	// The rename is durable only once the directory entry is; a failure here
	// leaves the new file in place, which is what we want, but say so.
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("write token state %s: fsync dir: %w", s.path, err)
	}
	return nil
}

func seedOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
