package alifake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// openSession is a client of the Open API holding a token pair of the
// fake's app.
type openSession struct {
	f       *Fake
	c       *http.Client
	access  string
	refresh string
}

// openLogin trades a minted Open refresh token for a pair.
func openLogin(t *testing.T, f *Fake) *openSession {
	t.Helper()
	s := &openSession{f: f, c: testClient(t)}
	s.refreshTokens(t, f.NewOpenRefreshToken())
	return s
}

// grant posts a grant to /oauth/access_token with the app's credentials.
func (s *openSession) grant(t *testing.T, fields map[string]string) response {
	t.Helper()
	body := map[string]string{"client_id": s.f.OpenClientID(), "client_secret": s.f.OpenClientSecret()}
	for k, v := range fields {
		body[k] = v
	}
	return postJSON(t, s.c, s.f.APIURL()+"/oauth/access_token", nil, body)
}

// refreshTokens trades refresh for a new pair and keeps it.
func (s *openSession) refreshTokens(t *testing.T, refresh string) {
	t.Helper()
	resp := s.grant(t, map[string]string{"grant_type": "refresh_token", "refresh_token": refresh})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected open token status; got %d %s; want 200", resp.status, resp.raw)
	}
	s.keep(t, resp)
}

// keep stores the pair of a token response.
func (s *openSession) keep(t *testing.T, resp response) {
	t.Helper()
	m := resp.fields(t)
	s.access, _ = m["access_token"].(string)
	s.refresh, _ = m["refresh_token"].(string)
}

// post calls an Open API path with "Authorization: Bearer <access>".
func (s *openSession) post(t *testing.T, path string, body any) response {
	t.Helper()
	return postJSON(t, s.c, s.f.APIURL()+path, http.Header{"Authorization": {"Bearer " + s.access}}, body)
}

// jwtClaims checks that tok is three unpadded segments whose payload has no
// '-' or '_' (AList decodes it with standard raw base64, spec §3.1) and
// returns the decoded payload.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	segs := strings.Split(tok, ".")
	if len(segs) != 3 {
		t.Fatalf("unexpected token segments; got %d in %q; want 3", len(segs), tok)
	}
	for i, seg := range segs {
		if strings.Contains(seg, "=") {
			t.Fatalf("unexpected padding in segment %d; got %q; want none", i, seg)
		}
	}
	if strings.ContainsAny(segs[1], "-_+/") {
		t.Fatalf("unexpected payload alphabet; got %q; want only characters base64 and base64url share", segs[1])
	}
	raw, err := base64.RawStdEncoding.DecodeString(segs[1])
	if err != nil {
		t.Fatalf("unexpected payload encoding; got %v; want standard raw base64", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("unexpected payload; got %q; want JSON (%v)", raw, err)
	}
	return m
}

// shareClient talks to the share endpoints: an anonymous share token, plus
// the user's legacy access token for downloads.
type shareClient struct {
	f       *Fake
	c       *http.Client
	shareID string
	token   string
	access  string
}

// newShareClient fetches a share token for shareID with pwd and a legacy
// access token (no device session: share endpoints need none).
func newShareClient(t *testing.T, f *Fake, shareID, pwd string) *shareClient {
	t.Helper()
	s := &testSession{f: f, c: testClient(t)}
	s.refreshTokens(t, f.NewRefreshToken())
	sc := &shareClient{f: f, c: s.c, shareID: shareID, access: s.access}
	sc.fetchToken(t, pwd)
	return sc
}

// tokenFor posts get_share_token.
func (sc *shareClient) tokenFor(t *testing.T, body any) response {
	t.Helper()
	return postJSON(t, sc.c, sc.f.APIURL()+"/v2/share_link/get_share_token", nil, body)
}

// fetchToken gets and keeps a fresh share token.
func (sc *shareClient) fetchToken(t *testing.T, pwd string) {
	t.Helper()
	resp := sc.tokenFor(t, map[string]string{"share_id": sc.shareID, "share_pwd": pwd})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected get_share_token status; got %d %s; want 200", resp.status, resp.raw)
	}
	sc.token, _ = resp.fields(t)["share_token"].(string)
}

// list posts the share listing as AList does: x-share-token, no
// Authorization, no device headers.
func (sc *shareClient) list(t *testing.T, body map[string]any) response {
	t.Helper()
	h := http.Header{"X-Share-Token": {sc.token}, "X-Canary": {"client=web,app=share,version=v2.3.1"}}
	return postJSON(t, sc.c, sc.f.APIURL()+"/adrive/v3/file/list", h, body)
}

// link posts get_share_link_download_url with both tokens.
func (sc *shareClient) link(t *testing.T, body map[string]any) response {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer\t" + sc.access}, "X-Share-Token": {sc.token}}
	return postJSON(t, sc.c, sc.f.APIURL()+"/v2/file/get_share_link_download_url", h, body)
}

// items returns the items of a list response.
func items(t *testing.T, resp response) []map[string]any {
	t.Helper()
	raw, _ := resp.fields(t)["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i] = it.(map[string]any)
	}
	return out
}

// get fetches a URL with the given Referer ("" sends none).
func get(t *testing.T, c *http.Client, url, referer string) response {
	t.Helper()
	h := http.Header{}
	if referer != "" {
		h.Set("Referer", referer)
	}
	return do(t, c, http.MethodGet, url, h, nil)
}
