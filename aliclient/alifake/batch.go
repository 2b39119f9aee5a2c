package alifake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
)

// The batch envelope (§14.7), the share copy that plays a share (§15) and
// permanent delete (§14.6).

// Endpoint names of this file. EndpointShareCopy counts every /file/copy
// sub-request that names a share_id (a transfer from a share into the user's
// drive, §15.1 step 4), EndpointBatchCopy the others; EndpointFileDelete
// counts every permanent delete, batched (/file/delete), legacy
// (/v2/file/delete, /v3/file/delete) or open (/adrive/v1.0/openFile/delete).
// FailNext on EndpointShareCopy or EndpointFileDelete answers that fault as
// the sub-request's item inside an outer 200, as the service does.
const (
	EndpointBatch      = "batch"
	EndpointShareCopy  = "share/copy"
	EndpointBatchCopy  = "batch/file/copy"
	EndpointFileDelete = "file/delete"
	EndpointOpenDelete = "open/delete"
)

// maxBatch is the most sub-requests one batch takes (aligo's _BATCH_COUNT, §14.7).
const maxBatch = 100

// msgQuotaExhausted is the service's text for a full drive (§14.8, §15.2).
const msgQuotaExhausted = "The resource drive has exceeded the limit. File size exceeded drive capacity"

// batchRoute maps the batch and delete paths to their routes; routeFor asks
// it before the fixed routes. The batch sends no device headers (power721's
// share copy, §14.1), so no session is checked; the single-file legacy
// delete is signed like every legacy file call.
func batchRoute(path string) (apiRoute, bool) {
	switch path {
	case "/adrive/v4/batch", "/adrive/v2/batch", "/v3/batch":
		return apiRoute{endpoint: EndpointBatch, auth: authLegacy, serve: (*Fake).serveBatch}, true
	case "/v2/file/delete", "/v3/file/delete":
		return apiRoute{endpoint: EndpointFileDelete, auth: authLegacy, session: true, serve: (*Fake).serveLegacyDelete}, true
	case "/adrive/v1.0/openFile/delete":
		return apiRoute{endpoint: EndpointOpenDelete, auth: authOpen, serve: (*Fake).serveOpenDelete}, true
	}
	return apiRoute{}, false
}

// SetCapacity limits the named drive to bytes of file content (0: no limit).
// A copy that would exceed it answers QuotaExhausted.Drive (§14.8).
func (f *Fake) SetCapacity(drive string, bytes int64) {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	fs.capacity = bytes
}

// used is the content a drive holds. Called with Fake.mu held.
func (fs *fileSystem) used() int64 {
	var n int64
	for _, nd := range fs.byID {
		if nd.blob != nil {
			n += nd.blob.size
		}
	}
	return n
}

type batchRequest struct {
	Requests []struct {
		Body    json.RawMessage   `json:"body"`
		Headers map[string]string `json:"headers"`
		ID      string            `json:"id"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
	} `json:"requests"`
	Resource string `json:"resource"`
}

type batchItem struct {
	Body   any    `json:"body,omitempty"`
	ID     string `json:"id"`
	Status int    `json:"status"`
}

// serveBatch is POST /adrive/v4/batch (and /adrive/v2/batch, /v3/batch):
// HTTP 200 with one answer per sub-request, each with its own status and
// body (§14.7). A share copy needs x-share-token on the outer call; a dead
// or missing one fails the whole call with 401 ShareLinkTokenInvalid, as
// errors of the whole call come back as the outer status (§14.7).
func (f *Fake) serveBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var req batchRequest
	if !decodeBody(w, body, &req) {
		return
	}
	switch n := len(req.Requests); {
	case n == 0:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.Requests", "The input parameter requests is missing. ")
		return
	case n > maxBatch:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.Requests", "The input parameter requests is not valid. at most "+strconv.Itoa(maxBatch))
		return
	}
	var sh *share
	for _, sub := range req.Requests {
		var probe struct {
			ShareID string `json:"share_id"`
		}
		_ = json.Unmarshal(sub.Body, &probe)
		if probe.ShareID != "" && sh == nil {
			s, ok := f.checkShareToken(w, r)
			if !ok {
				return
			}
			sh = &s
		}
	}
	out := make([]batchItem, 0, len(req.Requests))
	for _, sub := range req.Requests {
		it := batchItem{ID: sub.ID}
		if sub.Method != "" && sub.Method != http.MethodPost {
			it.Status, it.Body = http.StatusMethodNotAllowed, apiError{"MethodNotAllowed", "The method " + sub.Method + " is not allowed."}
			out = append(out, it)
			continue
		}
		switch sub.URL {
		case "/file/copy":
			it.Status, it.Body = f.batchCopy(sh, sub.Body)
		case "/file/delete":
			it.Status, it.Body = f.batchDelete(sub.Body)
		default:
			it.Status, it.Body = http.StatusNotFound, apiError{"NotFound.Url", "The resource url " + sub.URL + " cannot be found. (the fake's batch serves /file/copy and /file/delete)"}
		}
		out = append(out, it)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

// itemFault answers a scripted fault of endpoint as a batch item.
func (f *Fake) itemFault(endpoint string) (int, any, bool) {
	ft, ok := f.takeFault(endpoint)
	if !ok {
		return 0, nil, false
	}
	return ft.Status, apiError{ft.Code, ft.Message}, true
}

// batchCopy is the /file/copy sub-request (§14.5, §15.1 step 4). With a
// share_id the source is a file of that share (the token's, checked by
// serveBatch) and the target a folder of one of the user's drives
// (to_drive_id); without one, the source is drive_id's. A file answers 201
// with the copy's ids; a folder 202 with an async_task_id, the copy being
// made at once (the fake's tasks finish instantly). auto_rename picks a free
// name; without it a taken name answers 409 AlreadyExist.File.
func (f *Fake) batchCopy(sh *share, raw json.RawMessage) (int, any) {
	var req struct {
		DriveID        string `json:"drive_id"`
		ShareID        string `json:"share_id"`
		FileID         string `json:"file_id"`
		ToParentFileID string `json:"to_parent_file_id"`
		ToDriveID      string `json:"to_drive_id"`
		NewName        string `json:"new_name"`
		AutoRename     bool   `json:"auto_rename"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return http.StatusBadRequest, apiError{"InvalidParameter", "The input parameter body is not valid. " + err.Error()}
	}
	endpoint := EndpointBatchCopy
	if req.ShareID != "" {
		endpoint = EndpointShareCopy
	}
	f.mu.Lock()
	f.ctl.calls[endpoint]++
	f.mu.Unlock()
	if status, body, ok := f.itemFault(endpoint); ok {
		return status, body
	}
	var src *fileSystem
	switch {
	case req.ShareID != "" && (sh == nil || sh.id != req.ShareID):
		return http.StatusBadRequest, apiError{"InvalidParameter.ShareId", "share_id doesn't match. share_token"}
	case req.ShareID != "":
		src = &f.fs
	default:
		src = f.driveByID(req.DriveID)
	}
	toDrive := req.ToDriveID
	if toDrive == "" {
		toDrive = req.DriveID
	}
	dst := f.legacyDriveByID(toDrive)
	if src == nil || dst == nil {
		return http.StatusNotFound, apiError{"NotFound.Drive", msgDriveNotFound}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	n := src.byID[req.FileID]
	if n == nil || n == src.root || (sh != nil && req.ShareID != "" && !sh.within(n)) {
		return http.StatusNotFound, apiError{"NotFound.File", msgFileNotFound}
	}
	parent := dst.byID[req.ToParentFileID]
	switch {
	case parent == nil:
		return http.StatusNotFound, apiError{"NotFound.ParentFileId", "The resource parent_file_id cannot be found. "}
	case !parent.folder:
		return http.StatusBadRequest, apiError{"InvalidParameter.ToParentFileId", "The input parameter to_parent_file_id is not valid. "}
	}
	for p := parent; p != nil && src == dst; p = p.parent {
		if p == n {
			return http.StatusBadRequest, apiError{"InvalidParameter.ToParentFileId", "The input parameter to_parent_file_id is not valid. a folder cannot be copied into itself"}
		}
	}
	if dst.capacity > 0 && dst.used()+subtreeSize(n) > dst.capacity {
		return http.StatusBadRequest, apiError{"QuotaExhausted.Drive", msgQuotaExhausted}
	}
	name := n.name
	if req.NewName != "" {
		name = req.NewName
	}
	if parent.children[name] != nil {
		if !req.AutoRename {
			return http.StatusConflict, apiError{"AlreadyExist.File", "The resource file has already existed. file already exist"}
		}
		name = freeName(parent, name, n.folder)
	}
	c := f.copyNode(dst, parent, n, name)
	resp := map[string]any{"domain_id": domainID, "drive_id": dst.driveID, "file_id": c.id}
	if n.folder {
		resp["async_task_id"] = randomHex(16)
		return http.StatusAccepted, resp
	}
	return http.StatusCreated, resp
}

// subtreeSize is the content under n. Called with Fake.mu held.
func subtreeSize(n *node) int64 {
	if !n.folder {
		if n.blob == nil {
			return 0
		}
		return n.blob.size
	}
	var s int64
	for _, c := range n.children {
		s += subtreeSize(c)
	}
	return s
}

// copyNode copies n (and its subtree) into parent of fs under name. A copied
// file is a new file with a new id whose content is the same bytes, so its
// links serve exactly what the original's do and its content_hash is the
// original's (§15.1 step 6). Called with Fake.mu held.
func (f *Fake) copyNode(fs *fileSystem, parent, n *node, name string) *node {
	now := f.stamp()
	c := fs.newNode(parent, name, n.folder, now)
	if !n.folder {
		if n.blob != nil {
			fs.setContent(c, &blob{data: n.blob.data, synth: n.blob.synth, size: n.blob.size, same: cmp.Or(n.blob.same, n.blob)}, now)
		}
		return c
	}
	for _, child := range n.children {
		f.copyNode(fs, c, child, child.name)
	}
	return c
}

// deleteRequest is the body of every permanent delete (§14.6).
type deleteRequest struct {
	DriveID string `json:"drive_id"`
	FileID  string `json:"file_id"`
}

// deleteNode removes a file or folder for good from the drive named by id,
// returning the status and error body the API answers (0 on success).
func (f *Fake) deleteNode(drive *fileSystem, fileID string) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := drive.byID[fileID]
	if n == nil && f.takeTrashed(drive, fileID) != nil {
		return 0, nil // a trashed item is deleted for good from the recycle bin
	}
	if n == nil || n == drive.root {
		return http.StatusNotFound, apiError{"NotFound.File", msgFileNotFound}
	}
	drive.remove(n)
	return 0, nil
}

// batchDelete is the /file/delete sub-request: 204 with no body (xiaoya's
// cleaner requires exactly 204, §14.6).
func (f *Fake) batchDelete(raw json.RawMessage) (int, any) {
	var req deleteRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return http.StatusBadRequest, apiError{"InvalidParameter", "The input parameter body is not valid. " + err.Error()}
	}
	f.mu.Lock()
	f.ctl.calls[EndpointFileDelete]++
	f.mu.Unlock()
	if status, body, ok := f.itemFault(EndpointFileDelete); ok {
		return status, body
	}
	fs := f.legacyDriveByID(req.DriveID)
	if fs == nil {
		return http.StatusNotFound, apiError{"NotFound.Drive", msgDriveNotFound}
	}
	if status, body := f.deleteNode(fs, req.FileID); status != 0 {
		return status, body
	}
	return http.StatusNoContent, nil
}

// serveLegacyDelete is POST /v2/file/delete and /v3/file/delete: 204.
func (f *Fake) serveLegacyDelete(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req deleteRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	if status, eb := f.deleteNode(fs, req.FileID); status != 0 {
		writeJSON(w, status, eb)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveOpenDelete is POST /adrive/v1.0/openFile/delete: 200 with the ids
// (every open success is 200, §14.1). The fake finishes folders at once, so
// no async_task_id is ever returned.
func (f *Fake) serveOpenDelete(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req deleteRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.openDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.mu.Lock()
	f.ctl.calls[EndpointFileDelete]++
	f.mu.Unlock()
	if status, eb := f.deleteNode(fs, req.FileID); status != 0 {
		if status == http.StatusNotFound {
			eb = apiError{"NotFound.FileId", msgFileNotFound} // the open API's name (§14.8)
		}
		writeJSON(w, status, eb)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"drive_id": fs.driveID, "file_id": req.FileID})
}
