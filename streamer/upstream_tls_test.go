package streamer

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alilink/alilink/resolver"
)

// TestCDNResumesTLSSessions: over an HTTPS CDN, requests reuse one kept-alive
// connection, and a new connection (the idle one was dropped) resumes the TLS
// session instead of doing a full handshake (issue #16: handshakes are most of
// a new connection's cost).
func TestCDNResumesTLSSessions(t *testing.T) {
	body := make([]byte, 1<<20)
	var mu sync.Mutex
	var conns, resumed int
	seen := map[string]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !seen[r.RemoteAddr] {
			seen[r.RemoteAddr] = true
			conns++
			if r.TLS.DidResume {
				resumed++
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Range", "bytes 0-99/"+strconv.Itoa(len(body)))
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(body[:100])
	}))
	srv.StartTLS()
	defer srv.Close()
	c := newCDNClient(5 * time.Second)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c.http.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	defer c.close()

	get := func() {
		t.Helper()
		up, err := c.open(context.Background(), resolver.Link{URL: srv.URL + "/obj"}, byteRange{0, 99}, int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, up.body); err != nil || n != 100 {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		_ = up.body.Close()
	}
	for range 10 {
		get()
	}
	mu.Lock()
	if conns != 1 {
		t.Fatalf("10 sequential requests used %d connections; want 1", conns)
	}
	mu.Unlock()
	c.close() // the idle connection goes, as after IdleConnTimeout
	get()
	mu.Lock()
	defer mu.Unlock()
	if conns != 2 || resumed != 1 {
		t.Fatalf("after the idle connection closed: %d connections, %d resumed; want 2 and the second resumed", conns, resumed)
	}
}
