package streamer

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkIndexPage renders the index of a folder of 1,000 files (the rows
// and the page around them), as serveIndex does after the cached listing.
func BenchmarkIndexPage(b *testing.B) {
	page := indexPage{Path: "/Big/", Root: "../"}
	for i := range 1000 {
		n := fmt.Sprintf("Episode %04d: a name & more.mkv", i)
		page.Rows = append(page.Rows, indexRow{Name: n, Href: relName(n, false), Kind: "video", Size: 123456789,
			Human: "117.7 MiB", Date: "01-Dec-2026 10:00", Unix: 1796160000, Play: "../-/play/Big/?file=" + hrefEscape(n)})
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		page.RowsHTML = rowsHTML(page.Rows)
		if err := pages().ExecuteTemplate(&buf, "index.html", page); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
