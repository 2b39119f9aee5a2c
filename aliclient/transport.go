package aliclient

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/alilink/alilink/internal/wait"
)

// Constant headers of the legacy API (spec §1.3).
const (
	userAgent  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36"
	apiOrigin  = "https://www.alipan.com"
	apiReferer = "https://alipan.com/"
	apiCanary  = "client=Android,app=adrive,version=v4.1.0"
	// shareCanary is the share driver's ("for lifting rate limit restrictions", spec §6).
	shareCanary = "client=web,app=share,version=v2.3.1"
	maxBody     = 16 << 20 // no JSON answer of the drive comes near this
)

type host int

const (
	hostAPI host = iota
	hostAuth
	hostOpen
	hostBroker // ALILINK_OPEN_TOKEN_URL, a whole URL
)

// authKind is how a call proves who it is.
type authKind int

const (
	authNone   authKind = iota
	authLegacy          // "Bearer<TAB>token", the legacy API (spec §1.3)
	authOpen            // "Bearer token", the Open platform (spec §3)
)

// endpoint describes one API call: where it goes and what it needs.
type endpoint struct {
	name  string // short name for errors, logs and metrics
	host  host
	path  string
	class rateClass
	auth  authKind
	// web calls carry the legacy web client's headers (Origin, Referer,
	// X-Canary, X-Request-Id).
	web bool
	// signed calls carry the device headers; session calls also answer
	// DeviceSessionSignatureInvalid/UserDeviceOffline/UserDeviceIllegality or
	// "not found device info" when the session is gone.
	signed, session bool
	// share calls carry x-share-token and renew it on ShareLinkTokenInvalid.
	share bool
}

var (
	epToken     = endpoint{name: "token", host: hostAuth, path: "/v2/account/token"}
	epUser      = endpoint{name: "user/get", path: "/v2/user/get", class: classOther, auth: authLegacy, web: true}
	epSession   = endpoint{name: "create_session", path: "/users/v1/users/device/create_session", class: classOther, auth: authLegacy, web: true, signed: true}
	epList      = endpoint{name: "file/list", path: "/adrive/v3/file/list", class: classList, auth: authLegacy, web: true, signed: true, session: true}
	epGet       = endpoint{name: "file/get", path: "/v2/file/get", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epGetByPath = endpoint{name: "file/get_by_path", path: "/v2/file/get_by_path", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epLink      = endpoint{name: "get_download_url", path: "/v2/file/get_download_url", class: classLink, auth: authLegacy, web: true, signed: true, session: true}
)

// call sends one API request with the retry policy, the one place that decides
// what to do with a failure:
//   - AccessTokenInvalid/Expired: refresh once and replay;
//   - DeviceSessionSignatureInvalid, UserDeviceOffline, UserDeviceIllegality, "not found device info"
//     (spec §2.4, §13.6): create the session and replay, at most 3 times;
//   - ShareLinkTokenInvalid: fetch a new share token and replay, once;
//   - 429: wait for x-retry-after (ms) or Retry-After (s), or backoff, if the caller's deadline allows, else return it;
//   - 5xx and transport errors: backoff and retry, cfg.MaxRetries times.
func (c *core) call(ctx context.Context, ep *endpoint, in, out any) error {
	bound, isBound := in.(tokenBound)
	var body []byte
	var err error
	if !isBound {
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	refreshed, renewed, sessions, retries := false, false, 0, 0
	for {
		if err := c.limits.wait(ctx, ep, c.obs); err != nil {
			return err
		}
		var a auth
		if ep.auth != authNone {
			if a.access, err = c.tokens.accessToken(ctx); err != nil {
				return err
			}
		}
		if isBound { // the body proves something with this very token
			b, err := bound.bodyFor(a.access)
			if err != nil {
				return err
			}
			if body, err = json.Marshal(b); err != nil {
				return err
			}
		}
		var sessGen uint64
		if ep.signed {
			a.devID, a.sig, sessGen = c.dev.headers()
		}
		if ep.share {
			if a.shareToken, err = c.shareToken.get(ctx); err != nil {
				return err
			}
		}
		began := time.Now()
		status, header, respBody, err := c.attempt(ctx, ep, body, a)
		c.obs.APICall(ep.name, callResult(status, respBody, err), time.Since(began))
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("aliyundrive %s: %w", ep.name, ctx.Err())
			}
			if retries < c.cfg.MaxRetries && wait.Sleep(ctx, backoff(retries)) {
				retries++
				continue
			}
			return errorf(ErrUpstream, "aliyundrive %s: %v", ep.name, err)
		}
		if status >= 200 && status < 300 {
			if out == nil || len(respBody) == 0 {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return errorf(ErrUpstream, "aliyundrive %s: undecodable answer", ep.name)
			}
			return nil
		}
		ae := decodeError(ep.name, status, header, respBody)
		switch {
		case errors.Is(ae, ErrUnauthorized) && ep.auth != authNone && !refreshed:
			refreshed = true
			c.tokens.invalidate(a.access)
			continue
		case errors.Is(ae, ErrShareToken) && ep.share && !renewed:
			renewed = true
			c.shareToken.invalidate(a.shareToken)
			continue
		case errors.Is(ae, ErrDeviceSession) && ep.session && sessions < 3:
			sessions++
			if err := c.createSession(ctx, sessGen); err != nil {
				return err
			}
			continue
		case errors.Is(ae, ErrRateLimited):
			pause := ae.RetryAfter
			if pause <= 0 {
				pause = backoff(retries)
			}
			if retries < c.cfg.MaxRetries && fitsDeadline(ctx, pause) {
				c.obs.Waited(ep.name, "429", pause)
				if wait.Sleep(ctx, pause) {
					retries++
					continue
				}
			} else {
				c.obs.Waited(ep.name, "refused", pause)
			}
			ae.RetryAfter = pause
			return ae
		case status >= 500 && retries < c.cfg.MaxRetries:
			if wait.Sleep(ctx, backoff(retries)) {
				retries++
				continue
			}
		}
		if errors.Is(ae, ErrDeviceSession) {
			c.log.Error("the drive keeps refusing the device session", "code", ae.Code, "attempts", sessions)
		}
		return ae
	}
}

// callResult names an exchange's outcome for the observer: "ok", the drive's
// error code, "HTTP <status>" without one, or "transport".
func callResult(status int, body []byte, err error) string {
	switch {
	case err != nil:
		return "transport"
	case status >= 200 && status < 300:
		return "ok"
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Code != "" && len(eb.Code) <= 64 {
		return eb.Code
	}
	return "HTTP " + strconv.Itoa(status)
}

// tokenBound is a request body that depends on the access token that
// authorises it: the rapid-upload proof code (spec §7.3) is computed from it,
// so a replay after a refresh needs a new body.
type tokenBound interface {
	bodyFor(access string) (any, error)
}

// auth is what one attempt authenticates with.
type auth struct {
	access, devID, sig, shareToken string
}

// attempt is one HTTP exchange, bounded by cfg.Timeout.
func (c *core) attempt(ctx context.Context, ep *endpoint, body []byte, a auth) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var url string
	switch ep.host {
	case hostAuth:
		url = c.cfg.AuthURL + ep.path
	case hostOpen:
		url = c.cfg.OpenURL + ep.path
	case hostBroker:
		url = c.cfg.OpenTokenURL
	default:
		url = c.cfg.APIURL + ep.path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	if ep.web {
		h.Set("Origin", apiOrigin)
		h.Set("Referer", apiReferer)
		h.Set("X-Request-Id", requestID())
		if ep.share {
			h.Set("X-Canary", shareCanary)
		} else {
			h.Set("X-Canary", apiCanary)
		}
	}
	switch ep.auth {
	case authLegacy:
		// AList sends a TAB after "Bearer" and the service accepts it (spec §1.3).
		h.Set("Authorization", "Bearer\t"+a.access)
	case authOpen:
		h.Set("Authorization", "Bearer "+a.access)
	}
	if ep.signed {
		h.Set("X-Device-Id", a.devID)
		h.Set("X-Signature", a.sig)
	}
	if ep.share {
		h.Set("X-Share-Token", a.shareToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, rb, nil
}

// requestID is a random UUID v4 for x-request-id.
func requestID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// backoff is exponential with jitter: 200 ms, 400 ms, … capped at 5 s, each
// drawn from [d/2, d) so that a crowd of clients spreads out.
func backoff(n int) time.Duration {
	d := 200 * time.Millisecond << min(n, 5)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2)
}

// callRoom is what a wait must leave of the caller's deadline for the call
// itself: a wait that ends just before the deadline makes a call that cannot
// finish, and the caller waited its whole timeout for a 504 where a prompt
// 503 with Retry-After was the honest answer.
const callRoom = 200 * time.Millisecond

// fitsDeadline tells whether waiting d still leaves the caller time to make
// the call and use the answer.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d+callRoom
}
