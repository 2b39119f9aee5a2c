package alifake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openQR creates an Open QR login and returns its sid.
func openQR(t *testing.T, f *Fake, c *http.Client) string {
	t.Helper()
	resp := postJSON(t, c, f.APIURL()+"/oauth/authorize/qrcode", nil, map[string]any{
		"client_id": f.OpenClientID(), "client_secret": f.OpenClientSecret(),
		"scopes": []string{"user:base", "file:all:read", "file:all:write"},
	})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected qrcode status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	sid, _ := m["sid"].(string)
	if sid == "" || m["qrCodeUrl"] != f.APIURL()+"/oauth/qrcode/"+sid {
		t.Fatalf("unexpected qrcode answer; got %s; want sid and qrCodeUrl", resp.raw)
	}
	return sid
}

// openQRStatus polls the Open QR status and returns status and authCode.
func openQRStatus(t *testing.T, f *Fake, c *http.Client, sid string) (string, string) {
	t.Helper()
	resp := do(t, c, http.MethodGet, f.APIURL()+"/oauth/qrcode/"+sid+"/status", nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status code; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	status, _ := m["status"].(string)
	code, _ := m["authCode"].(string)
	return status, code
}

func TestOpenQRStates(t *testing.T) {
	tests := []struct {
		name  string
		steps []func(f *Fake, clock *testClock, sid string)
		want  []string // status after creation and after each step
	}{
		{"scan then confirm", []func(*Fake, *testClock, string){
			func(f *Fake, _ *testClock, sid string) { f.ScanQR(sid) },
			func(f *Fake, _ *testClock, sid string) { f.ConfirmQR(sid) },
			func(_ *Fake, clock *testClock, _ string) { clock.Advance(time.Hour) }, // a confirmed login never expires
		}, []string{"WaitLogin", "ScanSuccess", "LoginSuccess", "LoginSuccess"}},
		{"confirm implies the scan", []func(*Fake, *testClock, string){
			func(f *Fake, _ *testClock, sid string) { f.ConfirmQR(sid) },
		}, []string{"WaitLogin", "LoginSuccess"}},
		{"lifetime over while waiting", []func(*Fake, *testClock, string){
			func(_ *Fake, clock *testClock, _ string) { clock.Advance(179 * time.Second) },
			func(_ *Fake, clock *testClock, _ string) { clock.Advance(time.Second) },
			func(f *Fake, _ *testClock, sid string) { f.ConfirmQR(sid) }, // too late
		}, []string{"WaitLogin", "WaitLogin", "QRCodeExpired", "QRCodeExpired"}},
		{"lifetime over after the scan", []func(*Fake, *testClock, string){
			func(f *Fake, _ *testClock, sid string) { f.ScanQR(sid) },
			func(_ *Fake, clock *testClock, _ string) { clock.Advance(180 * time.Second) },
		}, []string{"WaitLogin", "ScanSuccess", "QRCodeExpired"}},
		{"ExpireQR", []func(*Fake, *testClock, string){
			func(f *Fake, _ *testClock, sid string) { f.ScanQR(sid) },
			func(f *Fake, _ *testClock, sid string) { f.ExpireQR(sid) },
		}, []string{"WaitLogin", "ScanSuccess", "QRCodeExpired"}},
		{"CancelQR has no Open state but expiry", []func(*Fake, *testClock, string){
			func(f *Fake, _ *testClock, sid string) { f.CancelQR(sid) },
		}, []string{"WaitLogin", "QRCodeExpired"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			f := startFake(t, Options{Now: clock.Now})
			c := testClient(t)
			sid := openQR(t, f, c)
			if got := f.PendingQR(); !slices.Equal(got, []string{sid}) {
				t.Fatalf("unexpected PendingQR; got %v; want [%s]", got, sid)
			}
			var code string
			for i, want := range tc.want {
				if i > 0 {
					tc.steps[i-1](f, clock, sid)
				}
				status, c2 := openQRStatus(t, f, c, sid)
				if status != want {
					t.Fatalf("step %d: unexpected status; got %s; want %s", i, status, want)
				}
				if (status == "LoginSuccess") != (c2 != "") || code != "" && c2 != code {
					t.Fatalf("step %d: unexpected authCode; got %q; want one stable code with LoginSuccess only", i, c2)
				}
				code = c2
			}
			if got := f.PendingQR(); len(got) != 0 {
				t.Fatalf("unexpected PendingQR after the flow; got %v; want none", got)
			}
		})
	}
}

func TestOpenQRLogin(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, QRLifetime: time.Minute})
	c := testClient(t)
	s := &openSession{f: f, c: c}

	create := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"wrong secret", map[string]any{"client_id": f.OpenClientID(), "client_secret": "x", "scopes": []string{"user:base"}}, 400, "InvalidClientSecret"},
		{"no credentials", map[string]any{"scopes": []string{"user:base"}}, 400, "InvalidClientId"},
		{"no scopes", map[string]any{"client_id": f.OpenClientID(), "client_secret": f.OpenClientSecret()}, 400, "InvalidParameterMissing.Scopes"},
		{"scopes as one string", map[string]any{"client_id": f.OpenClientID(), "client_secret": f.OpenClientSecret(), "scopes": "user:base"}, 400, "InvalidParameter"},
	}
	for _, tc := range create {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, c, f.APIURL()+"/oauth/authorize/qrcode", nil, tc.body)
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		})
	}

	sid := openQR(t, f, c)
	f.ConfirmQR(sid)
	_, code := openQRStatus(t, f, c, sid)
	resp := s.grant(t, map[string]string{"grant_type": "authorization_code", "code": code})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected code exchange; got %d %s; want 200", resp.status, resp.raw)
	}
	s.keep(t, resp)
	if sub := jwtClaims(t, s.refresh)["sub"]; sub != f.UserID() {
		t.Fatalf("unexpected sub; got %v; want %s", sub, f.UserID())
	}
	if resp := s.post(t, "/adrive/v1.0/user/getDriveInfo", "{}"); resp.status != http.StatusOK {
		t.Fatalf("unexpected call with the QR login's access token; got %d %s; want 200", resp.status, resp.raw)
	}
	s.refreshTokens(t, s.refresh) // the refresh token works and rotates

	again := s.grant(t, map[string]string{"grant_type": "authorization_code", "code": code})
	if again.status != http.StatusBadRequest || again.code(t) != "InvalidParameter.Code" {
		t.Fatalf("unexpected second exchange; got %d %s; want 400 InvalidParameter.Code", again.status, again.raw)
	}
	late := openQR(t, f, c)
	f.ConfirmQR(late)
	_, lateCode := openQRStatus(t, f, c, late)
	clock.Advance(10 * time.Minute)
	if resp := s.grant(t, map[string]string{"grant_type": "authorization_code", "code": lateCode}); resp.status != http.StatusBadRequest || resp.code(t) != "InvalidParameter.Code" {
		t.Fatalf("unexpected exchange after 10 minutes; got %d %s; want 400 InvalidParameter.Code", resp.status, resp.raw)
	}
	if !slices.Contains(f.Secrets(), lateCode) || !slices.Contains(f.Secrets(), s.refresh) {
		t.Fatalf("unexpected Secrets; got no authCode or Open refresh token; want both")
	}

	// QRLifetime applies, unknown sids are expired, and the status is GET.
	other := openQR(t, f, c)
	clock.Advance(time.Minute)
	_, ck := passportGenerate(t, f, c) // the flows do not see each other's ids
	for _, sid := range []string{other, "unknown", strings.Repeat("0", 32), ck} {
		if status, _ := openQRStatus(t, f, c, sid); status != "QRCodeExpired" {
			t.Fatalf("unexpected status of %s; got %s; want QRCodeExpired", sid, status)
		}
	}
	if resp := postJSON(t, c, f.APIURL()+"/oauth/qrcode/"+other+"/status", nil, "{}"); resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("unexpected POST to the status; got %d; want 405", resp.status)
	}
	if got := f.PendingQR(); !slices.Equal(got, []string{ck}) {
		t.Fatalf("unexpected PendingQR; got %v; want only the passport login [%s]", got, ck)
	}
	if f.Calls(EndpointQROpenStatus) == 0 || f.Calls(EndpointQROpenCreate) == 0 {
		t.Fatalf("unexpected counters; got %d status and %d create calls; want both counted", f.Calls(EndpointQROpenStatus), f.Calls(EndpointQROpenCreate))
	}
}

// passportData is content.data of a passport envelope plus its status.
type passportData struct {
	success bool
	status  int
	data    map[string]any
}

// passportGenerate calls generate.do and returns t and ck.
func passportGenerate(t *testing.T, f *Fake, c *http.Client) (string, string) {
	t.Helper()
	resp := do(t, c, http.MethodGet, f.APIURL()+"/newlogin/qrcode/generate.do?appName=aliyun_drive&fromSite=52&lang=zh_CN", nil, nil)
	p := passportEnvelopeOf(t, resp)
	if resp.status != http.StatusOK || !p.success || p.status != 0 || p.data["resultCode"] != float64(100) {
		t.Fatalf("unexpected generate answer; got %d %s; want the success envelope", resp.status, resp.raw)
	}
	tNum, ok := p.data["t"].(float64)
	ck, _ := p.data["ck"].(string)
	content, _ := p.data["codeContent"].(string)
	if !ok || ck == "" || !strings.HasPrefix(content, "https://passport.aliyundrive.com/qrcodeCheck.htm?lgToken=") {
		t.Fatalf("unexpected generate data; got %v; want numeric t, ck and codeContent", p.data)
	}
	return strconv.FormatInt(int64(tNum), 10), ck
}

// passportQuery form-posts query.do.
func passportQuery(t *testing.T, f *Fake, c *http.Client, form url.Values) passportData {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	resp := do(t, c, http.MethodPost, f.APIURL()+"/newlogin/qrcode/query.do?appName=aliyun_drive&fromSite=52&_bx-v=2.0.31", h, []byte(form.Encode()))
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected query status; got %d %s; want 200", resp.status, resp.raw)
	}
	return passportEnvelopeOf(t, resp)
}

func passportEnvelopeOf(t *testing.T, resp response) passportData {
	t.Helper()
	var env struct {
		HasError bool `json:"hasError"`
		Content  struct {
			Success bool           `json:"success"`
			Status  int            `json:"status"`
			Data    map[string]any `json:"data"`
		} `json:"content"`
	}
	if err := json.Unmarshal(resp.raw, &env); err != nil {
		t.Fatalf("unexpected envelope; got %q; want JSON (%v)", resp.raw, err)
	}
	if env.HasError != (resp.status != http.StatusOK) {
		t.Fatalf("unexpected hasError; got %v with status %d; want it set on errors only", env.HasError, resp.status)
	}
	return passportData{success: env.Content.Success, status: env.Content.Status, data: env.Content.Data}
}

func TestPassportQRStates(t *testing.T) {
	type step struct {
		act     func(f *Fake, clock *testClock, ck string)
		status  string
		code    int
		success bool
	}
	none := func(*Fake, *testClock, string) {}
	scan := func(f *Fake, _ *testClock, ck string) { f.ScanQR(ck) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"confirmed", []step{
			{none, "NEW", 0, true},
			{scan, "SCANED", 1, true},
			{func(f *Fake, _ *testClock, ck string) { f.ConfirmQR(ck) }, "CONFIRMED", 2, true},
			{func(f *Fake, _ *testClock, ck string) { f.CancelQR(ck) }, "CONFIRMED", 2, true}, // finished logins ignore hooks
		}},
		{"cancelled after the scan", []step{
			{scan, "SCANED", 1, true},
			{func(f *Fake, _ *testClock, ck string) { f.CancelQR(ck) }, "CANCELED", -2, false},
			{func(f *Fake, _ *testClock, ck string) { f.ConfirmQR(ck) }, "CANCELED", -2, false},
		}},
		{"expired by the clock", []step{
			{func(_ *Fake, clock *testClock, _ string) { clock.Advance(179 * time.Second) }, "NEW", 0, true},
			{func(_ *Fake, clock *testClock, _ string) { clock.Advance(time.Second) }, "EXPIRED", -1, false},
		}},
		{"ExpireQR after the scan", []step{
			{scan, "SCANED", 1, true},
			{func(f *Fake, _ *testClock, ck string) { f.ExpireQR(ck) }, "EXPIRED", -1, false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			f := startFake(t, Options{Now: clock.Now})
			c := testClient(t)
			tStr, ck := passportGenerate(t, f, c)
			if got := f.PendingQR(); !slices.Equal(got, []string{ck}) {
				t.Fatalf("unexpected PendingQR; got %v; want [%s]", got, ck)
			}
			for i, st := range tc.steps {
				st.act(f, clock, ck)
				p := passportQuery(t, f, c, url.Values{"t": {tStr}, "ck": {ck}, "appName": {"aliyun_drive"}})
				if p.data["qrCodeStatus"] != st.status || p.status != st.code || p.success != st.success {
					t.Fatalf("step %d: unexpected answer; got %v %d %v; want %s %d %v", i, p.data["qrCodeStatus"], p.status, p.success, st.status, st.code, st.success)
				}
				if confirmed := st.status == "CONFIRMED"; confirmed != (p.data["loginResult"] == "success") || confirmed != (p.data["bizExt"] != nil) {
					t.Fatalf("step %d: unexpected login data; got %v; want loginResult and bizExt with CONFIRMED only", i, p.data)
				}
			}
		})
	}
}

func TestPassportQRLogin(t *testing.T) {
	// A non-ASCII user name must still give an ASCII-only bizExt (§12.3).
	f := startFake(t, Options{UserName: "演示用户😀"})
	c := testClient(t)

	for _, q := range []string{"", "?appName=taobao"} {
		resp := do(t, c, http.MethodGet, f.APIURL()+"/newlogin/qrcode/generate.do"+q, nil, nil)
		if p := passportEnvelopeOf(t, resp); resp.status != http.StatusBadRequest || p.success || p.data["titleMsg"] == nil {
			t.Fatalf("unexpected generate with query %q; got %d %s; want 400 hasError with titleMsg", q, resp.status, resp.raw)
		}
	}

	tStr, ck := passportGenerate(t, f, c)
	f.ConfirmQR(ck)
	mismatches := []url.Values{
		{"t": {"1"}, "ck": {ck}},
		{"t": {tStr}, "ck": {"unknown"}},
		{"ck": {ck}},
	}
	for _, form := range mismatches {
		if p := passportQuery(t, f, c, form); p.data["qrCodeStatus"] != "EXPIRED" || p.status != -1 || p.success {
			t.Fatalf("unexpected answer to %v; got %v; want EXPIRED -1 false", form, p)
		}
	}
	// aligo posts the whole generate data back (§12.2).
	p := passportQuery(t, f, c, url.Values{"t": {tStr}, "ck": {ck}, "codeContent": {"x"}, "resultCode": {"100"}})
	bizExt, _ := p.data["bizExt"].(string)
	raw, err := base64.StdEncoding.DecodeString(bizExt)
	if err != nil || len(bizExt)%4 != 0 {
		t.Fatalf("unexpected bizExt; got %q; want padded standard base64 (%v)", bizExt, err)
	}
	for i, b := range raw {
		if b >= 0x80 {
			t.Fatalf("unexpected non-ASCII byte at %d of bizExt; got %#x; want ASCII only", i, b)
		}
	}
	var doc struct {
		Result map[string]any `json:"pds_login_result"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("unexpected bizExt JSON; got %q; want an object (%v)", raw, err)
	}
	r := doc.Result
	want := map[string]any{
		"tokenType": "Bearer", "expiresIn": float64(7200), "userId": f.UserID(), "userName": "演示用户😀",
		"defaultDriveId": f.DriveID(), "status": "enabled",
	}
	for k, v := range want {
		if r[k] != v {
			t.Fatalf("unexpected %s; got %v; want %v", k, r[k], v)
		}
	}
	refresh, _ := r["refreshToken"].(string)
	if !hex32.MatchString(refresh) {
		t.Fatalf("unexpected refreshToken; got %q; want 32 lowercase hex", refresh)
	}
	access, _ := r["accessToken"].(string)
	if resp := postJSON(t, c, f.APIURL()+"/v2/user/get", http.Header{"Authorization": {"Bearer\t" + access}}, "{}"); resp.status != http.StatusOK {
		t.Fatalf("unexpected user/get with the bizExt access token; got %d %s; want 200", resp.status, resp.raw)
	}
	// The refresh token is a legacy one, good for a full login.
	s := &testSession{f: f, c: c}
	s.refreshTokens(t, refresh)
	if p2 := passportQuery(t, f, c, url.Values{"t": {tStr}, "ck": {ck}}); p2.data["bizExt"] != bizExt {
		t.Fatalf("unexpected repeat poll; got %v; want the same bizExt", p2.data["bizExt"])
	}
	if f.Calls(EndpointQRPassportGenerate) != 3 || f.Calls(EndpointQRPassportQuery) != 5 {
		t.Fatalf("unexpected counters; got %d generate and %d query; want 3 and 5", f.Calls(EndpointQRPassportGenerate), f.Calls(EndpointQRPassportQuery))
	}
}
