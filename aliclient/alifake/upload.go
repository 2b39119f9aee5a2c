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

// check_name_mode values (§7). An absent mode means "ignore", the mode the
// Open driver sends (§7.2).
const (
	modeRefuse     = "refuse"
	modeOverwrite  = "overwrite"
	modeAutoRename = "auto_rename"
	modeIgnore     = "ignore"
)

// Limits of a create call. 10 000 parts is the most OSS takes and the most
// AList's Open driver plans for (§7.2); 1024 bytes is the pre_hash window.
const (
	maxParts      = 10000
	preHashWindow = 1024
)

// Error texts of the upload calls. The codes follow §9 where it names one
// (PreHashMatched, NotFound.UploadId) and the service's Namespace.Reason
// pattern elsewhere; the messages are the fake's.
const (
	msgAlreadyExist     = "The resource file has already existed. file already exist"
	msgPreHashMatched   = "Pre hash matched."
	msgProofCodeInvalid = "The input parameter proof_code is not valid. "
	msgUploadNotFound   = "The resource upload_id cannot be found. "
	msgParentNotFound   = "The resource parent_file_id cannot be found. parent folder not exist"
)

// uploadStore holds the upload sessions, guarded by Fake.mu. Sessions are
// never aborted or expired, as the real service keeps unfinished ones; only
// their part URLs expire.
type uploadStore struct {
	sessions map[string]*upload     // by upload id, until complete
	rapid    map[string]rapidUpload // by upload id, forever
	issued   uint64                 // part-URL batches issued so far
	revoked  uint64                 // batches up to this one count as expired
	internal bool                   // AllowInternalUpload
}

func (us *uploadStore) init() {
	us.sessions = make(map[string]*upload)
	us.rapid = make(map[string]rapidUpload)
}

// rapidUpload remembers a rapid upload so the complete call the Open driver
// always makes afterwards (§7.2 step 5) finds it.
type rapidUpload struct {
	fs     *fileSystem
	fileID string
}

// target is where a finished upload goes: a name in a folder, under the file
// id the create call announced. It is resolved again at completion, as the
// folder may have changed meanwhile (place).
type target struct {
	fs       *fileSystem
	parentID string
	name     string
	mode     string
	fileID   string // the overwritten file's id with "overwrite", else fresh
}

// upload is an open upload session: the declared parts and the bytes PUT so
// far.
type upload struct {
	id          string
	target      target
	size        int64 // -1 when the create carried none
	contentHash string
	declared    []int // part numbers, sorted
	parts       map[int][]byte
}

// uploadError is a refusal of an upload call, as the API answers it.
type uploadError struct {
	status        int
	code, message string
}

func (e *uploadError) write(w http.ResponseWriter) { writeAPIError(w, e.status, e.code, e.message) }

func errAlreadyExist() *uploadError {
	return &uploadError{http.StatusConflict, "AlreadyExist.File", msgAlreadyExist}
}

// errInvalid is 400 InvalidParameter.<reason> for the wire parameter param.
func errInvalid(reason, param string) *uploadError {
	return &uploadError{http.StatusBadRequest, "InvalidParameter." + reason, "The input parameter " + param + " is not valid. "}
}

// createRequest is the body of createWithFolders (§7.1) and of
// openFile/create (§7.2). local_created_at and local_modified_at are
// accepted and ignored: the file's own times are the server's.
type createRequest struct {
	DriveID         string       `json:"drive_id"`
	ParentFileID    string       `json:"parent_file_id"`
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	CheckNameMode   string       `json:"check_name_mode"`
	Size            *int64       `json:"size"`
	PartInfoList    []partNumber `json:"part_info_list"`
	PreHash         string       `json:"pre_hash"`
	ContentHash     string       `json:"content_hash"`
	ContentHashName string       `json:"content_hash_name"`
	ProofVersion    string       `json:"proof_version"`
	ProofCode       string       `json:"proof_code"`
	LocalCreatedAt  string       `json:"local_created_at"`
	LocalModifiedAt string       `json:"local_modified_at"`
}

// partNumber is an entry of a request's part_info_list.
type partNumber struct {
	PartNumber int `json:"part_number"`
}

// createResponse is the answer of both create calls. Folders carry no upload
// fields; rapid uploads carry no part list.
type createResponse struct {
	DriveID      string     `json:"drive_id"`
	DomainID     string     `json:"domain_id,omitempty"`
	FileID       string     `json:"file_id"`
	FileName     string     `json:"file_name"`
	ParentFileID string     `json:"parent_file_id"`
	Type         string     `json:"type"`
	Exist        bool       `json:"exist"`
	UploadID     string     `json:"upload_id,omitempty"`
	RapidUpload  *bool      `json:"rapid_upload,omitempty"`
	PartInfoList []partInfo `json:"part_info_list,omitempty"`
	EncryptMode  string     `json:"encrypt_mode,omitempty"`
	Location     string     `json:"location,omitempty"`
	Status       string     `json:"status,omitempty"`
}

// serveUploadCreate is POST /adrive/v2/file/createWithFolders (§7.1).
func (f *Fake) serveUploadCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req createRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.create(w, r, fs, req, false)
}

// serveOpenUploadCreate is POST /adrive/v1.0/openFile/create (§7.2): the
// legacy rules over either drive of the account, the proof checked against the
// Open access token.
func (f *Fake) serveOpenUploadCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req createRequest
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.create(w, r, fs, req, true)
	}
}

// validate checks the fields of a create call and returns its mode. The Open
// create knows no "overwrite" (§13.2): it answers 400
// InvalidParameter.CheckNameMode as for any unknown mode.
func (req *createRequest) validate(open bool) (string, *uploadError) {
	mode := cmp.Or(req.CheckNameMode, modeIgnore)
	switch {
	case req.ParentFileID == "":
		return "", &uploadError{http.StatusBadRequest, "InvalidParameterMissing.ParentFileId", "The input parameter parent_file_id is missing. "}
	case req.Name == "":
		return "", &uploadError{http.StatusBadRequest, "InvalidParameterMissing.Name", "The input parameter name is missing. "}
	// createWithFolders may create folders named in a "/" path; the fake
	// refuses such names rather than guess (clients create level by level).
	case strings.Contains(req.Name, "/") || req.Name == "." || req.Name == "..":
		return "", errInvalid("Name", "name")
	case req.Type != "file" && req.Type != "folder":
		return "", errInvalid("Type", "type")
	case !slices.Contains([]string{modeRefuse, modeOverwrite, modeAutoRename, modeIgnore}, mode),
		open && mode == modeOverwrite:
		return "", errInvalid("CheckNameMode", "check_name_mode")
	}
	if req.Type == "folder" {
		return mode, nil // the file fields mean nothing for a folder
	}
	switch {
	case req.Size != nil && *req.Size < 0:
		return "", errInvalid("Size", "size")
	case len(req.PartInfoList) > maxParts:
		return "", errInvalid("PartInfoList", "part_info_list")
	case req.PreHash != "" && !isLowerHex40(req.PreHash):
		return "", errInvalid("PreHash", "pre_hash")
	case !slices.Contains([]string{"", "none", "sha1"}, req.ContentHashName):
		return "", errInvalid("ContentHashName", "content_hash_name")
	case req.ContentHash != "" && req.ContentHashName != "sha1":
		return "", errInvalid("ContentHashName", "content_hash_name")
	case req.ContentHash != "" && !isLowerHex40(strings.ToLower(req.ContentHash)):
		return "", errInvalid("ContentHash", "content_hash")
	case req.ProofCode != "" && req.ProofVersion != "v1":
		return "", errInvalid("ProofVersion", "proof_version")
	}
	if _, err := partNumbers(req.PartInfoList); err != nil {
		return "", err
	}
	return mode, nil
}

// partNumbers returns the sorted part numbers of a part_info_list, each in
// 1..10000 and none twice.
func partNumbers(list []partNumber) ([]int, *uploadError) {
	nums := make([]int, 0, len(list))
	for _, p := range list {
		if p.PartNumber < 1 || p.PartNumber > maxParts || slices.Contains(nums, p.PartNumber) {
			return nil, errInvalid("PartNumber", "part_number")
		}
		nums = append(nums, p.PartNumber)
	}
	slices.Sort(nums)
	return nums, nil
}

// isLowerHex40 reports whether s is a SHA-1 in lower-case hex.
func isLowerHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// create runs a create call of either family (open shapes the answer). The
// checks run in this order: fields, parent folder, name conflict, then for
// files content_hash (rapid upload), else pre_hash, else a plain session.
func (f *Fake) create(w http.ResponseWriter, r *http.Request, fs *fileSystem, req createRequest, open bool) {
	mode, err := req.validate(open)
	if err != nil {
		err.write(w)
		return
	}
	if req.Type == "folder" {
		f.createFolder(w, fs, req.ParentFileID, req.Name, mode, open)
		return
	}
	size := int64(-1)
	if req.Size != nil {
		size = *req.Size
	}

	f.mu.Lock()
	t, existing, err := resolveTarget(fs, req.ParentFileID, req.Name, mode)
	var candidates []*blob
	var taken entry
	if existing != nil {
		taken = snapshot(existing)
	}
	if err == nil && existing == nil && size >= 0 && (req.PreHash != "" || req.ContentHash != "") {
		candidates = f.blobsOfSize(size)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	if existing != nil {
		writeExist(w, taken, open)
		return
	}

	// content_hash wins over pre_hash: AList drops pre_hash once it has the
	// full hash (§7.1 step 4). A hash without a proof (size 0 needs none) is
	// no rapid attempt, only a check at complete.
	if req.ContentHash != "" && (req.ProofCode != "" || size == 0) {
		if src := matchContent(candidates, req.ContentHash); src != nil {
			if req.ProofCode != proofCode(bearerToken(r.Header.Get("Authorization")), src.reader(), src.size) {
				writeAPIError(w, http.StatusBadRequest, "InvalidParameter.ProofCode", msgProofCodeInvalid)
				return
			}
			f.rapidUpload(w, t, src, open)
			return
		}
	} else if req.PreHash != "" {
		for _, b := range candidates {
			if b.preHash() == req.PreHash {
				writeAPIError(w, http.StatusConflict, "PreHashMatched", msgPreHashMatched)
				return
			}
		}
	}

	declared, _ := partNumbers(req.PartInfoList) // validated above
	u := &upload{
		id:          newUploadID(),
		target:      t,
		size:        size,
		contentHash: strings.ToUpper(req.ContentHash),
		declared:    declared,
		parts:       make(map[int][]byte),
	}
	f.mu.Lock()
	f.up.sessions[u.id] = u
	parts := f.issuePartURLs(u.id, declared, !open)
	f.mu.Unlock()
	f.writeCreated(w, t, open, createResponse{UploadID: u.id, RapidUpload: new(false), PartInfoList: parts})
}

// newUploadID looks like the service's upload ids: 32 upper-case hex digits.
func newUploadID() string { return strings.ToUpper(randomHex(16)) }

// writeCreated answers a file create: 201 on the legacy API, 200 on the
// Open one, whose calls all answer 200.
func (f *Fake) writeCreated(w http.ResponseWriter, t target, open bool, resp createResponse) {
	resp.DriveID = t.fs.driveID
	resp.FileID = t.fileID
	resp.FileName = t.name
	resp.ParentFileID = t.parentID
	resp.Type = "file"
	resp.EncryptMode = "none"
	status := http.StatusOK
	if !open {
		status = http.StatusCreated
		resp.DomainID = domainID
		resp.Location = "cn-beijing"
	}
	writeJSON(w, status, resp)
}

// parentFolder returns the folder a create names, or the API's error. Called
// with Fake.mu held.
func parentFolder(fs *fileSystem, id string) (*node, *uploadError) {
	parent := fs.byID[id]
	switch {
	case parent == nil:
		return nil, &uploadError{http.StatusNotFound, "NotFound.File", msgParentNotFound}
	case !parent.folder:
		return nil, &uploadError{http.StatusBadRequest, "InvalidResource.FileTypeFile", "The resource file type file is not supported. parent_file_id must be a folder"}
	}
	return parent, nil
}

// resolveTarget applies check_name_mode to a file create. With "refuse" an
// existing name (file or folder) is no error but the item in the way, which
// the create answers with exist: true (§13.2); with "overwrite" the upload
// takes over the existing file's id; with "auto_rename" it gets a free name.
// The tree holds one entry per name, so "ignore" cannot keep both files: the
// upload replaces the existing file at completion under a new id. A folder
// in the way of "overwrite" or "ignore" is 409 AlreadyExist.File. Called with
// Fake.mu held.
func resolveTarget(fs *fileSystem, parentID, name, mode string) (target, *node, *uploadError) {
	parent, err := parentFolder(fs, parentID)
	if err != nil {
		return target{}, nil, err
	}
	t := target{fs: fs, parentID: parentID, name: name, mode: mode, fileID: randomHex(20)}
	existing := parent.children[name]
	switch {
	case existing == nil:
	case mode == modeAutoRename:
		t.name = freeName(parent, name, false)
	case mode == modeRefuse:
		return target{}, existing, nil
	case existing.folder:
		return target{}, nil, errAlreadyExist()
	case mode == modeOverwrite:
		t.fileID = existing.id
	}
	return t, nil, nil
}

// writeExist answers a create with "refuse" whose name is taken: 201 on the
// legacy API, 200 on the Open one, exist: true and the existing item's
// fields, and no upload_id or part_info_list — there is nothing to upload
// (§13.2, §14.2).
func writeExist(w http.ResponseWriter, e entry, open bool) {
	resp := createResponse{
		DriveID:      e.driveID,
		FileID:       e.id,
		FileName:     e.name,
		ParentFileID: e.parentID,
		Type:         "file",
		Exist:        true,
		EncryptMode:  "none",
		Status:       "available",
	}
	if e.folder {
		resp.Type = "folder"
	}
	status := http.StatusOK
	if !open {
		status = http.StatusCreated
		resp.DomainID = domainID
	}
	writeJSON(w, status, resp)
}

// freeName is the auto_rename choice: "name(1).ext", "name(2).ext", … (the
// extension is kept for files), the first that parent does not hold. The
// service's exact pattern is not established.
func freeName(parent *node, name string, folder bool) string {
	ext := ""
	if !folder {
		ext = path.Ext(name)
		if ext == name {
			ext = "" // ".bashrc" has no extension to keep
		}
	}
	base := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		candidate := base + "(" + strconv.Itoa(i) + ")" + ext
		if parent.children[candidate] == nil {
			return candidate
		}
	}
}

// createFolder creates a folder. A taken name is answered with the item in
// the way, exist: true and the create's usual status (legacy 201, Open 200;
// §13.2, §14.2) — a folder for every mode but "auto_rename" (which creates
// "name(1)"): clients create missing parents level by level with "refuse",
// and the tree cannot hold the duplicate "ignore" would make. A file in the
// way is exist: true (type file) with "refuse", and 409 AlreadyExist.File
// with the other modes.
func (f *Fake) createFolder(w http.ResponseWriter, fs *fileSystem, parentID, name, mode string, open bool) {
	f.mu.Lock()
	parent, err := parentFolder(fs, parentID)
	var n *node
	exist := false
	if err == nil {
		existing := parent.children[name]
		switch {
		case existing == nil:
		case mode == modeAutoRename:
			name = freeName(parent, name, true)
		case existing.folder || mode == modeRefuse:
			n, exist = existing, true
		default:
			err = errAlreadyExist()
		}
	}
	if err == nil && n == nil {
		n = fs.newNode(parent, name, true, f.stamp())
	}
	var e entry
	if n != nil {
		e = snapshot(n)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	if exist {
		writeExist(w, e, open)
		return
	}
	status := http.StatusCreated
	if open {
		status = http.StatusOK
	}
	writeJSON(w, status, createResponse{
		DriveID:      fs.driveID,
		FileID:       e.id,
		FileName:     e.name,
		ParentFileID: parentID,
		Type:         "folder",
	})
}

// place links a finished upload's content into the tree, resolving the name
// once more: the overwritten file gets a new revision under its id; a name
// taken since the create is refused ("refuse", or a folder in the way),
// renamed ("auto_rename") or replaced ("overwrite", "ignore"). A folder
// removed since the create is 404. Called with Fake.mu held.
func place(t *target, b *blob, now time.Time) (*node, *uploadError) {
	fs := t.fs
	parent, err := parentFolder(fs, t.parentID)
	if err != nil {
		return nil, err
	}
	existing := parent.children[t.name]
	switch {
	case existing == nil:
	case existing.id == t.fileID:
		fs.setContent(existing, b, now)
		return existing, nil
	case t.mode == modeAutoRename:
		t.name = freeName(parent, t.name, false)
	case existing.folder || t.mode == modeRefuse:
		return nil, errAlreadyExist()
	default:
		fs.remove(existing)
	}
	n := fs.linkNode(parent, t.fileID, t.name, false, now)
	fs.setContent(n, b, now)
	return n, nil
}
