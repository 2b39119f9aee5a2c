package streamer

import (
	"context"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// requestContext is a context for the drive calls of one request. A
// *fasthttp.RequestCtx must not be the context itself: net/http's dialer
// goroutines can outlive the call that started them and then read the
// context's values, racing fasthttp's reset of the request (seen under
// -race in TestUploadRace). This one holds nothing of the request, is
// cancelled when the server shuts down (ctx.Done), and by the returned
// cancel, which the handler calls before it returns.
func requestContext(ctx *fasthttp.RequestCtx) (context.Context, context.CancelFunc) {
	return detachedContext(ctx.Done())
}

// detachedContext is requestContext's context, cancelled when done closes.
func detachedContext(done <-chan struct{}) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.Background())
	if done != nil {
		go func() {
			select {
			case <-done:
				cancel()
			case <-c.Done():
			}
		}()
	}
	return c, cancel
}

// driveCtx is requestContext made only when a drive call asks its context
// for anything: the context of the drive calls a GET makes. A cache hit
// asks nothing of it (the redirect hot path), so a request served from the
// caches costs a pooled driveCtx and no allocation; a miss detaches as
// requestContext does.
type driveCtx struct {
	done <-chan struct{} // fasthttp's ctx.Done: the server shutting down

	mu     sync.Mutex
	c      context.Context // nil until a drive call asked
	cancel context.CancelFunc
}

var driveCtxs = sync.Pool{New: func() any { return new(driveCtx) }}

var _ context.Context = (*driveCtx)(nil)

// acquireDriveCtx is a driveCtx for one request; release it before the
// handler returns.
func acquireDriveCtx(ctx *fasthttp.RequestCtx) *driveCtx {
	d := driveCtxs.Get().(*driveCtx) // nothing else holds one from the pool
	d.done = ctx.Done()
	return d
}

func (d *driveCtx) detached() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		d.c, d.cancel = detachedContext(d.done)
	}
	return d.c
}

// Deadline implements context.Context.
func (d *driveCtx) Deadline() (time.Time, bool) { return d.detached().Deadline() }

// Done implements context.Context.
func (d *driveCtx) Done() <-chan struct{} { return d.detached().Done() }

// Err implements context.Context.
func (d *driveCtx) Err() error { return d.detached().Err() }

// Value implements context.Context: it holds no values of its own. Once
// detached it answers as its detached context, so that a context derived
// from it (a drive call's timeout) registers with that one's cancellation
// instead of starting a goroutine to watch Done.
func (d *driveCtx) Value(key any) any {
	d.mu.Lock()
	c := d.c
	d.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Value(key)
}

// release cancels what the request's drive calls left running. A driveCtx
// a drive call detached may still be held by that call's goroutines, which
// then see it cancelled: it is left to the garbage collector. One nothing
// asked goes back to the pool.
func (d *driveCtx) release() {
	d.mu.Lock()
	cancel := d.cancel
	d.done = nil
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		return
	}
	driveCtxs.Put(d)
}
