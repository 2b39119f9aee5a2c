package alifake

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc64"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// SyntheticReader returns the bytes AddSynthetic serves for path and size, so
// tests can compare what they downloaded without holding a copy. The bytes
// depend only on the cleaned path, so a shorter size yields a prefix.
func SyntheticReader(path string, size int64) io.ReaderAt {
	return synthetic{seed: syntheticSeed(path), size: size}
}

// synthetic is a deterministic pseudo-random byte stream: word i (bytes
// 8i..8i+7, little-endian) is splitmix64 of seed and i, so any offset is
// produced in O(1) and nothing is held in memory.
type synthetic struct {
	seed uint64
	size int64
}

// syntheticSeed keys the stream by the cleaned path, so "/a/b" and "a/b" agree.
func syntheticSeed(path string) uint64 {
	sum := sha256.Sum256([]byte("/" + strings.Join(splitPath(path), "/")))
	return binary.LittleEndian.Uint64(sum[:8])
}

// word is the splitmix64 finaliser applied to the i-th counter value.
func (s synthetic) word(i uint64) uint64 {
	z := s.seed + (i+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

var errNegativeOffset = errors.New("alifake: negative offset")

// ReadAt follows io.ReaderAt: a short read at the end returns io.EOF.
func (s synthetic) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > s.size-off {
		n = int(s.size - off)
	}
	out := p[:n]
	i := uint64(off / 8)
	if skip := int(off % 8); skip != 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], s.word(i))
		c := copy(out, w[skip:])
		out = out[c:]
		i++
	}
	for len(out) >= 8 {
		binary.LittleEndian.PutUint64(out, s.word(i))
		out = out[8:]
		i++
	}
	if len(out) > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], s.word(i))
		copy(out, w[:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// crcTable is the CRC-64/ECMA table OSS uses for x-oss-hash-crc64ecma and the
// service for crc64_hash (a constant table, allowed by STYLE rule 3), built
// on first use: alilink serve links this package for its demo command and
// must not pay for crc64's 32 KiB of tables at start (issue 16).
var crcTable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64.ECMA) })

// blob is one immutable content version of a file, as an OSS object is: a
// replaced file gets a new blob, and links to the old one keep serving the old
// bytes until they expire. Hashes are computed on first use and memoised,
// outside Fake.mu, because a 1 GiB synthetic file takes a second to hash.
type blob struct {
	id      string // the object key in link paths
	fileID  string
	data    []byte // literal content, or nil for synthetic
	synth   synthetic
	size    int64
	modTime time.Time // Last-Modified and updated_at of this version
	deleted bool      // guarded by Fake.mu; set when the file is removed
	// same, for a copy (batch.go), is the blob whose bytes these are: its
	// memoised hashes serve both.
	same *blob

	once  sync.Once
	sha1  string // upper-case hex, as the service reports content_hash
	crc64 uint64
}

// reader returns the content as an io.ReaderAt.
func (b *blob) reader() io.ReaderAt {
	if b.data != nil {
		return bytes.NewReader(b.data)
	}
	return b.synth
}

// hashes returns the upper-case hex SHA-1 and the CRC-64/ECMA of the content.
func (b *blob) hashes() (string, uint64) {
	if b.same != nil {
		return b.same.hashes()
	}
	b.once.Do(func() {
		h := sha1.New()
		c := crc64.New(crcTable())
		_, _ = io.Copy(io.MultiWriter(h, c), io.NewSectionReader(b.reader(), 0, b.size))
		b.sha1 = strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
		b.crc64 = c.Sum64()
	})
	return b.sha1, b.crc64
}

// WarmHashes computes the hashes of every file in both drives now, largest
// first, on up to GOMAXPROCS goroutines, and returns when all are done. The
// service answers a listing's content_hash at once; the fake hashes on first
// use, so a program that lists large synthetic files (the demo: 1 GiB films)
// calls this in the background at start instead of making its first listing
// wait seconds. It stops handing out files when ctx ends.
func (f *Fake) WarmHashes(ctx context.Context) {
	f.mu.Lock()
	var blobs []*blob
	for _, fs := range []*fileSystem{&f.fs, &f.resource} {
		for _, n := range fs.byID {
			if n.blob != nil {
				blobs = append(blobs, n.blob)
			}
		}
	}
	f.mu.Unlock()
	slices.SortFunc(blobs, func(a, b *blob) int { return cmp.Compare(b.size, a.size) })
	work := make(chan *blob)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(blobs), 1)) {
		wg.Go(func() {
			for b := range work {
				b.hashes()
			}
		})
	}
feed:
	for _, b := range blobs {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}
