package alifake

import (
	"net/http"
	"strings"
)

// Statuses of the Open QR login, spelt as the SDKs spell them (§12.1).
const (
	qrStatusWaitLogin    = "WaitLogin"
	qrStatusScanSuccess  = "ScanSuccess"
	qrStatusLoginSuccess = "LoginSuccess"
	qrStatusExpired      = "QRCodeExpired"
)

// qrStatusPrefix and qrStatusSuffix frame the sid in the status path.
const (
	qrStatusPrefix = "/oauth/qrcode/"
	qrStatusSuffix = "/status"
)

// qrStatusSID extracts the sid from /oauth/qrcode/{sid}/status.
func qrStatusSID(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, qrStatusPrefix)
	if !ok {
		return "", false
	}
	sid, ok := strings.CutSuffix(rest, qrStatusSuffix)
	if !ok || sid == "" || strings.Contains(sid, "/") {
		return "", false
	}
	return sid, true
}

// serveQRCreate is POST /oauth/authorize/qrcode (§12.1 step 1). It demands
// the app's client_id and client_secret (PKCE is not supported) and a
// non-empty scopes array; width and height are accepted and ignored.
// qrCodeUrl has the real service's shape, <api>/oauth/qrcode/<sid>, but the
// fake serves no image there: CLI clients draw their own QR from the sid.
func (f *Fake) serveQRCreate(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Scopes       []string `json:"scopes"`
		Width        int      `json:"width"`
		Height       int      `json:"height"`
	}
	if !decodeBody(w, body, &req) || !f.checkClient(w, req.ClientID, req.ClientSecret) {
		return
	}
	if len(req.Scopes) == 0 {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.Scopes", "The input parameter scopes is missing. ")
		return
	}
	sid := randomHex(16)
	f.mu.Lock()
	f.addQR(qrFlowOpen, sid, f.now())
	base := f.apiURL
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"qrCodeUrl": base + qrStatusPrefix + sid, "sid": sid})
}

// serveQRStatus is GET /oauth/qrcode/{sid}/status (§12.1 step 2), which needs
// no credentials. An unknown sid (a passport ck included) answers
// QRCodeExpired, which every client handles; a confirmed login keeps
// answering LoginSuccess with the same authCode, spent or not.
func (f *Fake) serveQRStatus(w http.ResponseWriter, r *http.Request, _ []byte) {
	sid, _ := qrStatusSID(r.URL.Path)
	f.mu.Lock()
	state, code := qrExpired, ""
	if s := f.qr.byID[sid]; s != nil && s.flow == qrFlowOpen {
		state, code = s.settle(f.now()), s.authCode
	}
	f.mu.Unlock()
	resp := map[string]string{}
	switch state {
	case qrWaiting:
		resp["status"] = qrStatusWaitLogin
	case qrScanned:
		resp["status"] = qrStatusScanSuccess
	case qrConfirmed:
		resp["status"] = qrStatusLoginSuccess
		resp["authCode"] = code
	default:
		resp["status"] = qrStatusExpired
	}
	writeJSON(w, http.StatusOK, resp)
}
