package aliclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Playing a share (spec §15): the share download endpoint is offline
// (§13.7), so a file of the share is copied into a temp folder of the user's
// own drive, the copy is linked with the ordinary download call, and it is
// deleted for good once the link handed out for it has expired.

// ShareTempFolderName is the folder the share driver creates (check_name_mode
// refuse, so an existing one is reused) in the root of the user's drive when
// ALILINK_SHARE_TEMP_FOLDER_ID is not set. Everything in it is alilink's: it
// is swept at start.
const ShareTempFolderName = "alilink-share-temp"

// The batch envelope (spec §14.7): the share copy carries the share token and
// the share X-Canary besides the user's legacy token, and no device headers
// (power721's saveFile, §15.1 step 4); the delete is the same envelope
// without the share token (xiaoya's cleaner, §15.1 step 7).
var (
	epShareCopy = endpoint{name: "share/copy", path: "/adrive/v4/batch", class: classOther, auth: authLegacy, web: true, share: true}
	epBatch     = endpoint{name: "batch", path: "/adrive/v4/batch", class: classOther, auth: authLegacy, web: true}
)

type batchRequest struct {
	Requests []batchSub `json:"requests"`
	Resource string     `json:"resource"`
}

type batchSub struct {
	Body    any               `json:"body"`
	Headers map[string]string `json:"headers"`
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
}

type batchResponse struct {
	Responses []struct {
		ID     string          `json:"id"`
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"responses"`
}

type shareCopyBody struct {
	FileID         string `json:"file_id"`
	ShareID        string `json:"share_id"`
	AutoRename     bool   `json:"auto_rename"`
	ToParentFileID string `json:"to_parent_file_id"`
	ToDriveID      string `json:"to_drive_id"`
}

type copyResult struct {
	DriveID     string `json:"drive_id"`
	FileID      string `json:"file_id"`
	AsyncTaskID string `json:"async_task_id"`
}

type deleteBody struct {
	DriveID string `json:"drive_id"`
	FileID  string `json:"file_id"`
}

// batchOne sends one sub-request in the batch envelope. The outer answer is
// 200 whatever happened (spec §14.7): the item's own status decides, and a
// failed item becomes an *APIError like any other refusal. Errors of the
// whole call (tokens) are the call loop's.
func (c *core) batchOne(ctx context.Context, ep *endpoint, url string, body, out any) error {
	req := batchRequest{Resource: "file", Requests: []batchSub{{
		Body: body, Headers: map[string]string{"Content-Type": "application/json"}, ID: "0", Method: "POST", URL: url,
	}}}
	var resp batchResponse
	if err := c.call(ctx, ep, req, &resp); err != nil {
		return err
	}
	if len(resp.Responses) != 1 {
		return errorf(ErrUpstream, "aliyundrive %s: %d answers to one request", ep.name, len(resp.Responses))
	}
	it := resp.Responses[0]
	if it.Status >= 200 && it.Status < 300 {
		if out != nil && len(it.Body) > 0 && json.Unmarshal(it.Body, out) != nil {
			return errorf(ErrUpstream, "aliyundrive %s: undecodable answer", ep.name)
		}
		return nil
	}
	ae := decodeError(ep.name, it.Status, nil, it.Body)
	switch ae.Code {
	case "QuotaExhausted.Drive", "ExceedCapacityForbidden":
		ae.kind = ErrDriveFull
	}
	return ae
}

// shareTarget is where copies go: a folder of one of the user's drives.
type shareTarget struct {
	drive, folder string
}

// target finds (once) the drive and temp folder copies go to: the resource
// drive, else the default drive (spec §15.1 step 1, §16), and
// ALILINK_SHARE_TEMP_FOLDER_ID or the folder ShareTempFolderName, created in
// its root or found there (refuse answers exist: true, spec §13.2).
func (s *ShareClient) target(ctx context.Context) (shareTarget, error) {
	s.targetMu.Lock()
	defer s.targetMu.Unlock()
	if s.tgt.folder != "" {
		return s.tgt, nil
	}
	u, err := s.own.ensureUser(ctx)
	if err != nil {
		return shareTarget{}, fmt.Errorf("share copies: your drive: %w", err)
	}
	t := shareTarget{drive: cmp.Or(u.ResourceDriveID, u.DefaultDriveID), folder: s.cfg.ShareTempFolderID}
	if t.folder == "" {
		f, err := s.mkdir(ctx, legacyUpload, t.drive, "root", ShareTempFolderName)
		if err != nil {
			return shareTarget{}, fmt.Errorf("share copies: temp folder %s: %w", ShareTempFolderName, err)
		}
		if f.ID == "" {
			return shareTarget{}, errorf(ErrUpstream, "share copies: temp folder %s: the drive gave no id", ShareTempFolderName)
		}
		t.folder = f.ID
	}
	s.tgt = t
	return t, nil
}

// forgetTarget drops a target found gone, unless already replaced.
func (s *ShareClient) forgetTarget(t shareTarget) {
	s.targetMu.Lock()
	defer s.targetMu.Unlock()
	if s.tgt == t {
		s.tgt = shareTarget{}
	}
}

// missingFolder tells whether a copy failed because its target folder is gone.
func missingFolder(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "NotFound.ParentFileId" || ae.Code == "InvalidParameter.ToParentFileId")
}

// play copies a file of the share into the temp folder, links the copy and
// schedules its deletion for after the link's expiry.
func (s *ShareClient) play(ctx context.Context, fileID string) (Link, error) {
	t, err := s.target(ctx)
	if err != nil {
		return Link{}, err
	}
	id, err := s.copyIn(ctx, fileID, t)
	if missingFolder(err) && s.cfg.ShareTempFolderID == "" {
		// Someone deleted the temp folder: make it again, once.
		s.forgetTarget(t)
		if t, err = s.target(ctx); err != nil {
			return Link{}, err
		}
		id, err = s.copyIn(ctx, fileID, t)
	}
	if err != nil {
		return Link{}, err
	}
	l, err := s.linkCopy(ctx, t.drive, id)
	if err != nil {
		s.deleteLater(t.drive, id, 0, 0) // no link went out
		return Link{}, fmt.Errorf("link %s (copied as %s): %w", fileID, id, err)
	}
	s.deleteLater(t.drive, id, l.Expires.Sub(s.now())+s.cfg.ShareDeleteAfter, 0)
	return l, nil
}

// copyIn copies one file of the share into the target and returns the copy's
// id. A share token of another share is renewed once (spec §15.2); a folder
// (copied in the background, 202 + async_task_id) is refused.
func (s *ShareClient) copyIn(ctx context.Context, fileID string, t shareTarget) (string, error) {
	body := shareCopyBody{FileID: fileID, ShareID: s.cfg.ShareID, AutoRename: true, ToParentFileID: t.folder, ToDriveID: t.drive}
	for renewed := false; ; renewed = true {
		var res copyResult
		err := s.batchOne(ctx, &epShareCopy, "/file/copy", body, &res)
		var ae *APIError
		if err != nil && !renewed && errors.As(err, &ae) &&
			(errors.Is(err, ErrShareToken) || strings.Contains(ae.Message, "share_id doesn't match")) {
			s.shareToken.invalidate(s.shareToken.current())
			continue
		}
		switch {
		case errors.Is(err, ErrDriveFull):
			return "", fmt.Errorf("copy %s from the share into your drive (the share driver copies every file it plays; free space or empty the temp folder): %w: %w", fileID, ErrDriveFull, err)
		case err != nil:
			return "", fmt.Errorf("copy %s from the share into your drive: %w", fileID, err)
		case res.AsyncTaskID != "":
			if res.FileID != "" {
				s.deleteLater(t.drive, res.FileID, s.sweepHorizon(), 0)
			}
			return "", errorf(ErrIsFolder, "copy %s from the share: folders are copied asynchronously; play single files", fileID)
		case res.FileID == "":
			return "", errorf(ErrUpstream, "copy %s from the share: the drive gave no file id", fileID)
		}
		s.log.Debug("share file copied", "file_id", fileID, "copy", res.FileID)
		return res.FileID, nil
	}
}

// linkCopy is the ordinary download call (spec §5.1) on a copy in drive.
func (s *ShareClient) linkCopy(ctx context.Context, drive, id string) (Link, error) {
	var resp downloadURLResponse
	req := downloadURLRequest{DriveID: drive, FileID: id, ExpireSec: s.cfg.LinkExpireSec}
	if err := s.call(ctx, &epLink, req, &resp); err != nil {
		return Link{}, err
	}
	return newLink(cmp.Or(resp.URL, resp.CDNURL), resp.Expiration, resp.Size, resp.ContentHash, s.now())
}

// sweepHorizon is how long after its creation a copy may still be in use: a
// link of the longest lifetime asked for, the delay after it, and a call's
// time. Older items of the temp folder are leftovers.
func (s *ShareClient) sweepHorizon() time.Duration {
	return time.Duration(s.cfg.LinkExpireSec)*time.Second + s.cfg.ShareDeleteAfter + s.cfg.Timeout
}

// Sweep deletes the leftovers of the temp folder: copies of an earlier run
// (or another replica) whose links have expired go now, younger ones when
// they would have. It runs once at start (see Health).
func (s *ShareClient) Sweep(ctx context.Context) error {
	t, err := s.target(ctx)
	if err != nil {
		return err
	}
	req := listRequest{DriveID: t.drive, ParentFileID: t.folder, Limit: pageSize, OrderBy: "name", OrderDirection: "ASC", Fields: "*"}
	items, err := s.listPages(ctx, t.folder, func(marker string) (listResponse, error) {
		req.Marker = marker
		var resp listResponse
		err := s.call(ctx, &epList, &req, &resp)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("share copies: sweep the temp folder: %w", err)
	}
	now, horizon, old := s.now(), s.sweepHorizon(), 0
	for _, it := range items {
		if s.isPending(it.ID) {
			continue
		}
		left := horizon - now.Sub(it.Created) // an unknown creation time counts as old
		if it.Created.IsZero() || left < 0 {
			left = 0
			old++
		}
		s.deleteLater(t.drive, it.ID, left, 0)
	}
	if len(items) > 0 {
		s.log.Info("share temp folder swept", "leftovers", len(items), "deleted_now", old)
	}
	return nil
}

// deleteLater deletes a copy for good after d (replacing an earlier plan for
// it), unless Close came first.
func (s *ShareClient) deleteLater(drive, id string, d time.Duration, attempt int) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	if s.closed {
		return
	}
	if old := s.pending[id]; old != nil {
		old.Stop()
	}
	s.pending[id] = time.AfterFunc(max(d, 0), func() { s.deleteCopy(drive, id, attempt) })
}

func (s *ShareClient) isPending(id string) bool {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	return s.pending[id] != nil
}

// deleteCopy deletes one copy for good (batched /file/delete, item 204;
// one already gone is fine), retrying a few times a minute apart and
// otherwise leaving it to the next start's sweep.
func (s *ShareClient) deleteCopy(drive, id string, attempt int) {
	s.pendMu.Lock()
	if s.closed {
		s.pendMu.Unlock()
		return
	}
	delete(s.pending, id)
	s.pendMu.Unlock()
	ctx, cancel := context.WithTimeout(s.stopCtx, 2*s.cfg.Timeout) // Close ends it
	defer cancel()
	err := s.batchOne(ctx, &epBatch, "/file/delete", deleteBody{DriveID: drive, FileID: id}, nil)
	switch {
	case err == nil || errors.Is(err, ErrNotFound):
		s.log.Debug("share copy deleted", "copy", id)
	case s.stopCtx.Err() != nil:
		return // closed: the next start's sweep removes it
	case attempt < 3:
		s.log.Warn("share copy: delete failed; retrying in a minute", "copy", id, "err", err)
		s.deleteLater(drive, id, time.Minute, attempt+1)
	default:
		s.log.Warn("share copy: delete failed; the next start's sweep will remove it", "copy", id, "err", err)
	}
}

// Close stops the planned deletions and the sweep: the copies stay until
// the next start's sweep (a copy whose link another replica still serves
// must not go early).
func (s *ShareClient) Close() {
	s.stop()
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	s.closed = true
	for id, t := range s.pending {
		t.Stop()
		delete(s.pending, id)
	}
}

// PendingCopies reports how many copies wait for their deletion.
func (s *ShareClient) PendingCopies() int {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	return len(s.pending)
}
