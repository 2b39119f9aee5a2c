package streamer

import (
	"context"

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
	c, cancel := context.WithCancel(context.Background())
	if done := ctx.Done(); done != nil {
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
