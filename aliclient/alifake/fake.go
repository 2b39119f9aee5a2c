// Package alifake is an in-process fake of the Aliyundrive (alipan) APIs —
// the legacy web/app API, the Open platform API and share links — and of the
// OSS-style CDN that serves their download links.
//
// It exists because alilink's tests run without internet access, and because a
// lenient fake makes the real client's tests worthless: the fake reproduces
// the unpleasant parts of the wire protocol described in
// shared/spec/aliyundrive-api.md — rotating single-use refresh tokens (§1.1),
// the secp256k1 device-session signature (§2), opaque list markers (§4.1),
// pre-signed links that expire and may be bound to a Referer (§5), OSS XML
// errors (§5.3), JSON error bodies with the statuses of §9 — and adds knobs
// for faults, latency, quotas, throttling and cut connections (§11).
//
// The API server answers both the legacy API and the auth endpoint, so a
// client uses APIURL as its API and its auth base URL. The CDN runs on a
// second listener (a different host:port), as the real CDN is a different
// host. Everything listens on 127.0.0.1 only.
//
// The same API server also answers the other two families and both QR
// logins, each on its own paths: the Open platform API (§3) with its OAuth
// token endpoint, JWT-shaped refresh tokens with a stable sub and two
// drives (openapi.go, oauth.go, drives.go); share links (§6) with anonymous
// share tokens, whose download endpoint is offline as the service's is
// (§13.7, share.go), played by copying into the user's drive through the
// batch envelope, with permanent delete (§14.6, §14.7, §15, batch.go); the
// two drives of one account, both reached by either API (§16, drives.go);
// and the Open and passport
// QR logins (§12, qr.go). They reuse the trees, the quotas and faults, the
// link signer and the CDN.
//
// Uploads (§7) work on both the legacy and the Open API: create (upload.go)
// with pre-hash and proof-code rapid upload (upload_rapid.go), part PUTs to
// pre-signed URLs on the CDN listener and fresh part URLs (upload_parts.go),
// and complete (upload_complete.go), which makes the file appear in the tree.
package alifake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint names accepted by FailNext, SetLatency, SetRateLimit, Calls and
// Rejected. They name operations, not paths: "file/list" covers both
// /v2/file/list and /adrive/v3/file/list.
const (
	EndpointToken         = "token"
	EndpointUserGet       = "user/get"
	EndpointCreateSession = "create_session"
	EndpointFileList      = "file/list"
	EndpointFileGet       = "file/get"
	EndpointFileGetByPath = "file/get_by_path"
	EndpointDownloadURL   = "get_download_url"
	EndpointCDN           = "cdn"

	// Uploads (§7.1). EndpointUploadPart counts every request to a part's
	// upload_url, from either API family; EndpointUploadInternalPart every
	// request to an internal_upload_url instead.
	EndpointUploadCreate       = "upload/create"
	EndpointUploadPart         = "upload/part"
	EndpointUploadInternalPart = "upload/internal_part"
	EndpointUploadURL          = "upload/get_upload_url"
	EndpointUploadComplete     = "upload/complete"

	// Open platform API (§3). EndpointOpenBroker is the hosted token broker
	// served at Options.OpenBrokerPath.
	EndpointOpenToken       = "open/token"
	EndpointOpenBroker      = "open/broker"
	EndpointOpenDriveInfo   = "open/drive_info"
	EndpointOpenList        = "open/list"
	EndpointOpenGet         = "open/get"
	EndpointOpenGetByPath   = "open/get_by_path"
	EndpointOpenDownloadURL = "open/download_url"
	// Open uploads (§7.2); their part PUTs count as EndpointUploadPart.
	EndpointOpenUploadCreate   = "open/upload_create"
	EndpointOpenUploadURL      = "open/get_upload_url"
	EndpointOpenUploadComplete = "open/upload_complete"

	// Share links (§6).
	EndpointShareToken       = "share/token"
	EndpointShareList        = "share/list"
	EndpointShareDownloadURL = "share/download_url"

	// QR logins (§12): flow A on the Open platform, flow B on the passport.
	EndpointQROpenCreate       = "qr/open_create"
	EndpointQROpenStatus       = "qr/open_status"
	EndpointQRPassportGenerate = "qr/passport_generate"
	EndpointQRPassportQuery    = "qr/passport_query"
)

const (
	defaultPageSize  = 200
	maxPageSize      = 200 // the service's own cap (§4.1; every AList driver asks for 200)
	defaultListLimit = 100
	defaultAccessTTL = 2 * time.Hour // "token usually expires in 7200s" (§1.1)
	defaultExpireSec = 900           // aligo documents 900 as the default (§5.1)
	maxExpireSec     = 14400         // and 14400 as the maximum
	defaultUserID    = "8f2c1d9e4b7a4c06a1e35d7b9f0c2e48"
	defaultDriveID   = "9600002"
	defaultUserName  = "alilink-demo"
	domainID         = "bj29"
	webReferer       = "https://www.alipan.com/" // §5.3, the only Referer a bound link accepts
	// cdnIdleTimeout: "OSS closes idle connections after 60 seconds" (§5.3).
	cdnIdleTimeout = 60 * time.Second

	defaultOpenClientID     = "alilink-test-client"
	defaultOpenClientSecret = "alilink-test-secret"
	defaultShareTokenTTL    = 2 * time.Hour     // AList re-fetches share tokens every 2 h (§6)
	defaultQRLifetime       = 180 * time.Second // the iOS SDK's "valid for 180 s" (§12.1)
	// defaultUploadURLTTL: the service's lifetime of part URLs is not
	// established; AList's Open driver refreshes them after 50 minutes
	// (§7.2), which suggests an hour.
	defaultUploadURLTTL = time.Hour
)

// Options configures a Fake. The zero value is usable; New fills defaults.
type Options struct {
	// PageSize is the most items one list page returns (default 200, never
	// more than 200). Tests set e.g. 3 to force many pages.
	PageSize int
	// AccessTokenTTL is the lifetime of access tokens (default 2h). The token
	// response reports it as expires_in in whole seconds, at least 1.
	AccessTokenTTL time.Duration
	// LinkTTL caps the lifetime of download links (default 4h, the 14400 s
	// maximum of expire_sec): x-oss-expires = now + min(expire_sec, LinkTTL).
	LinkTTL time.Duration
	// RefererBound makes every link "web-style": the URL carries
	// x-oss-additional-headers=referer and the CDN demands
	// Referer: https://www.alipan.com/. SetRefererBound overrides it per file.
	RefererBound bool
	// Now is the clock used for token expiry, link expiry, the CDN's expiry
	// checks, quotas and timestamps (default time.Now). Throttling, latency
	// and the CDN's idle timeout use real time because they model the
	// network, not validity. Now is called with the fake's lock held, so it
	// must not call back into the Fake.
	Now func() time.Time
	// CDNTLS serves the CDN over HTTPS with a self-signed certificate for
	// 127.0.0.1 (CDNCertPEM), as the real CDN is HTTPS: front servers that
	// fetch links themselves (accel mode) are tested against it.
	CDNTLS bool
	// OSSRanges makes the CDN judge a Range as OSS does by default: one
	// that is not wholly inside the object (a start or an end at or past
	// its end, a suffix longer than it) is ignored, and the whole object
	// comes with 200. Without it the CDN answers as RFC 9110 and OSS's
	// x-oss-range-behavior: standard do: the end clamped, 416 past the end
	// (help.aliyun.com, "How to obtain OSS resources by segmenting HTTP
	// Range requests"). Which one the drive's CDN follows is not established.
	OSSRanges bool
	// UserID, DriveID and UserName describe the single user. Defaults: a
	// fixed 32-hex user id, drive "9600002", "alilink-demo".
	UserID, DriveID, UserName string

	// OpenClientID and OpenClientSecret are the credentials of the one Open
	// platform app the fake knows (defaults "alilink-test-client" and
	// "alilink-test-secret"); /oauth/access_token and
	// /oauth/authorize/qrcode demand them (§3.1, §12.1).
	OpenClientID, OpenClientSecret string
	// OpenBrokerPath, if set (e.g. "/broker/token"), serves a hosted token
	// broker on the API server: a POST with {grant_type, refresh_token} or
	// {grant_type, code} and no client credentials is answered as
	// /oauth/access_token answers it with the fake's own credentials. It
	// stands in for the "online API" of §3.1 (ALILINK_OPEN_TOKEN_URL). A path
	// the fake already serves keeps its own meaning.
	OpenBrokerPath string
	// ShareTokenTTL is the lifetime of share tokens (default 2h, by Now).
	ShareTokenTTL time.Duration
	// QRLifetime is how long a QR login waits for its scan and confirmation
	// before it reports expiry, for both flows (default 180 s, by Now). The
	// service's real lifetimes are not established (§12).
	QRLifetime time.Duration
	// UploadURLTTL is the lifetime of part upload URLs (default 1h, by Now):
	// a PUT after it answers 403 AccessDenied "Request has expired." (§11).
	UploadURLTTL time.Duration
}

// Fake is the fake drive: an API server and a CDN server over one in-memory
// file tree. All methods are safe for concurrent use.
type Fake struct {
	opts   Options
	now    func() time.Time
	secret []byte // HMAC key for link signatures and list markers

	done     chan struct{} // closed by Close; wakes every sleeping handler
	inflight sync.WaitGroup
	serving  sync.WaitGroup
	streams  atomic.Int64

	mu       sync.Mutex // guards everything below
	fs       fileSystem // the default drive, which is the backup drive (§16)
	resource fileSystem
	tk       tokenStore
	ot       openTokens
	sh       shareStore
	qr       qrStore
	up       uploadStore
	ds       deviceSessions
	ctl      controls
	manage   *manageStore // recycle bin and async tasks (manage.go)
	acct     accountStats // refresh counts and the Open grant (accounts.go)

	closed   bool
	started  bool
	apiSrv   *http.Server
	cdnSrv   *http.Server
	apiURL   string
	cdnURL   string
	cdnCert  []byte // PEM of the CDN certificate when Options.CDNTLS
	apiConns map[net.Conn]struct{}
	cdnConns map[net.Conn]struct{}
}

// New returns a Fake with the tree holding only the root folder and no
// refresh token; call NewRefreshToken to log in and Start to serve.
func New(opts Options) *Fake {
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	opts.PageSize = min(opts.PageSize, maxPageSize)
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = defaultAccessTTL
	}
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = maxExpireSec * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserID == "" {
		opts.UserID = defaultUserID
	}
	if opts.DriveID == "" {
		opts.DriveID = defaultDriveID
	}
	if opts.UserName == "" {
		opts.UserName = defaultUserName
	}
	if opts.OpenClientID == "" {
		opts.OpenClientID = defaultOpenClientID
	}
	if opts.OpenClientSecret == "" {
		opts.OpenClientSecret = defaultOpenClientSecret
	}
	if opts.ShareTokenTTL <= 0 {
		opts.ShareTokenTTL = defaultShareTokenTTL
	}
	if opts.QRLifetime <= 0 {
		opts.QRLifetime = defaultQRLifetime
	}
	if opts.UploadURLTTL <= 0 {
		opts.UploadURLTTL = defaultUploadURLTTL
	}
	f := &Fake{
		opts:     opts,
		now:      opts.Now,
		secret:   randomBytes(32),
		done:     make(chan struct{}),
		apiConns: make(map[net.Conn]struct{}),
		cdnConns: make(map[net.Conn]struct{}),
	}
	f.fs.init(opts.DriveID)
	f.resource.init(opts.DriveID + resourceDriveSuffix)
	f.tk.init()
	f.ot.init()
	f.sh.init()
	f.qr.init()
	f.up.init()
	f.ds.init()
	f.ctl.init()
	return f
}

// UserID returns the id of the fake's single user.
func (f *Fake) UserID() string { return f.opts.UserID }

// DriveID returns the user's default drive id.
func (f *Fake) DriveID() string { return f.opts.DriveID }

// OpenClientID returns the client_id of the fake's Open platform app.
func (f *Fake) OpenClientID() string { return f.opts.OpenClientID }

// OpenClientSecret returns the client_secret of the fake's Open platform app.
func (f *Fake) OpenClientSecret() string { return f.opts.OpenClientSecret }

// Start serves the API and the CDN on two ephemeral ports of 127.0.0.1.
func (f *Fake) Start() error { return f.StartOn("127.0.0.1:0", "127.0.0.1:0") }

// StartOn serves the API on apiAddr and the CDN on cdnAddr, for callers such
// as the demo that want fixed ports. A Fake starts at most once.
func (f *Fake) StartOn(apiAddr, cdnAddr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.started {
		return errors.New("alifake: Start called twice or after Close")
	}
	apiLn, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return fmt.Errorf("alifake: listen api: %w", err)
	}
	cdnLn, err := net.Listen("tcp", cdnAddr)
	if err != nil {
		_ = apiLn.Close()
		return fmt.Errorf("alifake: listen cdn: %w", err)
	}
	f.started = true
	f.apiSrv = &http.Server{Handler: f.APIHandler(), ConnState: f.connTracker(f.apiConns)}
	f.cdnSrv = &http.Server{
		Handler:     f.CDNHandler(),
		ConnState:   f.connTracker(f.cdnConns),
		IdleTimeout: cdnIdleTimeout,
	}
	f.apiURL = "http://" + apiLn.Addr().String()
	f.cdnURL = "http://" + cdnLn.Addr().String()
	if f.opts.CDNTLS {
		cert, pemBytes, err := selfSignedCert()
		if err != nil {
			_ = apiLn.Close()
			_ = cdnLn.Close()
			return fmt.Errorf("alifake: cdn certificate: %w", err)
		}
		f.cdnCert = pemBytes
		cdnLn = tls.NewListener(cdnLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		f.cdnURL = "https://" + cdnLn.Addr().String()
	}
	f.serving.Add(2)
	go f.serve(f.apiSrv, apiLn)
	go f.serve(f.cdnSrv, cdnLn)
	return nil
}

func (f *Fake) serve(srv *http.Server, ln net.Listener) {
	defer f.serving.Done()
	_ = srv.Serve(ln) // always http.ErrServerClosed once Close runs
}

// connTracker keeps the set of open connections of one listener, so Close can
// wait for them and OpenCDNConns can report them.
func (f *Fake) connTracker(set map[net.Conn]struct{}) func(net.Conn, http.ConnState) {
	return func(c net.Conn, s http.ConnState) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch s {
		case http.StateNew:
			set[c] = struct{}{}
		case http.StateClosed, http.StateHijacked:
			delete(set, c)
		}
	}
}

// Close stops both servers, cuts every open connection (active bodies
// included), wakes handlers that sleep for latency, faults or throttling, and
// returns once no handler and no connection goroutine of the fake remains.
// Handlers served on a caller's own listener answer 503 afterwards.
func (f *Fake) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	close(f.done)
	servers := []*http.Server{f.apiSrv, f.cdnSrv}
	f.mu.Unlock()

	for _, srv := range servers {
		if srv != nil {
			_ = srv.Close()
		}
	}
	f.inflight.Wait()
	f.serving.Wait()
	// http.Server.Close closes the connections but their goroutines report
	// StateClosed a moment later; wait for that so leak checkers stay quiet.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		n := len(f.apiConns) + len(f.cdnConns)
		f.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// APIURL is the base URL of every API family, of the auth endpoints and of
// both QR logins.
func (f *Fake) APIURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apiURL
}

// CDNURL is the base URL that download links point at.
func (f *Fake) CDNURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cdnURL
}

// SetCDNURL sets the base URL put into download links. Only callers that
// serve CDNHandler on their own listener need it (without it their links are
// host-relative); Start sets it.
func (f *Fake) SetCDNURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cdnURL = u
}

// APIHandler serves the API and auth endpoints, for use on a caller's own
// listener.
func (f *Fake) APIHandler() http.Handler { return f.tracked(f.serveAPI) }

// CDNHandler serves download links, for use on a caller's own listener
// (then call SetCDNURL so links point at it).
func (f *Fake) CDNHandler() http.Handler { return f.tracked(f.serveCDN) }

// tracked registers every handler run with the in-flight group so Close can
// wait for it. The closed check and Add happen under the lock, so no Add can
// race with Close's Wait.
func (f *Fake) tracked(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			http.Error(w, "alifake: closed", http.StatusServiceUnavailable)
			return
		}
		f.inflight.Add(1)
		f.mu.Unlock()
		defer f.inflight.Done()
		h(w, r)
	})
}

// sleep waits d unless the client goes away or the fake closes first; it
// reports whether the full wait elapsed.
func (f *Fake) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-f.done:
		return false
	}
}
