package streamer

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/sign"
)

// StatusClientClosed is nginx's 499: the client went away; it is logged, never sent.
const StatusClientClosed = 499

// Every failure and refusal the server answers is an error of a kind below,
// found with errors.Is, and answered by writeError (or, for the AList door's
// JSON, alistFail) from its row of errTable: the status and a fixed public
// message, never err.Error(), so that nothing from the drive (or a token)
// reaches a response body. A new kind is a sentinel and one row.

// Refusals of a request, by the server itself.
var (
	errMethod          = errors.New("method not allowed") // withHeader(…, "Allow", …) names the methods
	errAdminToken      = errors.New("admin token missing or wrong")
	errAPIOff          = errors.New("the admin API is off")
	errUploadsOff      = errors.New("uploads are off")
	errPathMissing     = errors.New("path missing")
	errNoSignSecret    = errors.New("sign asked for without a sign secret")
	errBadTTL          = errors.New("bad ttl")
	errNotAFile        = errors.New("a folder has no download link")
	errNoName          = errors.New("PUT of the root")
	errShareReadOnly   = errors.New("PUT to a read-only drive")
	errBadSHA1         = errors.New("X-Content-Sha1 is not a SHA-1 in hex")
	errNameTaken       = errors.New("PUT onto an existing name without overwrite")
	errBodyTooLarge    = errors.New("request body too large")
	errBodyBroke       = errors.New("the body ended early")          // any *bodyErr is one
	errSpoolFull       = errors.New("writing the spool file failed") // any *spoolErr is one
	errBadFormat       = errors.New("bad folder format")
	errBadFileFormat   = errors.New("bad file format")
	errPage            = errors.New("page template failed")
	errPlaylistFile    = errors.New("a playlist of a file")
	errNotPlayable     = errors.New("the player for a file that does not play")
	errPlayFile        = errors.New("bad ?file for the player")
	errPrecondition    = errors.New("precondition failed")
	errRange           = errors.New("range not satisfiable")
	errNotSubtitle     = errors.New("not a subtitle")
	errSubtitleTooBig  = errors.New("subtitle file too large to convert")
	errDAVNeedCreds    = errors.New("webdav: no credentials configured on a non-loopback address")
	errDAVCreds        = errors.New("webdav: credentials missing or wrong")
	errDAVTooMany      = errors.New("webdav: too many failed logins")
	errDAVUserReadOnly = errors.New("webdav: a write by a read-only user")
	errDAVRootPut      = errors.New("webdav: PUT of the root")
	errPutFolder       = errors.New("PUT onto a folder")
	errDAVBadDest      = errors.New("webdav: bad Destination")
	errDAVDestRoot     = errors.New("webdav: Destination is the root")
	errDAVDestNoParent = errors.New("webdav: Destination's folder does not exist")
	errDAVLocked       = errors.New("webdav: locked")
	errDAVLockFailed   = errors.New("webdav: lock system failed")
	errDAVDestExistsF  = errors.New("webdav: destination exists, Overwrite: F")
	errDAVDestExists   = errors.New("webdav: destination exists")
	errDAVInfinite     = errors.New("webdav: PROPFIND of infinite depth")
	errAListNoRoute    = errors.New("alist: no such endpoint")
	errAListGuestOff   = errors.New("alist: guest disabled")
	errAListBadToken   = errors.New("alist: invalid token")
	errAListNoUsers    = errors.New("alist: login without users")
	errAListLoginLimit = errors.New("alist: too many failed logins")
	errAListBadPass    = errors.New("alist: wrong password")
	errAListBadQuery   = errors.New("alist: bad query")
	errAListBadJSON    = errors.New("alist: bad JSON body")
	errAListRefresh    = errors.New("alist: refresh without permission")
	errAListDenied     = errors.New("alist: permission denied")
	errAListNotAdmin   = errors.New("alist: not an admin")
	errAListSearch     = errors.New("alist: search not available")
	errAListOther      = errors.New("alist: fs/other not implemented")
	errAListBadName    = errors.New("alist: bad name")
	errAListNoNames    = errors.New("alist: no names")
	errAListNameTaken  = errors.New("alist: name exists") // named(…, name) says which
	errAListBadFile    = errors.New("alist: bad File-Path")
	errAListBodyRead   = errors.New("alist: the body could not be read")
	errAListNotFolder  = errors.New("alist: a list of a file")
)

// errRow is one kind of failure.
type errRow struct {
	kind   error
	status int
	msg    string // what a client reads; "{name}" stands for a named error's name
	// davCond is the RFC 4918 precondition WebDAV's answer names: the body
	// is then its DAV:error XML, not msg.
	davCond string
	// The AList door's code and message where they differ from what status
	// and msg give (AList's clients read its own wording): 0 and "": by the
	// status (400, 401, 403 and 429 as they are, anything else 500) and msg.
	alistCode int
	alistMsg  string
}

// errTable is searched in order: the first row whose kind the error is
// answers it. Rows are never shadowed: no kind is another's (a test checks).
var errTable = [...]errRow{
	{kind: resolver.ErrBadPath, status: 400, msg: "bad path"},
	{kind: sign.ErrMissing, status: 401, msg: "sign missing: this server needs a signed link (?sign=…)"},
	{kind: sign.ErrExpired, status: 403, msg: "sign expired"},
	{kind: sign.ErrInvalid, status: 403, msg: "sign invalid"},
	{kind: resolver.ErrReadOnly, status: 403, msg: "read-only: nothing is written here (a read-only mount, or outside every mount)", alistCode: alistForbidden, alistMsg: "permission denied"},
	{kind: resolver.ErrNotFound, status: 404, msg: "not found", alistMsg: "object not found"},
	{kind: errStreamsFull, status: 503, msg: "too many streams are running; retry later"},
	{kind: errCDNBusy, status: 503, msg: "the drive's CDN is busy; retry later"},
	{kind: resolver.ErrRateLimited, status: 503, msg: "the drive is rate limiting requests; retry later"},
	{kind: resolver.ErrDriveFull, status: 507, msg: "your drive is full (QuotaExhausted.Drive): the share driver copies each file it plays into your drive; free space there"},

	// Uploads: the spool, the body, and what the drive says of the name.
	{kind: errSpoolFull, status: 507, msg: "cannot spool the upload: insufficient storage on alilink"},
	{kind: errSpool, status: 507, msg: "cannot spool the upload"},
	{kind: errTooLarge, status: 413, msg: "larger than ALILINK_UPLOAD_MAX", alistCode: alistBadReq},
	{kind: errShortBody, status: 400, msg: "the body does not match Content-Length"},
	{kind: errBadHash, status: 400, msg: "the body does not match X-Content-Sha1"},
	{kind: errBodyBroke, status: 400, msg: "the body ended early"},
	{kind: errNameTaken, status: 409, msg: "a file or folder of that name exists; PUT with ?overwrite=1 (or Overwrite: T) to replace a file"},
	{kind: resolver.ErrExists, status: 409, msg: "a file of that name exists", alistCode: alistForbidden, alistMsg: "file exists"},
	{kind: resolver.ErrNotFolder, status: 409, msg: "a parent of that path is a file", alistMsg: "parent folder not found"},
	{kind: resolver.ErrNoParent, status: 409, msg: "the parent folder does not exist", alistMsg: "parent folder not found"},
	{kind: resolver.ErrBadTarget, status: 400, msg: "cannot move or copy a folder into itself"},
	{kind: resolver.ErrUnsupported, status: 405, msg: "this drive is read-only", alistCode: alistForbidden, alistMsg: "permission denied"},

	// The client went away (never sent), or the drive took too long.
	{kind: context.Canceled, status: StatusClientClosed, msg: "the client went away"},
	{kind: context.DeadlineExceeded, status: 504, msg: "the drive did not answer in time"},

	// The drive or its CDN failed.
	{kind: resolver.ErrTokenDead, status: 502, msg: "the drive rejected alilink's refresh token; the operator must set a new one"},
	{kind: resolver.ErrLinkTooShort, status: 502, msg: "the drive's download links expire too soon for the configured margin"},
	{kind: errChanged, status: 502, msg: "the file changed on the drive while it was being read"},
	{kind: errLinkRefused, status: 502, msg: "the drive's CDN failed to serve the file"},
	{kind: errCDN, status: 502, msg: "the drive's CDN failed to serve the file"},

	// Refusals of the request.
	{kind: errMethod, status: 405, msg: "method not allowed"},
	{kind: errAdminToken, status: 401, msg: "admin token missing or wrong"},
	{kind: errAPIOff, status: 404, msg: "the admin API is off: set ALILINK_ADMIN_TOKEN to enable it"},
	{kind: errUploadsOff, status: 401, msg: "uploads are off: set ALILINK_ADMIN_TOKEN to enable them"},
	{kind: errPathMissing, status: 400, msg: "path missing"},
	{kind: errNoSignSecret, status: 409, msg: "no ALILINK_SIGN_SECRET is set: links need no sign"},
	{kind: errBadTTL, status: 400, msg: "ttl must be a duration (1h30m) or seconds, from 1s to 10 years, 0 for never"},
	{kind: errNotAFile, status: 400, msg: "a folder has no download link", alistCode: alistFailed, alistMsg: "not a file"},
	{kind: errNoName, status: 400, msg: "a file needs a name"},
	{kind: errShareReadOnly, status: 405, msg: "this drive is read-only (a share link)"},
	{kind: errBadSHA1, status: 400, msg: "X-Content-Sha1 is not a SHA-1 in hex"},
	{kind: errBodyTooLarge, status: 413, msg: "request body too large", alistCode: alistBadReq},
	{kind: errBadFormat, status: 400, msg: "format must be html, json or m3u"},
	{kind: errBadFileFormat, status: 400, msg: "a file's format can only be vtt (for a subtitle)"},
	{kind: errPage, status: 500, msg: "page failed"},
	{kind: errPlaylistFile, status: 400, msg: "a playlist is of a folder"},
	{kind: errNotPlayable, status: 400, msg: "the player is for audio and video files"},
	{kind: errPlayFile, status: 400, msg: "file names the folder's file to play"},
	{kind: errPrecondition, status: 412, msg: "precondition failed"},
	{kind: errRange, status: 416, msg: "range not satisfiable"},
	{kind: errNotSubtitle, status: 400, msg: "only .srt, .vtt, .ass and .ssa files convert to WebVTT"},
	{kind: errSubtitleTooBig, status: 413, msg: "subtitle file too large to convert"},

	// WebDAV's own refusals (x/net/webdav answers the rest itself).
	{kind: errDAVNeedCreds, status: 403, msg: "WebDAV needs credentials on a non-loopback address: set ALILINK_DAV_HTPASSWD or ALILINK_ADMIN_TOKEN"},
	{kind: errDAVCreds, status: 401, msg: "credentials missing or wrong"},
	{kind: errDAVTooMany, status: 429, msg: "too many failed logins; retry later"},
	{kind: errDAVUserReadOnly, status: 403, msg: "read-only"},
	{kind: errDAVRootPut, status: 405, msg: "the root is a collection"},
	{kind: errPutFolder, status: 409, msg: "a folder of that name exists: PUT writes files"},
	{kind: errDAVBadDest, status: 400, msg: "Bad Request"},
	{kind: errDAVDestRoot, status: 403, msg: "Forbidden"},
	{kind: errDAVDestNoParent, status: 409, msg: "Conflict"},
	{kind: errDAVLocked, status: 423, msg: "locked"},
	{kind: errDAVLockFailed, status: 500, msg: "lock system failed"},
	{kind: errDAVDestExistsF, status: 412, msg: "the destination exists and Overwrite is F"},
	{kind: errDAVDestExists, status: 412, msg: "the destination exists"},
	{kind: errDAVInfinite, status: 403, msg: "PROPFIND needs Depth 0 or 1", davCond: "propfind-finite-depth"},

	// The AList door's (its wording: AList's own, which its clients read).
	{kind: errAListNoRoute, status: 404, msg: "404 page not found"},
	{kind: errAListGuestOff, status: 401, msg: "Guest user is disabled, login please"},
	{kind: errAListBadToken, status: 401, msg: "that token is invalid"},
	{kind: errAListNoUsers, status: 400, msg: "no users: set ALILINK_DAV_HTPASSWD to log in"},
	{kind: errAListLoginLimit, status: 429, msg: "Too many unsuccessful sign-in attempts have been made using an incorrect username or password, Try again later."},
	{kind: errAListBadPass, status: 400, msg: "password is incorrect"},
	{kind: errAListBadQuery, status: 400, msg: "bad query"},
	{kind: errAListBadJSON, status: 400, msg: "bad JSON body"},
	{kind: errAListRefresh, status: 403, msg: "Refresh without permission"},
	{kind: errAListDenied, status: 403, msg: "permission denied"},
	{kind: errAListNotAdmin, status: 403, msg: "You are not an admin"},
	{kind: errAListSearch, status: 501, msg: "search not available"},
	{kind: errAListOther, status: 501, msg: "not implement"},
	{kind: errAListBadName, status: 400, msg: "bad name"},
	{kind: errAListNoNames, status: 400, msg: "empty file names"},
	{kind: errAListNameTaken, status: 403, msg: "file [{name}] exists"},
	{kind: errAListBadFile, status: 400, msg: "bad File-Path"},
	{kind: errAListBodyRead, status: 400, msg: "the body could not be read in full"},
	{kind: errAListNotFolder, status: 400, msg: "not a folder", alistCode: alistFailed},
}

// errOther answers what no row names: the drive failed, refused our token,
// or answered nonsense.
var errOther = errRow{status: fasthttp.StatusBadGateway, msg: "the drive failed to answer"}

// errRowOf is err's row.
func errRowOf(err error) *errRow {
	for i := range errTable {
		if errors.Is(err, errTable[i].kind) {
			return &errTable[i]
		}
	}
	return &errOther
}

// httpStatus is err's status.
func httpStatus(err error) int { return errRowOf(err).status }

// publicText is a row's message for err, with a named error's name.
func (r *errRow) publicText(msg string, err error) string {
	if strings.Contains(msg, "{name}") {
		var n *namedErr
		name := ""
		if errors.As(err, &n) {
			name = n.name
		}
		msg = strings.ReplaceAll(msg, "{name}", name)
	}
	return msg
}

// alist is the AList door's code and message of a row.
func (r *errRow) alist(err error) (int, string) {
	code := r.alistCode
	if code == 0 {
		switch r.status {
		case alistBadReq, alistUnauth, alistForbidden, fasthttp.StatusTooManyRequests:
			code = r.status
		default:
			code = alistFailed
		}
	}
	msg := r.alistMsg
	if msg == "" {
		msg = r.msg
	}
	return code, r.publicText(msg, err)
}

// headerErr is an error whose answer carries a header (Allow,
// WWW-Authenticate, Retry-After).
type headerErr struct {
	error
	name, value string
}

func (e *headerErr) Unwrap() error { return e.error }

func withHeader(err error, name, value string) error { return &headerErr{err, name, value} }

// namedErr is an error about a name the message shows (a file name, never
// a secret).
type namedErr struct {
	error
	name string
}

func (e *namedErr) Unwrap() error { return e.error }

func named(err error, name string) error { return &namedErr{err, name} }

// setErrHeaders sets the headers the errors of err's chain carry.
func setErrHeaders(ctx *fasthttp.RequestCtx, err error) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if h, ok := e.(*headerErr); ok {
			ctx.Response.Header.Set(h.name, h.value)
		}
	}
}

// writeError answers a failure before any header went out: the one way an
// error leaves the server (the AList door's JSON: alistFail, from the same
// rows).
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error) {
	row := errRowOf(err)
	status := row.status
	if status == StatusClientClosed {
		ctx.SetConnectionClose()
		return
	}
	setErrHeaders(ctx, err)
	if status == fasthttp.StatusServiceUnavailable {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	}
	if status >= 500 {
		s.log.Warn("request failed", "path", string(ctx.Path()), "status", status, "err", err)
	} else {
		s.log.Debug("request refused", "status", status, "err", err)
	}
	if row.davCond != "" {
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetContentType("application/xml; charset=utf-8")
		ctx.SetStatusCode(status)
		ctx.SetBodyString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
			`<D:error xmlns:D="DAV:"><D:` + row.davCond + `/></D:error>` + "\n")
		return
	}
	writeText(ctx, status, row.publicText(row.msg, err))
}

// maxRetryAfter caps the Retry-After we send. The drive's wait for its quota
// is a second or so (x-retry-after is milliseconds, spec §13.1), and a
// client told to come back in minutes (a misread header, a CDN or gateway
// asking for an hour) gives up on a file it could play a moment later; our
// own governor refuses again, cheaply, if the client is early.
const maxRetryAfter = 5

// retryAfter is the Retry-After of a 503, in whole seconds within
// [1, maxRetryAfter]: the drive's or the CDN's own wait when they gave one.
func retryAfter(err error) int {
	var busy *busyError
	if errors.As(err, &busy) {
		return min(busy.seconds(), maxRetryAfter)
	}
	if errors.Is(err, errStreamsFull) {
		return 2 // a guess: streams end at their own pace
	}
	d, _ := resolver.RetryAfter(err)
	return min(max(1, int(math.Ceil(d.Seconds()))), maxRetryAfter)
}

func writeText(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(status)
	ctx.SetBodyString(msg + "\n")
}
