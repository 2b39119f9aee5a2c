package alifake

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authKind names the credentials a route demands in Authorization.
type authKind int

const (
	authNone   authKind = iota
	authLegacy          // Bearer<space or TAB><legacy access token> (§1.3)
	authOpen            // Bearer <Open access token> (§3); the two sets never mix
)

// apiRoute describes one API path: the endpoint name its counters use, its
// method, which credentials it demands, and the operation. Share routes check
// x-share-token themselves, after the generic steps (serveAPI).
type apiRoute struct {
	endpoint string
	method   string // "" means POST, as every call of the three families (§0)
	auth     authKind
	session  bool // a device session whose key verifies X-Signature (§2)
	serve    func(f *Fake, w http.ResponseWriter, r *http.Request, body []byte)
}

// shareTokenHeader carries the anonymous share token (§6).
const shareTokenHeader = "x-share-token"

// routeFor maps a request to its route. /adrive/v3/file/list is the legacy
// listing variant other clients use (§4.1) and also the share listing, told
// apart by x-share-token: AList's share driver sends that header and no
// Authorization (§6). The Open QR status path carries the sid, and the token
// broker sits wherever Options.OpenBrokerPath says.
func (f *Fake) routeFor(r *http.Request) (apiRoute, bool) {
	path := r.URL.Path
	if path == "/adrive/v3/file/list" && r.Header.Get(shareTokenHeader) != "" {
		return apiRoute{endpoint: EndpointShareList, serve: (*Fake).serveShareList}, true
	}
	if route, ok := batchRoute(path); ok {
		return route, true
	}
	if route, ok := staticRoute(path); ok {
		return route, true
	}
	if route, ok := manageRoute(path); ok {
		return route, true
	}
	if _, ok := qrStatusSID(path); ok {
		return apiRoute{endpoint: EndpointQROpenStatus, method: http.MethodGet, serve: (*Fake).serveQRStatus}, true
	}
	if f.opts.OpenBrokerPath != "" && path == f.opts.OpenBrokerPath {
		return apiRoute{endpoint: EndpointOpenBroker, serve: (*Fake).serveOpenBroker}, true
	}
	return apiRoute{}, false
}

// staticRoute maps the fixed paths of every family to their routes.
func staticRoute(path string) (apiRoute, bool) {
	switch path {
	// Legacy API (§1, §2, §4, §5).
	case "/v2/account/token":
		return apiRoute{endpoint: EndpointToken, serve: (*Fake).serveToken}, true
	case "/v2/user/get":
		return apiRoute{endpoint: EndpointUserGet, auth: authLegacy, serve: (*Fake).serveUserGet}, true
	case "/users/v1/users/device/create_session":
		return apiRoute{endpoint: EndpointCreateSession, auth: authLegacy, serve: (*Fake).serveCreateSession}, true
	case "/v2/file/list", "/adrive/v3/file/list":
		return apiRoute{endpoint: EndpointFileList, auth: authLegacy, session: true, serve: (*Fake).serveList}, true
	case "/v2/file/get":
		return apiRoute{endpoint: EndpointFileGet, auth: authLegacy, session: true, serve: (*Fake).serveGet}, true
	case "/v2/file/get_by_path":
		return apiRoute{endpoint: EndpointFileGetByPath, auth: authLegacy, session: true, serve: (*Fake).serveGetByPath}, true
	case "/v2/file/get_download_url":
		return apiRoute{endpoint: EndpointDownloadURL, auth: authLegacy, session: true, serve: (*Fake).serveDownloadURL}, true

	// Legacy uploads (§7.1), device-signed like every legacy file call.
	case "/adrive/v2/file/createWithFolders":
		return apiRoute{endpoint: EndpointUploadCreate, auth: authLegacy, session: true, serve: (*Fake).serveUploadCreate}, true
	case "/v2/file/get_upload_url":
		return apiRoute{endpoint: EndpointUploadURL, auth: authLegacy, session: true, serve: (*Fake).serveUploadURL}, true
	case "/v2/file/complete":
		return apiRoute{endpoint: EndpointUploadComplete, auth: authLegacy, session: true, serve: (*Fake).serveUploadComplete}, true

	// Open platform API (§3).
	case "/oauth/access_token":
		return apiRoute{endpoint: EndpointOpenToken, serve: (*Fake).serveOpenToken}, true
	case "/adrive/v1.0/user/getDriveInfo":
		return apiRoute{endpoint: EndpointOpenDriveInfo, auth: authOpen, serve: (*Fake).serveDriveInfo}, true
	case "/adrive/v1.0/openFile/list":
		return apiRoute{endpoint: EndpointOpenList, auth: authOpen, serve: (*Fake).serveOpenList}, true
	case "/adrive/v1.0/openFile/get":
		return apiRoute{endpoint: EndpointOpenGet, auth: authOpen, serve: (*Fake).serveOpenGet}, true
	case "/adrive/v1.0/openFile/get_by_path":
		return apiRoute{endpoint: EndpointOpenGetByPath, auth: authOpen, serve: (*Fake).serveOpenGetByPath}, true
	case "/adrive/v1.0/openFile/getDownloadUrl":
		return apiRoute{endpoint: EndpointOpenDownloadURL, auth: authOpen, serve: (*Fake).serveOpenDownloadURL}, true
	case "/adrive/v1.0/openFile/create":
		return apiRoute{endpoint: EndpointOpenUploadCreate, auth: authOpen, serve: (*Fake).serveOpenUploadCreate}, true
	case "/adrive/v1.0/openFile/getUploadUrl":
		return apiRoute{endpoint: EndpointOpenUploadURL, auth: authOpen, serve: (*Fake).serveOpenUploadURL}, true
	case "/adrive/v1.0/openFile/complete":
		return apiRoute{endpoint: EndpointOpenUploadComplete, auth: authOpen, serve: (*Fake).serveOpenUploadComplete}, true

	// Share links (§6): no device session, AList's share driver signs nothing.
	case "/v2/share_link/get_share_token":
		return apiRoute{endpoint: EndpointShareToken, serve: (*Fake).serveShareToken}, true
	case "/v2/file/get_share_link_download_url":
		return apiRoute{endpoint: EndpointShareDownloadURL, auth: authLegacy, serve: (*Fake).serveShareDownloadURL}, true

	// QR logins (§12).
	case "/oauth/authorize/qrcode":
		return apiRoute{endpoint: EndpointQROpenCreate, serve: (*Fake).serveQRCreate}, true
	case "/newlogin/qrcode/generate.do":
		return apiRoute{endpoint: EndpointQRPassportGenerate, method: http.MethodGet, serve: (*Fake).servePassportGenerate}, true
	case "/newlogin/qrcode/query.do":
		return apiRoute{endpoint: EndpointQRPassportQuery, serve: (*Fake).servePassportQuery}, true
	}
	return apiRoute{}, false
}

// maxBody bounds request bodies; real requests are a few hundred bytes.
const maxBody = 1 << 20

// serveAPI runs the steps every API call shares, in this order: count and
// log, read the body, injected latency, method, quota, scripted fault, access
// token, device session; then the operation (which checks a share token
// first, where it needs one). Auth is checked before the session (a client
// must refresh before it re-creates a session). The body is
// read first because net/http notices a client disconnect (and cancels
// r.Context(), which ends our sleeps) only once the body is consumed.
func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	route, ok := f.routeFor(r)
	if !ok {
		writeAPIError(w, http.StatusNotFound, "NotFound", "The resource "+r.URL.Path+" cannot be found.")
		return
	}
	sw, finish := f.begin(route.endpoint, w, r)
	defer finish()

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return // the client went away mid-body; nobody to answer
	}
	if !f.sleep(r.Context(), f.latency(route.endpoint)) {
		return
	}
	method := cmp.Or(route.method, http.MethodPost)
	if r.Method != method {
		sw.Header().Set("Allow", method)
		writeAPIError(sw, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method "+r.Method+" is not allowed.")
		return
	}
	if retry, ok := f.admit(route.endpoint); !ok {
		sw.Header().Set("x-retry-after", retryMillis(retry))
		writeAPIError(sw, http.StatusTooManyRequests, "TooManyRequests", "Too Many Requests")
		return
	}
	if fault, ok := f.takeFault(route.endpoint); ok {
		f.answerFault(sw, r, fault, writeAPIError)
		return
	}
	switch route.auth {
	case authLegacy:
		if !f.checkAccessToken(sw, r) {
			return
		}
	case authOpen:
		if !f.checkOpenAccessToken(sw, r) {
			return
		}
	}
	if route.session && !f.checkSession(sw, r) {
		return
	}
	route.serve(f, sw, r, body)
}

// decodeOptionalBody is decodeBody for the Open API calls whose body may be
// absent ("body none/{}", §3.2).
func decodeOptionalBody(w http.ResponseWriter, body []byte, v any) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	return decodeBody(w, body, v)
}

// decodeBody parses a JSON request body into v, answering 400
// InvalidParameter when it is not JSON. An empty body is not JSON: clients
// must send the literal {} (§0), as AList does.
func decodeBody(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter", "The input parameter body is not valid. "+err.Error())
		return false
	}
	return true
}

// apiError is the error body of every API family (§9).
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeAPIError answers a JSON error with the given status.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, apiError{Code: code, Message: message})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("alifake: marshal response: " + err.Error()) // our own types; cannot happen
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ca-request-id", randomHex(16))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// statusWriter records the status of a response in the request log as it
// goes out (before the client can see it, so tests never race the log), while
// keeping Flush reachable for the CDN's streaming.
type statusWriter struct {
	http.ResponseWriter
	f      *Fake
	entry  *Request
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.f.mu.Lock()
		w.entry.Status = code
		w.f.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush pushes buffered body bytes to the client; errors surface on the next
// Write, which is where the copy loops look for them.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// randomBytes returns n bytes from crypto/rand, which never fails on the
// platforms Go supports (Go 1.24+ crashes instead of returning an error).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randomHex returns 2n lowercase hex digits.
func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// timeFormatMillis is the RFC 3339 form the service uses in file objects,
// e.g. "2023-08-01T12:34:56.789Z" (§0).
const timeFormatMillis = "2006-01-02T15:04:05.000Z"

// formatMillis renders t as the service's file-object timestamp.
func formatMillis(t time.Time) string { return t.UTC().Format(timeFormatMillis) }

// retrySeconds renders a retry delay in whole seconds, rounded up, at least 1,
// as the standard Retry-After carries it.
func retrySeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// retryMillis renders a retry delay in whole milliseconds, rounded up, at
// least 1, as the service's x-retry-after carries it (§13.1: "wait
// x-retry-after milliseconds").
func retryMillis(d time.Duration) string {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	return strconv.FormatInt(max(ms, 1), 10)
}

// retryHeader renders d in the unit of the named header: milliseconds for
// x-retry-after, seconds for anything else (Retry-After).
func retryHeader(name string, d time.Duration) string {
	if strings.EqualFold(name, "x-retry-after") {
		return retryMillis(d)
	}
	return retrySeconds(d)
}
