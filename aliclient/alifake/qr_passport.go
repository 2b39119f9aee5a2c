package alifake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// passportAppName is the only appName the passport fake serves (§12.2).
const passportAppName = "aliyun_drive"

// passportResultCode is content.data.resultCode in every sample (§12.2).
const passportResultCode = 100

// passportEnvelope is the JSON envelope of generate.do and query.do (§12.2).
type passportEnvelope struct {
	HasError bool            `json:"hasError"`
	Content  passportContent `json:"content"`
}

type passportContent struct {
	Success bool           `json:"success"`
	Status  int            `json:"status"`
	Data    map[string]any `json:"data"`
}

// passportStatus maps a state to qrCodeStatus and the content.status and
// content.success captured with it (§12.2). CANCELED was never captured; the
// fake answers -2 and false, failure like EXPIRED but told apart.
func passportStatus(s qrState) (name string, status int, success bool) {
	switch s {
	case qrWaiting:
		return "NEW", 0, true
	case qrScanned:
		return "SCANED", 1, true
	case qrConfirmed:
		return "CONFIRMED", 2, true
	case qrCanceled:
		return "CANCELED", -2, false
	}
	return "EXPIRED", -1, false
}

// servePassportGenerate is GET /newlogin/qrcode/generate.do (§12.2). Only
// appName=aliyun_drive is required; every other parameter is ignored. A
// missing or other appName answers 400 with the envelope's error form
// (hasError, success false, titleMsg); the service's is not established.
func (f *Fake) servePassportGenerate(w http.ResponseWriter, r *http.Request, _ []byte) {
	if app := r.URL.Query().Get("appName"); app != passportAppName {
		writeJSON(w, http.StatusBadRequest, passportEnvelope{
			HasError: true,
			Content: passportContent{Status: -1, Data: map[string]any{
				"titleMsg":   "appName " + strconv.Quote(app) + " is not supported",
				"resultCode": -1,
			}},
		})
		return
	}
	ck := randomHex(16)
	f.mu.Lock()
	now := f.now()
	s := f.addQR(qrFlowPassport, ck, now)
	s.t = now.UnixMilli()
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, passportEnvelope{Content: passportContent{Success: true, Data: map[string]any{
		"t":               s.t,
		"ck":              ck,
		"codeContent":     "https://passport.aliyundrive.com/qrcodeCheck.htm?lgToken=" + randomHex(16) + "&_from=havana",
		"resultCode":      passportResultCode,
		"processFinished": false,
	}}})
}

// servePassportQuery is POST /newlogin/qrcode/query.do (§12.2): a form with
// t and ck (other fields, and the query string, are ignored). A pair that
// matches no login answers EXPIRED, as the service does. CONFIRMED carries
// loginResult "success" and the bizExt minted at confirmation, the same on
// every poll.
func (f *Fake) servePassportQuery(w http.ResponseWriter, _ *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body)) // a broken form matches no login
	ck := form.Get("ck")
	t, err := strconv.ParseInt(form.Get("t"), 10, 64)
	f.mu.Lock()
	state, bizExt := qrExpired, ""
	if s := f.qr.byID[ck]; s != nil && s.flow == qrFlowPassport && err == nil && s.t == t {
		state, bizExt = s.settle(f.now()), s.bizExt
	}
	f.mu.Unlock()

	name, status, success := passportStatus(state)
	data := map[string]any{"qrCodeStatus": name, "resultCode": passportResultCode}
	if state == qrConfirmed {
		data["loginResult"] = "success"
		data["loginSucResultAction"] = "loginResult"
		data["st"] = randomHex(16)
		data["loginType"] = "qrCodeLogin"
		data["bizExt"] = bizExt
		data["loginScene"] = ""
		data["appEntrance"] = "web"
		data["smartlock"] = false
	}
	writeJSON(w, http.StatusOK, passportEnvelope{Content: passportContent{Success: success, Status: status, Data: data}})
}

// pdsLoginResult is the pds_login_result inside bizExt (§12.2).
type pdsLoginResult struct {
	RefreshToken   string         `json:"refreshToken"`
	AccessToken    string         `json:"accessToken"`
	TokenType      string         `json:"tokenType"`
	ExpiresIn      int64          `json:"expiresIn"`
	ExpireTime     string         `json:"expireTime"`
	UserID         string         `json:"userId"`
	UserName       string         `json:"userName"`
	NickName       string         `json:"nickName"`
	Avatar         string         `json:"avatar"`
	DefaultDriveID string         `json:"defaultDriveId"`
	Role           string         `json:"role"`
	Status         string         `json:"status"`
	State          string         `json:"state"`
	LoginType      string         `json:"loginType"`
	RequestID      string         `json:"requestId"`
	IsFirstLogin   bool           `json:"isFirstLogin"`
	NeedLink       bool           `json:"needLink"`
	NeedRpVerify   bool           `json:"needRpVerify"`
	DataPinSetup   bool           `json:"dataPinSetup"`
	DataPinSaved   bool           `json:"dataPinSaved"`
	ExistLink      []any          `json:"existLink"`
	UserData       map[string]any `json:"userData"`
}

// passportLogin mints the legacy token pair of a confirmed passport login
// and returns its bizExt: padded standard base64 of ASCII-only JSON, so the
// GB18030, GBK and UTF-8 decoders clients use all read the same (§12.3). The
// refresh token is an ordinary legacy one, accepted by /v2/account/token.
// Called with Fake.mu held.
func (f *Fake) passportLogin(now time.Time) string {
	ttl := f.opts.AccessTokenTTL
	refresh := randomHex(16)
	access := f.newAccessTokenString(now, ttl)
	f.tk.refresh[refresh] = true
	f.tk.access[access] = &accessToken{expires: now.Add(ttl)}
	doc, err := json.Marshal(map[string]pdsLoginResult{"pds_login_result": {
		RefreshToken:   refresh,
		AccessToken:    access,
		TokenType:      "Bearer",
		ExpiresIn:      ceilSeconds(ttl),
		ExpireTime:     now.Add(ttl).UTC().Format(time.RFC3339),
		UserID:         f.opts.UserID,
		UserName:       f.opts.UserName,
		NickName:       f.opts.UserName,
		DefaultDriveID: f.opts.DriveID,
		Role:           "user",
		Status:         "enabled",
		LoginType:      "normal",
		RequestID:      randomHex(16),
		DataPinSetup:   true,
		ExistLink:      []any{},
		UserData:       map[string]any{},
	}})
	if err != nil {
		panic("alifake: marshal bizExt: " + err.Error()) // our own types; cannot happen
	}
	return base64.StdEncoding.EncodeToString(asciiJSON(doc))
}

// asciiJSON rewrites every non-ASCII character of a JSON text as a \u escape
// (a surrogate pair above U+FFFF). Outside strings JSON is ASCII already, so
// the document means the same.
func asciiJSON(doc []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(doc))
	for _, r := range string(doc) {
		switch {
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.Bytes()
}
