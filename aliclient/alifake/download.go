package alifake

import (
	"net/http"
	"strconv"
	"time"
)

// downloadResponse is the body of get_download_url (§5.1).
type downloadResponse struct {
	URL             string            `json:"url"`
	CDNURL          string            `json:"cdn_url"`
	InternalURL     string            `json:"internal_url"`
	Expiration      string            `json:"expiration"`
	Method          string            `json:"method"`
	Size            int64             `json:"size"`
	ContentHash     string            `json:"content_hash"`
	ContentHashName string            `json:"content_hash_name"`
	Crc64Hash       string            `json:"crc64_hash"`
	DriveID         string            `json:"drive_id"`
	FileID          string            `json:"file_id"`
	DomainID        string            `json:"domain_id"`
	RevisionID      string            `json:"revision_id"`
	RateLimit       map[string]string `json:"ratelimit"`
	PunishFlag      int               `json:"punish_flag"`
}

// serveDownloadURL is POST /v2/file/get_download_url (§5.1). expire_sec
// defaults to 900 and is clamped to 14400; the link lives
// min(expire_sec, LinkTTL). The expiration field is deliberately one second
// later than x-oss-expires: the query parameter is the authority (§5.2), and
// a client that trusts the field is caught by the CDN's expiry check.
func (f *Fake) serveDownloadURL(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		DriveID   string `json:"drive_id"`
		FileID    string `json:"file_id"`
		ExpireSec *int64 `json:"expire_sec"`
	}
	if !decodeBody(w, body, &req) {
		return
	}
	fs, ok := f.legacyDrive(w, req.DriveID)
	if !ok {
		return
	}
	var secs int64
	if req.ExpireSec != nil {
		secs = *req.ExpireSec
	}
	resp, err := f.issueLink(fs, req.FileID, secs, linkLegacy)
	if err != nil {
		writeAPIError(w, err.status, err.code, err.message)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// linkStyle says how the CDN treats a link's Referer (§5.3).
type linkStyle int

const (
	// linkLegacy links are Referer-bound when Options.RefererBound or
	// SetRefererBound says so, like web-token links; otherwise free.
	linkLegacy linkStyle = iota
	// linkOpen links refuse any request that carries a Referer (AList #5013,
	// "Aliyundrive downloads forbid carrying a Referer").
	linkOpen
	// linkShare links are always Referer-bound: AList fetches them with
	// Referer: https://www.alipan.com/ (§6).
	linkShare
)

// linkError is a refusal to issue a link, as the API answers it.
type linkError struct {
	status        int
	code, message string
}

func (e *linkError) Error() string { return e.code + ": " + e.message }

// DownloadURL issues a link for a file exactly as get_download_url does
// (expireSec 0 means 900), without an API call and without touching the
// counters, for tests that exercise the CDN or a streamer on their own.
func (f *Fake) DownloadURL(fileID string, expireSec int64) (string, error) {
	resp, err := f.issueLink(&f.fs, fileID, expireSec, linkLegacy)
	if err != nil {
		return "", err
	}
	return resp.URL, nil
}

// issueLink builds the get_download_url answer for a file of fs. secs 0
// means 900; callers with another default resolve it first.
func (f *Fake) issueLink(fs *fileSystem, fileID string, secs int64, style linkStyle) (downloadResponse, *linkError) {
	if secs == 0 {
		secs = defaultExpireSec
	}
	if secs < 0 {
		return downloadResponse{}, &linkError{http.StatusBadRequest, "InvalidParameter.ExpireSec", "The input parameter expire_sec is not valid. "}
	}
	life := min(time.Duration(min(secs, maxExpireSec))*time.Second, f.opts.LinkTTL)

	f.mu.Lock()
	n := fs.byID[fileID]
	var e entry
	bound := f.opts.RefererBound
	if n != nil {
		e = snapshot(n)
		if n.refererBound != nil {
			bound = *n.refererBound
		}
	}
	switch style {
	case linkOpen:
		bound = false
	case linkShare:
		bound = true
	}
	now := f.now()
	base := f.cdnURL
	f.mu.Unlock()
	switch {
	case n == nil || fileID == rootID:
		return downloadResponse{}, &linkError{http.StatusNotFound, "NotFound.File", msgFileNotFound}
	case e.folder:
		return downloadResponse{}, &linkError{http.StatusBadRequest, "InvalidResource.FileTypeFolder", "The resource file type folder is not supported. "}
	}

	expires := now.Add(life).Unix()
	url := f.makeLink(base, e, expires, bound, style == linkOpen)
	sha, crc := e.blob.hashes()
	return downloadResponse{
		URL:             url,
		CDNURL:          url,
		InternalURL:     url,
		Expiration:      formatMillis(time.Unix(expires+1, 0)),
		Method:          http.MethodGet,
		Size:            e.blob.size,
		ContentHash:     sha,
		ContentHashName: "sha1",
		Crc64Hash:       strconv.FormatUint(crc, 10),
		DriveID:         e.driveID,
		FileID:          e.id,
		DomainID:        domainID,
		RevisionID:      e.blob.id[:16],
		RateLimit:       map[string]string{"part_speed": "-1", "part_size": "-1"},
	}, nil
}

// makeLink builds a pre-signed CDN URL shaped like a real OSS one:
// /<drive>/<file>/<object key>?di=…&dr=…&fileid=…&response-content-disposition=…
// &u=…&x-oss-access-key-id=…[&x-oss-additional-headers=referer]&x-oss-expires=…
// &x-oss-signature=…&x-oss-signature-version=OSS2, plus the fake's own
// x-alifake-no-referer=1 on Open API links.
func (f *Fake) makeLink(base string, e entry, expires int64, bound, noReferer bool) string {
	path := "/" + e.driveID + "/" + e.id + "/" + e.blob.id
	params := []queryParam{
		{"di", domainID},
		{"dr", e.driveID},
		{"fileid", e.id},
		{paramDisposition, "attachment; filename*=UTF-8''" + ossEscape(e.name)},
		{"u", f.opts.UserID},
		{"x-oss-access-key-id", accessKeyID},
		{paramExpires, strconv.FormatInt(expires, 10)},
		{"x-oss-signature-version", "OSS2"},
	}
	if bound {
		params = append(params, queryParam{paramAddHeaders, "referer"})
	}
	if noReferer {
		params = append(params, queryParam{paramNoReferer, "1"})
	}
	sortParams(params)
	params = append(params, queryParam{paramSignature, f.linkSignature(path, params)})
	sortParams(params)
	return encodeLink(base, path, params)
}
