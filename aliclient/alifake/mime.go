package alifake

// fileKind is what the service infers from a file extension.
type fileKind struct {
	category string // video, audio, image, doc or others (aligo's enum, §4.1)
	mime     string
}

// fileKinds maps lower-case extensions to their kind; anything else is
// "others". iso counts as video because the service files disc images there.
var fileKinds = map[string]fileKind{
	"mkv":  {"video", "video/x-matroska"},
	"mp4":  {"video", "video/mp4"},
	"avi":  {"video", "video/x-msvideo"},
	"mov":  {"video", "video/quicktime"},
	"ts":   {"video", "video/mp2t"},
	"m2ts": {"video", "video/mp2t"},
	"webm": {"video", "video/webm"},
	"flv":  {"video", "video/x-flv"},
	"wmv":  {"video", "video/x-ms-wmv"},
	"rmvb": {"video", "application/vnd.rn-realmedia-vbr"},
	"iso":  {"video", "application/x-iso9660-image"},
	"mp3":  {"audio", "audio/mpeg"},
	"flac": {"audio", "audio/flac"},
	"aac":  {"audio", "audio/aac"},
	"m4a":  {"audio", "audio/mp4"},
	"wav":  {"audio", "audio/wav"},
	"ogg":  {"audio", "audio/ogg"},
	"ape":  {"audio", "audio/ape"},
	"jpg":  {"image", "image/jpeg"},
	"jpeg": {"image", "image/jpeg"},
	"png":  {"image", "image/png"},
	"gif":  {"image", "image/gif"},
	"webp": {"image", "image/webp"},
	"bmp":  {"image", "image/bmp"},
	"heic": {"image", "image/heic"},
	"pdf":  {"doc", "application/pdf"},
	"txt":  {"doc", "text/plain"},
	"md":   {"doc", "text/markdown"},
	"doc":  {"doc", "application/msword"},
	"docx": {"doc", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	"xls":  {"doc", "application/vnd.ms-excel"},
	"xlsx": {"doc", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	"ppt":  {"doc", "application/vnd.ms-powerpoint"},
	"pptx": {"doc", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	"epub": {"doc", "application/epub+zip"},
	"srt":  {"doc", "text/plain"},
	"ass":  {"doc", "text/plain"},
}

// typeOf returns the kind of a lower-case extension without the dot.
func typeOf(ext string) fileKind {
	if k, ok := fileKinds[ext]; ok {
		return k
	}
	return fileKind{category: "others", mime: "application/octet-stream"}
}
