package streamer_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/streamertest"
)

// serveTCP serves env's alilink on a loopback port too, for programs that
// cannot use the in-memory listener.
func serveTCP(t *testing.T, env *testEnv) string {
	t.Helper()
	return "http://" + streamertest.ServeTCP(t, env.srv)
}

// TestFFprobeThroughProxy probes a small real video through the proxy. Its
// index (moov) sits at the end of the file, so ffprobe must seek with Range.
func TestFFprobeThroughProxy(t *testing.T) {
	ffprobe := streamertest.NeedTool(t, "ffprobe")
	data := streamertest.Clip(t)
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/Clips/a clip #1.mp4", data)
	base := serveTCP(t, env)

	got := ffprobeProxy(t, env, ffprobe, base+"/Clips/a%20clip%20%231.mp4")
	if got.codecs != "mpeg4,aac" || got.duration < 1.9 || got.duration > 2.2 {
		t.Fatalf("unexpected probe: codecs %v, duration %v", got.codecs, got.duration)
	}
	if got.seeks == 0 {
		t.Fatalf("ffprobe never sought into the file; the test proves less than it should")
	}
}

// probed is what ffprobeProxy read of a file through alilink.
type probed struct {
	codecs      string // the streams' codec names, comma-separated
	duration    float64
	size, brand string
	seeks       int // CDN requests that did not start at byte 0: ffprobe's seeks
}

// ffprobeProxy runs ffprobe on url (a file of env's alilink) and counts the
// seeks it made on env's CDN.
func ffprobeProxy(t *testing.T, env *testEnv, ffprobe, url string) probed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries",
		"format=duration,size:format_tags=major_brand:stream=codec_name", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe failed through the proxy: %v\n%s", err, out)
	}
	var got struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string            `json:"duration"`
			Size     string            `json:"size"`
			Tags     map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("unexpected ffprobe output %s: %v", out, err)
	}
	var codecs []string
	for _, s := range got.Streams {
		codecs = append(codecs, s.CodecName)
	}
	p := probed{codecs: strings.Join(codecs, ","), size: got.Format.Size, brand: strings.TrimSpace(got.Format.Tags["major_brand"])}
	p.duration, _ = strconv.ParseFloat(got.Format.Duration, 64)
	for _, r := range env.fake.Requests() {
		if r.Endpoint == alifake.EndpointCDN && !strings.HasPrefix(r.Header.Get("Range"), "bytes=0-") {
			p.seeks++
		}
	}
	return p
}
