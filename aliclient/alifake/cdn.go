package alifake

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ossError is the XML error body of OSS (§5.3).
type ossError struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
	Expires    string   `xml:"Expires,omitempty"`
	ServerTime string   `xml:"ServerTime,omitempty"`
	EC         string   `xml:"EC,omitempty"`
}

// OSS error texts the fake answers.
const (
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgExpired           = "Request has expired."
	msgRefererDenied     = "You are denied by bucket referer policy."
	msgNoSuchKey         = "The specified key does not exist."
	msgInvalidRange      = "The requested range cannot be satisfied"
	msgPrecondition      = "At least one of the pre-conditions you specified did not hold."
	ecExpired            = "0002-00000069" // the code the web UI shows for an expired URL (§5.3)
)

// writeOSSError answers an OSS XML error. HEAD responses carry the headers
// only; net/http drops the body.
func writeOSSError(w http.ResponseWriter, r *http.Request, status int, e ossError) {
	e.RequestID = ossRequestID()
	e.HostID = r.Host
	body, err := xml.MarshalIndent(e, "", "  ")
	if err != nil {
		panic("alifake: marshal xml: " + err.Error()) // our own type; cannot happen
	}
	body = append([]byte(xml.Header), body...)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Server", "AliyunOSS")
	h.Set("x-oss-request-id", e.RequestID)
	if e.EC != "" {
		h.Set("x-oss-ec", e.EC)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ossRequestID looks like an OSS request id: 24 upper-case hex digits.
func ossRequestID() string { return strings.ToUpper(randomHex(12)) }

// serveCDN answers a pre-signed link; part URLs go to serveUploadPart. The
// checks run in OSS's order: signature (403 SignatureDoesNotMatch), expiry
// (403 AccessDenied "Request has expired."), Referer for links that sign it
// and for Open API links that forbid one (403 AccessDenied), then the object
// (404 NoSuchKey), preconditions and Range.
func (f *Fake) serveCDN(w http.ResponseWriter, r *http.Request) {
	if upload, internal := isUploadPath(r.URL.Path); upload {
		f.serveUploadPart(w, r, internal)
		return
	}
	sw, finish := f.begin(EndpointCDN, w, r)
	defer finish()

	if !f.sleep(r.Context(), f.latency(EndpointCDN)) {
		return
	}
	if fault, ok := f.takeFault(EndpointCDN); ok {
		f.answerFault(sw, r, fault, func(w http.ResponseWriter, status int, code, msg string) {
			writeOSSError(w, r, status, ossError{Code: code, Message: msg})
		})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		sw.Header().Set("Allow", "GET, HEAD")
		writeOSSError(sw, r, http.StatusMethodNotAllowed, ossError{Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource."})
		return
	}
	params, ok := parseLinkQuery(r.URL.RawQuery)
	if !ok || !f.verifyLink(r.URL.Path, params) {
		writeOSSError(sw, r, http.StatusForbidden, ossError{Code: "SignatureDoesNotMatch", Message: msgSignatureMismatch})
		return
	}
	expires, err := strconv.ParseInt(paramValue(params, paramExpires), 10, 64)
	if err != nil {
		writeOSSError(sw, r, http.StatusForbidden, ossError{Code: "AccessDenied", Message: "Invalid argument x-oss-expires."})
		return
	}
	if now := f.now(); now.After(time.Unix(expires, 0)) {
		writeOSSError(sw, r, http.StatusForbidden, ossError{
			Code:       "AccessDenied",
			Message:    msgExpired,
			Expires:    formatMillis(time.Unix(expires, 0)),
			ServerTime: formatMillis(now),
			EC:         ecExpired,
		})
		return
	}
	if refererSigned(params) && r.Header.Get("Referer") != webReferer {
		writeOSSError(sw, r, http.StatusForbidden, ossError{Code: "AccessDenied", Message: msgRefererDenied})
		return
	}
	// Whether the service refuses any Referer or only foreign ones is not
	// established (§5.3); refusing even an empty one keeps clients honest.
	if _, sent := r.Header["Referer"]; sent && paramValue(params, paramNoReferer) != "" {
		writeOSSError(sw, r, http.StatusForbidden, ossError{Code: "AccessDenied", Message: msgRefererDenied})
		return
	}

	// The path is /<drive>/<file>/<object key>; it is signed, so well formed.
	segs := strings.Split(r.URL.Path, "/")
	f.mu.Lock()
	var b *blob
	var modTime time.Time
	if len(segs) == 4 {
		if fs := f.driveByID(segs[1]); fs != nil {
			b = fs.blobs[segs[3]]
		}
	}
	if b != nil && (b.deleted || b.fileID != segs[2]) {
		b = nil
	}
	if b != nil {
		modTime = b.modTime
	}
	f.mu.Unlock()
	if b == nil {
		writeOSSError(sw, r, http.StatusNotFound, ossError{Code: "NoSuchKey", Message: msgNoSuchKey})
		return
	}
	f.serveObject(sw, r, b, modTime, paramValue(params, paramDisposition), expires)
}

// refererSigned reports whether the link signs the Referer header
// (x-oss-additional-headers lists header names separated by ';').
func refererSigned(params []queryParam) bool {
	for name := range strings.SplitSeq(paramValue(params, paramAddHeaders), ";") {
		if strings.EqualFold(strings.TrimSpace(name), "referer") {
			return true
		}
	}
	return false
}

// serveObject answers the object's bytes: preconditions (304/412), then a
// single Range (206, or 416 with Content-Range: bytes */size), else 200 with
// the whole body, following the stdlib's evaluation order (STYLE rule 6).
func (f *Fake) serveObject(w http.ResponseWriter, r *http.Request, b *blob, modTime time.Time, disposition string, expires int64) {
	sha, crc := b.hashes()
	etag := `"` + sha + `"`
	h := w.Header()
	h.Set("Server", "AliyunOSS")
	h.Set("x-oss-request-id", ossRequestID())
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", etag)
	h.Set("Last-Modified", modTime.UTC().Format(http.TimeFormat))

	switch checkPreconditions(r, etag, modTime) {
	case preconditionNotModified:
		w.WriteHeader(http.StatusNotModified)
		return
	case preconditionFailed:
		writeOSSError(w, r, http.StatusPreconditionFailed, ossError{Code: "PreconditionFailed", Message: msgPrecondition})
		return
	}

	start, length, status := int64(0), b.size, http.StatusOK
	if spec := r.Header.Get("Range"); spec != "" && ifRangeHolds(r.Header.Get("If-Range"), etag, modTime) {
		s, n, res := parseRange(spec, b.size)
		if f.opts.OSSRanges && (res == rangeUnsatisfiable || res == rangeSatisfiable && !wholeInside(spec, s, n, b.size)) {
			res = rangeIgnored
		}
		switch res {
		case rangeSatisfiable:
			start, length, status = s, n, http.StatusPartialContent
			h.Set("Content-Range", "bytes "+strconv.FormatInt(s, 10)+"-"+strconv.FormatInt(s+n-1, 10)+"/"+strconv.FormatInt(b.size, 10))
		case rangeUnsatisfiable:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(b.size, 10))
			writeOSSError(w, r, http.StatusRequestedRangeNotSatisfiable, ossError{Code: "InvalidRange", Message: msgInvalidRange})
			return
		}
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	h.Set("x-oss-object-type", "Normal")
	h.Set("x-oss-storage-class", "Standard")
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(crc, 10))
	if disposition != "" {
		h.Set("Content-Disposition", disposition)
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return
	}
	f.stream(w, r, b.reader(), start, length, time.Unix(expires, 0))
}
