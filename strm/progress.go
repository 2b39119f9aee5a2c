package strm

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progress draws a one-line progress display on a terminal and nothing
// otherwise (the caller prints a summary line either way).
type progress struct {
	w    io.Writer
	tty  bool
	last string
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty}
}

// scan shows the walk: folders listed and videos found so far.
func (p *progress) scan(folders, videos int) {
	p.show(fmt.Sprintf("scanning: %d folders, %d videos", folders, videos))
}

// bar shows writing done of total files.
func (p *progress) bar(done, total int) {
	const width = 30
	fill := width
	if total > 0 {
		fill = done * width / total
	}
	p.show(fmt.Sprintf("writing  [%s%s] %d/%d", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total))
}

func (p *progress) show(line string) {
	if !p.tty || line == p.last {
		return
	}
	pad := ""
	if n := len(p.last) - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.last = line
}

// clear wipes the line so a message can be printed.
func (p *progress) clear() {
	if p.tty && p.last != "" {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", len(p.last)))
		p.last = ""
	}
}

// done ends the line.
func (p *progress) done() {
	if p.tty && p.last != "" {
		fmt.Fprintln(p.w)
		p.last = ""
	}
}
