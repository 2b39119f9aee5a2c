package alifake

import (
	"net/http"
)

// Page sizes of openFile/list. The spec gives none; 50 by default and 100 at
// most is what the Open platform's documentation is remembered to say
// (unverified). Larger limits are clamped, not refused: AList asks for 200
// (§4.2) and works.
const (
	openDefaultListLimit = 50
	openMaxListLimit     = 100
)

// Documented Open platform quotas, per user and app (§3.4).
const (
	openListPerSecond  = 4
	openLinkPerSecond  = 1
	openOtherPerSecond = 15
)

// SetOpenRateLimits applies the documented Open platform quotas (§3.4) with
// SetRateLimit: openFile/list 4/s, getDownloadUrl 1/s, and 15/s for each of
// getDriveInfo, openFile/get, get_by_path, create, getUploadUrl and
// complete, and for the file-management calls (§14). The token endpoint belongs to the OAuth service and part PUTs to
// OSS; both stay unlimited. SetRateLimit changes them one by one afterwards.
func (f *Fake) SetOpenRateLimits() {
	f.SetRateLimit(EndpointOpenList, openListPerSecond)
	f.SetRateLimit(EndpointOpenDownloadURL, openLinkPerSecond)
	for _, e := range []string{
		EndpointOpenDriveInfo, EndpointOpenGet, EndpointOpenGetByPath,
		EndpointOpenUploadCreate, EndpointOpenUploadURL, EndpointOpenUploadComplete,
	} {
		f.SetRateLimit(e, openOtherPerSecond)
	}
	for _, e := range openManageEndpoints {
		f.SetRateLimit(e, openOtherPerSecond)
	}
}

// openDrive returns the tree with drive id id, or answers 404 NotFound.Drive.
// Both drives of the account are reachable (§16).
func (f *Fake) openDrive(w http.ResponseWriter, id string) (*fileSystem, bool) {
	fs := f.driveByID(id)
	if fs == nil {
		writeAPIError(w, http.StatusNotFound, "NotFound.Drive", msgDriveNotFound)
		return nil, false
	}
	return fs, true
}

// serveDriveInfo is POST /adrive/v1.0/user/getDriveInfo (§3.2). AList picks
// <drive_type>_drive_id from it and OpenList keys its limiter by user_id.
func (f *Fake) serveDriveInfo(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct{}
	if !decodeOptionalBody(w, body, &req) {
		return
	}
	info := map[string]any{
		"user_id":           f.opts.UserID,
		"name":              f.opts.UserName,
		"avatar":            "",
		"default_drive_id":  f.fs.driveID,
		"resource_drive_id": f.resource.driveID,
		"backup_drive_id":   f.fs.driveID, // the default drive is the backup drive (§16)
	}
	// Resource and backup are in the answer only if the user granted them
	// to the app (§16, SetOpenGrant).
	f.mu.Lock()
	for _, kind := range []string{DriveResource, DriveBackup} {
		if f.acct.notGranted[kind] {
			delete(info, kind+"_drive_id")
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// serveOpenList is POST /adrive/v1.0/openFile/list (§3.3, §4.2): the legacy
// shapes over either drive of the account, at most min(limit, 100, PageSize)
// items a page.
func (f *Fake) serveOpenList(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req listRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.openDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.writeList(w, req, listing{
		fs:           fs,
		parentID:     req.ParentFileID,
		defaultLimit: openDefaultListLimit,
		maxLimit:     min(openMaxListLimit, f.opts.PageSize),
	})
}

// serveOpenGet is POST /adrive/v1.0/openFile/get (§3.3).
func (f *Fake) serveOpenGet(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID string `json:"drive_id"`
		FileID  string `json:"file_id"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.writeGet(w, fs, req.FileID)
	}
}

// serveOpenGetByPath is POST /adrive/v1.0/openFile/get_by_path (§3.3), with
// the legacy endpoint's path rules.
func (f *Fake) serveOpenGetByPath(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID  string `json:"drive_id"`
		FilePath string `json:"file_path"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.writeGetByPath(w, fs, req.FilePath)
	}
}

// openDownloadResponse is the body of getDownloadUrl (§5.2). A live photo
// has no url but streamsUrl (§13.8; AList's spelling).
type openDownloadResponse struct {
	URL        string            `json:"url,omitempty"`
	StreamsURL map[string]string `json:"streamsUrl,omitempty"`
	Expiration string            `json:"expiration"`
	Method     string            `json:"method"`
	Size       int64             `json:"size"`
	DriveID    string            `json:"drive_id"`
	FileID     string            `json:"file_id"`
}

// serveOpenDownloadURL is POST /adrive/v1.0/openFile/getDownloadUrl (§3.5,
// §5.2). expire_sec defaults to 900 and is clamped to 14400, as on the
// legacy API; the link refuses any Referer at the CDN. As there, expiration
// is one second later than x-oss-expires, which is the authority.
func (f *Fake) serveOpenDownloadURL(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID   string `json:"drive_id"`
		FileID    string `json:"file_id"`
		ExpireSec int64  `json:"expire_sec"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.openDrive(w, req.DriveID)
	if !ok {
		return
	}
	resp, err := f.issueLink(fs, req.FileID, req.ExpireSec, linkOpen)
	if err != nil {
		writeAPIError(w, err.status, err.code, err.message)
		return
	}
	out := openDownloadResponse{
		URL:        resp.URL,
		Expiration: resp.Expiration,
		Method:     resp.Method,
		Size:       resp.Size,
		DriveID:    resp.DriveID,
		FileID:     resp.FileID,
	}
	if streams, ok := f.livpLinks(fs, req.FileID, req.ExpireSec); ok {
		out.URL, out.StreamsURL = "", streams
	}
	writeJSON(w, http.StatusOK, out)
}
