package aliclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alilink/alilink/internal/wait"
)

// Manager is file management (spec §14) on the drivers that write (drive,
// open), for the front doors that rename, move, copy and delete (WebDAV,
// AList). Every method names items by id and answers the item as it is
// afterwards. Names are single path elements. A taken name is never
// overwritten and never duplicated: the call fails with ErrExists and
// changes nothing. Work the drive does in the background (a folder's copy
// or trash) is waited for, bounded by ctx and by maxTaskPolls.
type Manager interface {
	Uploader
	// CreateFolder creates a folder, or finds the one of that name
	// (existed). A file of that name is ErrExists (and ErrNotFolder).
	CreateFolder(ctx context.Context, parentID, name string) (f File, existed bool, err error)
	// Rename gives an item a new name in its folder.
	Rename(ctx context.Context, fileID, name string) (File, error)
	// Move puts an item into another folder of the same drive, under name
	// ("" keeps its name). A missing or unsuitable target (a file, the item
	// itself or a folder inside it) is ErrBadTarget.
	Move(ctx context.Context, fileID, toParentID, name string) (File, error)
	// Copy copies an item (a folder with its content) into a folder of the
	// same drive under name ("" keeps the name) and answers the copy.
	Copy(ctx context.Context, fileID, toParentID, name string) (File, error)
	// Trash moves an item to the drive's recycle bin.
	Trash(ctx context.Context, fileID string) error
	// Restore takes an item back out of the recycle bin, to where it was.
	// The open API has no such call: errors.ErrUnsupported there.
	Restore(ctx context.Context, fileID string) error
}

var (
	_ Manager = (*Client)(nil)
	_ Manager = (*OpenClient)(nil)
)

// Failures of file management, besides ErrExists, ErrNotFound and the rest.
var (
	// ErrTrashed: the item is in the recycle bin (ForbiddenFileInTheRecycleBin).
	ErrTrashed = errors.New("in the recycle bin")
	// ErrBadTarget: a move or copy target that does not exist, is a file, or
	// lies inside the item moved.
	ErrBadTarget = errors.New("not a folder the item can go to")
	// ErrTaskFailed: the drive reported its background work as failed.
	ErrTaskFailed = errors.New("the drive's background task failed")
)

// File-management endpoints of both families (spec §14).
var (
	epUpdate      = endpoint{name: "file/update", path: "/v3/file/update", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epMove        = endpoint{name: "file/move", path: "/v2/file/move", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epCopy        = endpoint{name: "file/copy", path: "/v2/file/copy", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epTrash       = endpoint{name: "recyclebin/trash", path: "/v2/recyclebin/trash", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epRestore     = endpoint{name: "recyclebin/restore", path: "/v2/recyclebin/restore", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epTask        = endpoint{name: "async_task/get", path: "/v2/async_task/get", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epOpenUpdate  = endpoint{name: "open/update", host: hostOpen, path: "/adrive/v1.0/openFile/update", class: classOther, auth: authOpen}
	epOpenMove    = endpoint{name: "open/move", host: hostOpen, path: "/adrive/v1.0/openFile/move", class: classOther, auth: authOpen}
	epOpenCopy    = endpoint{name: "open/copy", host: hostOpen, path: "/adrive/v1.0/openFile/copy", class: classOther, auth: authOpen}
	epOpenTrash   = endpoint{name: "open/trash", host: hostOpen, path: "/adrive/v1.0/openFile/recyclebin/trash", class: classOther, auth: authOpen}
	epOpenTask    = endpoint{name: "open/async_task", host: hostOpen, path: "/adrive/v1.0/openFile/async_task/get", class: classOther, auth: authOpen}
	legacyTaskGet = &epTask
	openTaskGet   = &epOpenTask
)

// Wire types of §14.
type (
	updateRequest struct {
		DriveID       string `json:"drive_id"`
		FileID        string `json:"file_id"`
		Name          string `json:"name"`
		CheckNameMode string `json:"check_name_mode"`
	}
	moveRequest struct {
		DriveID        string `json:"drive_id"`
		FileID         string `json:"file_id"`
		ToDriveID      string `json:"to_drive_id,omitempty"`
		ToParentFileID string `json:"to_parent_file_id"`
		NewName        string `json:"new_name,omitempty"`
		CheckNameMode  string `json:"check_name_mode,omitempty"` // open move
		AutoRename     *bool  `json:"auto_rename,omitempty"`     // copy
	}
	// taskResponse is the answer of move, copy and trash: the item and, for
	// work in the background, its task; and of the open move, exist.
	taskResponse struct {
		FileID      string `json:"file_id"`
		AsyncTaskID string `json:"async_task_id"`
		Exist       bool   `json:"exist"`
	}
	taskRequest struct {
		AsyncTaskID string `json:"async_task_id"`
	}
	taskState struct {
		State  string `json:"state"`
		Status string `json:"status"`
	}
)

// How long background work is waited for: polls start 250 ms apart and
// grow to 2 s, at most maxTaskPolls of them (about a minute and a half),
// and never past the caller's deadline. tickstep polls ten times a second
// apart (spec §14.5); a folder of thousands of files takes longer.
const (
	maxTaskPolls  = 50
	firstTaskPoll = 250 * time.Millisecond
	lastTaskPoll  = 2 * time.Second
)

// waitTask waits until the async task id succeeds ("" is no task).
func (c *core) waitTask(ctx context.Context, ep *endpoint, id string) error {
	if id == "" {
		return nil
	}
	pause := firstTaskPoll
	for range maxTaskPolls {
		var st taskState
		if err := c.call(ctx, ep, taskRequest{AsyncTaskID: id}, &st); err != nil {
			return fmt.Errorf("async task %s: %w", id, err)
		}
		state := st.State
		if state == "" {
			state = st.Status
		}
		switch strings.ToLower(state) {
		case "succeed", "success", "finished":
			return nil
		case "failed", "fail", "error":
			return fmt.Errorf("async task %s: %w", id, ErrTaskFailed)
		}
		if !wait.Sleep(ctx, pause) {
			return fmt.Errorf("async task %s: %w", id, ctx.Err())
		}
		pause = min(pause*3/2, lastTaskPoll)
	}
	return errorf(ErrUpstream, "async task %s: still running after %d polls", id, maxTaskPolls)
}

// manageErr names the operation and gives the drive's refusals of §14.8
// their kinds; the *APIError stays in the chain.
func manageErr(op string, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case strings.HasPrefix(ae.Code, "AlreadyExist"):
		return fmt.Errorf("%s: %w (%w)", op, ErrExists, err)
	case ae.Code == "ForbiddenFileInTheRecycleBin":
		return fmt.Errorf("%s: %w (%w)", op, ErrTrashed, err)
	case ae.Code == "NotFound.ParentFileId" || strings.HasPrefix(ae.Code, "InvalidParameter.ToParentFileId"):
		return fmt.Errorf("%s: %w (%w)", op, ErrBadTarget, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// CreateFolder implements Manager for the drive driver.
func (c *Client) CreateFolder(ctx context.Context, parentID, name string) (File, bool, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, false, err
	}
	return c.createFolder(ctx, legacyUpload, driveID, parentID, name)
}

// CreateFolder implements Manager for the open driver.
func (o *OpenClient) CreateFolder(ctx context.Context, parentID, name string) (File, bool, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, false, err
	}
	return o.createFolder(ctx, openUpload, d, parentID, name)
}

// createFolder is a folder create with "refuse", whose answer to a taken
// name is the item in the way with exist: true (spec §13.2, §14.2).
func (c *core) createFolder(ctx context.Context, api uploadAPI, drive, parentID, name string) (File, bool, error) {
	req := createRequest{DriveID: drive, ParentFileID: parentID, Name: name, Type: "folder", CheckNameMode: "refuse"}
	var resp createResponse
	if err := c.call(ctx, api.create, req, &resp); err != nil {
		return File{}, false, manageErr("mkdir "+name, err)
	}
	if resp.FileID == "" {
		return File{}, false, errorf(ErrUpstream, "mkdir %s: no file_id in the answer", name)
	}
	if resp.Exist && resp.Type != "" && resp.Type != "folder" {
		return File{}, false, fmt.Errorf("mkdir %s: a file of that name exists: %w (%w)", name, ErrExists, ErrNotFolder)
	}
	return File{ID: resp.FileID, ParentID: parentID, Name: name, Folder: true}, resp.Exist, nil
}

// Rename implements Manager for the drive driver (spec §14.3).
func (c *Client) Rename(ctx context.Context, fileID, name string) (File, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	return c.rename(ctx, &epUpdate, driveID, fileID, name)
}

// Rename implements Manager for the open driver (spec §14.3).
func (o *OpenClient) Rename(ctx context.Context, fileID, name string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	return o.rename(ctx, &epOpenUpdate, d, fileID, name)
}

func (c *core) rename(ctx context.Context, ep *endpoint, drive, fileID, name string) (File, error) {
	if err := checkName(name); err != nil {
		return File{}, err
	}
	var resp fileJSON
	if err := c.call(ctx, ep, updateRequest{DriveID: drive, FileID: fileID, Name: name, CheckNameMode: "refuse"}, &resp); err != nil {
		return File{}, manageErr("rename "+fileID, err)
	}
	f := resp.file()
	if f.Name != name {
		return f, errorf(ErrUpstream, "rename %s: the drive answered the name %q", fileID, f.Name)
	}
	return f, nil
}

// checkName refuses what cannot be one name: the drive's answer to it is not
// established, so it is not asked.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("%q is not a file name: %w", name, ErrBadTarget)
	}
	return nil
}

// Move implements Manager for the drive driver: /v2/file/move moves and
// renames in one call (spec §14.4). Onto a taken name the fake answers 409
// AlreadyExist.File, as a rename does; the service's answer is not
// established.
func (c *Client) Move(ctx context.Context, fileID, toParentID, name string) (File, error) {
	d, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	if name != "" {
		if err := checkName(name); err != nil {
			return File{}, err
		}
	}
	var resp taskResponse
	req := moveRequest{DriveID: d, FileID: fileID, ToDriveID: d, ToParentFileID: toParentID, NewName: name}
	if err := c.call(ctx, &epMove, req, &resp); err != nil {
		return File{}, manageErr("move "+fileID+" to "+toParentID, err)
	}
	if err := c.waitTask(ctx, legacyTaskGet, resp.AsyncTaskID); err != nil {
		return File{}, fmt.Errorf("move %s: %w", fileID, err)
	}
	return c.Get(ctx, fileID)
}

// Move implements Manager for the open driver (spec §14.4). The open move
// keeps the item's name and uses new_name only when the target holds that
// name, so a move under another name is a move and then a rename; should
// the rename fail, the item is moved back.
func (o *OpenClient) Move(ctx context.Context, fileID, toParentID, name string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	var cur File
	if name != "" {
		if err := checkName(name); err != nil {
			return File{}, err
		}
		if cur, err = o.Get(ctx, fileID); err != nil {
			return File{}, err
		}
		if cur.Name == name {
			name = ""
		}
	}
	if err := o.openMove(ctx, d, fileID, toParentID, name); err != nil {
		return File{}, err
	}
	f, err := o.Get(ctx, fileID)
	if err != nil || name == "" || f.Name == name {
		return f, err
	}
	// Moved under its old name (that one was free): now the new one.
	f, err = o.rename(ctx, &epOpenUpdate, d, fileID, name)
	if err != nil {
		back, cancel := detached(ctx)
		defer cancel()
		if berr := o.openMove(back, d, fileID, cur.ParentID, ""); berr != nil {
			o.log.Error("a move under a new name failed half-way: the item stays in the target folder under its old name",
				"file_id", fileID, "rename", err, "move_back", berr)
		}
		return File{}, err
	}
	return f, nil
}

func (o *OpenClient) openMove(ctx context.Context, drive, fileID, toParentID, newName string) error {
	var resp taskResponse
	req := moveRequest{DriveID: drive, FileID: fileID, ToParentFileID: toParentID, NewName: newName, CheckNameMode: "refuse"}
	if err := o.call(ctx, &epOpenMove, req, &resp); err != nil {
		return manageErr("move "+fileID+" to "+toParentID, err)
	}
	if resp.Exist {
		return fmt.Errorf("move %s to %s: the name is taken: %w", fileID, toParentID, ErrExists)
	}
	if err := o.waitTask(ctx, openTaskGet, resp.AsyncTaskID); err != nil {
		return fmt.Errorf("move %s: %w", fileID, err)
	}
	return nil
}

// Copy implements Manager for the drive driver (spec §14.5).
func (c *Client) Copy(ctx context.Context, fileID, toParentID, name string) (File, error) {
	d, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	want, err := c.copyName(ctx, c.Get, fileID, name)
	if err != nil {
		return File{}, err
	}
	req := moveRequest{DriveID: d, FileID: fileID, ToDriveID: d, ToParentFileID: toParentID, NewName: want, AutoRename: new(true)}
	return c.copyThen(ctx, &epCopy, legacyTaskGet, req, want, c.Get,
		func(ctx context.Context, id, name string) (File, error) { return c.rename(ctx, &epUpdate, d, id, name) },
		c.Trash)
}

// Copy implements Manager for the open driver (spec §14.5). The open copy
// has no new_name: the copy is renamed afterwards.
func (o *OpenClient) Copy(ctx context.Context, fileID, toParentID, name string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	want, err := o.copyName(ctx, o.Get, fileID, name)
	if err != nil {
		return File{}, err
	}
	req := moveRequest{DriveID: d, FileID: fileID, ToParentFileID: toParentID, AutoRename: new(true)}
	return o.copyThen(ctx, &epOpenCopy, openTaskGet, req, want, o.Get,
		func(ctx context.Context, id, name string) (File, error) {
			return o.rename(ctx, &epOpenUpdate, d, id, name)
		},
		o.Trash)
}

// copyName is the name a copy must end up with: name, or the source's.
func (c *core) copyName(ctx context.Context, get func(context.Context, string) (File, error), fileID, name string) (string, error) {
	if name != "" {
		return name, checkName(name)
	}
	src, err := get(ctx, fileID)
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", fileID, err)
	}
	return src.Name, nil
}

// copyThen copies with auto_rename — the drive neither refuses nor makes a
// duplicate name (the open copy without it does, spec §14.5) — waits for a
// folder's copy, and gives the copy the name wanted. A copy that cannot
// have it (the name is taken) is trashed again and the call is ErrExists.
func (c *core) copyThen(ctx context.Context, ep, taskEP *endpoint, req moveRequest, want string,
	get func(context.Context, string) (File, error),
	rename func(context.Context, string, string) (File, error),
	trash func(context.Context, string) error) (File, error) {
	var resp taskResponse
	if err := c.call(ctx, ep, req, &resp); err != nil {
		return File{}, manageErr("copy "+req.FileID+" to "+req.ToParentFileID, err)
	}
	if resp.FileID == "" {
		return File{}, errorf(ErrUpstream, "copy %s: no file_id in the answer", req.FileID)
	}
	if err := c.waitTask(ctx, taskEP, resp.AsyncTaskID); err != nil {
		return File{}, fmt.Errorf("copy %s: %w", req.FileID, err)
	}
	f, err := get(ctx, resp.FileID)
	if err != nil || f.Name == want {
		return f, err
	}
	f, err = rename(ctx, resp.FileID, want)
	if err == nil {
		return f, nil
	}
	undo, cancel := detached(ctx)
	defer cancel()
	if terr := trash(undo, resp.FileID); terr != nil {
		c.log.Error("a copy that could not take its name stays in the target folder", "file_id", resp.FileID, "err", terr)
	}
	return File{}, fmt.Errorf("copy %s as %q: %w", req.FileID, want, err)
}

// Trash implements Manager for the drive driver (spec §14.6): 204 for a
// file, 202 and a task for a folder.
func (c *Client) Trash(ctx context.Context, fileID string) error {
	driveID, err := c.drive(ctx)
	if err != nil {
		return err
	}
	var resp taskResponse
	if err := c.call(ctx, &epTrash, getRequest{DriveID: driveID, FileID: fileID}, &resp); err != nil {
		return manageErr("trash "+fileID, err)
	}
	return c.waitTask(ctx, legacyTaskGet, resp.AsyncTaskID)
}

// Trash implements Manager for the open driver (spec §14.6).
func (o *OpenClient) Trash(ctx context.Context, fileID string) error {
	d, err := o.drive(ctx)
	if err != nil {
		return err
	}
	var resp taskResponse
	if err := o.call(ctx, &epOpenTrash, getRequest{DriveID: d, FileID: fileID}, &resp); err != nil {
		return manageErr("trash "+fileID, err)
	}
	return o.waitTask(ctx, openTaskGet, resp.AsyncTaskID)
}

// Restore implements Manager for the drive driver (spec §14.6).
func (c *Client) Restore(ctx context.Context, fileID string) error {
	driveID, err := c.drive(ctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, &epRestore, getRequest{DriveID: driveID, FileID: fileID}, nil); err != nil {
		return manageErr("restore "+fileID, err)
	}
	return nil
}

// Restore implements Manager: the open API has no restore (spec §14.6).
func (o *OpenClient) Restore(context.Context, string) error {
	return fmt.Errorf("restore from the recycle bin on the open API: %w", errors.ErrUnsupported)
}

// detached is a context for the steps that undo or finish a half-done
// sequence: they run even when the caller has gone, bounded on their own.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
}

// tempName is a name for an item on its way into place: hidden, and unlikely
// to meet another.
func tempName(kind string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return ".alilink-" + kind + "-" + hex.EncodeToString(b[:])
}
