package streamer

import (
	"bytes"
	"context"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/alilink/alilink/resolver"
)

// maxSubtitle bounds a subtitle file read into memory for conversion.
const maxSubtitle = 8 << 20

// serveSubtitle answers a .srt, .vtt, .ass or .ssa file as WebVTT, the only
// format browsers' <track> reads: SubRip is converted (its timestamps use a
// comma), ASS/SSA is reduced to its dialogue text (styles, positions and
// karaoke are dropped), WebVTT passes through.
func (s *Server) serveSubtitle(ctx *fasthttp.RequestCtx, dc context.Context, it resolver.Item) {
	ext := strings.ToLower(path.Ext(it.Name))
	if !subtitleExts[ext] {
		s.writeError(ctx, errNotSubtitle)
		return
	}
	if it.Size > maxSubtitle {
		s.writeError(ctx, errSubtitleTooBig)
		return
	}
	var raw []byte
	if it.Size > 0 {
		l, err := s.res.Link(dc, it)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		// Not the RequestCtx: the CDN request's goroutines may outlive the
		// handler by a moment, and fasthttp reuses the RequestCtx after it.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		up, err := s.cdn.open(cctx, l, byteRange{0, it.Size - 1}, it.Size)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		raw, err = io.ReadAll(io.LimitReader(up.body, maxSubtitle))
		_ = up.body.Close()
		if err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	var out []byte
	switch ext {
	case ".srt":
		out = srtToVTT(raw)
	case ".vtt":
		out = vttText(raw)
	default:
		out = assToVTT(raw)
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.SetContentType("text/vtt; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(out)
}

// subtitleText is b as UTF-8 text with "\n" line ends. UTF-8 (with or
// without a BOM) and UTF-16 with a BOM are read as such; anything else is
// taken for GB18030 (which covers GBK and GB2312, the usual encodings of
// Chinese subtitles on a drive) when it decodes as that, else invalid bytes
// are replaced.
func subtitleText(b []byte) string {
	var s string
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		s = string(b[3:])
	case bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff")):
		if d, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(b); err == nil {
			s = string(d)
		}
	case utf8.Valid(b):
		s = string(b)
	default:
		if d, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b); err == nil && utf8.Valid(d) {
			s = string(d)
		} else {
			s = strings.ToValidUTF8(string(b), "\uFFFD")
		}
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// srtTiming is a SubRip timing line; WebVTT wants "." before the milliseconds
// and always the hours.
// Compiled on first use, as the other regexps here: nothing is built at start.
var srtTiming = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*(\d{1,2}):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{1,2}):(\d{1,2})[,.](\d{1,3})`)
})

func srtToVTT(b []byte) []byte {
	s := subtitleText(b)
	s = srtTiming().ReplaceAllStringFunc(s, func(m string) string {
		g := srtTiming().FindStringSubmatch(m)
		return pad(g[1], 2) + ":" + pad(g[2], 2) + ":" + pad(g[3], 2) + "." + padRight(g[4]) + " --> " +
			pad(g[5], 2) + ":" + pad(g[6], 2) + ":" + pad(g[7], 2) + "." + padRight(g[8])
	})
	return []byte("WEBVTT\n\n" + strings.TrimLeft(s, "\n"))
}

func vttText(b []byte) []byte {
	s := subtitleText(b)
	if !strings.HasPrefix(s, "WEBVTT") {
		s = "WEBVTT\n\n" + s
	}
	return []byte(s)
}

func pad(s string, n int) string { return strings.Repeat("0", max(0, n-len(s))) + s }

func padRight(s string) string { return (s + "000")[:3] }

var assOverride = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{[^}]*\}`) })

// assToVTT keeps the Dialogue lines of an ASS/SSA script: start, end and the
// text without override tags, in the order of the [Events] Format line.
func assToVTT(b []byte) []byte {
	var out strings.Builder
	out.WriteString("WEBVTT\n\n")
	start, end, text, fields := 1, 2, 9, 10 // the Format of ASS v4+ and SSA v4
	inEvents := false
	for line := range strings.SplitSeq(subtitleText(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "["):
			inEvents = strings.EqualFold(line, "[Events]")
		case !inEvents:
		case strings.HasPrefix(line, "Format:"):
			names := strings.Split(strings.TrimPrefix(line, "Format:"), ",")
			fields = len(names)
			for i, n := range names {
				switch strings.ToLower(strings.TrimSpace(n)) {
				case "start":
					start = i
				case "end":
					end = i
				case "text":
					text = i
				}
			}
		case strings.HasPrefix(line, "Dialogue:"):
			f := strings.SplitN(strings.TrimPrefix(line, "Dialogue:"), ",", fields)
			if len(f) < fields || text != fields-1 {
				continue
			}
			a, okA := assTime(f[start])
			z, okZ := assTime(f[end])
			t := assOverride().ReplaceAllString(f[text], "")
			t = strings.NewReplacer(`\N`, "\n", `\n`, "\n", `\h`, " ").Replace(t)
			t = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(strings.TrimSpace(t))
			if !okA || !okZ || t == "" {
				continue
			}
			out.WriteString(a + " --> " + z + "\n" + strings.ReplaceAll(t, "\n\n", "\n") + "\n\n")
		}
	}
	return []byte(out.String())
}

// assTime turns ASS's H:MM:SS.cc into WebVTT's HH:MM:SS.mmm.
func assTime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	hms := strings.Split(s, ":")
	if len(hms) != 3 {
		return "", false
	}
	sec, frac, _ := strings.Cut(hms[2], ".")
	if len(sec) != 2 || len(hms[1]) != 2 || len(hms[0]) == 0 || len(hms[0]) > 2 {
		return "", false
	}
	return pad(hms[0], 2) + ":" + hms[1] + ":" + sec + "." + padRight(frac), true
}
