package alifake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startFake starts a fake that the test closes when it ends.
func startFake(t *testing.T, opts Options) *Fake {
	t.Helper()
	f := New(opts)
	if err := f.Start(); err != nil {
		t.Fatalf("unexpected error from Start; got %v; want nil", err)
	}
	t.Cleanup(f.Close)
	return f
}

// testClient returns an HTTP client whose idle connections are closed when
// the test ends, so no transport goroutine outlives it.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	raw    []byte
}

// fields decodes a JSON object body.
func (r response) fields(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("unexpected non-JSON body; got %q; want a JSON object (%v)", r.raw, err)
	}
	return m
}

// code is the "code" of a JSON error body.
func (r response) code(t *testing.T) string {
	t.Helper()
	c, _ := r.fields(t)["code"].(string)
	return c
}

// do sends a request and reads the whole response.
func do(t *testing.T, c *http.Client, method, url string, header http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("unexpected error building request; got %v; want nil", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("unexpected error from %s %s; got %v; want nil", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("unexpected error reading body; got %v; want nil", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// postJSON POSTs body (a string is sent verbatim, anything else as JSON).
func postJSON(t *testing.T, c *http.Client, url string, header http.Header, body any) response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatalf("unexpected marshal error; got %v; want nil", err)
		}
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return do(t, c, http.MethodPost, url, h, raw)
}

// deviceKey is the client side of §2: the key is SHA-256(user id) used as a
// secp256k1 scalar, exactly as AList derives it.
type deviceKey struct {
	priv     *secp256k1.PrivateKey
	deviceID string
	userID   string
}

func newDeviceKey(userID string) deviceKey {
	sum := sha256.Sum256([]byte(userID))
	return deviceKey{priv: secp256k1.PrivKeyFromBytes(sum[:]), deviceID: hex.EncodeToString(sum[:]), userID: userID}
}

// pubHex is X‖Y in hex (128 digits, no 04 prefix), as AList sends it.
func (k deviceKey) pubHex() string {
	return hex.EncodeToString(k.priv.PubKey().SerializeUncompressed()[1:])
}

// sign returns X-Signature for nonce: hex of r‖s‖v. decred's SignCompact
// gives [27+v]‖r‖s with a low s, so only the byte order changes.
func (k deviceKey) sign(nonce int64) string {
	return hex.EncodeToString(k.signRaw(nonce))
}

func (k deviceKey) signRaw(nonce int64) []byte {
	msg := deviceAppID + ":" + k.deviceID + ":" + k.userID + ":" + strconv.FormatInt(nonce, 10)
	digest := sha256.Sum256([]byte(msg))
	c := ecdsa.SignCompact(k.priv, digest[:], false)
	out := append([]byte{}, c[1:65]...)
	return append(out, c[0]-27)
}

// testSession is a logged-in client: tokens plus a registered device.
type testSession struct {
	f       *Fake
	c       *http.Client
	access  string
	refresh string
	key     deviceKey
	sig     string
}

// login runs the whole handshake: refresh, user/get, create_session.
func login(t *testing.T, f *Fake) *testSession {
	t.Helper()
	s := &testSession{f: f, c: testClient(t), key: newDeviceKey(f.UserID())}
	s.refreshTokens(t, f.NewRefreshToken())
	resp := postJSON(t, s.c, f.APIURL()+"/users/v1/users/device/create_session", s.headers(s.key.sign(0)), map[string]any{
		"deviceName": "samsung", "modelName": "SM-G9810", "nonce": 0, "pubKey": s.key.pubHex(), "refreshToken": s.refresh,
	})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected create_session status; got %d %s; want 200", resp.status, resp.raw)
	}
	s.sig = s.key.sign(0)
	return s
}

// refreshTokens trades a refresh token for a new pair.
func (s *testSession) refreshTokens(t *testing.T, refresh string) {
	t.Helper()
	resp := postJSON(t, s.c, s.f.APIURL()+"/v2/account/token", nil, map[string]any{"refresh_token": refresh, "grant_type": "refresh_token"})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected token status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	s.access, _ = m["access_token"].(string)
	s.refresh, _ = m["refresh_token"].(string)
}

// headers are AList's legacy headers (§1.3) with the given signature.
func (s *testSession) headers(sig string) http.Header {
	return http.Header{
		"Authorization": {"Bearer\t" + s.access},
		"X-Device-Id":   {s.key.deviceID},
		"X-Signature":   {sig},
		"X-Canary":      {"client=Android,app=adrive,version=v4.1.0"},
	}
}

// post calls an API path with the session's credentials.
func (s *testSession) post(t *testing.T, path string, body any) response {
	t.Helper()
	return postJSON(t, s.c, s.f.APIURL()+path, s.headers(s.sig), body)
}

// link asks get_download_url for a file's URL.
func (s *testSession) link(t *testing.T, fileID string, expireSec int64) string {
	t.Helper()
	resp := s.post(t, "/v2/file/get_download_url", map[string]any{"drive_id": s.f.DriveID(), "file_id": fileID, "expire_sec": expireSec})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected get_download_url status; got %d %s; want 200", resp.status, resp.raw)
	}
	u, _ := resp.fields(t)["url"].(string)
	return u
}

// linkIn asks get_download_url for a file of the given drive.
func (s *testSession) linkIn(t *testing.T, driveID, fileID string) string {
	t.Helper()
	resp := s.post(t, "/v2/file/get_download_url", map[string]any{"drive_id": driveID, "file_id": fileID})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected get_download_url status; got %d %s; want 200", resp.status, resp.raw)
	}
	u, _ := resp.fields(t)["url"].(string)
	return u
}

// syntheticBytes reads the expected bytes [off, off+n) of a synthetic file.
func syntheticBytes(t *testing.T, path string, size, off, n int64) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := SyntheticReader(path, size).ReadAt(b, off); err != nil && err != io.EOF {
		t.Fatalf("unexpected SyntheticReader error; got %v; want nil", err)
	}
	return b
}
