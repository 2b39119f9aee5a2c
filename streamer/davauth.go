package streamer

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alilink/alilink/streamer/htpasswd"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// davAuth checks WebDAV credentials: HTTP Basic against the htpasswd file
// (which remembers verified pairs: a client sends them with every request),
// or the admin token as a bearer token. Without either configured, WebDAV is
// read-only and only served when the server listens on loopback. Failed
// logins are limited per client address.
type davAuth struct {
	users    *htpasswd.File  // nil: none
	ro       map[string]bool // read-only users
	admin    [32]byte
	hasAdmin bool
	// open: no credential is configured and the listener is loopback.
	open bool
	// readOnly: nothing writes (the drive cannot, or ALILINK_DAV_READONLY).
	readOnly bool
	burst    int

	mu       sync.Mutex
	failures *lru.Cache[string, *rate.Limiter]
}

// davUser is who a request authenticated as.
type davUser struct {
	name     string
	readOnly bool
}

// loadUsers reads ALILINK_DAV_HTPASSWD, the users WebDAV and the AList door
// share (nil without the variable).
func (c DAVConfig) loadUsers() (*htpasswd.File, error) {
	if c.Htpasswd == "" {
		return nil, nil
	}
	f, err := htpasswd.Load(c.Htpasswd)
	if errors.Is(err, htpasswd.ErrEmpty) {
		return nil, fmt.Errorf("ALILINK_DAV_HTPASSWD: %s holds no user", c.Htpasswd)
	}
	if err != nil {
		return nil, fmt.Errorf("ALILINK_DAV_HTPASSWD: %w", err)
	}
	return f, nil
}

func newDAVAuth(cfg DAVConfig, users *htpasswd.File, adminToken string, loopback bool) *davAuth {
	a := &davAuth{users: users, ro: map[string]bool{}, burst: cfg.LoginBurst}
	if a.burst < 1 {
		a.burst = 10
	}
	a.failures, _ = lru.New[string, *rate.Limiter](10000)
	if adminToken != "" {
		a.admin, a.hasAdmin = sha256.Sum256([]byte(adminToken)), true
	}
	for _, u := range strings.Split(cfg.ReadOnlyUsers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			a.ro[u] = true
		}
	}
	if a.users == nil && !a.hasAdmin {
		a.open = loopback
	}
	return a
}

// check authenticates a request; the error is its refusal (403, 401 or
// 429).
func (a *davAuth) check(ctx *fasthttp.RequestCtx) (davUser, error) {
	if a.users == nil && !a.hasAdmin {
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
	if !a.users.Check(user, pass) {
		return "", false
	}
	return user, true
}

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
