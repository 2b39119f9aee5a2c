package alifake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

// completeRequest is the body of complete (§7.1 step 6, §7.2 step 5). aligo
// also sends part_info_list; it is ignored, the session knows its parts.
type completeRequest struct {
	DriveID  string `json:"drive_id"`
	FileID   string `json:"file_id"`
	UploadID string `json:"upload_id"`
}

// serveUploadComplete is POST /v2/file/complete (§7.1 step 6).
func (f *Fake) serveUploadComplete(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req completeRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.complete(w, fs, req, false)
}

// serveOpenUploadComplete is POST /adrive/v1.0/openFile/complete (§7.2 step
// 5), which AList calls after a rapid upload too.
func (f *Fake) serveOpenUploadComplete(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req completeRequest
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.complete(w, fs, req, true)
	}
}

// complete assembles a session's parts 1..n in order and links the file into
// the tree (place), answering its file object. A declared part never PUT is
// 400 InvalidParameter.PartNotUploaded and leaves the session open, so the
// client can PUT it and complete again. Every later failure consumes the
// session, as its parts cannot be PUT again: a size other than the create's
// (400 InvalidParameter.Size), a SHA-1 other than its content_hash (400
// InvalidParameter.ContentHash), a name taken meanwhile (409), a parent gone
// (404). A rapid upload's complete (its upload id, or none) answers the
// file, as often as asked.
func (f *Fake) complete(w http.ResponseWriter, fs *fileSystem, req completeRequest, open bool) {
	f.mu.Lock()
	if n, ok := f.rapidFile(fs, req); ok {
		var e entry
		if n != nil {
			e = snapshot(n)
		}
		f.mu.Unlock()
		if n == nil {
			writeAPIError(w, http.StatusNotFound, "NotFound.File", msgFileNotFound)
			return
		}
		f.writeCompleted(w, e, open)
		return
	}
	u, err := f.session(fs, req.FileID, req.UploadID)
	var parts [][]byte
	if err == nil {
		for _, n := range u.declared {
			p, ok := u.parts[n]
			if !ok {
				err = &uploadError{http.StatusBadRequest, "InvalidParameter.PartNotUploaded", fmt.Sprintf("The input parameter part_info_list is not valid. part %d not uploaded", n)}
				break
			}
			parts = append(parts, p)
		}
	}
	if err == nil {
		delete(f.up.sessions, u.id)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}

	total := 0
	for _, p := range parts {
		total += len(p)
	}
	data := make([]byte, 0, total)
	for _, p := range parts {
		data = append(data, p...)
	}
	b := &blob{data: data, size: int64(total)}
	if u.size >= 0 && u.size != b.size {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.Size", fmt.Sprintf("The input parameter size is not valid. declared %d, uploaded %d", u.size, b.size))
		return
	}
	if sha, _ := b.hashes(); u.contentHash != "" && sha != u.contentHash {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameter.ContentHash", "The input parameter content_hash is not valid. content hash mismatch")
		return
	}
	f.mu.Lock()
	n, err := place(&u.target, b, f.stamp())
	var e entry
	if err == nil {
		e = snapshot(n)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	f.writeCompleted(w, e, open)
}

// rapidFile finds the file of a rapid upload named by a complete call: by
// its upload id, or by file id when the upload id is empty. The node is nil
// when the file was removed since. Called with Fake.mu held.
func (f *Fake) rapidFile(fs *fileSystem, req completeRequest) (*node, bool) {
	if req.UploadID != "" {
		ru, ok := f.up.rapid[req.UploadID]
		if !ok || ru.fs != fs || ru.fileID != req.FileID {
			return nil, false
		}
		return fs.byID[ru.fileID], true
	}
	for _, ru := range f.up.rapid {
		if ru.fs == fs && ru.fileID == req.FileID {
			return fs.byID[ru.fileID], true
		}
	}
	return nil, false
}

// writeCompleted answers the file object: as get answers it on the legacy
// API; with file_name instead of name on the Open one (§3.3).
func (f *Fake) writeCompleted(w http.ResponseWriter, e entry, open bool) {
	it := f.item(e)
	if !open {
		writeJSON(w, http.StatusOK, it)
		return
	}
	raw, err := json.Marshal(it)
	var m map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		panic("alifake: re-marshal file object: " + err.Error()) // our own type; cannot happen
	}
	m["file_name"] = m["name"]
	delete(m, "name")
	writeJSON(w, http.StatusOK, m)
}

// OpenUploads reports the upload sessions created and not completed (or
// consumed by a failed complete), over every drive. Like the service, the
// fake never aborts a session; what matters is that none of them shows in
// the tree.
func (f *Fake) OpenUploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.up.sessions)
}

// ReadFile returns the whole content of the file at path in the default
// drive, so a test can compare an upload byte for byte. A missing path
// wraps os.ErrNotExist; a folder is an error too.
func (f *Fake) ReadFile(path string) ([]byte, error) { return f.ReadFileIn(DriveDefault, path) }

// ReadFileIn is ReadFile in the named drive.
func (f *Fake) ReadFileIn(drive, path string) ([]byte, error) {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	n := fs.lookup(helperNames(path))
	var b *blob
	folder := n != nil && n.folder
	if n != nil {
		b = n.blob
	}
	f.mu.Unlock()
	switch {
	case n == nil:
		return nil, fmt.Errorf("alifake: read %q: %w", path, os.ErrNotExist)
	case folder:
		return nil, fmt.Errorf("alifake: read %q: is a folder", path)
	}
	out := make([]byte, b.size)
	if len(out) == 0 {
		return out, nil // ReadAt at the end reports io.EOF even for nothing
	}
	if _, err := b.reader().ReadAt(out, 0); err != nil {
		return nil, fmt.Errorf("alifake: read %q: %w", path, err)
	}
	return out, nil
}
