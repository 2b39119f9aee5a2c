package streamer

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"

	"github.com/alilink/alilink/resolver"
)

var errSpool = errors.New("cannot create an upload spool file")

// davUpload writes a WebDAV PUT's body at the clean path p the way PUT
// without WebDAV does: spooled once to the state dir as it arrives (a
// chunked body too) and hashed on the way, so the drive can take it rapidly,
// then uploaded part by part from the file; never held in memory. x/net/webdav
// has already checked the locks and that p's folder exists. A PUT replaces
// a file of that name (RFC 9110 §9.3.4), whether or not the caches knew
// it; replaced says whether there was one (put).
func (d *dav) davUpload(ctx context.Context, p string, body io.Reader) (it resolver.Item, replaced bool, err error) {
	s := d.s
	n := noteOf(ctx)
	if n.size > int64(s.cfg.UploadMax) {
		return resolver.Item{}, false, &bodyErr{errTooLarge}
	}
	f, err := os.CreateTemp(s.spoolDir(), spoolPattern)
	if err != nil {
		s.log.Error("cannot create an upload spool file", "dir", s.spoolDir(), "err", err)
		return resolver.Item{}, false, errSpool
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sp := &spool{f: f, w: s.spoolWriter(f), body: body, max: int64(s.cfg.UploadMax), h: sha1.New(), conn: n.conn, idle: s.cfg.StreamIdleTimeout}
	defer sp.release()
	if err := sp.fill(); err != nil {
		return resolver.Item{}, false, err
	}
	if err := sp.verify(n.size, ""); err != nil {
		return resolver.Item{}, false, err
	}
	src := resolver.UploadSource{Size: sp.n, SHA1: hex.EncodeToString(sp.h.Sum(nil)), Data: f}
	it, _, replaced, err = s.put(ctx, p, src, true)
	return it, replaced, err
}
