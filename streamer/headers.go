package streamer

import (
	"mime"
	"path"
	"strings"
)

// mediaTypes covers what media servers and players ask for. Go's built-in
// table (and /etc/mime.types, which a slim image lacks) knows few of them.
var mediaTypes = map[string]string{
	".mkv": "video/x-matroska", ".mk3d": "video/x-matroska", ".mka": "audio/x-matroska",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo",
	".ts": "video/mp2t", ".m2ts": "video/mp2t", ".mts": "video/mp2t", ".webm": "video/webm",
	".flv": "video/x-flv", ".wmv": "video/x-ms-wmv", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
	".rmvb": "application/vnd.rn-realmedia-vbr", ".iso": "application/x-iso9660-image",
	".mp3": "audio/mpeg", ".flac": "audio/flac", ".m4a": "audio/mp4", ".aac": "audio/aac",
	".ogg": "audio/ogg", ".opus": "audio/opus", ".wav": "audio/wav", ".dsf": "audio/x-dsf",
	".srt": "application/x-subrip", ".ass": "text/x-ssa", ".ssa": "text/x-ssa", ".vtt": "text/vtt",
	".sub": "text/plain", ".nfo": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".m3u8": "application/vnd.apple.mpegurl", ".strm": "text/plain; charset=utf-8",
}

const octetStream = "application/octet-stream"

// contentType picks the type from the file name, then the drive's mime_type,
// then the CDN's own answer (GET only), and octet-stream last.
func contentType(name, driveType, cdnType string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	for _, t := range [...]string{driveType, cdnType} {
		if t != "" && !strings.HasPrefix(t, octetStream) {
			return t
		}
	}
	return octetStream
}

// contentDisposition names the file for a browser or download manager
// (RFC 6266): an ASCII fallback in filename= and the exact name in
// filename*=UTF-8”…, inline so that browsers play media rather than save it.
func contentDisposition(name string) string {
	var b strings.Builder
	b.Grow(len(name)*2 + 40)
	b.WriteString(`inline; filename="`)
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r == 0x7f || r > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(`"; filename*=UTF-8''`)
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		if c := name[i]; isAttrChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// isAttrChar is RFC 8187's attr-char: what may stand unescaped in filename*.
func isAttrChar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
