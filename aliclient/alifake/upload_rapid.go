package alifake

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Rapid upload (§7.1 step 4, §7.3): the service skips the parts when it
// already stores the content, which a client shows in two steps — the SHA-1
// of the first KiB (pre_hash), then the full SHA-1 with a proof that it holds
// the bytes, eight of them at an offset derived from its access token.

// blobsOfSize returns the current content of every file of every drive that
// is size bytes long: the service deduplicates across users and drives, so
// any stored copy counts for rapid upload. Called with Fake.mu held.
func (f *Fake) blobsOfSize(size int64) []*blob {
	var out []*blob
	for _, fs := range []*fileSystem{&f.fs, &f.resource} {
		for _, n := range fs.byID {
			if !n.folder && n.blob != nil && n.blob.size == size {
				out = append(out, n.blob)
			}
		}
	}
	return out
}

// matchContent returns the candidate whose SHA-1 is hash (any case), or nil.
// It hashes outside Fake.mu: a large synthetic file takes a while.
func matchContent(candidates []*blob, hash string) *blob {
	for _, b := range candidates {
		if sha, _ := b.hashes(); strings.EqualFold(sha, hash) {
			return b
		}
	}
	return nil
}

// preHash is the lower-case hex SHA-1 of the first 1024 bytes (§7.1).
func (b *blob) preHash() string {
	h := sha1.New()
	_, _ = io.Copy(h, io.NewSectionReader(b.reader(), 0, min(b.size, preHashWindow)))
	return hex.EncodeToString(h.Sum(nil))
}

// proofCode is the proof of §7.3 for content rd of size bytes under the
// access token that authorises the call: the 8 bytes at offset
// (first 16 hex digits of md5(token)) mod size, in padded standard base64.
func proofCode(token string, rd io.ReaderAt, size int64) string {
	if size <= 0 {
		return ""
	}
	sum := md5.Sum([]byte(token))
	r, err := strconv.ParseUint(hex.EncodeToString(sum[:])[:16], 16, 64)
	if err != nil {
		panic(fmt.Sprintf("alifake: parse md5 prefix: %v", err)) // 16 hex digits always parse
	}
	off := int64(r % uint64(size))
	buf := make([]byte, min(8, size-off))
	_, _ = rd.ReadAt(buf, off)
	return base64.StdEncoding.EncodeToString(buf)
}

// rapidUpload finishes a create at once with the content of src (§7.1 step
// 4): the new revision shares src's bytes and memoised hashes. Its upload id
// is remembered, so a complete call for it answers the file.
func (f *Fake) rapidUpload(w http.ResponseWriter, t target, src *blob, open bool) {
	sha, crc := src.hashes()
	b := &blob{data: src.data, synth: src.synth, size: src.size}
	b.once.Do(func() { b.sha1, b.crc64 = sha, crc })
	id := newUploadID()
	f.mu.Lock()
	n, err := place(&t, b, f.stamp())
	if err == nil {
		f.up.rapid[id] = rapidUpload{fs: t.fs, fileID: n.id}
	}
	f.mu.Unlock()
	if err != nil {
		err.write(w)
		return
	}
	f.writeCreated(w, t, open, createResponse{UploadID: id, RapidUpload: new(true)})
}
