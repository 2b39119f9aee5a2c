package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

const proxySize = 64 << 20

// proxyClient is alilink in proxy mode in front of the fake drive (its CDN on
// loopback TCP), reached through an in-memory listener by a streaming client.
func proxyClient(b *testing.B) *fasthttp.HostClient {
	b.Helper()
	fake, c := aliclienttest.Start(b, alifake.Options{}, nil)
	content := make([]byte, proxySize)
	for i := range content {
		content[i] = byte(i * 31)
	}
	fake.AddFile("/film.mkv", content)
	res, err := resolver.New(resolver.Config{
		RootFolderID: "root", PathCacheSize: 100, PathCacheTTL: time.Hour, ListCacheSize: 10,
		NegativeTTL: time.Second, LinkCacheSize: 100, LinkMargin: time.Minute, ResolveTimeout: 5 * time.Second,
	}, c, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := streamer.New(streamer.Config{Mode: streamer.ModeProxy, ReadyTimeout: time.Second,
		StreamIdleTimeout: 10 * time.Second, ResumeAttempts: 5}, res, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() { _ = hs.Shutdown(); _ = ln.Close(); srv.Close() })
	return &fasthttp.HostClient{
		Addr: "alilink", Dial: func(string) (net.Conn, error) { return ln.Dial() },
		StreamResponseBody: true, MaxConns: 64, ReadBufferSize: 64 << 10,
	}
}

// get fetches one response and discards its body, returning its length.
func get(client *fasthttp.HostClient, rng string) (int64, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://alilink/film.mkv")
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
