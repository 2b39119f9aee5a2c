package alifake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Messages of the token errors. The refresh-token one is the text third-party
// scripts log, trailing space included (§1.1).
const (
	msgRefreshTokenInvalid = "The input parameter refresh_token is not valid. "
	msgRefreshTokenMissing = "The input parameter refresh_token is missing. "
	msgAccessTokenExpired  = "AccessToken is invalid. expired"
	msgAccessTokenUnknown  = "AccessToken is invalid. ErrValidateTokenFailed"
)

// tokenStore is the state of the legacy auth service, guarded by Fake.mu.
type tokenStore struct {
	// refresh maps every refresh token ever issued to whether it still works:
	// a token is single use (rotated away by a refresh) and dies on revoke.
	refresh map[string]bool
	access  map[string]*accessToken
}

// accessToken is an issued bearer token.
type accessToken struct {
	expires time.Time
	revoked bool // ExpireAccessTokens
}

func (ts *tokenStore) init() {
	ts.refresh = make(map[string]bool)
	ts.access = make(map[string]*accessToken)
}

// NewRefreshToken mints a valid refresh token for the user, shaped like the
// legacy service's: 32 lowercase hex characters (§12.2).
func (f *Fake) NewRefreshToken() string {
	tok := randomHex(16)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tk.refresh[tok] = true
	return tok
}

// ExpireAccessTokens invalidates every access token issued so far, legacy
// and Open, as if their time had run out: legacy ones answer 401
// AccessTokenInvalid "expired", Open ones 401 AccessTokenExpired.
func (f *Fake) ExpireAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.tk.access {
		a.revoked = true
	}
	for _, a := range f.ot.access {
		a.revoked = true
	}
}

// RevokeRefreshTokens kills every refresh token issued so far, legacy and
// Open, as when the user logs out everywhere. Access tokens live on until
// they expire; unused Open authCodes stay valid.
func (f *Fake) RevokeRefreshTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok := range f.tk.refresh {
		f.tk.refresh[tok] = false
	}
	for tok := range f.ot.refresh {
		f.ot.refresh[tok] = false
	}
}

// tokenResponse is the body of a successful refresh (§1.1).
type tokenResponse struct {
	AccessToken        string         `json:"access_token"`
	RefreshToken       string         `json:"refresh_token"`
	ExpiresIn          int64          `json:"expires_in"`
	TokenType          string         `json:"token_type"`
	UserID             string         `json:"user_id"`
	UserName           string         `json:"user_name"`
	NickName           string         `json:"nick_name"`
	Avatar             string         `json:"avatar"`
	DefaultDriveID     string         `json:"default_drive_id"`
	DefaultSboxDriveID string         `json:"default_sbox_drive_id"`
	ExpireTime         string         `json:"expire_time"`
	Role               string         `json:"role"`
	Status             string         `json:"status"`
	State              string         `json:"state"`
	DeviceID           string         `json:"device_id"`
	DomainID           string         `json:"domain_id"`
	PinSetup           bool           `json:"pin_setup"`
	IsFirstLogin       bool           `json:"is_first_login"`
	NeedRpVerify       bool           `json:"need_rp_verify"`
	ExistLink          []any          `json:"exist_link"`
	NeedLink           bool           `json:"need_link"`
	UserData           map[string]any `json:"user_data"`
	HloginURL          string         `json:"hlogin_url"`
}

// serveToken is POST /v2/account/token. A refresh spends the presented token
// for good and issues a new pair; earlier access tokens stay valid until their
// own expiry (the official SDK documents that refreshing does not invalidate
// the old access token, §12.1).
func (f *Fake) serveToken(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		RefreshToken string `json:"refresh_token"`
		GrantType    string `json:"grant_type"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	if req.RefreshToken == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.RefreshToken", msgRefreshTokenMissing)
		return
	}
	if req.GrantType != "refresh_token" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.GrantType", "The input parameter grant_type is not valid. ")
		return
	}
	ttl := f.opts.AccessTokenTTL
	newRefresh := randomHex(16)
	f.mu.Lock()
	if !f.tk.refresh[req.RefreshToken] {
		f.mu.Unlock()
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.RefreshToken", msgRefreshTokenInvalid)
		return
	}
	now := f.now()
	access := f.newAccessTokenString(now, ttl)
	f.tk.refresh[req.RefreshToken] = false
	f.tk.refresh[newRefresh] = true
	f.tk.access[access] = &accessToken{expires: now.Add(ttl)}
	f.acct.refreshes++
	f.mu.Unlock()

	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:    access,
		RefreshToken:   newRefresh,
		ExpiresIn:      ceilSeconds(ttl),
		TokenType:      "Bearer",
		UserID:         f.opts.UserID,
		UserName:       f.opts.UserName,
		NickName:       f.opts.UserName,
		DefaultDriveID: f.opts.DriveID,
		ExpireTime:     now.Add(ttl).UTC().Format(time.RFC3339),
		Role:           "user",
		Status:         "enabled",
		DeviceID:       randomHex(16),
		DomainID:       domainID,
		PinSetup:       true,
		ExistLink:      []any{},
		UserData:       map[string]any{},
	})
}

// newAccessTokenString returns a JWT-shaped token (three base64url segments)
// like the service's; its signature segment is random, so it is unique.
func (f *Fake) newAccessTokenString(now time.Time, ttl time.Duration) string {
	return makeJWT(map[string]any{
		"userId":     f.opts.UserID,
		"customJson": `{"clientId":"25dzX3vbYqktVxyX","domainId":"` + domainID + `","scope":["DRIVE.ALL","FILE.ALL","USER.ALL"]}`,
		"exp":        now.Add(ttl).Unix(),
		"iat":        now.Unix(),
	})
}

// makeJWT returns header.payload.signature, each unpadded base64url, with
// claims as the payload and a random signature; nobody verifies it.
func makeJWT(claims any) string {
	enc := base64.RawURLEncoding
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("alifake: marshal claims: " + err.Error()) // our own types; cannot happen
	}
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	return header + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(randomBytes(64))
}

// ceilSeconds renders a lifetime as expires_in: whole seconds, rounded up,
// at least 1.
func ceilSeconds(d time.Duration) int64 { return max(int64((d+time.Second-1)/time.Second), 1) }

// bearerToken extracts the token from "Bearer<space or TAB><token>"; AList
// sends a TAB and the service accepts it (§1.3).
func bearerToken(h string) string {
	rest, ok := strings.CutPrefix(h, "Bearer")
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return ""
	}
	return strings.TrimLeft(rest, " \t")
}

// checkAccessToken answers 401 AccessTokenInvalid unless the request carries
// a live access token. Expired tokens say so in the message, which is how the
// legacy API reports expiry (§1.2).
func (f *Fake) checkAccessToken(w http.ResponseWriter, r *http.Request) bool {
	tok := bearerToken(r.Header.Get("Authorization"))
	f.mu.Lock()
	a := f.tk.access[tok]
	expired := a != nil && (a.revoked || !f.now().Before(a.expires))
	f.mu.Unlock()
	switch {
	case a == nil:
		writeAPIError(w, http.StatusUnauthorized, "AccessTokenInvalid", msgAccessTokenUnknown)
		return false
	case expired:
		writeAPIError(w, http.StatusUnauthorized, "AccessTokenInvalid", msgAccessTokenExpired)
		return false
	}
	return true
}

// serveUserGet is POST /v2/user/get: it needs the access token only, since
// clients call it before they know the user id the device key derives from
// (§2.1).
func (f *Fake) serveUserGet(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct{}
	if !decodeBody(w, body, &req) {
		return
	}
	created := time.Date(2021, 3, 1, 8, 0, 0, 0, time.UTC).UnixMilli()
	writeJSON(w, http.StatusOK, map[string]any{
		"domain_id":        domainID,
		"user_id":          f.opts.UserID,
		"avatar":           "",
		"created_at":       created,
		"updated_at":       created,
		"email":            "",
		"nick_name":        f.opts.UserName,
		"phone":            "",
		"role":             "user",
		"status":           "enabled",
		"user_name":        f.opts.UserName,
		"description":      "",
		"default_drive_id": f.opts.DriveID,
		// §16: the default drive is the backup drive; the resource drive
		// is reached with the same token.
		"backup_drive_id":   f.opts.DriveID,
		"resource_drive_id": f.resource.driveID,
		"user_data":         map[string]any{},
		"expired_at":        0,
		"default_location":  "",
		"last_login_time":   created,
	})
}
