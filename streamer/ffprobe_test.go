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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := proxyEnv(t, alifake.Options{}, streamer.Config{})
	env.fake.AddFile("/Clips/a clip #1.mp4", data)
	base := serveTCP(t, env)

	probe := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name",
		"-of", "json", base+"/Clips/a%20clip%20%231.mp4")
	out, err := probe.Output()
	if err != nil {
		t.Fatalf("ffprobe failed through the proxy: %v\n%s", err, out)
	}
	var got struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("unexpected ffprobe output %s: %v", out, err)
	}
	var codecs []string
	for _, s := range got.Streams {
		codecs = append(codecs, s.CodecName)
	}
	d, _ := strconv.ParseFloat(got.Format.Duration, 64)
	if strings.Join(codecs, ",") != "mpeg4,aac" || d < 1.9 || d > 2.2 {
		t.Fatalf("unexpected probe: codecs %v, duration %v", codecs, d)
	}
	seeks := 0
	for _, r := range env.fake.Requests() {
		if r.Endpoint == "cdn" && !strings.HasPrefix(r.Header.Get("Range"), "bytes=0-") {
			seeks++
		}
	}
	if seeks == 0 {
		t.Fatalf("ffprobe never sought into the file; the test proves less than it should")
	}
}
