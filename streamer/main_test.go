package streamer_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: every
// stream, CDN request and server must be gone once its test is over.
// Two goroutines of fasthttp itself are exempt, both once per server or per
// process, never per request: the worker-pool cleaner, which after Shutdown
// sleeps out MaxIdleWorkerDuration (10 s) before it sees the stop, and the
// process-wide Date header updater.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}
