package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/streamer"
)

const proxySize = 64 << 20

// proxyClient is alilink in proxy mode in front of the fake drive (its CDN on
// loopback TCP), reached through an in-memory listener by a streaming client.
func proxyClient(b *testing.B) *fasthttp.HostClient {
	b.Helper()
	content := make([]byte, proxySize)
	for i := range content {
		content[i] = byte(i * 31)
	}
	return serveInMemory(b, newServer(b, streamer.ModeProxy, "/film.mkv", content), true)
}

// get fetches the film, or a range of it, and discards the body.
func get(client *fasthttp.HostClient, rng string) (int64, error) {
	return getPath(client, "/film.mkv", rng)
}

// getPath fetches one response and discards its body, returning its length.
func getPath(client *fasthttp.HostClient, path, rng string) (int64, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://alilink" + path)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	if err := client.Do(req, resp); err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, resp.BodyStream())
}

// BenchmarkProxyCopy streams a whole 64 MiB file through alilink per op: the
// copy path end to end (fake CDN over loopback → alilink → in-memory client).
func BenchmarkProxyCopy(b *testing.B) {
	client := proxyClient(b)
	if _, err := get(client, ""); err != nil { // warm: link cached, connections open
		b.Fatal(err)
	}
	b.SetBytes(proxySize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n, err := get(client, ""); n != proxySize || err != nil {
			b.Fatalf("short body: %d, %v", n, err)
		}
	}
}

// BenchmarkProxyRange fetches random 1 MiB ranges in parallel, as a seeking
// player or a download manager does.
func BenchmarkProxyRange(b *testing.B) {
	client := proxyClient(b)
	if _, err := get(client, "bytes=0-0"); err != nil {
		b.Fatal(err)
	}
	const n = 1 << 20
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			off := rand.Int64N(proxySize - n)
			if got, err := get(client, fmt.Sprintf("bytes=%d-%d", off, off+n-1)); got != n || err != nil {
				b.Errorf("short range: %d, %v", got, err)
				return
			}
		}
	})
}
