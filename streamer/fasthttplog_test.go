package streamer_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
)

// logSecrets are values a request may carry that must never reach the log.
var logSecrets = []string{"AUTHsecret0001", "COOKIEsecret02", "EMBYsecret0003", "SIGNsecret0004", "PROXYsecret005", "APIKEYsecret06"}

// secretHeaders carries every secret, in the headers and the query.
func secretHeaders() string {
	return "Authorization: Bearer AUTHsecret0001\r\nCookie: session=COOKIEsecret02\r\n" +
		"X-Emby-Token: EMBYsecret0003\r\nProxy-Authorization: Basic PROXYsecret005\r\nX-Api-Key: APIKEYsecret06\r\n"
}

// sendRaw writes b on a fresh connection to alilink and reads what comes
// back until the server closes or a second passes.
func sendRaw(t testing.TB, e *testEnv, b string) {
	c, err := e.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(c, b)
	_, _ = io.Copy(io.Discard, c)
}

func assertNoLoggedSecret(t testing.TB, e *testEnv, what string) {
	t.Helper()
	logs := e.logs.String()
	for _, s := range logSecrets {
		if strings.Contains(logs, s) {
			t.Fatalf("%s: the secret %s reached the log", what, s[:6])
		}
	}
}

// malformedRequests break fasthttp's parser in each way it reports, each with
// every secret on board.
var malformedRequests = map[string]string{
	"bad method":       "G\x00T /a.mkv?%73ign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "\r\n",
	"bad version":      "GET /a.mkv?sign=SIGNsecret0004 HTTP/9.9\r\nHost: a\r\n" + secretHeaders() + "\r\n",
	"no version":       "GET /a.mkv?%73ign=SIGNsecret0004\r\n" + secretHeaders() + "\r\n",
	"header no colon":  "GET /a.mkv?sign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "Broken header line\r\n\r\n",
	"bad header key":   "GET /a.mkv HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "Bad Key: SIGNsecret0004\r\n\r\n",
	"bad length":       "PUT /a.mkv?%73ign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\nContent-Length: x1\r\n" + secretHeaders() + "\r\n",
	"two lengths":      "PUT /a.mkv HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n" + secretHeaders() + "\r\nxx",
	"length and chunk": "PUT /a.mkv HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n" + secretHeaders() + "\r\n",
	"bad chunk":        "PUT /a.mkv HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n" + secretHeaders() + "\r\nzz\r\nSIGNsecret0004\r\n",
	"headers too big":  "GET /a.mkv?sign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "X-Pad: " + strings.Repeat("p", 9<<10) + "\r\n\r\n",
	"cut short":        "GET /a.mkv?sign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\n" + secretHeaders(),
	"bad uri":          "GET a.mkv?sign=SIGNsecret0004 HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "\r\n",
	"nul in header":    "GET / HTTP/1.1\r\nHost: a\r\n" + secretHeaders() + "X-A: \x00SIGNsecret0004\r\n\r\n",
	"absolute uri":     "GET http://a/a.mkv?%73ign=SIGNsecret0004 HTTP/1.1\r\nHost: \x01\r\n" + secretHeaders() + "\r\n",
}

// TestFasthttpLogsNoSecrets: each way of breaking fasthttp's parser makes it
// log (the test checks that it did), and none of the secrets gets through.
func TestFasthttpLogsNoSecrets(t *testing.T) {
	e := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeProxy})
	logged := 0
	for name, req := range malformedRequests {
		before := strings.Count(e.logs.String(), "component=fasthttp")
		sendRaw(t, e, req)
		assertNoLoggedSecret(t, e, name)
		if strings.Count(e.logs.String(), "component=fasthttp") > before {
			logged++
		}
	}
	if logged < len(malformedRequests)/2 {
		t.Fatalf("only %d of %d malformed requests made fasthttp log: the test tests little", logged, len(malformedRequests))
	}
}

// FuzzFasthttpLog feeds the real server malformed requests with every secret
// in the headers and the query; none may reach the log. The seeds run as a
// normal test.
func FuzzFasthttpLog(f *testing.F) {
	for _, req := range malformedRequests {
		f.Add([]byte(req))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e := newEnv(t, alifake.Options{}, streamer.Config{Mode: streamer.ModeProxy})
		// The input as it is, and with the secrets added behind it.
		sendRaw(t, e, string(in))
		sendRaw(t, e, string(in)+"\r\n"+secretHeaders()+"X-Q: ?sign=SIGNsecret0004\r\n\r\n")
		assertNoLoggedSecret(t, e, "fuzzed request")
	})
}
