package alifake

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// Lifetimes of the Open platform's grants.
const (
	// openRefreshTTL is written into the exp claim of Open refresh tokens:
	// the official SDK documents 90 days (§12.1). The fake does not enforce
	// it, as it does not expire legacy refresh tokens either.
	openRefreshTTL = 90 * 24 * time.Hour
	// authCodeTTL: "authCode: valid for 10 minutes, single use" (§12.1).
	authCodeTTL = 10 * time.Minute
)

// Error texts of the Open token endpoint and of Open authentication
// (§13.3): a wrong client id or secret answers InvalidClientId "invalid
// client_id" / InvalidClientSecret "invalid client_secret" (their status is
// not established; 400 as the other parameter errors), a dead, revoked or
// already used refresh token 400 AccessDenied "invalid token".
const (
	codeInvalidClientID     = "InvalidClientId"
	codeInvalidClientSecret = "InvalidClientSecret"
	msgClientIDInvalid      = "invalid client_id"
	msgClientSecretBad      = "invalid client_secret"
	codeOpenRefreshDead     = "AccessDenied"
	msgOpenRefreshDead      = "invalid token"
	msgCodeInvalid          = "The input parameter code is not valid. "
	msgCodeExpired          = "The input parameter code is not valid. code expired"
	msgCodeMissing          = "The input parameter code is missing. "
	msgOpenAccessExpired    = "AccessToken is expired. "
	msgOpenAccessUnknown    = "AccessToken is invalid. ErrValidateTokenFailed"
	msgGrantTypeNotValid    = "The input parameter grant_type is not valid. "
	codeOpenAccessExpired   = "AccessTokenExpired"
)

// openTokens is the state of the Open platform's OAuth service, guarded by
// Fake.mu. Its tokens are a set of their own: a legacy access token is
// unknown on Open endpoints and an Open one on legacy endpoints (§12).
type openTokens struct {
	refresh map[string]bool // as tokenStore.refresh: single use
	access  map[string]*accessToken
	codes   map[string]*authCode // authCodes of confirmed QR logins
	// refusal, when set, answers every refresh_token grant (RefuseOpenRefresh).
	refusal *openRefusal
}

// openRefusal is how the token endpoint refuses a refresh (§13.3).
type openRefusal struct {
	status        int
	code, message string
}

// Codes RefuseOpenRefresh knows (§13.3, §9), with the status each is
// answered with. Statuses marked "?" in the spec are guesses: a client must
// decide by the code.
var openRefusals = map[string]openRefusal{
	"AccessDenied":                  {http.StatusBadRequest, "AccessDenied", msgOpenRefreshDead},
	"RefreshTokenExpired":           {http.StatusUnauthorized, "RefreshTokenExpired", "refresh token expired"},
	"RefreshTokenInvalid":           {http.StatusBadRequest, "RefreshTokenInvalid", "refresh token invalid"},
	"PermissionDenied":              {http.StatusForbidden, "PermissionDenied", "permission denied"},
	"InvalidParameter.RefreshToken": {http.StatusBadRequest, "InvalidParameter.RefreshToken", msgRefreshTokenInvalid},
	"InvalidClientId":               {http.StatusBadRequest, codeInvalidClientID, msgClientIDInvalid},
	"InvalidClientSecret":           {http.StatusBadRequest, codeInvalidClientSecret, msgClientSecretBad},
	"AppNotExists":                  {http.StatusBadRequest, "AppNotExists", "app not exists"},
}

// RefuseOpenRefresh makes every refresh_token grant of the Open token
// endpoint and of the broker answer code from now on, as the service does
// when the user revoked the app (PermissionDenied), the refresh token
// expired (RefreshTokenExpired, 401) or is malformed (RefreshTokenInvalid),
// or the app is misconfigured (InvalidClientId, InvalidClientSecret,
// AppNotExists) (§13.3). The presented token is not spent. "" turns it off;
// an unknown code panics.
func (f *Fake) RefuseOpenRefresh(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code == "" {
		f.ot.refusal = nil
		return
	}
	r, ok := openRefusals[code]
	if !ok {
		panic("alifake: RefuseOpenRefresh: unknown code " + code)
	}
	f.ot.refusal = &r
}

// authCode is an authorization code of the QR login (§12.1).
type authCode struct {
	expires time.Time
	used    bool
}

func (ot *openTokens) init() {
	ot.refresh = make(map[string]bool)
	ot.access = make(map[string]*accessToken)
	ot.codes = make(map[string]*authCode)
}

// openClaims is the payload of Open tokens. AList decodes the refresh
// token's payload with *standard* unpadded base64 and compares sub across
// refreshes (§3.1, §11), so sub is the user id and stays put, and the payload
// must encode without '-' or '_', where base64url and standard base64 differ.
// It does: a 6-bit group of ASCII text reaches 62 or 63 only at the last
// character of a 3-byte group, and only for '>', '?', '~' or DEL. JSON
// escapes '>', and these claims (hex, decimal, the user id) hold none of the
// others for any user id without them.
type openClaims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
	Jti string `json:"jti"` // random, so every token differs
}

// newOpenToken returns a JWT-shaped Open token for the user, living ttl.
func (f *Fake) newOpenToken(now time.Time, ttl time.Duration) string {
	return makeJWT(openClaims{Sub: f.opts.UserID, Exp: now.Add(ttl).Unix(), Iat: now.Unix(), Jti: randomHex(16)})
}

// NewOpenRefreshToken mints a valid Open platform refresh token for the
// user: a JWT with a stable sub (the user id), as the Open token endpoint
// and the QR login issue them.
func (f *Fake) NewOpenRefreshToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := f.newOpenToken(f.now(), openRefreshTTL)
	f.ot.refresh[tok] = true
	return tok
}

// openTokenRequest is the body of /oauth/access_token (§3.1, §12.1); the
// broker reads the same fields and ignores the credentials.
type openTokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
	RefreshToken string `json:"refresh_token"`
	Code         string `json:"code"`
}

// openTokenResponse is the body of a successful grant (§3.1, §12.1).
type openTokenResponse struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// serveOpenToken is POST /oauth/access_token: the client is checked first,
// then the grant (refresh_token or authorization_code).
func (f *Fake) serveOpenToken(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req openTokenRequest
	if !decodeBody(w, body, &req) || !f.checkClient(w, req.ClientID, req.ClientSecret) {
		return
	}
	f.grantOpen(w, req)
}

// serveOpenBroker is POST Options.OpenBrokerPath: a hosted broker that adds
// the app's credentials and forwards to the token endpoint (§3.1, §12.1). A
// real broker relays the upstream answer unchanged, so errors look the same.
func (f *Fake) serveOpenBroker(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req openTokenRequest
	if !decodeBody(w, body, &req) {
		return
	}
	f.grantOpen(w, req)
}

// checkClient answers 400 InvalidClientId or InvalidClientSecret unless id
// and secret are the app's (§13.3). PKCE (a code_verifier instead of the
// secret, §12.1) is not supported.
func (f *Fake) checkClient(w http.ResponseWriter, id, secret string) bool {
	switch {
	case id != f.opts.OpenClientID:
		writeAPIError(w, http.StatusBadRequest, codeInvalidClientID, msgClientIDInvalid)
		return false
	case subtle.ConstantTimeCompare([]byte(secret), []byte(f.opts.OpenClientSecret)) != 1:
		writeAPIError(w, http.StatusBadRequest, codeInvalidClientSecret, msgClientSecretBad)
		return false
	}
	return true
}

// grantOpen spends the presented refresh token or authCode and issues a new
// pair. Like the legacy endpoint (§1.1), refresh tokens are single use and
// earlier access tokens stay valid until their own expiry.
func (f *Fake) grantOpen(w http.ResponseWriter, req openTokenRequest) {
	switch req.GrantType {
	case "refresh_token":
		if req.RefreshToken == "" {
			writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.RefreshToken", msgRefreshTokenMissing)
			return
		}
	case "authorization_code":
		if req.Code == "" {
			writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.Code", msgCodeMissing)
			return
		}
	default:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.GrantType", msgGrantTypeNotValid)
		return
	}

	ttl := f.opts.AccessTokenTTL
	f.mu.Lock()
	now := f.now()
	if req.GrantType == "refresh_token" {
		if r := f.ot.refusal; r != nil {
			f.mu.Unlock()
			writeAPIError(w, r.status, r.code, r.message)
			return
		}
		if !f.ot.refresh[req.RefreshToken] {
			f.mu.Unlock()
			writeAPIError(w, http.StatusBadRequest, codeOpenRefreshDead, msgOpenRefreshDead)
			return
		}
		f.ot.refresh[req.RefreshToken] = false
		f.acct.openRefreshes++
	} else {
		c := f.ot.codes[req.Code]
		switch {
		case c == nil || c.used:
			f.mu.Unlock()
			writeAPIError(w, http.StatusBadRequest, "InvalidParameter.Code", msgCodeInvalid)
			return
		case !now.Before(c.expires):
			f.mu.Unlock()
			writeAPIError(w, http.StatusBadRequest, "InvalidParameter.Code", msgCodeExpired)
			return
		}
		c.used = true
	}
	refresh := f.newOpenToken(now, openRefreshTTL)
	access := f.newOpenToken(now, ttl)
	f.ot.refresh[refresh] = true
	f.ot.access[access] = &accessToken{expires: now.Add(ttl)}
	f.mu.Unlock()

	writeJSON(w, http.StatusOK, openTokenResponse{
		TokenType:    "Bearer",
		AccessToken:  access,
		RefreshToken: refresh,
		ExpiresIn:    ceilSeconds(ttl),
	})
}

// checkOpenAccessToken answers 401 unless the request carries a live Open
// access token: AccessTokenInvalid for a missing or unknown one (a legacy
// token included), AccessTokenExpired for an expired one. The Open driver
// refreshes on both (§3.1). A TAB after "Bearer" is accepted as on the
// legacy API.
func (f *Fake) checkOpenAccessToken(w http.ResponseWriter, r *http.Request) bool {
	tok := bearerToken(r.Header.Get("Authorization"))
	f.mu.Lock()
	a := f.ot.access[tok]
	expired := a != nil && (a.revoked || !f.now().Before(a.expires))
	f.mu.Unlock()
	switch {
	case a == nil:
		writeAPIError(w, http.StatusUnauthorized, "AccessTokenInvalid", msgOpenAccessUnknown)
		return false
	case expired:
		writeAPIError(w, http.StatusUnauthorized, codeOpenAccessExpired, msgOpenAccessExpired)
		return false
	}
	return true
}
