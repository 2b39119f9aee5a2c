package strm

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressOnTerminal(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, tty: true}
	p.scan(3, 10)
	p.bar(5, 10)
	p.clear()
	p.bar(10, 10)
	p.done()
	out := b.String()
	for _, want := range []string{"\rscanning: 3 folders, 10 videos", "\rwriting  [===============               ] 5/10", "] 10/10\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
	var quiet bytes.Buffer
	q := newProgress(&quiet) // not a terminal
	q.scan(1, 1)
	q.bar(1, 1)
	q.done()
	if quiet.Len() != 0 {
		t.Fatalf("progress drawn on a non-terminal: %q", quiet.String())
	}
}
