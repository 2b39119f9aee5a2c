package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

const davToken = "bench-admin-token-0123456789"

// procKiB reads a field of /proc/self/status in KiB (0 where there is none).
func procKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeak makes VmHWM start again from the current RSS (Linux ≥ 4.0).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// propfind sends one PROPFIND Depth 1 and reads the streamed answer away.
func propfind(c *fasthttp.HostClient, path string) (int64, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://alilink" + path)
	req.Header.SetMethod("PROPFIND")
	req.Header.Set("Depth", "1")
	req.Header.Set("Authorization", "Bearer "+davToken)
	if err := c.DoTimeout(req, resp, time.Minute); err != nil {
		return 0, err
	}
	if resp.StatusCode() != 207 {
		return 0, fmt.Errorf("status %d", resp.StatusCode())
	}
	var n int64
	var err error
	if s := resp.BodyStream(); s != nil {
		n, err = io.Copy(io.Discard, s)
	} else {
		n = int64(len(resp.Body()))
	}
	return n, err
}

// BenchmarkDAVPropfind5000 is a PROPFIND Depth 1 of a 5,000-file folder:
// once cold (the listing walk, all 25 pages) and then warm (from the
// caches) in the loop. It reports the peak RSS growth of each (VmHWM after
// minus VmRSS before, the whole process: server, fake drive and client) and
// the answer's size, which the server streams rather than buffers.
func BenchmarkDAVPropfind5000(b *testing.B) {
	fake, c := aliclienttest.Start(b, alifake.Options{}, nil)
	const n = 5000
	for i := range n {
		fake.AddFile(fmt.Sprintf("/big/Episode %04d - a longish title to be realistic.mkv", i), bytes.Repeat([]byte{'x'}, i%7))
	}
	res, err := resolver.New(resolver.DefaultConfig(), c, resolver.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := streamer.DefaultConfig()
	cfg.AccessLog = false
	cfg.AdminToken = davToken
	srv, err := streamer.New(cfg, res, streamer.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	client := serveInMemory(b, srv, true)

	before := procKiB("VmRSS")
	resetPeak()
	size, err := propfind(client, "/dav/big/")
	if err != nil {
		b.Fatal(err)
	}
	cold := procKiB("VmHWM") - before
	b.ReportAllocs()
	before = procKiB("VmRSS")
	resetPeak()
	for b.Loop() {
		if _, err := propfind(client, "/dav/big/"); err != nil {
			b.Fatal(err)
		}
	}
	warm := procKiB("VmHWM") - before
	b.ReportMetric(float64(size)/(1<<20), "MiB-answer")
	b.ReportMetric(float64(cold)/1024, "MiB-peakRSS-cold")
	b.ReportMetric(float64(warm)/1024, "MiB-peakRSS-warm")
}
