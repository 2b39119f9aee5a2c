package aliclient

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alilink/alilink/internal/wait"
)

// Uploader is what the drivers that can write (drive, open) offer (spec §7).
type Uploader interface {
	// Mkdir creates a folder, or returns the one of that name.
	Mkdir(ctx context.Context, parentID, name string) (File, error)
	// Upload writes a file from src; rapid tells whether the drive already
	// had the content and nothing was sent.
	Upload(ctx context.Context, parentID, name string, src UploadSource, overwrite bool) (f File, rapid bool, err error)
}

// UploadSource is a file to upload: its size, its SHA-1 when known, and its
// bytes (a spooled file, read part by part).
//
// A caller that knows the SHA-1 before it has the bytes (a client's
// X-Content-Sha1) may hand a Data that blocks until the bytes asked for have
// arrived: a rapid upload then reads only the proof's 8 bytes, and otherwise
// the parts go out while the rest still arrives. Check then runs before the
// upload is completed, to refuse a body that turned out not to match; a
// failed Check leaves the session unfinished, so nothing appears on the drive.
type UploadSource struct {
	Size  int64
	SHA1  string // lower-case hex; "" computes it from Data
	Data  io.ReaderAt
	Check func() error
}

var (
	_ Uploader = (*Client)(nil)
	_ Uploader = (*OpenClient)(nil)
)

var (
	// ErrExists: a file of that name exists and overwriting was not asked for.
	ErrExists = errors.New("already exists")
	// ErrContentMismatch: the drive found the bytes do not match the content
	// hash the upload declared (a wrong proof, or a wrong hash at complete).
	ErrContentMismatch = errors.New("the content does not match its SHA-1")
)

// Upload endpoints of both families (spec §7.1, §7.2).
var (
	epCreate       = endpoint{name: "upload/create", path: "/adrive/v2/file/createWithFolders", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epUploadURL    = endpoint{name: "upload/get_upload_url", path: "/v2/file/get_upload_url", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epComplete     = endpoint{name: "upload/complete", path: "/v2/file/complete", class: classOther, auth: authLegacy, web: true, signed: true, session: true}
	epOpenCreate   = endpoint{name: "open/upload_create", host: hostOpen, path: "/adrive/v1.0/openFile/create", class: classOther, auth: authOpen}
	epOpenUpURL    = endpoint{name: "open/get_upload_url", host: hostOpen, path: "/adrive/v1.0/openFile/getUploadUrl", class: classOther, auth: authOpen}
	epOpenComplete = endpoint{name: "open/upload_complete", host: hostOpen, path: "/adrive/v1.0/openFile/complete", class: classOther, auth: authOpen}
)

// uploadAPI is one family's upload endpoints and habits.
type uploadAPI struct {
	create, uploadURL, complete *endpoint
	// alwaysComplete: the open API wants complete even after a rapid upload.
	alwaysComplete bool
	partSize       func(size int64) int64
}

var legacyUpload = uploadAPI{create: &epCreate, uploadURL: &epUploadURL, complete: &epComplete,
	partSize: func(int64) int64 { return 10 << 20 }}

var openUpload = uploadAPI{create: &epOpenCreate, uploadURL: &epOpenUpURL, complete: &epOpenComplete, alwaysComplete: true,
	partSize: openPartSize}

// openPartSize is the open driver's adaptive part size (spec §7.2): at most
// 10,000 parts.
func openPartSize(size int64) int64 {
	switch {
	case size > 1<<40:
		return 5 << 30
	case size > 768<<30:
		return 109951163
	case size > 512<<30:
		return 82463373
	case size > 384<<30:
		return 54975582
	case size > 256<<30:
		return 41231687
	case size > 128<<30:
		return 27487791
	default:
		return 20 << 20
	}
}

// Mkdir implements Uploader for the drive driver.
func (c *Client) Mkdir(ctx context.Context, parentID, name string) (File, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, err
	}
	return c.mkdir(ctx, legacyUpload, driveID, parentID, name)
}

// Upload implements Uploader for the drive driver.
func (c *Client) Upload(ctx context.Context, parentID, name string, src UploadSource, overwrite bool) (File, bool, error) {
	driveID, err := c.drive(ctx)
	if err != nil {
		return File{}, false, err
	}
	return c.upload(ctx, legacyUpload, driveID, parentID, name, src, overwrite)
}

// Mkdir implements Uploader for the open driver.
func (o *OpenClient) Mkdir(ctx context.Context, parentID, name string) (File, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, err
	}
	return o.mkdir(ctx, openUpload, d, parentID, name)
}

// Upload implements Uploader for the open driver. The open create has no
// "overwrite" (spec §13.2): see replace.
func (o *OpenClient) Upload(ctx context.Context, parentID, name string, src UploadSource, overwrite bool) (File, bool, error) {
	d, err := o.drive(ctx)
	if err != nil {
		return File{}, false, err
	}
	f, rapid, err := o.upload(ctx, openUpload, d, parentID, name, src, false)
	var ex *existsError
	if !overwrite || !errors.As(err, &ex) || ex.folder {
		return f, rapid, err
	}
	return o.replace(ctx, d, parentID, name, ex.id, src)
}

// replace overwrites the file oldID (named name) on the open API without a
// moment in which its content could be lost: the new content is uploaded
// under a temporary name first; then the old file is renamed aside, the new
// one renamed into place, and the old one trashed. A failure before the
// last step puts the old file back under its name and trashes the new one;
// a failed trash leaves the old file, hidden under its temporary name, to be
// removed by hand (logged). Once the upload is done the steps run to the
// end even if the caller goes away.
func (o *OpenClient) replace(ctx context.Context, drive, parentID, name, oldID string, src UploadSource) (File, bool, error) {
	f, rapid, err := o.upload(ctx, openUpload, drive, parentID, tempName("upload"), src, false)
	if err != nil {
		return File{}, false, err
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	dropNew := func() {
		if err := o.Trash(ctx, f.ID); err != nil {
			o.log.Error("an overwrite failed and its new upload stays under a temporary name", "file_id", f.ID, "err", err)
		}
	}
	aside := tempName("old")
	if _, err := o.rename(ctx, &epOpenUpdate, drive, oldID, aside); err != nil {
		dropNew()
		return File{}, false, fmt.Errorf("overwrite %s: set the old file aside: %w", name, err)
	}
	placed, err := o.rename(ctx, &epOpenUpdate, drive, f.ID, name)
	if err != nil {
		if _, berr := o.rename(ctx, &epOpenUpdate, drive, oldID, name); berr != nil {
			o.log.Error("an overwrite failed half-way: the old file is kept under a temporary name",
				"name", name, "file_id", oldID, "temporary_name", aside, "err", berr)
		}
		dropNew()
		return File{}, false, fmt.Errorf("overwrite %s: put the new file in place: %w", name, err)
	}
	if err := o.Trash(ctx, oldID); err != nil {
		o.log.Error("an overwrite could not trash the old file: it stays under a temporary name",
			"file_id", oldID, "temporary_name", aside, "err", err)
	}
	placed.Size, placed.ContentHash = f.Size, f.ContentHash
	return placed, rapid, nil
}

func (c *core) mkdir(ctx context.Context, api uploadAPI, drive, parentID, name string) (File, error) {
	f, _, err := c.createFolder(ctx, api, drive, parentID, name)
	return f, err
}

func nameMode(overwrite bool) string {
	if overwrite {
		return "overwrite"
	}
	return "refuse"
}

func partList(n int) []partInfo {
	parts := make([]partInfo, n)
	for i := range parts {
		parts[i].PartNumber = i + 1
	}
	return parts
}

// proofRequest is a create whose proof code is computed from the access token
// of the very attempt that sends it (spec §7.3).
type proofRequest struct {
	req    createRequest
	size   int64
	readAt func(off int64, n int) ([]byte, error)
}

func (p proofRequest) bodyFor(access string) (any, error) {
	r := p.req
	code, err := proofCode(access, p.size, p.readAt)
	if err != nil {
		return nil, err
	}
	r.ProofCode = code
	return r, nil
}

// proofCode is spec §7.3: the first 16 hex digits of MD5(access token) as a
// uint64, modulo the size, is the offset of up to 8 bytes, base64-encoded.
func proofCode(access string, size int64, readAt func(int64, int) ([]byte, error)) (string, error) {
	if size == 0 {
		return "", nil
	}
	sum := md5.Sum([]byte(access))
	r, err := strconv.ParseUint(hex.EncodeToString(sum[:])[:16], 16, 64)
	if err != nil {
		return "", err
	}
	off := int64(r % uint64(size))
	b, err := readAt(off, int(min(8, size-off)))
	if err != nil {
		return "", fmt.Errorf("read the proof bytes: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func (c *core) finishRapid(ctx context.Context, api uploadAPI, drive, parentID, name string, size int64, sha1Hex string, resp createResponse) (File, error) {
	if api.alwaysComplete {
		return c.completeUpload(ctx, api, drive, name, resp)
	}
	return File{ID: resp.FileID, ParentID: parentID, Name: name, Size: size, ContentHash: strings.ToLower(sha1Hex)}, nil
}

// upload is the whole protocol (spec §7). With rapid upload on, the drive is
// asked whether it has the content: straight with the SHA-1 and proof when
// the caller knows the hash, else first with the pre-hash of the first KiB
// and, if the drive knows such a beginning (PreHashMatched), again with the
// full hash and proof. A rapid answer finishes at once; otherwise the parts
// are PUT from src, src.Check runs, and the upload is completed.
func (c *core) upload(ctx context.Context, api uploadAPI, drive, parentID, name string, src UploadSource, overwrite bool) (File, bool, error) {
	readAt := func(off int64, n int) ([]byte, error) {
		b := make([]byte, n)
		m, err := src.Data.ReadAt(b, off)
		if m == n {
			err = nil
		}
		return b[:m], err
	}
	ps := api.partSize(src.Size)
	req := createRequest{DriveID: drive, ParentFileID: parentID, Name: name, Type: "file", CheckNameMode: nameMode(overwrite),
		Size: &src.Size, PartInfoList: partList(int((src.Size + ps - 1) / ps))}
	var resp createResponse
	var err error
	proved := func(sum string) (bool, error) {
		req.PreHash, req.ContentHash, req.ContentHashName, req.ProofVersion = "", strings.ToLower(sum), "sha1", "v1"
		resp = createResponse{}
		err := c.call(ctx, api.create, proofRequest{req: req, size: src.Size, readAt: readAt}, &resp)
		return err == nil && resp.RapidUpload, err
	}
	switch {
	case !c.cfg.RapidUpload || src.Size == 0:
		req.ContentHashName, req.ProofVersion = "none", "v1"
		err = c.call(ctx, api.create, req, &resp)
	case src.SHA1 != "":
		var rapid bool
		if rapid, err = proved(src.SHA1); rapid {
			f, err := c.finishRapid(ctx, api, drive, parentID, name, src.Size, src.SHA1, resp)
			return f, true, err
		}
	default:
		head, rerr := readAt(0, int(min(1024, src.Size)))
		if rerr != nil {
			return File{}, false, fmt.Errorf("upload %s: read the first KiB: %w", name, rerr)
		}
		pre := sha1.Sum(head)
		req.PreHash = hex.EncodeToString(pre[:])
		err = c.call(ctx, api.create, req, &resp)
		if ae := (*APIError)(nil); errors.As(err, &ae) && ae.Code == "PreHashMatched" {
			sum, herr := sha1Of(src)
			if herr != nil {
				return File{}, false, fmt.Errorf("upload %s: hash: %w", name, herr)
			}
			var rapid bool
			if rapid, err = proved(sum); rapid {
				f, err := c.finishRapid(ctx, api, drive, parentID, name, src.Size, sum, resp)
				return f, true, err
			}
		}
	}
	if err != nil {
		return File{}, false, uploadErr(name, err)
	}
	if resp.Exist {
		// "refuse" met a taken name: the answer is the item in the way,
		// with nothing to upload (spec §13.2).
		return File{}, false, &existsError{name: name, id: resp.FileID, folder: resp.Type == "folder"}
	}
	if resp.UploadID == "" {
		return File{}, false, errorf(ErrUpstream, "upload %s: the drive answered no upload_id", name)
	}
	if err := c.putParts(ctx, api, drive, resp, src, ps); err != nil {
		return File{}, false, fmt.Errorf("upload %s: %w", name, err)
	}
	if src.Check != nil {
		if err := src.Check(); err != nil {
			return File{}, false, err
		}
	}
	f, err := c.completeUpload(ctx, api, drive, name, resp)
	return f, false, err
}

// existsError is a create that found the name taken: ErrExists, with the
// item in the way; a folder in the way is ErrIsFolder too, so that a caller
// that goes on to overwrite a file leaves a folder alone.
type existsError struct {
	name, id string
	folder   bool
}

func (e *existsError) Error() string {
	kind := "file"
	if e.folder {
		kind = "folder"
	}
	return fmt.Sprintf("upload %s: %s (a %s, id %s)", e.name, ErrExists, kind, e.id)
}

func (e *existsError) Unwrap() error { return ErrExists }

func (e *existsError) Is(target error) bool { return e.folder && target == ErrIsFolder }

// uploadErr gives a name clash its own kind.
func uploadErr(name string, err error) error {
	var ae *APIError
	switch {
	case errors.As(err, &ae) && strings.HasPrefix(ae.Code, "AlreadyExist"):
		return fmt.Errorf("upload %s: %w", name, ErrExists)
	case errors.As(err, &ae) && (ae.Code == "InvalidParameter.ProofCode" || ae.Code == "InvalidParameter.ContentHash"):
		return fmt.Errorf("upload %s: %w (%s)", name, ErrContentMismatch, ae.Code)
	}
	return fmt.Errorf("upload %s: %w", name, err)
}

func sha1Of(src UploadSource) (string, error) {
	h := sha1.New()
	if _, err := io.Copy(h, io.NewSectionReader(src.Data, 0, src.Size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// putParts sends every part from src, streaming each straight from the file
// (memory stays at the HTTP client's buffer). An expired part URL (403) gets
// fresh URLs from the drive; other failures are retried with backoff.
func (c *core) putParts(ctx context.Context, api uploadAPI, drive string, session createResponse, src UploadSource, ps int64) error {
	parts := session.PartInfoList
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		off := int64(p.PartNumber-1) * ps
		n := min(ps, src.Size-off)
		if n < 0 {
			return errorf(ErrUpstream, "the drive asked for part %d beyond the end", p.PartNumber)
		}
		refreshed := false
		for attempt := 0; ; attempt++ {
			url := p.UploadURL
			if c.cfg.InternalUpload && p.InternalUploadURL != "" {
				url = p.InternalUploadURL
			}
			body := &sourceReader{r: io.NewSectionReader(src.Data, off, n)}
			status, err := c.putPart(ctx, url, body, n)
			switch {
			case body.err() != nil:
				// The source failed (a client's body broke off): no retry.
				return fmt.Errorf("read part %d: %w", p.PartNumber, body.err())
			case err == nil && (status == http.StatusOK || status == http.StatusCreated || status == http.StatusConflict):
			case err == nil && status == http.StatusForbidden && !refreshed:
				// The part URLs expired (they live about an hour): ask for new ones.
				fresh, ferr := c.freshPartURLs(ctx, api, drive, session, parts[i:])
				if ferr != nil {
					return ferr
				}
				copy(parts[i:], fresh)
				p, refreshed = parts[i], true
				continue
			case ctx.Err() != nil:
				return ctx.Err()
			case attempt < c.cfg.MaxRetries && wait.Sleep(ctx, backoff(attempt)):
				continue
			case err != nil:
				return errorf(ErrUpstream, "part %d: %v", p.PartNumber, redactQuery(err))
			case status == http.StatusForbidden && c.cfg.InternalUpload && p.InternalUploadURL != "":
				return errorf(ErrUpstream, "part %d: the internal upload URL refused (ALILINK_INTERNAL_UPLOAD works only inside Aliyun's network)", p.PartNumber)
			default:
				return errorf(ErrUpstream, "part %d: HTTP %d", p.PartNumber, status)
			}
			break
		}
	}
	return nil
}

// sourceReader remembers a read error of the source, which the HTTP client
// would report as a transport failure.
// The HTTP client may still be reading when its answer arrives, hence the lock.
type sourceReader struct {
	r   io.Reader
	mu  sync.Mutex
	bad error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		s.mu.Lock()
		s.bad = err
		s.mu.Unlock()
	}
	return n, err
}

func (s *sourceReader) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

// putPart PUTs one part: no auth header and no Content-Type (the URL is
// signed for exactly that, spec §7.1).
func (c *core) putPart(ctx context.Context, url string, body io.Reader, n int64) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = n
	req.Header.Set("User-Agent", userAgent)
	began := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.obs.APICall("upload/part", "transport", time.Since(began))
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	c.obs.APICall("upload/part", "HTTP "+strconv.Itoa(resp.StatusCode), time.Since(began))
	return resp.StatusCode, nil
}

func (c *core) freshPartURLs(ctx context.Context, api uploadAPI, drive string, session createResponse, left []partInfo) ([]partInfo, error) {
	req := uploadURLRequest{DriveID: drive, FileID: session.FileID, UploadID: session.UploadID, PartInfoList: make([]partInfo, len(left))}
	for i, p := range left {
		req.PartInfoList[i].PartNumber = p.PartNumber
	}
	var resp uploadURLResponse
	if err := c.call(ctx, api.uploadURL, req, &resp); err != nil {
		return nil, fmt.Errorf("renew the part URLs: %w", err)
	}
	if len(resp.PartInfoList) != len(left) {
		return nil, errorf(ErrUpstream, "renew the part URLs: asked for %d, got %d", len(left), len(resp.PartInfoList))
	}
	return resp.PartInfoList, nil
}

func (c *core) completeUpload(ctx context.Context, api uploadAPI, drive, name string, session createResponse) (File, error) {
	var resp fileJSON
	req := uploadURLRequest{DriveID: drive, FileID: session.FileID, UploadID: session.UploadID}
	if err := c.call(ctx, api.complete, req, &resp); err != nil {
		return File{}, uploadErr(name, fmt.Errorf("complete: %w", err))
	}
	if resp.FileID != session.FileID {
		return File{}, errorf(ErrUpstream, "complete the upload: the drive answered another file")
	}
	return resp.file(), nil
}
