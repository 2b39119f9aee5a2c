package streamer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// davAuth checks WebDAV credentials: HTTP Basic against an htpasswd file of
// bcrypt hashes (the nginx, Caddy and rclone convention), or the admin token
// as a bearer token. Without either configured, WebDAV is read-only and
// only served when the server listens on loopback. Failed logins are
// limited per client address. A bcrypt check costs tens of milliseconds, so
// a verified user and password are remembered (as a SHA-256, never in clear)
// for a few minutes: a client sends them with every request.
type davAuth struct {
	users    map[string][]byte // user → bcrypt hash
	ro       map[string]bool   // read-only users
	admin    [32]byte
	hasAdmin bool
	// open: no credential is configured and the listener is loopback.
	open bool
	// readOnly: nothing writes (the drive cannot, or ALILINK_DAV_READONLY).
	readOnly bool
	burst    int

	mu       sync.Mutex
	verified *lru.Cache[[32]byte, davVerified]
	failures *lru.Cache[string, *rate.Limiter]
}

type davVerified struct {
	user    string
	expires time.Time
}

// davUser is who a request authenticated as.
type davUser struct {
	name     string
	readOnly bool
}

const davVerifiedTTL = 5 * time.Minute

func newDAVAuth(cfg DAVConfig, adminToken string, loopback bool) (*davAuth, error) {
	a := &davAuth{users: map[string][]byte{}, ro: map[string]bool{}, burst: cfg.LoginBurst}
	if a.burst < 1 {
		a.burst = 10
	}
	a.verified, _ = lru.New[[32]byte, davVerified](1024)
	a.failures, _ = lru.New[string, *rate.Limiter](10000)
	if adminToken != "" {
		a.admin, a.hasAdmin = sha256.Sum256([]byte(adminToken)), true
	}
	if cfg.Htpasswd != "" {
		if err := a.load(cfg.Htpasswd); err != nil {
			return nil, err
		}
	}
	for _, u := range strings.Split(cfg.ReadOnlyUsers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			a.ro[u] = true
		}
	}
	if len(a.users) == 0 && !a.hasAdmin {
		a.open = loopback
	}
	return a, nil
}

// load reads an htpasswd file: "user:hash" lines, # comments; only bcrypt
// hashes ($2y$, $2a$, $2b$: htpasswd -B) are accepted.
func (a *davAuth) load(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("ALILINK_DAV_HTPASSWD: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return fmt.Errorf("ALILINK_DAV_HTPASSWD: line %d is not user:hash", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("ALILINK_DAV_HTPASSWD: line %d (user %q) is not a bcrypt hash; create it with htpasswd -B", n, user)
		}
		a.users[user] = []byte(hash)
	}
	if len(a.users) == 0 {
		return fmt.Errorf("ALILINK_DAV_HTPASSWD: %s holds no user", file)
	}
	return nil
}

// check authenticates a request; the error is its refusal (403, 401 or
// 429).
func (a *davAuth) check(ctx *fasthttp.RequestCtx) (davUser, error) {
	if len(a.users) == 0 && !a.hasAdmin {
		if a.open {
			return davUser{readOnly: true}, nil
		}
		return davUser{}, errDAVNeedCreds
	}
	h := string(ctx.Request.Header.Peek("Authorization"))
	if h == "" {
		return davUser{}, davChallenge
	}
	ip := clientIP(ctx)
	if lim := a.limiter(ip); lim.Tokens() < 1 {
		return davUser{}, tooMany(lim)
	}
	if tok, ok := cutScheme(h, "Bearer"); ok && a.hasAdmin {
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], a.admin[:]) == 1 {
			return davUser{name: "admin", readOnly: a.readOnly}, nil
		}
	} else if enc, ok := cutScheme(h, "Basic"); ok {
		if user, ok := a.basic(enc); ok {
			return davUser{name: user, readOnly: a.readOnly || a.ro[user]}, nil
		}
	}
	lim := a.limiter(ip)
	lim.Allow()
	if lim.Tokens() < 1 {
		return davUser{}, tooMany(lim)
	}
	return davUser{}, davChallenge
}

// basic verifies base64(user:password) against the htpasswd file.
func (a *davAuth) basic(enc string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", false
	}
	key := sha256.Sum256(raw)
	now := time.Now()
	if v, ok := a.verified.Get(key); ok && now.Before(v.expires) && v.user == user {
		return user, true
	}
	hash, ok := a.users[user]
	if !ok {
		// Spend the same time as for a known user.
		hash = davDummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !ok {
		return "", false
	}
	a.verified.Add(key, davVerified{user: user, expires: now.Add(davVerifiedTTL)})
	return user, true
}

// davDummyHash is a bcrypt hash of nothing anyone types, compared against
// for unknown users.
var davDummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("alilink: no such user"), bcrypt.DefaultCost)
	return h
})

func (a *davAuth) limiter(ip string) *rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.failures.Get(ip); ok {
		return l
	}
	l := rate.NewLimiter(rate.Every(6*time.Second), a.burst)
	a.failures.Add(ip, l)
	return l
}

// davChallenge is the 401 that asks for Basic credentials.
var davChallenge = withHeader(errDAVCreds, "WWW-Authenticate", `Basic realm="alilink", charset="UTF-8"`)

// tooMany is the 429 of an address out of login attempts, with the wait
// for its next one.
func tooMany(lim *rate.Limiter) error {
	wait := max(1, int((1-lim.Tokens())*6+0.999))
	return withHeader(errDAVTooMany, "Retry-After", strconv.Itoa(wait))
}

// cutScheme returns the credentials of an Authorization header of scheme.
func cutScheme(h, scheme string) (string, bool) {
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme)+1:]), true
}

// clientIP is the connection's address without the port.
func clientIP(ctx *fasthttp.RequestCtx) string {
	addr := ctx.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
