package alifake

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"hash/crc64"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Path prefixes of part URLs on the CDN listener: /upload/<upload id>/<part
// number> for upload_url, /internal-upload/… for internal_upload_url. A
// download link starts with a drive id, so the two never meet unless
// Options.DriveID is "upload" or "internal-upload".
const (
	uploadPrefix         = "/upload/"
	internalUploadPrefix = "/internal-upload/"
)

// paramIssue numbers the batch a part URL was issued in, so
// ExpireUploadURLs can expire every URL issued so far. It is signed like
// every parameter; no real URL carries it.
const paramIssue = "x-alifake-issue"

// maxPartSize is OSS's limit for one part. The fake holds parts in memory,
// so tests should stay far below it.
const maxPartSize = 5 << 30

// OSS error texts of part PUTs.
const (
	msgNoSuchUpload     = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
	msgPartAlreadyExist = "The part has already been uploaded."
	msgInternalDenied   = "internal endpoint not reachable from here"
	msgEntityTooLarge   = "Your proposed upload exceeds the maximum allowed size."
)

// partInfo is an entry of a part_info_list answer. Only the legacy API
// returns internal_upload_url; AList's Open driver makes its internal URL by
// rewriting the host of upload_url instead (§7.2 step 4).
type partInfo struct {
	PartNumber        int    `json:"part_number"`
	UploadURL         string `json:"upload_url"`
	InternalUploadURL string `json:"internal_upload_url,omitempty"`
	ContentType       string `json:"content_type"`
}

// AllowInternalUpload makes internal_upload_url PUTs work (true) or answer
// 403 AccessDenied (false, the default). The internal URLs stand for
// Aliyun's internal network, which a client reaches only when it runs
// there, so a client that uses them without being configured to fails
// visibly.
func (f *Fake) AllowInternalUpload(allow bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up.internal = allow
}

// ExpireUploadURLs makes every part URL issued so far answer 403
// AccessDenied "Request has expired.", as if Options.UploadURLTTL had
// passed; get_upload_url issues working ones again.
func (f *Fake) ExpireUploadURLs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up.revoked = f.up.issued
}

// issuePartURLs signs a fresh URL (and, with internal, an internal URL) for
// each part, living Options.UploadURLTTL. Called with Fake.mu held.
func (f *Fake) issuePartURLs(uploadID string, nums []int, internal bool) []partInfo {
	f.up.issued++
	issue := strconv.FormatUint(f.up.issued, 10)
	expires := strconv.FormatInt(f.now().Add(f.opts.UploadURLTTL).Unix(), 10)
	out := make([]partInfo, len(nums))
	for i, n := range nums {
		rest := uploadID + "/" + strconv.Itoa(n)
		out[i] = partInfo{PartNumber: n, UploadURL: f.partURL(uploadPrefix+rest, expires, issue)}
		if internal {
			out[i].InternalUploadURL = f.partURL(internalUploadPrefix+rest, expires, issue)
		}
	}
	return out
}

// partURL signs a part URL on the CDN: the query of a download link without
// its object parameters, under a MAC of its own purpose, so a download
// signature never opens an upload path and the reverse.
func (f *Fake) partURL(path, expires, issue string) string {
	params := []queryParam{
		{"x-oss-access-key-id", accessKeyID},
		{paramExpires, expires},
		{"x-oss-signature-version", "OSS2"},
		{paramIssue, issue},
	}
	sortParams(params)
	params = append(params, queryParam{paramSignature, f.uploadSignature(path, params)})
	sortParams(params)
	return encodeLink(f.cdnURL, path, params)
}

func (f *Fake) uploadSignature(path string, params []queryParam) string {
	return base64.StdEncoding.EncodeToString(f.mac("upload", canonical(path, params)))
}

// isUploadPath reports whether a CDN request is for a part URL, and whether
// for an internal one.
func isUploadPath(p string) (upload, internal bool) {
	switch {
	case strings.HasPrefix(p, uploadPrefix):
		return true, false
	case strings.HasPrefix(p, internalUploadPrefix):
		return true, true
	}
	return false, false
}

// serveUploadPart answers a PUT to a part URL. It runs the shared steps the
// API uses — count and log, read the body, latency, quota, fault — then
// OSS's checks: internal reachability, method, signature (403
// SignatureDoesNotMatch), expiry (403 AccessDenied), the session (404
// NoSuchUpload) and the part (409 PartAlreadyExist, §7.2 step 4). Any body
// is accepted, chunked or not, with or without Content-Type (§11); the
// answer is 200 with the part's ETag, its MD5 as OSS gives it.
func (f *Fake) serveUploadPart(w http.ResponseWriter, r *http.Request, internal bool) {
	endpoint := EndpointUploadPart
	if internal {
		endpoint = EndpointUploadInternalPart
	}
	sw, finish := f.begin(endpoint, w, r)
	defer finish()
	fail := func(status int, e ossError) { writeOSSError(sw, r, status, e) }

	if r.ContentLength > maxPartSize {
		fail(http.StatusBadRequest, ossError{Code: "EntityTooLarge", Message: msgEntityTooLarge})
		return
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxPartSize+1)); err != nil {
		return // the client went away mid-body; nobody to answer
	}
	if int64(buf.Len()) > maxPartSize {
		fail(http.StatusBadRequest, ossError{Code: "EntityTooLarge", Message: msgEntityTooLarge})
		return
	}
	if !f.sleep(r.Context(), f.latency(endpoint)) {
		return
	}
	if retry, ok := f.admit(endpoint); !ok {
		sw.Header().Set("x-retry-after", retryMillis(retry))
		fail(http.StatusTooManyRequests, ossError{Code: "TooManyRequests", Message: "Too Many Requests"})
		return
	}
	if fault, ok := f.takeFault(endpoint); ok {
		f.answerFault(sw, r, fault, func(w http.ResponseWriter, status int, code, msg string) {
			writeOSSError(w, r, status, ossError{Code: code, Message: msg})
		})
		return
	}
	f.mu.Lock()
	reachable := !internal || f.up.internal
	f.mu.Unlock()
	if !reachable {
		fail(http.StatusForbidden, ossError{Code: "AccessDenied", Message: msgInternalDenied})
		return
	}
	if r.Method != http.MethodPut {
		sw.Header().Set("Allow", http.MethodPut)
		fail(http.StatusMethodNotAllowed, ossError{Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource."})
		return
	}
	params, ok := parseLinkQuery(r.URL.RawQuery)
	if !ok || !f.verifyUploadURL(r.URL.Path, params) {
		fail(http.StatusForbidden, ossError{Code: "SignatureDoesNotMatch", Message: msgSignatureMismatch})
		return
	}
	// Signed, so both parse; a failure means a bug in partURL.
	expires, err1 := strconv.ParseInt(paramValue(params, paramExpires), 10, 64)
	issue, err2 := strconv.ParseUint(paramValue(params, paramIssue), 10, 64)
	segs := strings.Split(r.URL.Path, "/") // "", prefix, upload id, part number
	part, err3 := strconv.Atoi(segs[len(segs)-1])
	if err1 != nil || err2 != nil || err3 != nil || len(segs) != 4 {
		fail(http.StatusForbidden, ossError{Code: "AccessDenied", Message: "Invalid argument."})
		return
	}

	etag, crc := partDigests(buf.Bytes())
	f.mu.Lock()
	now := f.now()
	expired := now.After(time.Unix(expires, 0)) || issue <= f.up.revoked
	u := f.up.sessions[segs[2]]
	exists := false
	if u != nil {
		_, exists = u.parts[part]
	}
	if !expired && u != nil && !exists {
		u.parts[part] = buf.Bytes()
	}
	f.mu.Unlock()
	switch {
	case expired:
		fail(http.StatusForbidden, ossError{
			Code:       "AccessDenied",
			Message:    msgExpired,
			Expires:    formatMillis(time.Unix(expires, 0)),
			ServerTime: formatMillis(now),
			EC:         ecExpired,
		})
		return
	case u == nil:
		fail(http.StatusNotFound, ossError{Code: "NoSuchUpload", Message: msgNoSuchUpload})
		return
	case exists:
		fail(http.StatusConflict, ossError{Code: "PartAlreadyExist", Message: msgPartAlreadyExist})
		return
	}
	h := sw.Header()
	h.Set("Server", "AliyunOSS")
	h.Set("x-oss-request-id", ossRequestID())
	h.Set("ETag", etag)
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(crc, 10))
	h.Set("Content-Length", "0")
	sw.WriteHeader(http.StatusOK)
}

// partDigests are the ETag (quoted upper-case MD5, as OSS gives for parts)
// and the CRC-64/ECMA of a part.
func partDigests(b []byte) (string, uint64) {
	sum := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`, crc64.Checksum(b, crcTable())
}

// verifyUploadURL reports whether the signature in params covers path and
// all other parameters.
func (f *Fake) verifyUploadURL(path string, params []queryParam) bool {
	got := paramValue(params, paramSignature)
	return got != "" && hmac.Equal([]byte(got), []byte(f.uploadSignature(path, params)))
}

// uploadURLRequest is the body of get_upload_url and getUploadUrl (§7.1
// step 7, §7.2 step 4). content_md5 is accepted and ignored.
type uploadURLRequest struct {
	DriveID      string       `json:"drive_id"`
	FileID       string       `json:"file_id"`
	UploadID     string       `json:"upload_id"`
	PartInfoList []partNumber `json:"part_info_list"`
}

// serveUploadURL is POST /v2/file/get_upload_url (§7.1 step 7).
func (f *Fake) serveUploadURL(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req uploadURLRequest
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	f.refreshPartURLs(w, fs, req, false)
}

// serveOpenUploadURL is POST /adrive/v1.0/openFile/getUploadUrl (§7.2).
func (f *Fake) serveOpenUploadURL(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req uploadURLRequest
	if !decodeBody(w, body, &req) {
		return
	}
	if fs, ok := f.openDrive(w, req.DriveID); ok {
		f.refreshPartURLs(w, fs, req, true)
	}
}

// refreshPartURLs answers fresh URLs, with a new expiry, for the requested
// parts of an open session; an empty part_info_list means every declared
// part. A part the create did not declare is 400 InvalidParameter.PartNumber;
// a completed or unknown session 404 NotFound.UploadId.
func (f *Fake) refreshPartURLs(w http.ResponseWriter, fs *fileSystem, req uploadURLRequest, open bool) {
	nums, err := partNumbers(req.PartInfoList)
	if err != nil {
		err.write(w)
		return
	}
	f.mu.Lock()
	u, err := f.session(fs, req.FileID, req.UploadID)
	var parts []partInfo
	if err == nil {
		if len(nums) == 0 {
			nums = u.declared
		}
		for _, n := range nums {
			if !slices.Contains(u.declared, n) {
				err = errInvalid("PartNumber", "part_number")
			}
		}
	}
	if err == nil {
		parts = f.issuePartURLs(u.id, nums, !open)
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	resp := map[string]any{"drive_id": fs.driveID, "file_id": req.FileID, "upload_id": req.UploadID, "part_info_list": parts}
	if !open {
		resp["domain_id"] = domainID
	}
	writeJSON(w, http.StatusOK, resp)
}

// session returns the open session uploadID of file fileID in fs, or 404
// NotFound.UploadId (also for a completed one). Called with Fake.mu held.
func (f *Fake) session(fs *fileSystem, fileID, uploadID string) (*upload, *uploadError) {
	if uploadID == "" {
		return nil, &uploadError{http.StatusBadRequest, "InvalidParameterMissing.UploadId", "The input parameter upload_id is missing. "}
	}
	u := f.up.sessions[uploadID]
	if u == nil || u.target.fs != fs || u.target.fileID != fileID {
		return nil, &uploadError{http.StatusNotFound, "NotFound.UploadId", msgUploadNotFound}
	}
	return u, nil
}
