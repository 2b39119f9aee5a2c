package aliclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alilink/alilink/aliclient/tokenstore"
)

// QR login (spec §12): the Open platform flow when the user has an app (client
// id and secret), else the legacy passport flow. Both end in a refresh token,
// saved like a rotated one.

// QRState is where a QR login stands.
type QRState int

const (
	QRWaiting   QRState = iota // shown, not scanned yet
	QRScanned                  // scanned, waiting for the user to confirm in the app
	QRConfirmed                // confirmed: the refresh token is at hand
	QRExpired                  // the code lapsed before it was confirmed
	QRCancelled                // the user cancelled in the app
)

func (s QRState) String() string {
	return [...]string{"waiting for a scan", "scanned, confirm in the app", "confirmed", "expired", "cancelled"}[s]
}

// openScopes are the scopes alilink asks for: reading is enough to serve, and
// writing is needed for uploads.
var openScopes = []string{"user:base", "file:all:read", "file:all:write"}

// QRLogin is one QR login in progress.
type QRLogin struct {
	// Driver is the driver the token is for ("open" or "drive").
	Driver string
	// Text is what the QR code encodes: the page the phone app opens.
	Text string
	// ImageURL, when the service gives one, is a ready-made QR image.
	ImageURL string

	cfg     Config
	http    *http.Client
	sid     string // open flow
	t, ck   string // passport flow
	refresh string // once confirmed
}

// StartQRLogin asks the drive for a QR code.
func StartQRLogin(ctx context.Context, cfg Config, hc *http.Client) (*QRLogin, error) {
	if hc == nil {
		hc = newHTTPClient()
	}
	q := &QRLogin{cfg: cfg, http: hc}
	if cfg.OpenClientID != "" && cfg.OpenClientSecret != "" {
		q.Driver = "open"
		var resp struct {
			QRCodeURL string `json:"qrCodeUrl"`
			SID       string `json:"sid"`
		}
		body := map[string]any{"client_id": cfg.OpenClientID, "client_secret": cfg.OpenClientSecret, "scopes": openScopes}
		if err := q.postJSON(ctx, strings.TrimRight(cfg.OpenURL, "/")+"/oauth/authorize/qrcode", body, &resp); err != nil {
			return nil, fmt.Errorf("create the QR code: %w", err)
		}
		if resp.SID == "" {
			return nil, errorf(ErrUpstream, "create the QR code: no sid in the answer")
		}
		q.sid, q.ImageURL = resp.SID, resp.QRCodeURL
		q.Text = "https://www.alipan.com/o/oauth/authorize?sid=" + url.QueryEscape(resp.SID)
		return q, nil
	}
	q.Driver = "drive"
	u := strings.TrimRight(cfg.PassportURL, "/") + "/newlogin/qrcode/generate.do?appName=aliyun_drive&fromSite=52"
	var env passportEnvelope
	if err := q.do(ctx, http.MethodGet, u, nil, "", &env); err != nil {
		return nil, fmt.Errorf("create the QR code: %w", err)
	}
	d := env.Content.Data
	if d.CodeContent == "" || d.CK == "" {
		return nil, errorf(ErrUpstream, "create the QR code: the answer has no code")
	}
	q.Text, q.ck, q.t = d.CodeContent, d.CK, d.T.String()
	return q, nil
}

// passportEnvelope is the answer of generate.do and query.do (spec §12.2).
type passportEnvelope struct {
	HasError bool `json:"hasError"`
	Content  struct {
		Data struct {
			T            json.Number `json:"t"`
			CK           string      `json:"ck"`
			CodeContent  string      `json:"codeContent"`
			QRCodeStatus string      `json:"qrCodeStatus"`
			BizExt       string      `json:"bizExt"`
			TitleMsg     string      `json:"titleMsg"`
		} `json:"data"`
	} `json:"content"`
}

// Poll asks once where the login stands. Once QRConfirmed, RefreshToken is set.
func (q *QRLogin) Poll(ctx context.Context) (QRState, error) {
	if q.Driver == "open" {
		return q.pollOpen(ctx)
	}
	return q.pollPassport(ctx)
}

func (q *QRLogin) pollOpen(ctx context.Context) (QRState, error) {
	var st struct {
		Status   string `json:"status"`
		AuthCode string `json:"authCode"`
	}
	u := strings.TrimRight(q.cfg.OpenURL, "/") + "/oauth/qrcode/" + url.PathEscape(q.sid) + "/status"
	if err := q.do(ctx, http.MethodGet, u, nil, "", &st); err != nil {
		return QRWaiting, err
	}
	switch st.Status {
	case "ScanSuccess":
		return QRScanned, nil
	case "QRCodeExpired":
		return QRExpired, nil
	case "LoginSuccess":
		var tok tokenResponse
		req := openTokenRequest{ClientID: q.cfg.OpenClientID, ClientSecret: q.cfg.OpenClientSecret, GrantType: "authorization_code", Code: st.AuthCode}
		if err := q.postJSON(ctx, strings.TrimRight(q.cfg.OpenURL, "/")+"/oauth/access_token", req, &tok); err != nil {
			return QRWaiting, fmt.Errorf("exchange the login code: %w", err)
		}
		if tok.RefreshToken == "" {
			return QRWaiting, errorf(ErrUpstream, "exchange the login code: no refresh token in the answer")
		}
		q.refresh = tok.RefreshToken
		return QRConfirmed, nil
	default: // WaitLogin, or a status this client does not know: keep waiting
		return QRWaiting, nil
	}
}

func (q *QRLogin) pollPassport(ctx context.Context) (QRState, error) {
	form := url.Values{"t": {q.t}, "ck": {q.ck}, "appName": {"aliyun_drive"}, "appEntrance": {"web"}, "isMobile": {"false"}}
	u := strings.TrimRight(q.cfg.PassportURL, "/") + "/newlogin/qrcode/query.do?appName=aliyun_drive&fromSite=52"
	var env passportEnvelope
	if err := q.do(ctx, http.MethodPost, u, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", &env); err != nil {
		return QRWaiting, err
	}
	d := env.Content.Data
	switch d.QRCodeStatus {
	case "SCANED":
		return QRScanned, nil
	case "EXPIRED":
		return QRExpired, nil
	case "CANCELED":
		return QRCancelled, nil
	case "CONFIRMED":
		rt, err := bizExtRefreshToken(d.BizExt)
		if err != nil {
			return QRWaiting, err
		}
		q.refresh = rt
		return QRConfirmed, nil
	default: // NEW
		return QRWaiting, nil
	}
}

// bizExtRefreshToken takes pds_login_result.refreshToken out of the base64
// JSON of a confirmed passport login (spec §12.2; the JSON is ASCII where it
// matters, so no GBK decoding is needed for the token).
func bizExtRefreshToken(bizExt string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(bizExt)
	if err != nil {
		return "", errorf(ErrUpstream, "confirmed login: bizExt is not base64")
	}
	var ext struct {
		Result struct {
			RefreshToken string `json:"refreshToken"`
		} `json:"pds_login_result"`
	}
	if json.Unmarshal(raw, &ext) != nil || ext.Result.RefreshToken == "" {
		return "", errorf(ErrUpstream, "confirmed login: no refresh token in bizExt")
	}
	return ext.Result.RefreshToken, nil
}

// RefreshToken is the token a confirmed login got.
func (q *QRLogin) RefreshToken() string { return q.refresh }

// Save stores the confirmed login's refresh token in the state dir exactly as a
// rotated one is stored: it continues the chain of the configured token, so a
// restart with the same ALILINK_REFRESH_TOKEN uses it. It returns the file.
func (q *QRLogin) Save() (string, error) {
	if q.refresh == "" {
		return "", errorf(ErrNoToken, "the login is not confirmed")
	}
	// The file of the account the login is for: ALILINK_STATE_KEY names a
	// mounts file's account (its state_key), as the account will read it.
	cfg := q.cfg
	cfg.Driver = q.Driver
	st := tokenstore.New(cfg.StateDir, StateFile(cfg))
	// Load sets the chain's seed from the configured token; whatever was saved
	// before (nothing, an older chain, an unreadable file) is replaced.
	_, _, _ = st.Load(q.cfg.RefreshToken)
	if err := st.Save(q.refresh); err != nil {
		return "", err
	}
	return st.Path(), nil
}

func (q *QRLogin) postJSON(ctx context.Context, u string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return q.do(ctx, http.MethodPost, u, strings.NewReader(string(b)), "application/json", out)
}

// do is one login call: these are not metered or retried like the API calls
// (the caller polls anyway), but errors are decoded the same way.
func (q *QRLogin) do(ctx context.Context, method, u string, body io.Reader, ctype string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := q.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errorf(ErrUpstream, "%s", redactQuery(err))
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return decodeError("login", resp.StatusCode, resp.Header, rb)
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return errorf(ErrUpstream, "login: undecodable answer (HTTP %s)", strconv.Itoa(resp.StatusCode))
	}
	return nil
}

// redactQuery keeps a transport error's message without its URL.
func redactQuery(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
