package aliclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Device-session constants (spec §2).
const (
	secpAppID   = "5dde4e1bdf9e4966b387ba58f4b3fdc3"
	deviceName  = "samsung"
	deviceModel = "SM-G9810"
)

// device is the legacy API's device session (spec §2): a key pair derived from
// the user id, and the signature sent as X-Signature on every file call.
type device struct {
	mu     sync.Mutex
	id     string // hex SHA-256 of the user id, also the private key
	pubHex string
	sig    string
	// gen counts successful create_session calls, so that many requests failing
	// on the same stale session create it once.
	gen uint64
	// create serialises create_session calls.
	create sync.Mutex
}

// init derives the key material from the user id (spec §2.1).
func (d *device) init(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.id, d.pubHex, d.sig = deviceKeys(userID)
}

// headers returns X-Device-Id, X-Signature and the session generation they belong to.
func (d *device) headers() (id, sig string, gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.id, d.sig, d.gen
}

// deviceKeys derives the device id, public key and nonce-0 signature for a user.
func deviceKeys(userID string) (id, pubHex, sig string) {
	sum := sha256.Sum256([]byte(userID))
	id = hex.EncodeToString(sum[:])
	priv := secp256k1.PrivKeyFromBytes(sum[:])
	// X || Y without the 04 prefix: what AList sends (spec §2.1 item 4).
	pubHex = hex.EncodeToString(priv.PubKey().SerializeUncompressed()[1:])
	return id, pubHex, signDevice(priv, id, userID, 0)
}

// signDevice signs "<appId>:<deviceId>:<userId>:<nonce>" (spec §2.2) and encodes it
// as r ‖ s ‖ v in hex. decred signs with RFC 6979 nonces and a low S, which the
// service cannot tell from AList's random k.
func signDevice(priv *secp256k1.PrivateKey, deviceID, userID string, nonce int) string {
	msg := fmt.Sprintf("%s:%s:%s:%d", secpAppID, deviceID, userID, nonce)
	digest := sha256.Sum256([]byte(msg))
	compact := ecdsa.SignCompact(priv, digest[:], false) // [27+v] ‖ r ‖ s
	out := make([]byte, 65)
	copy(out, compact[1:])
	out[64] = compact[0] - 27
	return hex.EncodeToString(out)
}

// createSession registers the device with the drive (spec §2.3). seenGen is the
// generation the failing request used: if another request has already created a
// newer session, this one just replays.
func (c *Client) createSession(ctx context.Context, seenGen uint64) error {
	if _, err := c.ensureUser(ctx); err != nil {
		return err
	}
	d := c.dev
	d.create.Lock()
	defer d.create.Unlock()
	_, _, gen := d.headers()
	if gen != seenGen {
		return nil
	}
	d.mu.Lock()
	pub := d.pubHex
	d.mu.Unlock()
	body := createSessionRequest{
		DeviceName: deviceName, ModelName: deviceModel, Nonce: 0, PubKey: pub,
		RefreshToken: c.tokens.currentRefresh(),
	}
	if err := c.call(ctx, &epSession, body, nil); err != nil {
		return fmt.Errorf("create device session: %w: %w", ErrDeviceSession, err)
	}
	d.mu.Lock()
	d.gen++
	d.mu.Unlock()
	c.log.Info("device session created")
	return nil
}
