package alifake

import (
	"cmp"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Not-found and type errors of the file endpoints (§9).
const (
	msgFileNotFound  = "The resource file cannot be found. file not exist"
	msgDriveNotFound = "The resource drive cannot be found. drive not exist"
)

// fileItem is a file object as list, get and get_by_path return it (§4.1).
// Folder objects carry no size or hash fields, hence the omitempty.
type fileItem struct {
	DriveID         string `json:"drive_id"`
	DomainID        string `json:"domain_id"`
	FileID          string `json:"file_id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ParentFileID    string `json:"parent_file_id"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
	Size            *int64 `json:"size,omitempty"`
	ContentHash     string `json:"content_hash,omitempty"`
	ContentHashName string `json:"content_hash_name,omitempty"`
	Crc64Hash       string `json:"crc64_hash,omitempty"`
	FileExtension   string `json:"file_extension,omitempty"`
	MimeType        string `json:"mime_type,omitempty"`
	MimeExtension   string `json:"mime_extension,omitempty"`
	Category        string `json:"category,omitempty"`
	Status          string `json:"status"`
	Starred         bool   `json:"starred"`
	Hidden          bool   `json:"hidden"`
	Trashed         bool   `json:"trashed"`
	EncryptMode     string `json:"encrypt_mode"`
	RevisionID      string `json:"revision_id,omitempty"`
	PunishFlag      int    `json:"punish_flag"`
	ShareID         string `json:"share_id,omitempty"` // share listings only (§6)
}

// entry is a node's fields copied under Fake.mu, so responses are built (and
// lazy hashes computed) without holding the lock.
type entry struct {
	id, name, parentID string
	driveID            string
	folder             bool
	created, updated   time.Time
	blob               *blob
}

func snapshot(n *node) entry {
	e := entry{id: n.id, driveID: n.driveID, name: n.name, folder: n.folder, created: n.created, updated: n.updated, blob: n.blob}
	if n.parent != nil {
		e.parentID = n.parent.id
	}
	return e
}

func (e entry) size() int64 {
	if e.blob == nil {
		return 0
	}
	return e.blob.size
}

// item renders the wire object; for files it computes the memoised hashes.
func (f *Fake) item(e entry) fileItem {
	it := fileItem{
		DriveID:      e.driveID,
		DomainID:     domainID,
		FileID:       e.id,
		Name:         e.name,
		Type:         "folder",
		ParentFileID: e.parentID,
		CreatedAt:    formatMillis(e.created),
		UpdatedAt:    formatMillis(e.updated),
		Status:       "available",
		EncryptMode:  "none",
	}
	if e.folder {
		return it
	}
	sha, crc := e.blob.hashes()
	size := e.blob.size
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(e.name), "."))
	kind := typeOf(ext)
	it.Type = "file"
	it.Size = &size
	it.ContentHash = sha
	it.ContentHashName = "sha1"
	it.Crc64Hash = strconv.FormatUint(crc, 10)
	it.FileExtension = ext
	it.MimeType = kind.mime
	it.MimeExtension = ext
	it.Category = kind.category
	it.RevisionID = e.blob.id[:16]
	return it
}

// checkDrive answers 404 NotFound.Drive unless id is the user's drive.
func (f *Fake) checkDrive(w http.ResponseWriter, id string) bool {
	if id != f.opts.DriveID {
		writeAPIError(w, http.StatusNotFound, "NotFound.Drive", msgDriveNotFound)
		return false
	}
	return true
}

// listOrders are the accepted order_by values; "" means name.
var listOrders = map[string]func(a, b entry) int{
	"name":       func(a, b entry) int { return strings.Compare(a.name, b.name) },
	"updated_at": func(a, b entry) int { return a.updated.Compare(b.updated) },
	"created_at": func(a, b entry) int { return a.created.Compare(b.created) },
	"size":       func(a, b entry) int { return cmp.Compare(a.size(), b.size()) },
}

// listRequest is the body of every list call: legacy (§4.1), Open (§4.2)
// and share (§6). Each family reads the fields it knows.
type listRequest struct {
	DriveID        string `json:"drive_id"`
	ShareID        string `json:"share_id"`
	ParentFileID   string `json:"parent_file_id"`
	Limit          int    `json:"limit"`
	Marker         string `json:"marker"`
	OrderBy        string `json:"order_by"`
	OrderDirection string `json:"order_direction"`
}

// listing is how one family lists a folder.
type listing struct {
	fs           *fileSystem
	parentID     string // req.ParentFileID, or what a share maps "root" to
	defaultLimit int    // the page size when limit ≤ 0
	maxLimit     int    // the most items a page holds
	// visible, if set, hides folders outside a share: their listing answers
	// 404 as if they did not exist. Called with Fake.mu held.
	visible func(*node) bool
	// decorate, if set, adds family-specific fields to every item.
	decorate func(*fileItem)
}

// serveList is POST /v2/file/list and /adrive/v3/file/list (§4.1). Pages hold
// at most min(limit, PageSize, 200) items (limit ≤ 0 means 100).
func (f *Fake) serveList(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req listRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.writeList(w, req, listing{fs: fs, parentID: req.ParentFileID, defaultLimit: defaultListLimit, maxLimit: f.opts.PageSize})
}

// writeList answers one page of a folder listing. Ties in the sort key are
// broken by name and id, so paging is stable. Markers are bound to the drive,
// the folder and the order, so one listing's marker never pages another.
func (f *Fake) writeList(w http.ResponseWriter, req listRequest, l listing) {
	if req.ParentFileID == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterMissing.ParentFileId", "The input parameter parent_file_id is missing. ")
		return
	}
	orderBy := cmp.Or(req.OrderBy, "name")
	byKey, ok := listOrders[orderBy]
	if !ok {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.OrderBy", "The input parameter order_by is not valid. ")
		return
	}
	dir := strings.ToUpper(cmp.Or(req.OrderDirection, "ASC"))
	if dir != "ASC" && dir != "DESC" {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.OrderDirection", "The input parameter order_direction is not valid. ")
		return
	}
	scope := l.fs.driveID + "/" + l.parentID
	offset := 0
	if req.Marker != "" {
		var err error
		if offset, err = f.parseMarker(req.Marker, scope, orderBy, dir); err != nil {
			writeAPIError(w, http.StatusBadRequest, "InvalidParameter.Marker", "The input parameter marker is not valid. ")
			return
		}
	}

	f.mu.Lock()
	parent := l.fs.byID[l.parentID]
	if parent != nil && l.visible != nil && !l.visible(parent) {
		parent = nil
	}
	isFolder := parent != nil && parent.folder
	var children []entry
	if isFolder {
		for _, c := range parent.children {
			children = append(children, snapshot(c))
		}
	}
	f.mu.Unlock()
	switch {
	case parent == nil:
		writeAPIError(w, http.StatusNotFound, "NotFound.File", msgFileNotFound)
		return
	case !isFolder:
		writeAPIError(w, http.StatusBadRequest, "InvalidResource.FileTypeFile", "The resource file type file is not supported. parent_file_id must be a folder")
		return
	}

	slices.SortFunc(children, func(a, b entry) int {
		c := cmp.Or(byKey(a, b), strings.Compare(a.name, b.name), strings.Compare(a.id, b.id))
		if dir == "DESC" {
			return -c
		}
		return c
	})
	limit := req.Limit
	if limit <= 0 {
		limit = l.defaultLimit
	}
	limit = min(limit, l.maxLimit)
	start := min(offset, len(children))
	end := min(start+limit, len(children))
	items := make([]fileItem, 0, end-start)
	for _, e := range children[start:end] {
		it := f.item(e)
		if l.decorate != nil {
			l.decorate(&it)
		}
		items = append(items, it)
	}
	next := ""
	if end < len(children) {
		next = f.makeMarker(end, scope, orderBy, dir)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_marker": next, "punished_file_count": 0})
}

// serveGet is POST /v2/file/get (§4.3).
func (f *Fake) serveGet(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID string `json:"drive_id"`
		FileID  string `json:"file_id"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.writeGet(w, fs, req.FileID)
}

// writeGet answers the file object with id fileID in fs. The root is not a
// file object; clients synthesise it (§4.3).
func (f *Fake) writeGet(w http.ResponseWriter, fs *fileSystem, fileID string) {
	f.mu.Lock()
	n := fs.byID[fileID]
	var e entry
	if n != nil {
		e = snapshot(n)
	}
	f.mu.Unlock()
	if n == nil || n == fs.root {
		writeAPIError(w, http.StatusNotFound, "NotFound.File", msgFileNotFound)
		return
	}
	writeJSON(w, http.StatusOK, f.item(e))
}

// serveGetByPath is POST /v2/file/get_by_path (§4.3).
func (f *Fake) serveGetByPath(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID  string `json:"drive_id"`
		FilePath string `json:"file_path"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.writeGetByPath(w, fs, req.FilePath)
}

// writeGetByPath answers the file object at filePath in fs. The path is
// absolute from the drive root and matched name by name, byte for byte: no
// trimming, no "//", no trailing "/", and "/" itself is not a file object.
func (f *Fake) writeGetByPath(w http.ResponseWriter, fs *fileSystem, filePath string) {
	if !strings.HasPrefix(filePath, "/") {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.FilePath", "The input parameter file_path is not valid. ")
		return
	}
	f.mu.Lock()
	var n *node
	if names := splitPath(filePath); len(names) > 0 {
		n = fs.lookup(names)
	}
	var e entry
	if n != nil {
		e = snapshot(n)
	}
	f.mu.Unlock()
	if n == nil {
		writeAPIError(w, http.StatusNotFound, "NotFound.File", msgFileNotFound)
		return
	}
	writeJSON(w, http.StatusOK, f.item(e))
}
