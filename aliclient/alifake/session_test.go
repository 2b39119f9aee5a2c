package alifake

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// tokensOnly logs in without creating a device session.
func tokensOnly(t *testing.T, f *Fake) *testSession {
	t.Helper()
	s := &testSession{f: f, c: testClient(t), key: newDeviceKey(f.UserID())}
	s.refreshTokens(t, f.NewRefreshToken())
	return s
}

// highS turns a valid signature into its malleated twin (n-s, flipped v),
// which verifies mathematically but breaks the LowerS rule.
func highS(raw []byte) []byte {
	out := append([]byte{}, raw...)
	var s secp256k1.ModNScalar
	s.SetByteSlice(out[32:64])
	s.Negate()
	b := s.Bytes()
	copy(out[32:64], b[:])
	out[64] ^= 1
	return out
}

func TestCreateSession(t *testing.T) {
	type request struct {
		header http.Header
		body   map[string]any
	}
	tests := []struct {
		name     string
		mutate   func(s *testSession, req *request)
		status   int
		wantCode string
	}{
		{"valid X||Y key", func(*testSession, *request) {}, 200, ""},
		{"valid 04||X||Y key", func(_ *testSession, r *request) { r.body["pubKey"] = "04" + r.body["pubKey"].(string) }, 200, ""},
		{"nonce 7 signed as 7", func(s *testSession, r *request) {
			r.body["nonce"] = 7
			r.header.Set("X-Signature", s.key.sign(7))
		}, 200, ""},
		{"nonce differs from the signed one", func(_ *testSession, r *request) { r.body["nonce"] = 1 }, 400, codeSignatureInvalid},
		{"tampered r", func(s *testSession, r *request) {
			raw := s.key.signRaw(0)
			raw[5] ^= 0x01
			r.header.Set("X-Signature", hex.EncodeToString(raw))
		}, 400, codeSignatureInvalid},
		{"high s", func(s *testSession, r *request) {
			r.header.Set("X-Signature", hex.EncodeToString(highS(s.key.signRaw(0))))
		}, 400, codeSignatureInvalid},
		{"wrong recovery id", func(s *testSession, r *request) {
			raw := s.key.signRaw(0)
			raw[64] ^= 1
			r.header.Set("X-Signature", hex.EncodeToString(raw))
		}, 400, codeSignatureInvalid},
		{"recovery id out of range", func(s *testSession, r *request) {
			raw := s.key.signRaw(0)
			raw[64] = 27
			r.header.Set("X-Signature", hex.EncodeToString(raw))
		}, 400, codeSignatureInvalid},
		{"signature too short", func(s *testSession, r *request) { r.header.Set("X-Signature", s.key.sign(0)[:128]) }, 400, codeSignatureInvalid},
		{"no signature", func(_ *testSession, r *request) { r.header.Del("X-Signature") }, 400, codeSignatureInvalid},
		{"pubKey of another key", func(_ *testSession, r *request) { r.body["pubKey"] = newDeviceKey("someone else").pubHex() }, 400, codeSignatureInvalid},
		{"pubKey not on the curve", func(_ *testSession, r *request) { r.body["pubKey"] = "01" + r.body["pubKey"].(string)[2:] }, 400, codeSignatureInvalid},
		{"pubKey with a bad prefix", func(_ *testSession, r *request) { r.body["pubKey"] = "05" + r.body["pubKey"].(string) }, 400, codeSignatureInvalid},
		{"device id of another user", func(_ *testSession, r *request) {
			r.header.Set("X-Device-Id", newDeviceKey("someone else").deviceID)
		}, 400, codeSignatureInvalid},
		{"missing refreshToken", func(_ *testSession, r *request) { delete(r.body, "refreshToken") }, 400, "InvalidParameterMissing.RefreshToken"},
		{"nonce as a string", func(_ *testSession, r *request) { r.body["nonce"] = "0" }, 400, "InvalidParameter"},
		{"no access token", func(_ *testSession, r *request) { r.header.Del("Authorization") }, 401, "AccessTokenInvalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, Options{})
			s := tokensOnly(t, f)
			req := request{
				header: s.headers(s.key.sign(0)),
				body: map[string]any{
					"deviceName": "samsung", "modelName": "SM-G9810", "nonce": 0,
					"pubKey": s.key.pubHex(), "refreshToken": s.refresh,
				},
			}
			tc.mutate(s, &req)
			resp := postJSON(t, s.c, f.APIURL()+"/users/v1/users/device/create_session", req.header, req.body)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			m := resp.fields(t)
			if tc.status != 200 {
				if m["code"] != tc.wantCode {
					t.Fatalf("unexpected code; got %v; want %s", m["code"], tc.wantCode)
				}
				return
			}
			if m["result"] != true || m["success"] != true {
				t.Fatalf("unexpected body; got %s; want result and success true", resp.raw)
			}
		})
	}
}

func TestFileCallsNeedSession(t *testing.T) {
	list := func(t *testing.T, s *testSession, sig string) response {
		return postJSON(t, s.c, s.f.APIURL()+"/v2/file/list", s.headers(sig), map[string]any{"drive_id": s.f.DriveID(), "parent_file_id": "root"})
	}
	tests := []struct {
		name     string
		run      func(t *testing.T, f *Fake) response
		status   int
		wantCode string
	}{
		{"no session", func(t *testing.T, f *Fake) response {
			s := tokensOnly(t, f)
			return list(t, s, s.key.sign(0))
		}, 400, codeSignatureInvalid},
		{"session", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			return list(t, s, s.sig)
		}, 200, ""},
		{"session, fresh signature of nonce 0", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			return list(t, s, s.key.sign(0))
		}, 200, ""},
		{"session, signature of nonce 1", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			return list(t, s, s.key.sign(1))
		}, 400, codeSignatureInvalid},
		{"session, tampered signature", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			raw := s.key.signRaw(0)
			raw[40] ^= 0x80
			return list(t, s, hex.EncodeToString(raw))
		}, 400, codeSignatureInvalid},
		{"session, other device id", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			s.key.deviceID = newDeviceKey("x").deviceID
			return list(t, s, s.sig)
		}, 400, codeSignatureInvalid},
		{"dropped as offline", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			f.DropDeviceSessions(codeDeviceOffline)
			return list(t, s, s.sig)
		}, 401, codeDeviceOffline},
		{"dropped as an illegal device", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			f.DropDeviceSessions(codeDeviceIllegality)
			return list(t, s, s.sig)
		}, 403, codeDeviceIllegality},
		{"dropped as device info not found", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			f.DropDeviceSessions(DeviceInfoNotFound)
			resp := list(t, s, s.sig)
			if !strings.Contains(string(resp.raw), DeviceInfoNotFound) {
				t.Fatalf("the body does not say %q: %s", DeviceInfoNotFound, resp.raw)
			}
			return resp
		}, 400, codeDeviceNotFound},
		{"dropped with the default code", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			f.DropDeviceSessions("")
			return list(t, s, s.sig)
		}, 400, codeSignatureInvalid},
		{"re-created after a drop", func(t *testing.T, f *Fake) response {
			s := login(t, f)
			f.DropDeviceSessions(codeDeviceOffline)
			s2 := login(t, f)
			return list(t, s2, s.sig)
		}, 200, ""},
		{"user/get needs no session", func(t *testing.T, f *Fake) response {
			s := tokensOnly(t, f)
			return postJSON(t, s.c, f.APIURL()+"/v2/user/get", http.Header{"Authorization": {"Bearer " + s.access}}, "{}")
		}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, Options{})
			resp := tc.run(t, f)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.wantCode != "" && resp.code(t) != tc.wantCode {
				t.Fatalf("unexpected code; got %s; want %s", resp.code(t), tc.wantCode)
			}
		})
	}
}
