package streamer

import (
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestSubtitleConversion(t *testing.T) {
	f := func(name string, conv func([]byte) []byte, in, want string) {
		t.Helper()
		if got := string(conv([]byte(in))); got != want {
			t.Fatalf("%s: unexpected WebVTT\n%q\nwant\n%q", name, got, want)
		}
	}
	f("srt", srtToVTT, "\ufeff1\r\n00:00:01,5 --> 0:00:02,250\r\nHello\r\n\r\n2\r\n01:02:03,004 --> 01:02:04,000\r\n<i>Bye</i>\r\n",
		"WEBVTT\n\n1\n00:00:01.500 --> 00:00:02.250\nHello\n\n2\n01:02:03.004 --> 01:02:04.000\n<i>Bye</i>\n")
	f("srt with text that looks like a time", srtToVTT, "1\n00:00:01,000 --> 00:00:02,000\nat 00:00:01,000 sharp\n",
		"WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nat 00:00:01,000 sharp\n")
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("1\n00:00:01,000 --> 00:00:02,000\n你好，世界\n")
	f("srt in GBK", srtToVTT, gbk, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n你好，世界\n")
	f("utf-16", vttText, "\xff\xfeW\x00E\x00B\x00V\x00T\x00T\x00\n\x00", "WEBVTT\n")
	f("vtt without a header", vttText, "00:01.000 --> 00:02.000\nx\n", "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n")
	ass := "[Script Info]\nTitle: x\n\n[V4+ Styles]\nFormat: Name, Fontname\nStyle: Default,Arial\n\n[Events]\n" +
		"Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" +
		"Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,not shown\n" +
		"Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\pos(10,10)}One, two\\Nthree & <four>\n" +
		"Dialogue: 0,1:02:03.4,1:02:04.00,Default,,0,0,0,,{\\k20}\n" +
		"Dialogue: 0,bad,0:00:04.00,Default,,0,0,0,,dropped\n"
	f("ass", assToVTT, ass, "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nOne, two\nthree &amp; &lt;four&gt;\n\n")
	f("ssa with its own field order", assToVTT, "[Events]\nFormat: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: Marked=0,0:00:05.10,0:00:06.00,*Default,NTP,0000,0000,0000,,Hi\n",
		"WEBVTT\n\n00:00:05.100 --> 00:00:06.000\nHi\n\n")
}
