// Package htpasswd checks user names and passwords against an htpasswd file
// of bcrypt hashes (htpasswd -B: the nginx, Caddy and rclone convention). It
// is shared by the front doors that log users in (WebDAV's Basic auth, the
// AList API's /api/auth/login).
package htpasswd

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/crypto/bcrypt"
)

// File is a loaded htpasswd file. A bcrypt check costs tens of milliseconds
// and clients send the same credentials with every request, so a verified
// pair is remembered, as a SHA-256 of both, never in clear, for a few minutes.
type File struct {
	users    map[string][]byte // user → bcrypt hash
	verified *lru.Cache[[32]byte, time.Time]
}

// verifiedTTL is how long a verified pair is not checked again.
const verifiedTTL = 5 * time.Minute

// ErrEmpty: the file holds no user.
var ErrEmpty = errors.New("holds no user")

// Load reads "user:hash" lines (blank lines and # comments skipped); only
// bcrypt hashes ($2y$, $2a$, $2b$) are accepted. Errors name the line, never
// a hash.
func Load(file string) (*File, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse is Load of the file's content.
func Parse(b []byte) (*File, error) {
	f := &File{users: map[string][]byte{}}
	f.verified, _ = lru.New[[32]byte, time.Time](1024)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d is not user:hash", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("line %d (user %q) is not a bcrypt hash; create it with htpasswd -B", n, user)
		}
		f.users[user] = []byte(hash)
	}
	if len(f.users) == 0 {
		return nil, ErrEmpty
	}
	return f, nil
}

// Has tells whether user is in the file.
func (f *File) Has(user string) bool {
	if f == nil {
		return false
	}
	_, ok := f.users[user]
	return ok
}

// Check tells whether password is user's. An unknown user costs the same
// bcrypt comparison as a known one, so timing does not tell who exists.
func (f *File) Check(user, password string) bool {
	if f == nil {
		return false
	}
	key := sha256.Sum256([]byte(user + "\x00" + password))
	now := time.Now()
	if exp, ok := f.verified.Get(key); ok && now.Before(exp) {
		return true
	}
	hash, known := f.users[user]
	if !known {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		return false
	}
	f.verified.Add(key, now.Add(verifiedTTL))
	return true
}

// dummyHash is a bcrypt hash of nothing anyone types, compared against for
// unknown users.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("alilink: no such user"), bcrypt.DefaultCost)
	return h
})
