package alifake

import (
	"archive/zip"
	"bytes"
	"path"
	"strings"
	"time"
)

// Live photos (§3.5, §13.8): a .livp file is a container of a still image
// and a short movie. The Open API's getDownloadUrl answers one without url
// and with streamsUrl {jpeg, mov}, a link to each part; the legacy API links
// the container itself.

// AddLivePhoto creates the live photo at path (its name should end in
// .livp) in the default drive and returns its id; see AddLivePhotoTo.
func (f *Fake) AddLivePhoto(path string, jpeg, mov []byte) string {
	return f.AddLivePhotoTo(DriveDefault, path, jpeg, mov)
}

// AddLivePhotoTo creates the live photo at path in the named drive: its
// content is a zip holding the two parts (what a .livp is), and the Open
// API links jpeg and mov separately, through streamsUrl, when the name ends
// in .livp. Removing the file retires the parts' links too.
func (f *Fake) AddLivePhotoTo(drive, filePath string, jpeg, mov []byte) string {
	base := strings.TrimSuffix(path.Base(filePath), path.Ext(filePath))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range []struct {
		name string
		data []byte
	}{{base + ".JPG", jpeg}, {base + ".MOV", mov}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: part.name, Method: zip.Store})
		if err != nil {
			panic("alifake: livp: " + err.Error())
		}
		_, _ = w.Write(part.data)
	}
	if err := zw.Close(); err != nil {
		panic("alifake: livp: " + err.Error())
	}
	id := f.AddFileTo(drive, filePath, buf.Bytes())

	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	n := fs.byID[id]
	now := f.stamp()
	n.streams = make(map[string]*blob)
	for format, data := range map[string][]byte{"jpeg": jpeg, "mov": mov} {
		b := &blob{id: randomHex(20), fileID: id, data: append([]byte{}, data...), size: int64(len(data)), modTime: now}
		fs.blobs[b.id] = b
		n.versions = append(n.versions, b) // so that remove retires it
		n.streams[format] = b
	}
	return id
}

// livpLinks signs a link to each part of a live photo of fs, living as a
// download link asked for with secs would (0 means 900); ok is false for
// anything but a live photo whose name ends in .livp.
func (f *Fake) livpLinks(fs *fileSystem, fileID string, secs int64) (map[string]string, bool) {
	if secs <= 0 {
		secs = defaultExpireSec
	}
	life := min(time.Duration(min(secs, maxExpireSec))*time.Second, f.opts.LinkTTL)
	f.mu.Lock()
	n := fs.byID[fileID]
	if n == nil || len(n.streams) == 0 || !strings.EqualFold(path.Ext(n.name), ".livp") {
		f.mu.Unlock()
		return nil, false
	}
	e := snapshot(n)
	parts := make(map[string]*blob, len(n.streams))
	for k, b := range n.streams {
		parts[k] = b
	}
	now, base := f.now(), f.cdnURL
	f.mu.Unlock()

	expires := now.Add(life).Unix()
	stem := strings.TrimSuffix(e.name, path.Ext(e.name))
	out := make(map[string]string, len(parts))
	for format, b := range parts {
		pe := e
		pe.blob = b
		pe.name = stem + "." + format
		out[format] = f.makeLink(base, pe, expires, false, true)
	}
	return out, true
}
