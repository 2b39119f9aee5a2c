package streamer_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// TestOpenLivePhotoRedirectsToTheMovie: a .livp on the open driver plays
// its mov part (spec §13.8): the 302 leads to the movie.
func TestOpenLivePhotoRedirectsToTheMovie(t *testing.T) {
	env := newEnvFor(t, "open", alifake.Options{}, streamer.Config{})
	mov := "....ftypqt  the movie part"
	env.fake.AddLivePhoto("/Photos/IMG_0001.livp", []byte("\xff\xd8the still"), []byte(mov))
	r := env.do(t, http.MethodGet, "/Photos/IMG_0001.livp")
	if r.status != http.StatusFound {
		t.Fatalf("unexpected answer for a live photo; got %d %q; want 302", r.status, r.body)
	}
	if got := env.follow(t, r.header.Get("Location")); got.status != http.StatusOK || got.body != mov {
		t.Fatalf("unexpected content behind the redirect; got %d %q; want the mov part", got.status, got.body)
	}
}

// curlAnswer is what curl saw: the status, the headers and the body.
type curlAnswer struct {
	status int
	header http.Header
	body   []byte
}

// curlDo runs the real curl on u (HEAD with -I) with args and returns what
// it got, headers parsed from its -D dump (with -I, curl writes them as the
// body too).
func curlDo(t *testing.T, u string, args ...string) curlAnswer {
	t.Helper()
	bin := streamertest.NeedTool(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	hdr, body := filepath.Join(dir, "h"), filepath.Join(dir, "b")
	full := append([]string{"-s", "-D", hdr, "-o", body, "-w", "%{http_code}"}, args...)
	out, err := exec.CommandContext(ctx, bin, append(full, u)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	var a curlAnswer
	if _, err := fmt.Sscan(string(out), &a.status); err != nil {
		t.Fatalf("curl %v printed %q", args, out)
	}
	raw, _ := os.ReadFile(hdr)
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	if _, err := tp.ReadLine(); err != nil { // the status line
		t.Fatalf("curl %v: no headers: %v", args, err)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil && len(mh) == 0 {
		t.Fatalf("curl %v: bad headers %q: %v", args, raw, err)
	}
	a.header = http.Header(mh)
	a.body, _ = os.ReadFile(body)
	return a
}

// livePhoto adds a live photo whose still is larger than its movie, as on
// a phone, so that the container's size (the listing's) and the movie's
// differ by more than the zip's overhead. It returns the movie.
func livePhoto(t *testing.T, fake *alifake.Fake, p string, mov []byte) []byte {
	t.Helper()
	still := append([]byte("\xff\xd8"), testContent(3*len(mov))...)
	fake.AddLivePhoto(p, still, mov)
	return mov
}

// TestOpenLivePhotoProxiesTheMovie: in proxy mode a .livp on the open
// driver serves its mov part, as the redirect does, with the movie's size
// everywhere (the listing only knows the container's): whole GET, ranges
// judged against the movie (the end clamped to it, 416 past it even within
// the container's size), HEAD, If-Range; each GET costs one CDN request.
// The CDN's out-of-range answers differ: RFC 9110's 416 and clamped end
// (the fake's default, OSS with x-oss-range-behavior: standard), or OSS's
// default of the whole object with 200 (OSSRanges); both are met.
func TestOpenLivePhotoProxiesTheMovie(t *testing.T) {
	t.Run("rfc", func(t *testing.T) { proxiesTheMovie(t, alifake.Options{}) })
	t.Run("oss", func(t *testing.T) { proxiesTheMovie(t, alifake.Options{OSSRanges: true}) })
}

func proxiesTheMovie(t *testing.T, opts alifake.Options) {
	env := proxyEnvFor(t, "open", opts, streamer.Config{})
	mov := livePhoto(t, env.fake, "/Photos/IMG_0001.livp", testContent(70_000))
	n := len(mov)
	u := serveTCP(t, env) + "/Photos/IMG_0001.livp"

	cdn := env.fake.Calls(alifake.EndpointCDN)
	r := curlDo(t, u)
	if r.status != http.StatusOK || !bytes.Equal(r.body, mov) || r.header.Get("Content-Length") != fmt.Sprint(n) {
		t.Fatalf("unexpected whole GET; got %d, %d bytes, Content-Length %q; want 200 with the %d bytes of the movie",
			r.status, len(r.body), r.header.Get("Content-Length"), n)
	}
	if got := env.fake.Calls(alifake.EndpointCDN) - cdn; got != 1 {
		t.Fatalf("unexpected CDN requests for a whole GET; got %d; want 1", got)
	}
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "video/quicktime" || !strings.Contains(cd, `filename="IMG_0001.mov"`) {
		t.Fatalf("unexpected type of the movie; got %q, %q; want video/quicktime named IMG_0001.mov", ct, cd)
	}
	etag := r.header.Get("ETag")

	for _, c := range []struct {
		rng        string
		start, end int // inclusive
		requests   int // to the CDN
	}{
		{"bytes=100-199", 100, 199, 1},
		{"bytes=0-", 0, n - 1, 1},
		{fmt.Sprintf("bytes=%d-", n-1000), n - 1000, n - 1, 1},
		{fmt.Sprintf("bytes=%d-%d", n-10, 2*n), n - 10, n - 1, 1}, // clamped to the movie
		{"bytes=-500", n - 500, n - 1, 2},                         // a suffix needs the size first
	} {
		cdn := env.fake.Calls(alifake.EndpointCDN)
		r := curlDo(t, u, "-H", "Range: "+c.rng)
		want := fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, n)
		if r.status != http.StatusPartialContent || r.header.Get("Content-Range") != want || !bytes.Equal(r.body, mov[c.start:c.end+1]) {
			t.Fatalf("%s: unexpected answer; got %d %q, %d bytes; want 206 %q", c.rng, r.status, r.header.Get("Content-Range"), len(r.body), want)
		}
		if got := env.fake.Calls(alifake.EndpointCDN) - cdn; got != c.requests {
			t.Fatalf("%s: unexpected CDN requests; got %d; want %d", c.rng, got, c.requests)
		}
	}

	// Past the movie's end, though within the container's size: 416.
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+10, n+20)} {
		r := curlDo(t, u, "-H", "Range: "+rng)
		if want := fmt.Sprintf("bytes */%d", n); r.status != http.StatusRequestedRangeNotSatisfiable || r.header.Get("Content-Range") != want {
			t.Fatalf("%s: unexpected answer; got %d %q; want 416 %q", rng, r.status, r.header.Get("Content-Range"), want)
		}
	}

	cdn = env.fake.Calls(alifake.EndpointCDN)
	h := curlDo(t, u, "-I")
	if h.status != http.StatusOK || h.header.Get("Content-Length") != fmt.Sprint(n) || h.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("unexpected HEAD; got %d %v", h.status, h.header)
	}
	// A HEAD asks the CDN for one byte, for the size.
	reqs := env.fake.Requests()
	if got := env.fake.Calls(alifake.EndpointCDN) - cdn; got != 1 || reqs[len(reqs)-1].Header.Get("Range") != "bytes=0-0" {
		t.Fatalf("unexpected CDN requests for a HEAD; got %d, the last for %q; want 1 for bytes=0-0", got, reqs[len(reqs)-1].Header.Get("Range"))
	}
	h = curlDo(t, u, "-I", "-H", "Range: bytes=10-19")
	if h.status != http.StatusPartialContent || h.header.Get("Content-Length") != "10" || h.header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", n) {
		t.Fatalf("unexpected ranged HEAD; got %d %v", h.status, h.header)
	}

	// If-Range with the ETag the GET gave keeps the range; another drops it.
	if r := curlDo(t, u, "-H", "Range: bytes=5-9", "-H", "If-Range: "+etag); r.status != http.StatusPartialContent || !bytes.Equal(r.body, mov[5:10]) {
		t.Fatalf("unexpected answer to a matching If-Range; got %d %q", r.status, r.body)
	}
	if r := curlDo(t, u, "-H", "Range: bytes=5-9", "-H", `If-Range: "other"`); r.status != http.StatusOK || !bytes.Equal(r.body, mov) {
		t.Fatalf("unexpected answer to a stale If-Range; got %d, %d bytes; want 200 with the movie", r.status, len(r.body))
	}
}

// TestLivePhotoProxyCostsNothingElse: the look at a live photo's link comes
// only for a .livp: in the same proxy a plain file's HEAD still touches
// neither the drive's link call nor the CDN, and its GET asks the CDN once.
// On the legacy driver, which links the container itself, a .livp is
// proxied as the container, by the listing's size.
func TestLivePhotoProxyCostsNothingElse(t *testing.T) {
	env := proxyEnvFor(t, "open", alifake.Options{}, streamer.Config{})
	plain := testContent(5000)
	env.fake.AddFile("/Photos/a.jpg", plain)
	livePhoto(t, env.fake, "/Photos/IMG_0001.livp", testContent(7000))
	u := serveTCP(t, env)
	links, cdn := env.fake.Calls(env.ep().Link), env.fake.Calls(alifake.EndpointCDN)
	if h := curlDo(t, u+"/Photos/a.jpg", "-I"); h.status != http.StatusOK || h.header.Get("Content-Length") != "5000" {
		t.Fatalf("unexpected HEAD of a plain file; got %d %v", h.status, h.header)
	}
	if l, c := env.fake.Calls(env.ep().Link)-links, env.fake.Calls(alifake.EndpointCDN)-cdn; l != 0 || c != 0 {
		t.Fatalf("a plain file's HEAD asked for %d links and %d CDN requests; want none", l, c)
	}
	if r := curlDo(t, u+"/Photos/a.jpg"); r.status != http.StatusOK || !bytes.Equal(r.body, plain) {
		t.Fatalf("unexpected GET of a plain file; got %d, %d bytes", r.status, len(r.body))
	}
	if c := env.fake.Calls(alifake.EndpointCDN) - cdn; c != 1 {
		t.Fatalf("a plain file's GET made %d CDN requests; want 1", c)
	}

	legacy := proxyEnvFor(t, "drive", alifake.Options{}, streamer.Config{})
	livePhoto(t, legacy.fake, "/Photos/IMG_0001.livp", testContent(7000))
	zip, err := legacy.fake.ReadFile("/Photos/IMG_0001.livp")
	if err != nil {
		t.Fatal(err)
	}
	lu := serveTCP(t, legacy) + "/Photos/IMG_0001.livp"
	if r := curlDo(t, lu); r.status != http.StatusOK || !bytes.Equal(r.body, zip) || r.header.Get("Content-Length") != fmt.Sprint(len(zip)) {
		t.Fatalf("unexpected GET of a legacy live photo; got %d, %d bytes; want the %d-byte container", r.status, len(r.body), len(zip))
	}
	if r := curlDo(t, lu, "-H", "Range: bytes=10-19"); r.status != http.StatusPartialContent || !bytes.Equal(r.body, zip[10:20]) ||
		r.header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(zip)) {
		t.Fatalf("unexpected range of a legacy live photo; got %d %q", r.status, r.header.Get("Content-Range"))
	}
}

// TestFFprobeLivePhotoThroughProxy probes a live photo whose movie is a
// real QuickTime file made by ffmpeg, through the proxy: its index (moov)
// sits at the end, so ffprobe seeks with Range, each seek judged against
// the movie's size.
func TestFFprobeLivePhotoThroughProxy(t *testing.T) {
	ffprobe := streamertest.NeedTool(t, "ffprobe")
	mov := streamertest.MovClip(t)
	env := proxyEnvFor(t, "open", alifake.Options{}, streamer.Config{})
	livePhoto(t, env.fake, "/Photos/IMG_0002.livp", mov)
	got := ffprobeProxy(t, env, ffprobe, serveTCP(t, env)+"/Photos/IMG_0002.livp")
	if got.codecs != "mpeg4,aac" || got.duration < 1.9 || got.duration > 2.2 || got.size != fmt.Sprint(len(mov)) || got.brand != "qt" {
		t.Fatalf("unexpected probe: codecs %v, duration %v, size %s (want %d), brand %q", got.codecs, got.duration, got.size, len(mov), got.brand)
	}
	if got.seeks == 0 {
		t.Fatalf("ffprobe never sought into the movie; the test proves less than it should")
	}
}

// TestLivePhotoThroughOtherDoors: AList's /p and a WebDAV GET in proxy mode
// serve a live photo's movie as alilink's own proxy does; WebDAV's HEAD,
// always answered by the proxy, says the movie's size.
func TestLivePhotoThroughOtherDoors(t *testing.T) {
	e := newAListEnv(t, "open", streamer.ModeRedirect, func(c *streamer.Config) { c.DAV.Mode = streamer.ModeProxy })
	const p = "/Photos/IMG_0001.livp"
	mov := livePhoto(t, e.fake, p, testContent(40_000))
	n := len(mov)
	for _, door := range []struct {
		name string
		url  string
		args []string
	}{
		{"AList /p", e.base + "/p" + p + "?sign=" + e.srv.Signer().Sign(p, time.Time{}), nil},
		{"WebDAV", e.base + "/dav" + p, []string{"-u", "writer:writer-pass"}},
	} {
		if r := curlDo(t, door.url, door.args...); r.status != http.StatusOK || !bytes.Equal(r.body, mov) {
			t.Fatalf("%s: unexpected GET; got %d, %d bytes; want 200 with the %d bytes of the movie", door.name, r.status, len(r.body), n)
		}
		r := curlDo(t, door.url, append(door.args, "-H", "Range: bytes=1000-")...)
		if want := fmt.Sprintf("bytes 1000-%d/%d", n-1, n); r.status != http.StatusPartialContent || r.header.Get("Content-Range") != want || !bytes.Equal(r.body, mov[1000:]) {
			t.Fatalf("%s: unexpected range; got %d %q; want 206 %q", door.name, r.status, r.header.Get("Content-Range"), want)
		}
		if h := curlDo(t, door.url, append(door.args, "-I")...); h.status != http.StatusOK || h.header.Get("Content-Length") != fmt.Sprint(n) {
			t.Fatalf("%s: unexpected HEAD; got %d %v", door.name, h.status, h.header)
		}
	}
}

// TestLivePhotoAccelNamesTheMovie: accel mode hands the front server the
// movie's link and describes the movie, not the container.
func TestLivePhotoAccelNamesTheMovie(t *testing.T) {
	env := newEnvFor(t, "open", alifake.Options{}, streamer.Config{Mode: streamer.ModeAccel})
	livePhoto(t, env.fake, "/Photos/IMG_0001.livp", testContent(1000))
	r := env.do(t, http.MethodGet, "/Photos/IMG_0001.livp")
	if r.status != http.StatusOK || r.header.Get("X-Accel-Redirect") == "" || r.header.Get("Content-Type") != "video/quicktime" ||
		!strings.Contains(r.header.Get("Content-Disposition"), `filename="IMG_0001.mov"`) {
		t.Fatalf("unexpected accel answer; got %d %v", r.status, r.header)
	}
	if got := env.follow(t, r.header.Get(streamer.HeaderAccelURL)); got.status != http.StatusOK || got.body != string(testContent(1000)) {
		t.Fatalf("unexpected content behind the accel link; got %d, %d bytes", got.status, len(got.body))
	}
}

// TestLivePhotoProxyResumes: a movie's stream mends as any other: a link
// the CDN refuses on the first request is renewed, and a cut body resumes
// at the byte it reached, judged against the movie's size.
func TestLivePhotoProxyResumes(t *testing.T) {
	env := proxyEnvFor(t, "open", alifake.Options{}, streamer.Config{})
	mov := livePhoto(t, env.fake, "/Photos/IMG_0001.livp", testContent(300_000))
	u := serveTCP(t, env) + "/Photos/IMG_0001.livp"
	env.fake.FailNext(alifake.EndpointCDN, 1, alifake.Fault{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Request has expired."})
	env.fake.CutCDNAfter(50_000, 2)
	links, cdn := env.fake.Calls(env.ep().Link), env.fake.Calls(alifake.EndpointCDN)
	r := curlDo(t, u, "-H", "Range: bytes=1000-")
	if want := fmt.Sprintf("bytes 1000-%d/%d", len(mov)-1, len(mov)); r.status != http.StatusPartialContent ||
		r.header.Get("Content-Range") != want || !bytes.Equal(r.body, mov[1000:]) {
		t.Fatalf("unexpected answer after a refusal and two cuts; got %d %q, %d bytes; want 206 %q", r.status, r.header.Get("Content-Range"), len(r.body), want)
	}
	if l, c := env.fake.Calls(env.ep().Link)-links, env.fake.Calls(alifake.EndpointCDN)-cdn; l != 2 || c != 4 {
		t.Fatalf("unexpected calls; got %d links and %d CDN requests; want 2 (the look and the renewal) and 4", l, c)
	}
}
