package alifake

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSyntheticReadAt(t *testing.T) {
	const size = 10_007
	r := SyntheticReader("/a/b.mkv", size)
	whole := make([]byte, size)
	if n, err := r.ReadAt(whole, 0); n != size || err != nil {
		t.Fatalf("unexpected full read; got %d, %v; want %d, nil", n, err, size)
	}
	tests := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantEOF bool
	}{
		{"aligned", 8, 16, 16, false},
		{"unaligned start and end", 3, 13, 13, false},
		{"inside one word", 9, 3, 3, false},
		{"up to the end", size - 5, 5, 5, false},
		{"past the end", size - 5, 10, 5, true},
		{"at the end", size, 4, 0, true},
		{"empty read", 100, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, tc.n)
			n, err := r.ReadAt(buf, tc.off)
			if n != tc.wantN || (err == io.EOF) != tc.wantEOF {
				t.Fatalf("unexpected result; got %d, %v; want %d, EOF %v", n, err, tc.wantN, tc.wantEOF)
			}
			if !bytes.Equal(buf[:n], whole[tc.off:tc.off+int64(n)]) {
				t.Fatalf("unexpected bytes at offset %d", tc.off)
			}
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rng.Int64N(size)
		buf := make([]byte, rng.IntN(300))
		n, _ := r.ReadAt(buf, off)
		if !bytes.Equal(buf[:n], whole[off:off+int64(n)]) {
			t.Fatalf("unexpected bytes at random offset %d length %d", off, len(buf))
		}
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatalf("unexpected success at a negative offset")
	}
}

func TestSyntheticIdentity(t *testing.T) {
	read := func(path string, size int64) []byte {
		b := make([]byte, size)
		_, _ = SyntheticReader(path, size).ReadAt(b, 0)
		return b
	}
	a := read("/Movies/x.mkv", 4096)
	tests := []struct {
		name  string
		other []byte
		same  bool
	}{
		{"same path", read("/Movies/x.mkv", 4096), true},
		{"without the leading slash", read("Movies/x.mkv", 4096), true},
		{"longer size has the same prefix", read("/Movies/x.mkv", 8192)[:4096], true},
		{"other path", read("/Movies/y.mkv", 4096), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bytes.Equal(a, tc.other); got != tc.same {
				t.Fatalf("unexpected equality; got %v; want %v", got, tc.same)
			}
		})
	}
}

func TestSyntheticDownload(t *testing.T) {
	const size = 3<<20 + 5
	fx := newCDNFixture(t, size)
	resp, body, err := readBody(t, fx.s.c, fx.link, nil)
	if err != nil || !bytes.Equal(body, syntheticBytes(t, fx.path, size, 0, size)) {
		t.Fatalf("unexpected download; got %d bytes, %v; want the %d bytes of SyntheticReader", len(body), err, size)
	}
	sum := sha1.Sum(body)
	if want := `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`; resp.Header.Get("ETag") != want {
		t.Fatalf("unexpected ETag; got %s; want %s", resp.Header.Get("ETag"), want)
	}
}

func BenchmarkSyntheticReadAt(b *testing.B) {
	r := SyntheticReader("/bench.bin", 1<<40)
	buf := make([]byte, streamChunk)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for i := 0; b.Loop(); i++ {
		_, _ = r.ReadAt(buf, int64(i)*int64(len(buf))+3)
	}
}
