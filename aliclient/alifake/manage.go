package alifake

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// File management (§14) on both API families: rename, move, copy, trash,
// restore and async tasks. Folders are created by the create calls
// (upload.go, §14.2). Permanent delete and the batch envelope live
// elsewhere.
//
// Choices the spec leaves open, made here and named in the doc of each
// handler:
//   - the tree holds one item per name, so no call makes a duplicate: where
//     the service would (an Open copy without auto_rename, an update or move
//     with "ignore" onto a taken file name) the fake answers 409
//     AlreadyExist.File, or replaces the file where the spec's clients rely on
//     that net effect (Open move with "ignore", legacy move or copy with
//     overwrite);
//   - a legacy move or copy onto a taken name without auto_rename or
//     overwrite is 409 AlreadyExist.File, as a rename is (§14.3, §14.8);
//   - a trashed item leaves the tree: get, list and links answer 404 as for
//     a removed one; the calls of this file answer 400
//     ForbiddenFileInTheRecycleBin for it;
//   - work in the background (a folder's copy or trash) happens when its
//     async task is first answered Succeed, and not at all when it Fails: the
//     fake's background advances by polls (SetAsyncTasks).

// Endpoint names of §14 for FailNext, SetLatency, SetRateLimit, Calls,
// Rejected and FailNextAfter.
const (
	EndpointFileUpdate    = "file/update"        // /v3/file/update, /adrive/v3/file/update, /v2/file/update
	EndpointFileMove      = "file/move"          // /v2/file/move, /v3/file/move
	EndpointFileCopy      = "file/copy"          // /v2/file/copy
	EndpointTrash         = "recyclebin/trash"   // /v2/recyclebin/trash
	EndpointRestore       = "recyclebin/restore" // /v2/recyclebin/restore
	EndpointAsyncTask     = "async_task/get"     // /v2/async_task/get
	EndpointOpenUpdate    = "open/update"
	EndpointOpenMove      = "open/move"
	EndpointOpenCopy      = "open/copy"
	EndpointOpenTrash     = "open/trash"
	EndpointOpenAsyncTask = "open/async_task"
)

// openManageEndpoints are the Open calls of this file, all of the rate class
// "other" (§14.1).
var openManageEndpoints = []string{EndpointOpenUpdate, EndpointOpenMove, EndpointOpenCopy, EndpointOpenTrash, EndpointOpenAsyncTask}

// Async task states (§14.5).
const (
	taskRunning = "Running"
	taskSucceed = "Succeed"
	taskFailed  = "Failed"
)

// manageRoute maps the paths of §14 to their routes. Legacy calls are
// device-signed like every legacy file call (§14.1).
func manageRoute(path string) (apiRoute, bool) {
	legacy := func(ep string, serve func(*Fake, http.ResponseWriter, *http.Request, []byte)) (apiRoute, bool) {
		return apiRoute{endpoint: ep, auth: authLegacy, session: true, serve: withDelayedFault(ep, serve)}, true
	}
	open := func(ep string, serve func(*Fake, http.ResponseWriter, *http.Request, []byte)) (apiRoute, bool) {
		return apiRoute{endpoint: ep, auth: authOpen, serve: withDelayedFault(ep, serve)}, true
	}
	switch path {
	case "/v3/file/update", "/adrive/v3/file/update", "/v2/file/update":
		return legacy(EndpointFileUpdate, (*Fake).serveUpdate)
	case "/v2/file/move", "/v3/file/move":
		return legacy(EndpointFileMove, (*Fake).serveMove)
	case "/v2/file/copy":
		return legacy(EndpointFileCopy, (*Fake).serveCopy)
	case "/v2/recyclebin/trash":
		return legacy(EndpointTrash, (*Fake).serveTrash)
	case "/v2/recyclebin/restore":
		return legacy(EndpointRestore, (*Fake).serveRestore)
	case "/v2/async_task/get":
		return legacy(EndpointAsyncTask, (*Fake).serveAsyncTask)
	case "/adrive/v1.0/openFile/update":
		return open(EndpointOpenUpdate, (*Fake).serveOpenUpdate)
	case "/adrive/v1.0/openFile/move":
		return open(EndpointOpenMove, (*Fake).serveOpenMove)
	case "/adrive/v1.0/openFile/copy":
		return open(EndpointOpenCopy, (*Fake).serveOpenCopy)
	case "/adrive/v1.0/openFile/recyclebin/trash":
		return open(EndpointOpenTrash, (*Fake).serveOpenTrash)
	case "/adrive/v1.0/openFile/async_task/get":
		return open(EndpointOpenAsyncTask, (*Fake).serveOpenAsyncTask)
	}
	return apiRoute{}, false
}

// manageStore is the recycle bin and the async tasks, guarded by Fake.mu
// and created on first use.
type manageStore struct {
	trash   map[string]*trashed // by drive id + "/" + id of the trashed item
	inTrash map[string]string   // every id in a trashed subtree → its top key
	tasks   map[string]*asyncTask
	// Tasks made from now on answer Running this many polls, then
	// Succeed, or Failed when failTasks (SetAsyncTasks).
	taskPolls int
	failTasks bool
	delayed   map[string][]delayedFault
}

// trashed is an item in the recycle bin and where it came from.
type trashed struct {
	n        *node
	parentID string
}

// asyncTask is background work that happens when the task succeeds.
type asyncTask struct {
	running int
	final   string
	commit  func() bool // run under Fake.mu; false makes the task Failed
}

// delayedFault is a FailNextAfter entry.
type delayedFault struct {
	skip  int
	fault Fault
}

// mg returns the store, creating it. Called with Fake.mu held.
func (f *Fake) mg() *manageStore {
	if f.manage == nil {
		f.manage = &manageStore{
			trash:     make(map[string]*trashed),
			inTrash:   make(map[string]string),
			tasks:     make(map[string]*asyncTask),
			taskPolls: 1,
			delayed:   make(map[string][]delayedFault),
		}
	}
	return f.manage
}

// SetAsyncTasks sets how the async tasks made from now on behave: answered
// Running for polls polls (default 1), then Succeed — or Failed when fail is
// set, and then their work is not done.
func (f *Fake) SetAsyncTasks(polls int, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.mg()
	m.taskPolls, m.failTasks = max(polls, 0), fail
}

// FailNextAfter makes the call of endpoint after the next skip ones answer
// fault, for the endpoints of §14 (EndpointFileUpdate … EndpointOpenAsyncTask):
// a fault between two steps of a client's sequence. Entries queue up like
// FailNext's. The skipped calls are served normally.
func (f *Fake) FailNextAfter(endpoint string, skip int, fault Fault) {
	fault = fault.withDefaults()
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.mg()
	m.delayed[endpoint] = append(m.delayed[endpoint], delayedFault{skip: skip, fault: fault})
}

// withDelayedFault answers a due FailNextAfter fault instead of serve.
func withDelayedFault(ep string, serve func(*Fake, http.ResponseWriter, *http.Request, []byte)) func(*Fake, http.ResponseWriter, *http.Request, []byte) {
	return func(f *Fake, w http.ResponseWriter, r *http.Request, body []byte) {
		f.mu.Lock()
		var fault *Fault
		if q := f.mg().delayed[ep]; len(q) > 0 {
			if q[0].skip > 0 {
				q[0].skip--
			} else {
				fault = &q[0].fault
				f.manage.delayed[ep] = q[1:]
			}
		}
		f.mu.Unlock()
		if fault != nil {
			f.answerFault(w, r, *fault, writeAPIError)
			return
		}
		serve(f, w, r, body)
	}
}

// InTrash reports whether the item with id fileID of the default drive is
// in the recycle bin (itself or inside a trashed folder).
func (f *Fake) InTrash(fileID string) bool { return f.InTrashOf(DriveDefault, fileID) }

// InTrashOf is InTrash in the named drive.
func (f *Fake) InTrashOf(drive, fileID string) bool {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.mg().inTrash[fs.driveID+"/"+fileID]
	return ok
}

// AsyncTasks reports how many async tasks have not yet answered a final
// state.
func (f *Fake) AsyncTasks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.mg().tasks {
		if t.final == "" {
			n++
		}
	}
	return n
}

// Errors of §14.8. The messages are the fake's, but for the one aligo quotes.
func errTakenBy(id string) *uploadError {
	return &uploadError{http.StatusConflict, "AlreadyExist.File",
		"The resource file has already exists. drive has the same file, can't update, file_id " + id}
}

func errInRecycleBin() *uploadError {
	return &uploadError{http.StatusBadRequest, "ForbiddenFileInTheRecycleBin", "The resource file is in the recycle bin. "}
}

func errFileNotFound(open bool) *uploadError {
	if open {
		return &uploadError{http.StatusNotFound, "NotFound.FileId", msgFileNotFound}
	}
	return &uploadError{http.StatusNotFound, "NotFound.File", msgFileNotFound}
}

// item returns the file or folder with id in fs that a §14 call names. The
// root cannot be renamed, moved, copied or trashed. Called with Fake.mu
// held.
func (f *Fake) manageItem(fs *fileSystem, id string, open bool) (*node, *uploadError) {
	if _, ok := f.mg().inTrash[fs.driveID+"/"+id]; ok {
		return nil, errInRecycleBin()
	}
	if id == "" {
		return nil, &uploadError{http.StatusBadRequest, "InvalidParameterMissing.FileId", "The input parameter file_id is missing. "}
	}
	n := fs.byID[id]
	switch {
	case n == nil:
		return nil, errFileNotFound(open)
	case n == fs.root:
		return nil, errInvalid("FileId", "file_id")
	}
	return n, nil
}

// destFolder returns the folder a move or copy goes to: 404
// NotFound.ParentFileId if unknown (or trashed), 400
// InvalidParameter.ToParentFileId if it is a file or inside the item
// itself (§14.8). Called with Fake.mu held.
func (f *Fake) destFolder(fs *fileSystem, id string, moving *node) (*node, *uploadError) {
	dest := fs.byID[id]
	if dest == nil {
		return nil, &uploadError{http.StatusNotFound, "NotFound.ParentFileId", "The resource parent_file_id cannot be found. "}
	}
	if !dest.folder {
		return nil, errInvalid("ToParentFileId", "to_parent_file_id")
	}
	for p := dest; p != nil; p = p.parent {
		if p == moving {
			return nil, errInvalid("ToParentFileId", "to_parent_file_id")
		}
	}
	return dest, nil
}

// validName is a name one item can carry.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/") && len(name) <= 1024
}

// relink moves n (already in fs) under parent as name.
func relink(n, parent *node, name string, f *Fake) {
	now := f.stamp()
	delete(n.parent.children, n.name)
	n.parent.updated = now
	n.parent, n.name = parent, name
	parent.children[name] = n
	parent.updated = now
	n.updated = now
}

// settle resolves a name in the way of an item put into parent as name: the
// name to use, or the refusal. mode is "refuse", "auto_rename", "ignore" or
// "overwrite"; "ignore" and "overwrite" replace a file in the way (the tree
// cannot hold a duplicate), never a folder. self is the item itself, which
// never conflicts with its own name. Called with Fake.mu held.
func settle(fs *fileSystem, parent *node, name, mode string, folder bool, self *node) (string, *uploadError) {
	existing := parent.children[name]
	switch {
	case existing == nil || existing == self:
		return name, nil
	case mode == modeAutoRename:
		return freeName(parent, name, folder), nil
	case (mode == modeIgnore || mode == modeOverwrite) && !existing.folder:
		fs.remove(existing)
		return name, nil
	}
	return "", errTakenBy(existing.id)
}

// updateRequest is the body of /v3/file/update and openFile/update (§14.3).
// starred, hidden, description and the rest are accepted and ignored.
type updateRequest struct {
	DriveID       string `json:"drive_id"`
	FileID        string `json:"file_id"`
	Name          string `json:"name"`
	CheckNameMode string `json:"check_name_mode"`
}

// serveUpdate is POST /v3/file/update (§14.3): a rename. A taken name is
// 409 AlreadyExist.File with "refuse" and, as the tree cannot hold the
// duplicate, with an absent mode or "ignore" too.
func (f *Fake) serveUpdate(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req updateRequest
	if !decodeBody(w, body, &req) {
		return
	}
	// Either drive of the account (§16): drive_id is a field of the call.
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.update(w, fs, req, false)
}

// serveOpenUpdate is POST /adrive/v1.0/openFile/update (§14.3), as the
// legacy one over any drive; "refuse" on a taken name is the legacy 409
// (presumed by the spec).
func (f *Fake) serveOpenUpdate(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req updateRequest
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.update(w, fs, req, true)
	}
}

func (f *Fake) update(w http.ResponseWriter, fs *fileSystem, req updateRequest, open bool) {
	mode := cmp.Or(req.CheckNameMode, modeRefuse)
	modes := []string{modeRefuse, modeAutoRename, modeIgnore}
	if !slices.Contains(modes, mode) {
		errInvalid("CheckNameMode", "check_name_mode").write(w)
		return
	}
	if req.Name != "" && !validName(req.Name) {
		errInvalid("Name", "name").write(w)
		return
	}
	f.mu.Lock()
	n, err := f.manageItem(fs, req.FileID, open)
	if err == nil && req.Name != "" && req.Name != n.name {
		m := mode
		if m == modeIgnore {
			m = modeRefuse // no duplicate in the tree
		}
		var name string
		if name, err = settle(fs, n.parent, req.Name, m, n.folder, n); err == nil {
			relink(n, n.parent, name, f)
		}
	}
	var e entry
	if err == nil {
		e = snapshot(n)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	writeJSON(w, http.StatusOK, f.item(e))
}

// moveRequest is the body of the legacy and Open move calls (§14.4).
type moveRequest struct {
	DriveID        string `json:"drive_id"`
	FileID         string `json:"file_id"`
	ToDriveID      string `json:"to_drive_id"`
	ToParentFileID string `json:"to_parent_file_id"`
	NewName        string `json:"new_name"`
	AutoRename     bool   `json:"auto_rename"`     // legacy
	Overwrite      bool   `json:"overwrite"`       // legacy
	CheckNameMode  string `json:"check_name_mode"` // open
}

// checkTarget validates the target fields shared by move and copy.
func (req *moveRequest) checkTarget() *uploadError {
	switch {
	case req.ToParentFileID == "":
		return &uploadError{http.StatusBadRequest, "InvalidParameterMissing.ToParentFileId", "The input parameter to_parent_file_id is missing. "}
	case req.ToDriveID != "" && req.ToDriveID != req.DriveID:
		// Between drives the plain move and copy do not go (§14.4, §16).
		return errInvalid("ToDriveId", "to_drive_id")
	case req.NewName != "" && !validName(req.NewName):
		return errInvalid("NewName", "new_name")
	}
	return nil
}

// legacyMode is the name mode a legacy move or copy body asks for.
func (req *moveRequest) legacyMode() string {
	switch {
	case req.AutoRename:
		return modeAutoRename
	case req.Overwrite:
		return modeOverwrite
	}
	return modeRefuse
}

// serveMove is POST /v2/file/move and /v3/file/move (§14.4): new_name moves
// and renames in one call. A taken name is 409 AlreadyExist.File unless
// auto_rename (a free name) or overwrite (a file in the way is replaced);
// what the service answers there is not established. 200 with domain_id,
// drive_id and file_id.
func (f *Fake) serveMove(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req moveRequest
	if !decodeBody(w, body, &req) {
		return
	}
	// Either drive of the account (§16): drive_id is a field of the call.
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	if err := req.checkTarget(); err != nil {
		err.write(w)
		return
	}
	f.mu.Lock()
	n, err := f.manageItem(fs, req.FileID, false)
	var dest *node
	if err == nil {
		dest, err = f.destFolder(fs, req.ToParentFileID, n)
	}
	if err == nil {
		var name string
		if name, err = settle(fs, dest, cmp.Or(req.NewName, n.name), req.legacyMode(), n.folder, n); err == nil {
			relink(n, dest, name, f)
		}
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"domain_id": domainID, "drive_id": fs.driveID, "file_id": req.FileID})
}

// serveOpenMove is POST /adrive/v1.0/openFile/move (§14.4). The item keeps
// its name; new_name is the name used when the target holds that one. A
// taken name with "refuse" (the default) is 200 exist: true and nothing
// moved; "auto_rename" takes a free name; "ignore" replaces a file in the
// way (the net effect OpenList relies on), while a folder in the way is 409.
// 200 drive_id, file_id, exist, async_task_id "" (moves are immediate).
func (f *Fake) serveOpenMove(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req moveRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.openDrive(w, req.DriveID)
	if !ok {
		return
	}
	mode := cmp.Or(req.CheckNameMode, modeRefuse)
	if !slices.Contains([]string{modeRefuse, modeAutoRename, modeIgnore}, mode) {
		errInvalid("CheckNameMode", "check_name_mode").write(w)
		return
	}
	if err := req.checkTarget(); err != nil {
		err.write(w)
		return
	}
	f.mu.Lock()
	n, err := f.manageItem(fs, req.FileID, true)
	var dest *node
	if err == nil {
		dest, err = f.destFolder(fs, req.ToParentFileID, n)
	}
	exist := false
	if err == nil {
		name := n.name
		if c := dest.children[name]; c != nil && c != n && req.NewName != "" {
			name = req.NewName
		}
		if c := dest.children[name]; c != nil && c != n && mode == modeRefuse {
			exist = true
		} else if name, err = settle(fs, dest, name, mode, n.folder, n); err == nil {
			relink(n, dest, name, f)
		}
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"drive_id": fs.driveID, "file_id": req.FileID, "exist": exist, "async_task_id": ""})
}

// copyTree copies n and its subtree into parent as name, the top under id.
// Files share their content with the original (a new revision object of the
// same bytes). Called with Fake.mu held.
func (f *Fake) copyTree(fs *fileSystem, n, parent *node, name, id string) *node {
	now := f.stamp()
	c := fs.linkNode(parent, id, name, n.folder, now)
	if !n.folder {
		fs.setContent(c, &blob{data: n.blob.data, synth: n.blob.synth, size: n.blob.size}, now)
		return c
	}
	for _, child := range n.children {
		f.copyTree(fs, child, c, child.name, randomHex(20))
	}
	return c
}

// serveCopy is POST /v2/file/copy (§14.5): 201 domain_id, drive_id, file_id
// for a file; 202 with async_task_id too for a folder, whose copy appears
// when the task succeeds. Names as for a legacy move.
func (f *Fake) serveCopy(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req moveRequest
	if !decodeBody(w, body, &req) {
		return
	}
	// Either drive of the account (§16): drive_id is a field of the call.
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	if err := req.checkTarget(); err != nil {
		err.write(w)
		return
	}
	f.copy(w, fs, req, req.legacyMode(), false)
}

// serveOpenCopy is POST /adrive/v1.0/openFile/copy (§14.5). Without
// auto_rename the service makes a duplicate name; the tree cannot, so the
// fake answers 409 AlreadyExist.File there. 200 drive_id, file_id and, for
// a folder, async_task_id.
func (f *Fake) serveOpenCopy(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req moveRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.openDrive(w, req.DriveID)
	if !ok {
		return
	}
	req.NewName = "" // not a field of the Open copy
	if err := req.checkTarget(); err != nil {
		err.write(w)
		return
	}
	mode := modeRefuse
	if req.AutoRename {
		mode = modeAutoRename
	}
	f.copy(w, fs, req, mode, true)
}

func (f *Fake) copy(w http.ResponseWriter, fs *fileSystem, req moveRequest, mode string, open bool) {
	f.mu.Lock()
	n, err := f.manageItem(fs, req.FileID, open)
	var dest *node
	if err == nil {
		dest, err = f.destFolder(fs, req.ToParentFileID, n)
	}
	var name, id, task string
	if err == nil {
		name, err = settle(fs, dest, cmp.Or(req.NewName, n.name), mode, n.folder, nil)
	}
	if err == nil {
		id = randomHex(20)
		if !n.folder {
			f.copyTree(fs, n, dest, name, id)
		} else {
			task = f.newTask(func() bool {
				// The name may have been taken, or the source or target
				// trashed, meanwhile.
				if fs.byID[n.id] != n || fs.byID[dest.id] != dest || dest.children[name] != nil {
					return false
				}
				f.copyTree(fs, n, dest, name, id)
				return true
			})
		}
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	resp := map[string]any{"drive_id": fs.driveID, "file_id": id}
	status := http.StatusOK
	if !open {
		resp["domain_id"] = domainID
		status = http.StatusCreated
	}
	if task != "" {
		resp["async_task_id"] = task
		if !open {
			status = http.StatusAccepted
		}
	}
	writeJSON(w, status, resp)
}

// newTask registers background work. Called with Fake.mu held.
func (f *Fake) newTask(commit func() bool) string {
	m := f.mg()
	id := randomHex(16)
	t := &asyncTask{running: m.taskPolls, commit: commit}
	if m.failTasks {
		t.commit = func() bool { return false }
	}
	m.tasks[id] = t
	return id
}

// trashRequest is the body of trash and restore, on either family (§14.6).
type trashRequest struct {
	DriveID string `json:"drive_id"`
	FileID  string `json:"file_id"`
}

// serveTrash is POST /v2/recyclebin/trash (§14.6): 204 for a file; 202
// domain_id, drive_id, file_id, async_task_id for a folder, which goes when
// the task succeeds.
func (f *Fake) serveTrash(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req trashRequest
	if !decodeBody(w, body, &req) {
		return
	}
	// Either drive of the account (§16): drive_id is a field of the call.
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.trash(w, fs, req.FileID, false)
}

// serveOpenTrash is POST /adrive/v1.0/openFile/recyclebin/trash (§14.6):
// 200 drive_id, file_id and, for a folder, async_task_id.
func (f *Fake) serveOpenTrash(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req trashRequest
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.trash(w, fs, req.FileID, true)
	}
}

func (f *Fake) trash(w http.ResponseWriter, fs *fileSystem, id string, open bool) {
	f.mu.Lock()
	n, err := f.manageItem(fs, id, open)
	task := ""
	if err == nil {
		if !n.folder {
			f.toTrash(fs, n)
		} else {
			task = f.newTask(func() bool {
				if fs.byID[n.id] != n {
					return false
				}
				f.toTrash(fs, n)
				return true
			})
		}
	}
	f.mu.Unlock()
	switch {
	case err != nil:
		err.write(w)
	case open:
		resp := map[string]any{"drive_id": fs.driveID, "file_id": id}
		if task != "" {
			resp["async_task_id"] = task
		}
		writeJSON(w, http.StatusOK, resp)
	case task != "":
		writeJSON(w, http.StatusAccepted, map[string]any{"domain_id": domainID, "drive_id": fs.driveID, "file_id": id, "async_task_id": task})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// toTrash detaches n and its subtree from the tree into the recycle bin.
// Their content stays, so links issued before keep working until they
// expire. Called with Fake.mu held.
func (f *Fake) toTrash(fs *fileSystem, n *node) {
	m := f.mg()
	key := fs.driveID + "/" + n.id
	m.trash[key] = &trashed{n: n, parentID: n.parent.id}
	delete(n.parent.children, n.name)
	n.parent.updated = f.stamp()
	var walk func(*node)
	walk = func(c *node) {
		delete(fs.byID, c.id)
		m.inTrash[fs.driveID+"/"+c.id] = key
		for _, cc := range c.children {
			walk(cc)
		}
	}
	walk(n)
}

// takeTrashed removes the item with id from the recycle bin of fs and
// returns it (nil if it is not there, or only inside a trashed folder), for
// a permanent delete of a trashed item. Called with Fake.mu held.
func (f *Fake) takeTrashed(fs *fileSystem, id string) *node {
	m := f.mg()
	key := fs.driveID + "/" + id
	t := m.trash[key]
	if t == nil {
		return nil
	}
	delete(m.trash, key)
	var walk func(*node)
	walk = func(c *node) {
		delete(m.inTrash, fs.driveID+"/"+c.id)
		for _, cc := range c.children {
			walk(cc)
		}
	}
	walk(t.n)
	return t.n
}

// serveRestore is POST /v2/recyclebin/restore (§14.6): 204, the item back
// where it was. An item not in the bin but in the tree is 204 too. Only the
// top of a trashed subtree can be restored (400 ForbiddenFileInTheRecycleBin
// for what is inside one). The fake's choices where the service's answer is
// not established: the folder it came from gone → 404
// NotFound.ParentFileId; its name taken meanwhile → 409 AlreadyExist.File.
func (f *Fake) serveRestore(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req trashRequest
	if !decodeBody(w, body, &req) {
		return
	}
	// Either drive of the account (§16): drive_id is a field of the call.
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.mu.Lock()
	err := f.restore(fs, req.FileID)
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// restore puts a trashed item back. Called with Fake.mu held.
func (f *Fake) restore(fs *fileSystem, id string) *uploadError {
	m := f.mg()
	key := fs.driveID + "/" + id
	t := m.trash[key]
	if t == nil {
		if _, inside := m.inTrash[key]; inside {
			return errInRecycleBin()
		}
		if fs.byID[id] != nil {
			return nil
		}
		return errFileNotFound(false)
	}
	parent := fs.byID[t.parentID]
	if parent == nil || !parent.folder {
		return &uploadError{http.StatusNotFound, "NotFound.ParentFileId", "The resource parent_file_id cannot be found. "}
	}
	if c := parent.children[t.n.name]; c != nil {
		return errTakenBy(c.id)
	}
	f.takeTrashed(fs, id)
	parent.children[t.n.name] = t.n
	parent.updated = f.stamp()
	var walk func(*node)
	walk = func(c *node) {
		fs.byID[c.id] = c
		for _, cc := range c.children {
			walk(cc)
		}
	}
	walk(t.n)
	return nil
}

// serveAsyncTask is POST /v2/async_task/get (§14.5): state and status
// (Running, Succeed, Failed) and the process counters.
func (f *Fake) serveAsyncTask(w http.ResponseWriter, _ *http.Request, body []byte) {
	f.asyncTask(w, body, false)
}

// serveOpenAsyncTask is POST /adrive/v1.0/openFile/async_task/get (§14.5):
// state and async_task_id.
func (f *Fake) serveOpenAsyncTask(w http.ResponseWriter, _ *http.Request, body []byte) {
	f.asyncTask(w, body, true)
}

func (f *Fake) asyncTask(w http.ResponseWriter, body []byte, open bool) {
	var req struct {
		AsyncTaskID string `json:"async_task_id"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	f.mu.Lock()
	t := f.mg().tasks[req.AsyncTaskID]
	state := ""
	if t != nil {
		switch {
		case t.final != "":
			state = t.final
		case t.running > 0:
			t.running--
			state = taskRunning
		case t.commit():
			t.final, state = taskSucceed, taskSucceed
		default:
			t.final, state = taskFailed, taskFailed
		}
	}
	f.mu.Unlock()
	if t == nil {
		writeAPIError(w, http.StatusNotFound, "NotFound.AsyncTask", "The resource async_task cannot be found. ")
		return
	}
	if open {
		writeJSON(w, http.StatusOK, map[string]any{"async_task_id": req.AsyncTaskID, "state": state})
		return
	}
	done := 0
	if state != taskRunning {
		done = 1
	}
	failed := 0
	if state == taskFailed {
		failed = 1
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"async_task_id": req.AsyncTaskID, "state": state, "status": state,
		"total_process": 1, "consumed_process": done, "skipped_process": 0, "failed_process": failed, "punished_file_count": 0,
	})
}
