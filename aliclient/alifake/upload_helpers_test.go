package alifake

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"testing"
)

// uploader drives the upload calls of one API family, the way its client
// would: the legacy one with a signed device session, the Open one with an
// Open access token.
type uploader struct {
	f       *Fake
	c       *http.Client
	open    bool
	driveID string
	token   string // the access token proofs are computed from
	post    func(t *testing.T, path string, body any) response
}

func legacyUploader(t *testing.T, f *Fake) *uploader {
	t.Helper()
	s := login(t, f)
	return &uploader{f: f, c: s.c, driveID: f.DriveID(), token: s.access, post: s.post}
}

func openUploader(t *testing.T, f *Fake) *uploader {
	t.Helper()
	s := openLogin(t, f)
	return &uploader{f: f, c: s.c, open: true, driveID: f.DriveID(), token: s.access, post: s.post}
}

// paths of the family's upload calls.
func (u *uploader) createPath() string {
	if u.open {
		return "/adrive/v1.0/openFile/create"
	}
	return "/adrive/v2/file/createWithFolders"
}

func (u *uploader) urlPath() string {
	if u.open {
		return "/adrive/v1.0/openFile/getUploadUrl"
	}
	return "/v2/file/get_upload_url"
}

func (u *uploader) completePath() string {
	if u.open {
		return "/adrive/v1.0/openFile/complete"
	}
	return "/v2/file/complete"
}

// createdStatus is what a successful file create answers.
func (u *uploader) createdStatus() int {
	if u.open {
		return http.StatusOK
	}
	return http.StatusCreated
}

// create posts a create call; drive_id defaults to the uploader's drive.
func (u *uploader) create(t *testing.T, body map[string]any) response {
	t.Helper()
	if _, ok := body["drive_id"]; !ok {
		body["drive_id"] = u.driveID
	}
	return u.post(t, u.createPath(), body)
}

// fileBody is a plain create body for data in n parts: size, no hash.
func fileBody(parent, name, mode string, data []byte, n int) map[string]any {
	return map[string]any{
		"parent_file_id": parent, "name": name, "type": "file", "check_name_mode": mode,
		"size": len(data), "part_info_list": partList(n),
		"content_hash_name": "none", "proof_version": "v1",
	}
}

// partList is [{part_number: 1}, …, {part_number: n}].
func partList(n int) []map[string]int {
	out := make([]map[string]int, n)
	for i := range out {
		out[i] = map[string]int{"part_number": i + 1}
	}
	return out
}

// session is the upload session a create answered.
type session struct {
	fileID, uploadID, fileName string
	urls, internal             []string
}

func mustSession(t *testing.T, u *uploader, resp response) session {
	t.Helper()
	if resp.status != u.createdStatus() {
		t.Fatalf("unexpected create status; got %d %s; want %d", resp.status, resp.raw, u.createdStatus())
	}
	m := resp.fields(t)
	if m["rapid_upload"] != false {
		t.Fatalf("unexpected rapid_upload; got %v; want false", m["rapid_upload"])
	}
	s := session{}
	s.fileID, _ = m["file_id"].(string)
	s.uploadID, _ = m["upload_id"].(string)
	s.fileName, _ = m["file_name"].(string)
	var nums []int
	nums, s.urls, s.internal = partURLs(t, m)
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("unexpected part_number; got %d; want %d", n, i+1)
		}
	}
	return s
}

// partURLs returns the part_number, upload_url and internal_upload_url of
// each entry of part_info_list.
func partURLs(t *testing.T, m map[string]any) (nums []int, urls, internal []string) {
	t.Helper()
	list, _ := m["part_info_list"].([]any)
	for _, raw := range list {
		p := raw.(map[string]any)
		n, _ := p["part_number"].(float64)
		nums = append(nums, int(n))
		url, _ := p["upload_url"].(string)
		in, _ := p["internal_upload_url"].(string)
		urls = append(urls, url)
		internal = append(internal, in)
	}
	return nums, urls, internal
}

// put PUTs one part as AList does: no Content-Type and, when chunked, a
// body of unknown length, so net/http sends Transfer-Encoding: chunked.
func put(t *testing.T, c *http.Client, url string, data []byte, chunked bool) response {
	t.Helper()
	var body io.Reader = bytes.NewReader(data)
	if chunked {
		body = io.MultiReader(bytes.NewReader(data)) // hides the length
	}
	req, err := http.NewRequest(http.MethodPut, url, body)
	if err != nil {
		t.Fatalf("unexpected error building request; got %v; want nil", err)
	}
	if chunked && req.ContentLength != 0 {
		t.Fatalf("unexpected ContentLength; got %d; want 0 (unknown)", req.ContentLength)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("unexpected error from PUT; got %v; want nil", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("unexpected error reading body; got %v; want nil", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// split cuts data into n parts of ceil(len/n) bytes, the last shorter.
func split(data []byte, n int) [][]byte {
	size := (len(data) + n - 1) / n
	out := make([][]byte, n)
	for i := range out {
		lo, hi := min(i*size, len(data)), min((i+1)*size, len(data))
		out[i] = data[lo:hi]
	}
	return out
}

// putAll uploads every part and checks each answers 200 with an ETag.
func putAll(t *testing.T, c *http.Client, urls []string, data []byte, chunked bool) {
	t.Helper()
	for i, p := range split(data, len(urls)) {
		resp := put(t, c, urls[i], p, chunked)
		if resp.status != http.StatusOK || resp.header.Get("ETag") == "" {
			t.Fatalf("unexpected PUT of part %d; got %d %q ETag %q; want 200 with an ETag", i+1, resp.status, resp.raw, resp.header.Get("ETag"))
		}
	}
}

// complete posts complete for a session.
func (u *uploader) complete(t *testing.T, fileID, uploadID string) response {
	t.Helper()
	return u.post(t, u.completePath(), map[string]any{"drive_id": u.driveID, "file_id": fileID, "upload_id": uploadID})
}

// upload runs a whole plain upload of data in n parts into parent and
// returns the completed file object.
func (u *uploader) upload(t *testing.T, parent, name, mode string, data []byte, n int) map[string]any {
	t.Helper()
	s := mustSession(t, u, u.create(t, fileBody(parent, name, mode, data, n)))
	putAll(t, u.c, s.urls, data, true)
	resp := u.complete(t, s.fileID, s.uploadID)
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected complete status; got %d %s; want 200", resp.status, resp.raw)
	}
	return resp.fields(t)
}

// randomData returns n reproducible pseudo-random bytes.
func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sha1Hex is the lower-case hex SHA-1 of b; preHashOf the same of its first
// 1024 bytes.
func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

func preHashOf(b []byte) string { return sha1Hex(b[:min(len(b), 1024)]) }

// proofFor computes §7.3 independently of the fake, with big integers as
// AList's legacy driver does.
func proofFor(token string, data []byte) string {
	if len(data) == 0 {
		return ""
	}
	sum := md5.Sum([]byte(token))
	r, _ := new(big.Int).SetString(hex.EncodeToString(sum[:])[:16], 16)
	off := new(big.Int).Mod(r, big.NewInt(int64(len(data)))).Int64()
	return base64.StdEncoding.EncodeToString(data[off:min(off+8, int64(len(data)))])
}

// rapidBody is the second create of §7.1 step 4: content_hash and proof.
func rapidBody(parent, name, mode string, data []byte, proof string) map[string]any {
	return map[string]any{
		"parent_file_id": parent, "name": name, "type": "file", "check_name_mode": mode,
		"size": len(data), "part_info_list": partList(max(1, (len(data)+10<<20-1)/(10<<20))),
		"content_hash": sha1Hex(data), "content_hash_name": "sha1", "proof_version": "v1", "proof_code": proof,
	}
}
