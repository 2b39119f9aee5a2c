package alifake

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fetch GETs a CDN URL with an optional Referer.
func fetch(t *testing.T, c *http.Client, u, referer string) response {
	t.Helper()
	h := http.Header{}
	if referer != "" {
		h.Set("Referer", referer)
	}
	return do(t, c, http.MethodGet, u, h, nil)
}

// xmlError decodes an OSS error body.
func xmlError(t *testing.T, r response) ossError {
	t.Helper()
	var e ossError
	if err := xml.Unmarshal(r.raw, &e); err != nil {
		t.Fatalf("unexpected non-XML error body; got %q; want OSS XML (%v)", r.raw, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("unexpected error Content-Type; got %q; want application/xml", ct)
	}
	return e
}

func TestDownloadURLShape(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, RefererBound: true})
	name := "电影 #1 50%?&.mkv"
	data := []byte("movie bytes")
	id := f.AddFile("/Movies/"+name, data)
	s := login(t, f)

	resp := s.post(t, "/v2/file/get_download_url", map[string]any{"drive_id": f.DriveID(), "file_id": id, "expire_sec": 100})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected status; got %d %s; want 200", resp.status, resp.raw)
	}
	m := resp.fields(t)
	raw, _ := m["url"].(string)
	if m["cdn_url"] != raw || m["method"] != "GET" || m["size"] != float64(len(data)) || m["file_id"] != id {
		t.Fatalf("unexpected response; got %s; want cdn_url = url, method GET, size, file_id", resp.raw)
	}
	prefix := f.CDNURL() + "/" + f.DriveID() + "/" + id + "/"
	if !strings.HasPrefix(raw, prefix) {
		t.Fatalf("unexpected url; got %s; want prefix %s", raw, prefix)
	}
	wantDisposition := "response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27" + url.QueryEscape(ossEscape(name))
	if !strings.Contains(raw, wantDisposition) {
		t.Fatalf("unexpected url; got %s; want it to contain %s", raw, wantDisposition)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("unexpected unparsable url; got %v; want nil", err)
	}
	q := u.Query()
	exp := clock.Now().Add(100 * time.Second).Unix()
	wantParams := map[string]string{
		"x-oss-expires":            strconv.FormatInt(exp, 10),
		"x-oss-additional-headers": "referer",
		"x-oss-signature-version":  "OSS2",
		"fileid":                   id,
		"x-oss-access-key-id":      accessKeyID,
	}
	for k, v := range wantParams {
		if q.Get(k) != v {
			t.Fatalf("unexpected %s; got %q; want %q", k, q.Get(k), v)
		}
	}
	if q.Get("x-oss-signature") == "" {
		t.Fatalf("unexpected missing x-oss-signature in %s", raw)
	}
	if got, want := m["expiration"], formatMillis(time.Unix(exp+1, 0)); got != want {
		t.Fatalf("unexpected expiration; got %v; want %v (one second after x-oss-expires)", got, want)
	}

	got := fetch(t, s.c, raw, webReferer)
	if got.status != http.StatusOK || !bytes.Equal(got.raw, data) {
		t.Fatalf("unexpected download; got %d %q; want 200 %q", got.status, got.raw, data)
	}
	if cd := got.header.Get("Content-Disposition"); cd != "attachment; filename*=UTF-8''"+ossEscape(name) {
		t.Fatalf("unexpected Content-Disposition; got %q", cd)
	}
}

func TestDownloadURLExpireSec(t *testing.T) {
	tests := []struct {
		name      string
		linkTTL   time.Duration
		expireSec any
		status    int
		wantLife  int64
	}{
		{"absent means 900", 0, nil, 200, 900},
		{"zero means 900", 0, 0, 200, 900},
		{"as asked", 0, 60, 200, 60},
		{"clamped to 14400", 0, 20000, 200, 14400},
		{"capped by LinkTTL", time.Minute, 14400, 200, 60},
		{"negative", 0, -1, 400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			f := startFake(t, Options{Now: clock.Now, LinkTTL: tc.linkTTL})
			id := f.AddFile("/a.bin", []byte("a"))
			s := login(t, f)
			body := map[string]any{"drive_id": f.DriveID(), "file_id": id}
			if tc.expireSec != nil {
				body["expire_sec"] = tc.expireSec
			}
			resp := s.post(t, "/v2/file/get_download_url", body)
			if resp.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", resp.status, resp.raw, tc.status)
			}
			if tc.status != 200 {
				return
			}
			u, _ := url.Parse(resp.fields(t)["url"].(string))
			if got, want := u.Query().Get("x-oss-expires"), strconv.FormatInt(clock.Now().Unix()+tc.wantLife, 10); got != want {
				t.Fatalf("unexpected x-oss-expires; got %s; want %s", got, want)
			}
		})
	}
}

func TestDownloadURLErrors(t *testing.T) {
	f := startFake(t, Options{})
	folder := f.AddFolder("/Movies")
	s := login(t, f)
	tests := []struct {
		name, id string
		status   int
		code     string
	}{
		{"folder", folder, 400, "InvalidResource.FileTypeFolder"},
		{"root", "root", 404, "NotFound.File"},
		{"missing", strings.Repeat("a", 40), 404, "NotFound.File"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(t, "/v2/file/get_download_url", map[string]any{"drive_id": f.DriveID(), "file_id": tc.id})
			if resp.status != tc.status || resp.code(t) != tc.code {
				t.Fatalf("unexpected answer; got %d %s; want %d %s", resp.status, resp.raw, tc.status, tc.code)
			}
		})
	}
}

func TestLinkExpiry(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	id := f.AddFile("/a.bin", []byte("abc"))
	s := login(t, f)
	link := s.link(t, id, 60)

	clock.Advance(60 * time.Second) // exactly x-oss-expires: still valid
	if got := fetch(t, s.c, link, ""); got.status != http.StatusOK {
		t.Fatalf("unexpected status at x-oss-expires; got %d %s; want 200", got.status, got.raw)
	}
	clock.Advance(time.Second)
	got := fetch(t, s.c, link, "")
	if got.status != http.StatusForbidden {
		t.Fatalf("unexpected status after expiry; got %d; want 403", got.status)
	}
	e := xmlError(t, got)
	if e.Code != "AccessDenied" || e.Message != "Request has expired." || e.Expires == "" || e.ServerTime == "" {
		t.Fatalf("unexpected expiry error; got %+v; want AccessDenied, Request has expired., Expires, ServerTime", e)
	}
	if !strings.HasPrefix(string(got.raw), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("unexpected XML prolog; got %q", got.raw[:40])
	}
}

func TestRefererBound(t *testing.T) {
	f := startFake(t, Options{RefererBound: true})
	bound := f.AddFile("/bound.bin", []byte("bound"))
	free := f.AddFile("/free.bin", []byte("free"))
	f.SetRefererBound(free, false)
	s := login(t, f)
	boundLink, freeLink := s.link(t, bound, 900), s.link(t, free, 900)
	if strings.Contains(freeLink, "x-oss-additional-headers") {
		t.Fatalf("unexpected referer binding on an overridden file; got %s", freeLink)
	}

	tests := []struct {
		name, link, referer string
		status              int
	}{
		{"bound, no Referer", boundLink, "", 403},
		{"bound, right Referer", boundLink, "https://www.alipan.com/", 200},
		{"bound, no www", boundLink, "https://alipan.com/", 403},
		{"bound, old host", boundLink, "https://www.aliyundrive.com/", 403},
		{"bound, no slash", boundLink, "https://www.alipan.com", 403},
		{"free, no Referer", freeLink, "", 200},
		{"free, any Referer", freeLink, "https://example.com/", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fetch(t, s.c, tc.link, tc.referer)
			if got.status != tc.status {
				t.Fatalf("unexpected status; got %d %s; want %d", got.status, got.raw, tc.status)
			}
			if tc.status == 403 {
				if e := xmlError(t, got); e.Code != "AccessDenied" || e.Message != msgRefererDenied {
					t.Fatalf("unexpected error; got %+v; want AccessDenied %q", e, msgRefererDenied)
				}
			}
		})
	}
}

func TestTamperedLink(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now, RefererBound: true})
	id := f.AddFile("/a.bin", []byte("a"))
	other := f.AddFile("/b.bin", []byte("b"))
	s := login(t, f)
	link := s.link(t, id, 900)
	exp := strconv.FormatInt(clock.Now().Add(900*time.Second).Unix(), 10)

	tests := []struct {
		name   string
		tamper func(string) string
	}{
		{"referer binding removed", func(u string) string { return strings.Replace(u, "&x-oss-additional-headers=referer", "", 1) }},
		{"expiry extended", func(u string) string { return strings.Replace(u, "x-oss-expires="+exp, "x-oss-expires=9999999999", 1) }},
		{"other file in the path", func(u string) string { return strings.Replace(u, "/"+id+"/", "/"+other+"/", 1) }},
		{"fileid changed", func(u string) string { return strings.Replace(u, "fileid="+id, "fileid="+other, 1) }},
		{"extra parameter", func(u string) string { return u + "&foo=bar" }},
		{"duplicate parameter", func(u string) string { return u + "&fileid=" + id }},
		{"signature dropped", func(u string) string {
			v, _ := url.Parse(u)
			q := v.Query()
			q.Del("x-oss-signature")
			v.RawQuery = q.Encode()
			return v.String()
		}},
		{"signature changed", func(u string) string {
			i := strings.Index(u, "x-oss-signature=") + len("x-oss-signature=")
			c := byte('A')
			if u[i] == 'A' {
				c = 'B'
			}
			return u[:i] + string(c) + u[i+1:]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.tamper(link)
			if u == link {
				t.Fatalf("unexpected no-op tamper on %s", link)
			}
			got := fetch(t, s.c, u, webReferer)
			if got.status != http.StatusForbidden {
				t.Fatalf("unexpected status; got %d; want 403", got.status)
			}
			if e := xmlError(t, got); e.Code != "SignatureDoesNotMatch" {
				t.Fatalf("unexpected code; got %s; want SignatureDoesNotMatch", e.Code)
			}
		})
	}

	// A re-encoded but equivalent URL still verifies: OSS decodes first.
	v, _ := url.Parse(link)
	v.RawQuery = v.Query().Encode()
	if got := fetch(t, s.c, v.String(), webReferer); got.status != http.StatusOK {
		t.Fatalf("unexpected status for a re-encoded link; got %d %s; want 200", got.status, got.raw)
	}
}

func TestLinkLifecycle(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/a.bin", []byte("old"))
	s := login(t, f)
	oldLink := s.link(t, id, 900)
	if again := f.AddFile("/a.bin", []byte("new")); again != id {
		t.Fatalf("unexpected id after replacing content; got %s; want %s", again, id)
	}
	newLink := s.link(t, id, 900)
	tests := []struct {
		name, link, body string
	}{
		{"old link keeps the old revision", oldLink, "old"},
		{"new link serves the new revision", newLink, "new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fetch(t, s.c, tc.link, ""); got.status != 200 || string(got.raw) != tc.body {
				t.Fatalf("unexpected download; got %d %q; want 200 %q", got.status, got.raw, tc.body)
			}
		})
	}
	f.Remove("/a.bin")
	got := fetch(t, s.c, newLink, "")
	if got.status != http.StatusNotFound || xmlError(t, got).Code != "NoSuchKey" {
		t.Fatalf("unexpected answer for a removed file; got %d %s; want 404 NoSuchKey", got.status, got.raw)
	}
}

// TestLinkSignaturePlus checks the classic trap of standard-base64
// signatures: a client that un-escapes %2B to a raw '+' sends a space.
func TestLinkSignaturePlus(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/a.bin", []byte("a"))
	s := login(t, f)
	for i := range 200 {
		link := s.link(t, id, int64(60+i))
		if !strings.Contains(link, "%2B") {
			continue
		}
		if got := fetch(t, s.c, strings.ReplaceAll(link, "%2B", "+"), ""); got.status != http.StatusForbidden {
			t.Fatalf("unexpected status with a raw '+'; got %d; want 403", got.status)
		}
		if got := fetch(t, s.c, link, ""); got.status != http.StatusOK {
			t.Fatalf("unexpected status with %%2B intact; got %d %s; want 200", got.status, got.raw)
		}
		return
	}
	t.Fatalf("unexpected: no signature with '+' in 200 links")
}
