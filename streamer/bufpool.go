package streamer

import "sync"

// bufPool hands out buffers of one fixed size, so a stream's memory is bounded
// by its buffer whatever the size of the body it copies.
type bufPool struct {
	size int
	pool sync.Pool
}

// The two buffer sizes of the copy loop: a stream starts small (most of the
// time a player reads slowly, and 200 slow streams must fit in a few MiB) and
// moves to the large size when the CDN fills a small buffer in one read.
var (
	smallBuffers = &bufPool{size: 16 << 10}
	largeBuffers = &bufPool{size: 256 << 10}
)

func (b *bufPool) get() *[]byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return p
	}
	buf := make([]byte, b.size)
	return &buf
}

func (b *bufPool) put(p *[]byte) { b.pool.Put(p) }
