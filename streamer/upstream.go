package streamer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alilink/alilink/resolver"
)

// cdnUserAgent is the fixed User-Agent of CDN requests: a desktop browser, as
// aliyundrive-webdav sends (spec §5.3); the client's own is never forwarded.
const cdnUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

// Upstream failure kinds, told apart because they are mended differently.
var (
	// errLinkRefused: the CDN refused the URL (403: expired, Referer, signature);
	// a fresh link from the drive is the cure.
	errLinkRefused = errors.New("CDN refused the link")
	// errCDNBusy: the CDN said 429/503; the client should come back later.
	errCDNBusy = errors.New("CDN busy")
	// errCDN: any other failure of the CDN (5xx, dial, reset, timeout, a
	// malformed answer): retry with backoff.
	errCDN = errors.New("CDN failed")
	// errChanged: the CDN serves a different object than the drive described
	// (size or ETag differ): never splice two files together.
	errChanged = errors.New("the file changed on the drive")
)

// cdnClient fetches byte ranges of download links.
type cdnClient struct {
	http *http.Client
}

// newCDNClient keeps a pool of connections to the CDN hosts: HTTP/1.1 only, so
// that each stream is its own TCP connection (a cut stays one stream's
// problem); no transparent gzip; an idle read longer than idle fails the read
// instead of holding a stream forever. OSS drops idle connections after 60 s
// (spec §5.3), so ours go at 50 s.
func newCDNClient(idle time.Duration) *cdnClient {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: idle}, nil
		},
		// Resume TLS sessions: a new connection to a CDN host (after an idle
		// close, or a burst above the idle pool) then skips the full
		// handshake's signature check and key exchange. Go caches none
		// unless asked.
		TLSClientConfig:       &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(0)},
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       50 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		DisableCompression:    true,
		// Body reads of at least this size bypass the transport's buffer and
		// go straight into the copy loop's, so it only ever holds headers.
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 2 << 10, // a request is one line and four headers
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	return &cdnClient{http: &http.Client{
		Transport: tr,
		// A redirect from the CDN would carry our Referer elsewhere; refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *cdnClient) close() { c.http.CloseIdleConnections() }

// upstreamResp is an open ranged response of the CDN.
type upstreamResp struct {
	body        io.ReadCloser
	contentType string
	etag        string // the CDN's, to check that a resumed response is the same object
}

// open asks the CDN for bytes r of the file behind l and checks that the answer
// is exactly that: a 206 whose Content-Range matches and whose total is the size
// the drive reported. Only Range, the Referer the link requires and a fixed
// User-Agent are sent: nothing of the client's request reaches the CDN.
func (c *cdnClient) open(ctx context.Context, l resolver.Link, r byteRange, size int64) (*upstreamResp, error) {
	resp, err := c.get(ctx, l, appendRangeHeader(nil, r))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPartialContent {
		defer drainClose(resp.Body)
		return nil, statusError(resp)
	}
	got, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if !ok || got != r || resp.ContentLength != r.length() {
		drainClose(resp.Body)
		return nil, fmt.Errorf("%w: asked for %d-%d, got Content-Range %q", errCDN, r.start, r.end, resp.Header.Get("Content-Range"))
	}
	if total != size {
		drainClose(resp.Body)
		return nil, fmt.Errorf("%w: the CDN's object has %d bytes, the drive says %d", errChanged, total, size)
	}
	return upstream(resp), nil
}

// openPart asks the CDN for bytes start to end of the part of a file behind
// l (Link.Part), end < 0 for its end, not knowing its size: the answer
// tells it, and from which byte its body starts. A 206
// tells it in Content-Range. A start past the end is a 416 whose
// Content-Range tells it (up is then nil), or, as OSS does by default (it
// ignores a Range that is not inside the object), a 200 with the whole part
// from byte 0, whose Content-Length tells it.
func (c *cdnClient) openPart(ctx context.Context, l resolver.Link, start, end int64) (up *upstreamResp, from, size int64, err error) {
	rng := append(strconv.AppendInt([]byte("bytes="), start, 10), '-')
	if end >= 0 {
		rng = strconv.AppendInt(rng, end, 10)
	}
	resp, err := c.get(ctx, l, rng)
	if err != nil {
		return nil, 0, 0, err
	}
	switch cr := resp.Header.Get("Content-Range"); resp.StatusCode {
	case http.StatusPartialContent:
		got, total, ok := parseContentRange(cr)
		if ok && got.start == start && resp.ContentLength == got.length() {
			return upstream(resp), start, total, nil
		}
	case http.StatusOK:
		if resp.ContentLength >= 0 {
			return upstream(resp), 0, resp.ContentLength, nil
		}
	case http.StatusRequestedRangeNotSatisfiable:
		drainClose(resp.Body)
		if total, ok := strings.CutPrefix(cr, "bytes */"); ok {
			if n, ok := parseDigits(total); ok {
				return nil, 0, n, nil
			}
		}
		return nil, 0, 0, fmt.Errorf("%w: asked for %s, got 416 with Content-Range %q", errCDN, rng, cr)
	default:
		defer drainClose(resp.Body)
		return nil, 0, 0, statusError(resp)
	}
	drainClose(resp.Body)
	return nil, 0, 0, fmt.Errorf("%w: asked for %s, got %d with Content-Range %q", errCDN, rng, resp.StatusCode, resp.Header.Get("Content-Range"))
}

// get sends the CDN a GET of l for the bytes rng ("bytes=…"). Only Range,
// the Referer the link requires and a fixed User-Agent are sent.
func (c *cdnClient) get(ctx context.Context, l resolver.Link, rng []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: bad link URL", errCDN)
	}
	req.Header.Set("User-Agent", cdnUserAgent)
	req.Header.Set("Range", string(rng))
	if l.Referer != "" {
		req.Header.Set("Referer", l.Referer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", errCDN, redactURL(err))
	}
	return resp, nil
}

func upstream(resp *http.Response) *upstreamResp {
	return &upstreamResp{body: resp.Body, contentType: resp.Header.Get("Content-Type"), etag: resp.Header.Get("ETag")}
}

// statusError classifies a CDN answer other than 206.
func statusError(resp *http.Response) error {
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: HTTP 403 %s", errLinkRefused, ossMessage(resp.Body))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return &busyError{retryAfter: resp.Header.Get("Retry-After"), status: resp.StatusCode}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%w: HTTP %d, the object is gone", errLinkRefused, resp.StatusCode)
	default:
		return fmt.Errorf("%w: HTTP %d", errCDN, resp.StatusCode)
	}
}

// busyError carries the CDN's Retry-After to the client's 503.
type busyError struct {
	retryAfter string
	status     int
}

func (e *busyError) Error() string { return fmt.Sprintf("CDN busy: HTTP %d", e.status) }
func (e *busyError) Unwrap() error { return errCDNBusy }

// maxCDNRetryAfter caps the CDN's Retry-After passed on to clients: a
// player told to wait minutes gives up, and the CDN's wait is for this
// instance's requests, not the client's.
const maxCDNRetryAfter = 5

// seconds is the CDN's wait in seconds, 1 to maxCDNRetryAfter.
func (e *busyError) seconds() int {
	if n, err := strconv.Atoi(strings.TrimSpace(e.retryAfter)); err == nil && n > 0 {
		return min(n, maxCDNRetryAfter)
	}
	return 1
}

// ossMessage pulls <Message> out of an OSS XML error, for the log.
func ossMessage(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	s := string(b)
	if i := strings.Index(s, "<Message>"); i >= 0 {
		s = s[i+len("<Message>"):]
		if j := strings.Index(s, "</Message>"); j >= 0 {
			return s[:j]
		}
	}
	return ""
}

// drainClose reads a little of an unwanted body so the connection can be
// reused, then closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}

// redactURL keeps a transport error but drops the URL in it: a signed link is a
// credential (its signature grants access until it expires).
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// appendRangeHeader formats "bytes=a-b".
func appendRangeHeader(dst []byte, r byteRange) []byte {
	dst = append(dst, "bytes="...)
	dst = strconv.AppendInt(dst, r.start, 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, r.end, 10)
}

// idleConn fails a read that waits longer than idle for a byte, so a stalled
// CDN cannot hold a stream (and its client) forever.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if c.idle > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}
