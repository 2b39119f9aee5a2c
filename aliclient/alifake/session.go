package alifake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// deviceAppID is the app id the device signature covers (§2.2).
const deviceAppID = "5dde4e1bdf9e4966b387ba58f4b3fdc3"

// Error codes and messages of the device-session checks (§2, §9).
const (
	codeSignatureInvalid = "DeviceSessionSignatureInvalid"
	codeDeviceOffline    = "UserDeviceOffline"
	msgSignatureInvalid  = "the signature is invalid"
	msgDeviceOffline     = "user device is offline, please create session again"
	// UserDeviceIllegality: 403 "invalid X-Device-Id" (§13.6, AList #3376).
	codeDeviceIllegality = "UserDeviceIllegality"
	msgDeviceIllegality  = "invalid X-Device-Id"
	// A 400 whose body holds "not found device info" (§13.6, aligo matches
	// the text). Its code is not established; the fake sends a generic one,
	// so a client can only tell it by the text.
	DeviceInfoNotFound = "not found device info"
	codeDeviceNotFound = "InvalidParameter"
)

// maxVerifiedSigs bounds the per-session memo of verified signatures; a
// client re-signs only when it re-creates the session, so a handful suffices.
const maxVerifiedSigs = 16

// deviceSessions is the session registry, guarded by Fake.mu.
type deviceSessions struct {
	byDevice map[string]*deviceSession
	// missingCode is answered to a device without a session:
	// DeviceSessionSignatureInvalid (400) normally, or what the last
	// DropDeviceSessions asked for.
	missingCode string
}

// deviceSession is a registered device key. The same X-Signature is reused
// for every request (§2.2), so verified ones are remembered to keep the
// elliptic-curve work off the hot path.
type deviceSession struct {
	pub      *secp256k1.PublicKey
	verified map[string]bool
}

func (ds *deviceSessions) init() {
	ds.byDevice = make(map[string]*deviceSession)
	ds.missingCode = codeSignatureInvalid
}

// DropDeviceSessions forgets every device session, as the service does when
// it logs a device out. File calls from a device without a session then
// answer, until the device calls create_session again, as code says:
// "UserDeviceOffline" (401), "UserDeviceIllegality" (403 "invalid
// X-Device-Id"), DeviceInfoNotFound (a 400 whose message is "not found
// device info", §13.6) or "DeviceSessionSignatureInvalid" (400, also what
// "" means). Another code panics.
func (f *Fake) DropDeviceSessions(code string) {
	switch code {
	case "":
		code = codeSignatureInvalid
	case codeSignatureInvalid, codeDeviceOffline, codeDeviceIllegality, DeviceInfoNotFound:
	default:
		panic("alifake: DropDeviceSessions: unknown code " + code)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.ds.byDevice)
	f.ds.missingCode = code
}

// deviceIDFor is how clients derive the device id: lowercase hex SHA-256 of
// the user id (§2.1).
func deviceIDFor(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:])
}

// sessionDigest is SHA-256 of "<appId>:<deviceID>:<userID>:<nonce>" (§2.2).
func sessionDigest(deviceID, userID string, nonce int64) []byte {
	sum := sha256.Sum256([]byte(deviceAppID + ":" + deviceID + ":" + userID + ":" + strconv.FormatInt(nonce, 10)))
	return sum[:]
}

var (
	errSigFormat   = errors.New("signature is not 130 hex digits")
	errSigScalar   = errors.New("r or s is out of range")
	errSigHighS    = errors.New("s is not in the lower half of the curve order")
	errSigRecovery = errors.New("recovery id does not recover the public key")
	errPubKey      = errors.New("public key is not a secp256k1 point")
)

// parsePubKey accepts the hex of X‖Y (128 digits, AList) or 04‖X‖Y (130
// digits, aligo); which one the service requires is not established (§2.1).
func parsePubKey(s string) (*secp256k1.PublicKey, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, errPubKey
	}
	switch len(raw) {
	case 64:
		raw = append([]byte{0x04}, raw...)
	case 65:
		if raw[0] != 0x04 {
			return nil, errPubKey
		}
	default:
		return nil, errPubKey
	}
	pub, err := secp256k1.ParsePubKey(raw)
	if err != nil {
		return nil, errPubKey
	}
	return pub, nil
}

// verifyDeviceSignature checks an X-Signature: hex of r(32)‖s(32)‖v(1) as
// dustinxie/ecc produces with RecID|LowerS (§2.2). It must be a valid ECDSA
// signature of digest by pub, have a low s, and its recovery id v (0..3) must
// recover pub — the signer's flags guarantee all three, so anything else was
// not made by a conforming client.
func verifyDeviceSignature(sigHex string, digest []byte, pub *secp256k1.PublicKey) error {
	raw, err := hex.DecodeString(sigHex)
	if err != nil || len(raw) != 65 {
		return errSigFormat
	}
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(raw[:32]) || s.SetByteSlice(raw[32:64]) || r.IsZero() || s.IsZero() {
		return errSigScalar
	}
	if s.IsOverHalfOrder() {
		return errSigHighS
	}
	v := raw[64]
	if v > 3 {
		return errSigRecovery
	}
	if !ecdsa.NewSignature(&r, &s).Verify(digest, pub) {
		return errSigRecovery
	}
	// decred's compact form is [27+v]‖r‖s; RecoverCompact verifies too.
	compact := make([]byte, 0, 65)
	compact = append(compact, 27+v)
	compact = append(compact, raw[:64]...)
	got, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil || !got.IsEqual(pub) {
		return errSigRecovery
	}
	return nil
}

// serveCreateSession is POST /users/v1/users/device/create_session (§2.3).
// The signature covers the body's nonce and is checked against the body's
// pubKey; on success the key is stored for the device.
func (f *Fake) serveCreateSession(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		DeviceName   string `json:"deviceName"`
		ModelName    string `json:"modelName"`
		Nonce        int64  `json:"nonce"`
		PubKey       string `json:"pubKey"`
		RefreshToken string `json:"refreshToken"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	// The service's rule for refreshToken is unknown; AList sends its current
	// (possibly already rotated) refresh token, so only presence is checked.
	if req.RefreshToken == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.RefreshToken", msgRefreshTokenMissing)
		return
	}
	deviceID := r.Header.Get("X-Device-Id")
	if deviceID != deviceIDFor(f.opts.UserID) {
		writeAPIError(w, http.StatusBadRequest, codeSignatureInvalid, "the device id does not belong to the user")
		return
	}
	pub, err := parsePubKey(req.PubKey)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, codeSignatureInvalid, "the pubKey is invalid: "+err.Error())
		return
	}
	sig := r.Header.Get("X-Signature")
	if err := verifyDeviceSignature(sig, sessionDigest(deviceID, f.opts.UserID, req.Nonce), pub); err != nil {
		writeAPIError(w, http.StatusBadRequest, codeSignatureInvalid, msgSignatureInvalid+": "+err.Error())
		return
	}
	f.mu.Lock()
	f.ds.byDevice[deviceID] = &deviceSession{pub: pub, verified: make(map[string]bool)}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": true, "success": true, "code": "", "message": ""})
}

// checkSession answers the device-session error unless X-Device-Id has a
// session whose key verifies X-Signature over nonce 0 (AList always signs
// nonce 0 since 2023, §2.2).
func (f *Fake) checkSession(w http.ResponseWriter, r *http.Request) bool {
	deviceID := r.Header.Get("X-Device-Id")
	sig := r.Header.Get("X-Signature")
	f.mu.Lock()
	s := f.ds.byDevice[deviceID]
	missingCode := f.ds.missingCode
	known := s != nil && s.verified[sig]
	f.mu.Unlock()
	switch {
	case s == nil && missingCode == codeDeviceOffline:
		writeAPIError(w, http.StatusUnauthorized, codeDeviceOffline, msgDeviceOffline)
		return false
	case s == nil && missingCode == codeDeviceIllegality:
		writeAPIError(w, http.StatusForbidden, codeDeviceIllegality, msgDeviceIllegality)
		return false
	case s == nil && missingCode == DeviceInfoNotFound:
		writeAPIError(w, http.StatusBadRequest, codeDeviceNotFound, DeviceInfoNotFound)
		return false
	case s == nil:
		writeAPIError(w, http.StatusBadRequest, missingCode, msgSignatureInvalid)
		return false
	case known:
		return true
	}
	if verifyDeviceSignature(sig, sessionDigest(deviceID, f.opts.UserID, 0), s.pub) != nil {
		writeAPIError(w, http.StatusBadRequest, codeSignatureInvalid, msgSignatureInvalid)
		return false
	}
	f.mu.Lock()
	if len(s.verified) >= maxVerifiedSigs {
		clear(s.verified)
	}
	s.verified[sig] = true
	f.mu.Unlock()
	return true
}
