package alifake

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// Share download links live at most 600 s: "expire_sec should be less or
// equal than 600" (§6).
const maxShareExpireSec = 600

// Error texts of the share endpoints (§6, §9). NotFound.ShareLink and
// InvalidParameter.SharePwd are the codes third-party clients test for; the
// messages are the fake's.
const (
	msgShareNotFound     = "The resource share_link cannot be found. "
	msgSharePwdInvalid   = "The input parameter share_pwd is not valid. "
	msgShareIDInvalid    = "The input parameter share_id is not valid. "
	msgShareTokenInvalid = "ShareLinkToken is invalid. expired"
	msgShareExpireSec    = "expire_sec should be less or equal than 600"
)

// shareCanary is the X-Canary the share listing requires; without it the
// service answers ParamFlowException (§13.5).
const shareCanary = "client=web,app=share,version=v2.3.1"

// writeParamFlow answers the service's flow-control refusal: code and
// resultCode ParamFlowException with an opaque hex message (§13.5). The
// status is not established; the fake uses 429, the family of refusals a
// client retries.
func writeParamFlow(w http.ResponseWriter) {
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"code": "ParamFlowException", "resultCode": "ParamFlowException", "message": randomHex(16),
	})
}

// shareStore holds the shares and their tokens, guarded by Fake.mu.
type shareStore struct {
	byID   map[string]*share
	tokens map[string]*shareToken
}

// share is a share link of a folder of the default drive.
type share struct {
	id       string
	pwd      string // "" means none
	folderID string // the shared folder; "root" for the whole drive
}

// shareToken is an anonymous share token (§6).
type shareToken struct {
	shareID string
	expires time.Time
	revoked bool // ExpireShareTokens
}

func (ss *shareStore) init() {
	ss.byID = make(map[string]*share)
	ss.tokens = make(map[string]*shareToken)
}

// shareIDAlphabet: real share ids are 11 letters and digits (e.g. in
// https://www.alipan.com/s/<id>).
const shareIDAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"

// newShareID returns a fresh 11-character share id.
func newShareID() string {
	b := randomBytes(11)
	for i := range b {
		b[i] = shareIDAlphabet[int(b[i])%len(shareIDAlphabet)]
	}
	return string(b)
}

// AddShare shares the folder at folderPath of the default drive ("/" shares
// the whole drive), creating it and its parents if missing, protected by pwd
// ("" for none), and returns the share id. It panics if folderPath names a
// file.
func (f *Fake) AddShare(folderPath, pwd string) (shareID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	folder := f.fs.folderAt(helperNames(folderPath), f.stamp())
	id := newShareID()
	for f.sh.byID[id] != nil {
		id = newShareID()
	}
	f.sh.byID[id] = &share{id: id, pwd: pwd, folderID: folder.id}
	return id
}

// ExpireShareTokens invalidates every share token issued so far; they answer
// 401 ShareLinkTokenInvalid until the client fetches a new one.
func (f *Fake) ExpireShareTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.sh.tokens {
		t.revoked = true
	}
}

// serveShareToken is POST /v2/share_link/get_share_token, which needs no
// Authorization (§6). An unknown share answers 404 NotFound.ShareLink; a
// wrong or missing password 400 InvalidParameter.SharePwd. A password sent
// for a share without one is ignored.
func (f *Fake) serveShareToken(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		ShareID  string `json:"share_id"`
		SharePwd string `json:"share_pwd"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	if req.ShareID == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.ShareId", "The input parameter share_id is missing. ")
		return
	}
	ttl := f.opts.ShareTokenTTL
	f.mu.Lock()
	sh := f.sh.byID[req.ShareID]
	if sh == nil {
		f.mu.Unlock()
		writeAPIError(w, http.StatusNotFound, "NotFound.ShareLink", msgShareNotFound)
		return
	}
	if sh.pwd != "" && subtle.ConstantTimeCompare([]byte(req.SharePwd), []byte(sh.pwd)) != 1 {
		f.mu.Unlock()
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.SharePwd", msgSharePwdInvalid)
		return
	}
	now := f.now()
	tok := makeJWT(map[string]any{"share_id": sh.id, "exp": now.Add(ttl).Unix(), "iat": now.Unix()})
	f.sh.tokens[tok] = &shareToken{shareID: sh.id, expires: now.Add(ttl)}
	f.mu.Unlock()

	writeJSON(w, http.StatusOK, map[string]any{
		"share_token": tok,
		"expire_time": now.Add(ttl).UTC().Format(time.RFC3339),
		"expires_in":  ceilSeconds(ttl),
	})
}

// checkShareToken returns the share whose live token x-share-token carries,
// or answers 401 ShareLinkTokenInvalid (for unknown tokens too: the client's
// remedy is the same, fetch a new one, §6).
func (f *Fake) checkShareToken(w http.ResponseWriter, r *http.Request) (share, bool) {
	tok := r.Header.Get(shareTokenHeader)
	f.mu.Lock()
	t := f.sh.tokens[tok]
	live := t != nil && !t.revoked && f.now().Before(t.expires)
	var sh share
	if live {
		sh = *f.sh.byID[t.shareID]
	}
	f.mu.Unlock()
	if !live {
		writeAPIError(w, http.StatusUnauthorized, "ShareLinkTokenInvalid", msgShareTokenInvalid)
		return share{}, false
	}
	return sh, true
}

// checkShareID answers 400 InvalidParameter.ShareId unless the body's
// share_id names the share of the token: a token opens one share only.
func checkShareID(w http.ResponseWriter, sh share, shareID string) bool {
	if shareID != sh.id {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.ShareId", msgShareIDInvalid)
		return false
	}
	return true
}

// within reports whether n is the shared folder or below it. Called with
// Fake.mu held.
func (sh share) within(n *node) bool {
	for ; n != nil; n = n.parent {
		if n.id == sh.folderID {
			return true
		}
	}
	return false
}

// serveShareList is POST /adrive/v3/file/list with x-share-token and no
// Authorization or device session (§6); without the share X-Canary it
// answers ParamFlowException (§13.5). parent_file_id "root" is the shared
// folder itself (its real id works too); folders outside the share answer
// 404 NotFound.File, as if they did not exist. Items carry the sharer's
// drive_id, which AList keeps for the download call, and the share_id.
func (f *Fake) serveShareList(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("X-Canary") != shareCanary {
		writeParamFlow(w)
		return
	}
	sh, ok := f.checkShareToken(w, r)
	var req listRequest
	if !ok || !decodeBody(w, body, &req) || !checkShareID(w, sh, req.ShareID) {
		return
	}
	parentID := req.ParentFileID
	if parentID == rootID {
		parentID = sh.folderID
	}
	f.writeList(w, req, listing{
		fs:           &f.fs,
		parentID:     parentID,
		defaultLimit: defaultListLimit,
		maxLimit:     f.opts.PageSize,
		visible:      sh.within,
		decorate:     func(it *fileItem) { it.ShareID = sh.id },
	})
}

// serveShareDownloadURL is POST /v2/file/get_share_link_download_url (§6),
// which the service has taken offline (§13.7): it still checks what it used
// to (the user's legacy access token, by serveAPI; the share token; the
// share id; expire_sec at most 600; the sharer's drive; a file of the share)
// and then answers 200 with an empty download_url and url, as OpenList #727
// and AList #9208 report it today. (aligo #169 saw ParamFlowException
// instead; the fake picks the later reports.) Shares play by copying (§15,
// batch.go).
func (f *Fake) serveShareDownloadURL(w http.ResponseWriter, r *http.Request, body []byte) {
	sh, ok := f.checkShareToken(w, r)
	var req struct {
		DriveID   string `json:"drive_id"`
		FileID    string `json:"file_id"`
		ShareID   string `json:"share_id"`
		ExpireSec int64  `json:"expire_sec"`
	}
	if !ok || !decodeBody(w, body, &req) || !checkShareID(w, sh, req.ShareID) {
		return
	}
	switch secs := req.ExpireSec; {
	case secs < 0:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.ExpireSec", "The input parameter expire_sec is not valid. ")
		return
	case secs > maxShareExpireSec:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.ExpireSec", msgShareExpireSec)
		return
	}
	if !f.checkDrive(w, req.DriveID) {
		return
	}
	f.mu.Lock()
	n := f.fs.byID[req.FileID]
	visible := n != nil && sh.within(n)
	folder := visible && n.folder
	f.mu.Unlock()
	switch {
	case !visible:
		writeAPIError(w, http.StatusNotFound, "NotFound.File", msgFileNotFound)
		return
	case folder:
		writeAPIError(w, http.StatusBadRequest, "InvalidResource.FileTypeFolder", "The resource file type folder is not supported. ")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"download_url": "",
		"url":          "",
		"thumbnail":    "",
	})
}
