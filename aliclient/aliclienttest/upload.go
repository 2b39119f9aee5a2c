package aliclienttest

import (
	"crypto/sha1"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/alilink/alilink/aliclient/alifake"
)

// ExpireUploadURLsAfterFirstPart puts the fake's CDN behind a loopback
// server that makes every part URL issued so far expire the moment the first
// part PUT is answered, so that an upload meets expired URLs halfway. Other
// requests (downloads) pass through.
func ExpireUploadURLsAfterFirstPart(tb testing.TB, fake *alifake.Fake) {
	tb.Helper()
	var once sync.Once
	h := fake.CDNHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w = &onStatus{ResponseWriter: w, f: func(code int) {
				if code == http.StatusOK {
					once.Do(fake.ExpireUploadURLs)
				}
			}}
		}
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	fake.SetCDNURL(srv.URL)
}

// onStatus calls f with the status before it goes out.
type onStatus struct {
	http.ResponseWriter
	f func(int)
}

func (o *onStatus) WriteHeader(code int) {
	o.f(code)
	o.ResponseWriter.WriteHeader(code)
}

// RandomBytes is n reproducible pseudo-random bytes (content the fake cannot
// know unless it is given it).
func RandomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// SHA1Hex is the drive's content hash of b (lower-case hex).
func SHA1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}
