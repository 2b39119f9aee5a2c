package streamer

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/streamer/htpasswd"
	"github.com/alilink/alilink/streamer/sign"
)

// AListConfig configures the AList v3 API (issue 15): /api/fs/*, /api/me,
// /api/auth/login, /ping, /d/<path> and /p/<path>, for the tools written for
// AList (Emby 302 proxies, .strm generators).
type AListConfig struct {
	// Off turns the AList API off (its paths are then drive paths).
	Off bool `env:"ALIST_OFF" envDefault:"false"`
	// Guest lets callers without a token list and get signed links, as an
	// AList with its guest user enabled. Without a sign secret everything is
	// public anyway and guests are always let in.
	Guest bool `env:"ALIST_GUEST" envDefault:"false"`
	// TokenTTL is how long a login token lives (AList: 48h; 0 in a Config
	// built in code: the default).
	TokenTTL time.Duration `env:"ALIST_TOKEN_TTL" envDefault:"48h"`
	// SignTTL is the life of the signs fs/list and fs/get hand out; 0: they
	// never expire, as AList's default (what .strm files need).
	SignTTL time.Duration `env:"ALIST_SIGN_TTL" envDefault:"0s"`
	// SiteURL is the public base of raw_url (AList's site_url); empty: the
	// request's scheme and Host.
	SiteURL string `env:"ALIST_SITE_URL"`
	// AdminRawCDN makes fs/get answer the admin with the CDN URL itself in
	// raw_url (as AList does for drives it does not proxy), when the link is
	// not Referer-bound. Off: raw_url is always alilink's own /d/ URL.
	AdminRawCDN bool `env:"ALIST_ADMIN_RAW_CDN" envDefault:"false"`
	// Provider is the AList driver name fs/list and fs/get report; main sets
	// it from ALILINK_DRIVER when empty.
	Provider string `env:"ALIST_PROVIDER"`
}

func (c *AListConfig) validate() error {
	switch {
	case c.TokenTTL != 0 && c.TokenTTL < time.Minute:
		return fmt.Errorf("ALILINK_ALIST_TOKEN_TTL: must be at least 1m, got %s", c.TokenTTL)
	case c.SignTTL < 0:
		return fmt.Errorf("ALILINK_ALIST_SIGN_TTL: negative")
	case c.SiteURL != "" && !strings.HasPrefix(c.SiteURL, "http://") && !strings.HasPrefix(c.SiteURL, "https://"):
		return fmt.Errorf("ALILINK_ALIST_SITE_URL: must be an http(s) URL, got %q", c.SiteURL)
	}
	return nil
}

// ProviderFor is the AList driver name of an alilink driver.
func ProviderFor(driver string) string {
	switch driver {
	case "open":
		return "AliyundriveOpen"
	case "share":
		return "AliyundriveShare"
	default:
		return "Aliyundrive"
	}
}

// alistAPI is the AList door's state: its users and the key of its tokens.
type alistAPI struct {
	cfg   AListConfig
	users *htpasswd.File
	ro    map[string]bool
	allRO bool // ALILINK_DAV_READONLY: no user writes
	// key signs login tokens: derived from the sign secret and the admin
	// token, so that tokens survive restarts and hold on every replica; random
	// when neither is set.
	key []byte
	// failures counts failed logins per client address, as AList's
	// loginCache: 5 within 5 minutes, then refused until they age out.
	failures *lru.Cache[string, alistFailures]
	// verifier checks the signs of /d/ and /p/: the sign secrets and, as
	// AList keys its signs with its token, the admin token, so that tools
	// that sign links themselves with the token they were given (emby2Alist's
	// alistSignEnable) are understood. Whoever has the admin token can mint
	// signs through /-/api/sign anyway. nil: signs are off.
	verifier *sign.Signer
}

// alistFailures are an address's failed logins since first.
type alistFailures struct {
	n     int
	first time.Time
}

const (
	alistLoginTries  = 5
	alistLoginWindow = 5 * time.Minute
)

// newAListAPI builds the door. Its users are WebDAV's: ALILINK_DAV_HTPASSWD,
// ALILINK_DAV_READONLY_USERS (and ALILINK_DAV_READONLY makes them all so).
func newAListAPI(cfg AListConfig, users DAVConfig, htpw *htpasswd.File, signSecret, adminToken string) (*alistAPI, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.SiteURL = strings.TrimRight(cfg.SiteURL, "/")
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 48 * time.Hour // a Config built in code
	}
	if cfg.Provider == "" {
		cfg.Provider = "unknown" // AList's answer when no storage is found
	}
	a := &alistAPI{cfg: cfg, ro: map[string]bool{}}
	a.failures, _ = lru.New[string, alistFailures](10000)
	if sign.New(signSecret).Enabled() {
		keys := signSecret
		if adminToken != "" && !strings.Contains(adminToken, ",") {
			keys += "," + adminToken
		}
		a.verifier = sign.New(keys)
	}
	a.users = htpw
	a.allRO = users.ReadOnly
	for _, u := range strings.Split(users.ReadOnlyUsers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			a.ro[u] = true
		}
	}
	if signSecret != "" || adminToken != "" {
		m := hmac.New(sha256.New, []byte("alilink alist login tokens"))
		m.Write([]byte(signSecret + "\x00" + adminToken))
		a.key = m.Sum(nil)
	} else {
		a.key = make([]byte, 32)
		_, _ = rand.Read(a.key)
	}
	return a, nil
}

// AList roles (internal/model/user.go).
const (
	alistGeneral = 0
	alistGuest   = 1
	alistAdmin   = 2
)

// alistUser is who a request is, as AList's middleware decides it.
type alistUser struct {
	name     string
	role     int
	readOnly bool
}

func (u alistUser) admin() bool    { return u.role == alistAdmin }
func (u alistUser) canWrite() bool { return u.role != alistGuest && !u.readOnly }

// AList's answer codes (inside the envelope).
const (
	alistOK        = 200
	alistBadReq    = 400
	alistUnauth    = 401
	alistForbidden = 403
	alistFailed    = 500
)

// alistResp is AList's envelope (server/common/resp.go).
type alistResp struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// alistOKResp answers data in the envelope. Like AList, every /api/ answer
// is HTTP 200 with the outcome in code: go-emby2openlist reads no body of
// another status, and emby2Alist tells 403 from 500 only by code.
func alistOKResp(ctx *fasthttp.RequestCtx, data any) {
	alistWrite(ctx, alistResp{Code: alistOK, Message: "success", Data: data})
}

func alistErr(ctx *fasthttp.RequestCtx, code int, msg string) {
	alistWrite(ctx, alistResp{Code: code, Message: msg, Data: nil})
}

func alistWrite(ctx *fasthttp.RequestCtx, r alistResp) {
	body, err := json.Marshal(r)
	if err != nil {
		body = []byte(`{"code":500,"message":"internal error","data":null}`)
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(body)
}

var (
	alistAPIPrefix = []byte("/api/")
	alistDPrefix   = []byte("/d/")
	alistPPrefix   = []byte("/p/")
)

// isAListPath tells whether raw is one of the AList door's paths.
func (s *Server) isAListPath(raw []byte) bool {
	if s.alist == nil {
		return false
	}
	return bytes.HasPrefix(raw, alistAPIPrefix) || bytes.HasPrefix(raw, alistDPrefix) ||
		bytes.HasPrefix(raw, alistPPrefix) || string(raw) == "/ping" || string(raw) == "/d" || string(raw) == "/p"
}

// serveAList answers an AList path and tells what it answered with and the
// path to log ("": the request's), as route does.
func (s *Server) serveAList(ctx *fasthttp.RequestCtx, raw []byte, start time.Time) (act int, p string, streaming bool) {
	switch {
	case bytes.HasPrefix(raw, alistDPrefix) || string(raw) == "/d":
		return s.serveAListDown(ctx, raw[2:], start, "") // "": the path's mode (mounts.go)
	case bytes.HasPrefix(raw, alistPPrefix) || string(raw) == "/p":
		return s.serveAListDown(ctx, raw[2:], start, ModeProxy)
	case string(raw) == "/ping":
		if ctx.IsGet() || ctx.IsHead() {
			ctx.Response.Header.Set("Cache-Control", "no-store")
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("pong")
		} else {
			s.writeError(ctx, errMethod)
		}
	default:
		s.serveAListAPI(ctx, string(raw))
	}
	return actInternal, "", false
}

// serveAListAPI routes /api/ (server/router.go of AList v3).
func (s *Server) serveAListAPI(ctx *fasthttp.RequestCtx, endpoint string) {
	if len(ctx.Request.Header.Peek(refusedHeader)) > 0 {
		// A PUT refused from its headers: its body is still on the wire.
		ctx.SetConnectionClose()
	}
	if endpoint == "/api/auth/login" {
		s.alistLogin(ctx)
		return
	}
	if endpoint == "/api/public/settings" {
		alistOKResp(ctx, map[string]string{"version": "v3.0.0-alilink", "site_title": "alilink", "sign_all": strconv.FormatBool(s.signer.Enabled())})
		return
	}
	u, ok := s.alistAuth(ctx)
	if !ok {
		return
	}
	switch endpoint {
	case "/api/me":
		s.alistMe(ctx, u)
	case "/api/fs/list":
		s.alistList(ctx, u)
	case "/api/fs/get":
		s.alistGet(ctx, u)
	case "/api/fs/dirs":
		s.alistDirs(ctx, u)
	case "/api/fs/link":
		s.alistLink(ctx, u)
	case "/api/fs/search":
		// AList without a search index answers so (middlewares.SearchIndex).
		s.alistFail(ctx, errAListSearch)
	case "/api/fs/other":
		s.alistFail(ctx, errAListOther)
	case "/api/fs/mkdir", "/api/fs/rename", "/api/fs/move", "/api/fs/copy", "/api/fs/remove":
		s.alistManage(ctx, u, endpoint)
	case "/api/fs/put":
		s.alistPut(ctx, u)
	default:
		s.writeError(ctx, errAListNoRoute)
	}
}

// alistAuth decides who the request is from its Authorization header as
// AList's middlewares.Auth does: the admin token, a login token, or nobody
// (the guest). "Bearer " is accepted too. On refusal it has answered.
func (s *Server) alistAuth(ctx *fasthttp.RequestCtx) (alistUser, bool) {
	u, err := s.alistUserOf(ctx.Request.Header.Peek("Authorization"))
	if err != nil {
		s.alistFail(ctx, err)
		return alistUser{}, false
	}
	return u, true
}

// alistUserOf is who an Authorization header's value is; the error refuses
// one who is nobody allowed in.
func (s *Server) alistUserOf(auth []byte) (alistUser, error) {
	tok := strings.TrimSpace(string(auth))
	if t, ok := alistCutScheme(tok, "Bearer"); ok {
		tok = t
	}
	if tok == "" {
		if !s.alist.cfg.Guest && s.signer.Enabled() {
			return alistUser{}, errAListGuestOff
		}
		return alistUser{name: "guest", role: alistGuest, readOnly: true}, nil
	}
	if s.cfg.AdminToken != "" {
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], s.admin[:]) == 1 {
			return alistUser{name: "admin", role: alistAdmin}, nil
		}
	}
	if name, ok := s.alist.verifyToken(tok, time.Now()); ok {
		return alistUser{name: name, role: alistGeneral, readOnly: s.alist.allRO || s.alist.ro[name]}, nil
	}
	return alistUser{}, errAListBadToken
}

// alistCutScheme returns the credentials of an Authorization header of scheme.
func alistCutScheme(h, scheme string) (string, bool) {
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme)+1:]), true
}

// A login token is base64url(user).expiry.base64url(HMAC-SHA256(key,
// "user\nexpiry")): opaque to AList's clients, which only send it back.
func (a *alistAPI) mintToken(user string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(a.cfg.TokenTTL).Unix(), 10)
	u := base64.RawURLEncoding.EncodeToString([]byte(user))
	return u + "." + exp + "." + base64.RawURLEncoding.EncodeToString(a.tokenMAC(user, exp))
}

func (a *alistAPI) tokenMAC(user, exp string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(user + "\n" + exp))
	return m.Sum(nil)
}

// verifyToken checks a login token: its MAC, its expiry, and that its user
// is still in the htpasswd file.
func (a *alistAPI) verifyToken(tok string, now time.Time) (string, bool) {
	if len(tok) > 512 {
		return "", false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	ub, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	mac, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	exp, err3 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", false
	}
	user := string(ub)
	if !hmac.Equal(mac, a.tokenMAC(user, parts[1])) || now.Unix() >= exp || !a.users.Has(user) {
		return "", false
	}
	return user, true
}

// alistLoginReq is AList's LoginReq.
type alistLoginReq struct {
	Username string `json:"username"`
	Password string `json:"password"`
	OtpCode  string `json:"otp_code"`
}

// alistLogin answers POST /api/auth/login with {"token": …} for a user of the
// htpasswd file.
func (s *Server) alistLogin(ctx *fasthttp.RequestCtx) {
	var req alistLoginReq
	if !s.alistBind(ctx, &req) {
		return
	}
	if s.alist.users == nil {
		s.alistFail(ctx, errAListNoUsers)
		return
	}
	ip := ctx.RemoteIP().String()
	now := time.Now()
	f, _ := s.alist.failures.Get(ip)
	if now.Sub(f.first) > alistLoginWindow {
		f = alistFailures{first: now}
	}
	if f.n >= alistLoginTries {
		s.alistFail(ctx, errAListLoginLimit)
		return
	}
	if !s.alist.users.Check(req.Username, req.Password) {
		f.n++
		s.alist.failures.Add(ip, f)
		s.log.Info("alist login refused", "user", req.Username, "addr", ip)
		s.alistFail(ctx, errAListBadPass)
		return
	}
	s.alist.failures.Remove(ip)
	alistOKResp(ctx, map[string]string{"token": s.alist.mintToken(req.Username, now)})
}

// alistMeJSON is AList's UserResp (model.User without its secrets).
type alistMeJSON struct {
	ID         uint   `json:"id"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	BasePath   string `json:"base_path"`
	Role       int    `json:"role"`
	Disabled   bool   `json:"disabled"`
	Permission int32  `json:"permission"`
	SsoID      string `json:"sso_id"`
	Otp        bool   `json:"otp"`
}

func (s *Server) alistMe(ctx *fasthttp.RequestCtx, u alistUser) {
	me := alistMeJSON{Username: u.name, BasePath: "/", Role: u.role}
	switch {
	case u.admin():
		me.ID = 1
		me.Permission = 0x3fff // every bit AList defines
	case u.role == alistGuest:
		me.ID = 2
	default:
		me.ID = 3
		if u.canWrite() {
			// make dir or upload, rename, move, copy, remove (bits 3 to 7)
			me.Permission = 0xf8
		}
	}
	alistOKResp(ctx, me)
}

// alistMaxBody bounds the JSON bodies of /api/ requests; larger ones are
// refused before they are read.
const alistMaxBody = 64 << 10

// alistBindPath binds the request's JSON to v and cleans the path it holds
// at *raw; on failure it has answered.
func (s *Server) alistBindPath(ctx *fasthttp.RequestCtx, v any, raw *string) (string, bool) {
	if !s.alistBind(ctx, v) {
		return "", false
	}
	p, err := alistPath(*raw)
	if err != nil {
		s.alistFail(ctx, err)
		return "", false
	}
	return p, true
}

// alistBind reads a request as AList's ShouldBind does: a JSON body, or
// for GET the query's fields. On failure it has answered.
func (s *Server) alistBind(ctx *fasthttp.RequestCtx, v any) bool {
	if ctx.IsGet() {
		m := map[string]any{}
		ctx.QueryArgs().VisitAll(func(k, val []byte) {
			sv := string(val)
			switch {
			case sv == "true" || sv == "false":
				m[string(k)] = sv == "true"
			default:
				if n, err := strconv.Atoi(sv); err == nil && string(k) != "path" && string(k) != "password" {
					m[string(k)] = n
				} else {
					m[string(k)] = sv
				}
			}
		})
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, v); err != nil {
			s.alistFail(ctx, errAListBadQuery)
			return false
		}
		return true
	}
	if !ctx.IsPost() {
		s.writeError(ctx, errMethod)
		return false
	}
	if n := ctx.Request.Header.ContentLength(); n > alistMaxBody || n == -1 {
		ctx.SetConnectionClose()
		s.alistFail(ctx, errBodyTooLarge)
		return false
	}
	body := ctx.PostBody()
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.alistFail(ctx, errAListBadJSON)
		return false
	}
	return true
}
