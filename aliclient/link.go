package aliclient

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// WebReferer is the Referer the CDN demands for Referer-bound links (spec §5.3):
// exactly this value; without "www." it fails.
const WebReferer = "https://www.alipan.com/"

// fallbackLinkLife is assumed when a link carries neither x-oss-expires nor an
// expiration; users saw links die after about 15 minutes whatever was asked (spec §5.2).
const fallbackLinkLife = 15 * time.Minute

// Link is a short-lived download URL and what fetching it requires.
type Link struct {
	URL string
	// Referer is the Referer the CDN requires; "" means send none (open-API
	// links are refused when one is sent, spec §5.3).
	Referer string
	// Expires is the earliest of the URL's x-oss-expires and the API's
	// expiration: the authoritative end of the link's life (spec §5.2).
	Expires     time.Time
	Size        int64
	ContentHash string
	// Part is set when the link serves a part of the file rather than the
	// file itself: "mov" (or "jpeg") for a live photo on the open API, which
	// links its parts only (spec §13.8). The part's size is in no answer of
	// the drive (Size is then 0); only the CDN's Content-Range tells it.
	Part string
}

// RefererBound tells whether a player following a 302 to this link would be
// refused: the CDN wants a Referer the player cannot send.
func (l Link) RefererBound() bool { return l.Referer != "" }

// MayLinkPart tells whether the drive may link a part of f rather than f
// (Link.Part): a live photo (.livp), which the open API links only by its
// parts (spec §13.8; the legacy API links the container). What is served
// then has its own size, so an answer judged from f's metadata alone (its
// Content-Length, a Range) must look at the link first.
func (f File) MayLinkPart() bool {
	return !f.Folder && strings.EqualFold(path.Ext(f.Name), ".livp")
}

// newLink builds a Link from the drive's answer. now is the fetch time, used only
// when the drive gave no expiry at all.
func newLink(raw, expiration string, size int64, hash string, now time.Time) (Link, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Link{}, &APIError{Code: "BadDownloadURL", Message: "the drive returned an unusable download URL", kind: ErrUpstream}
	}
	q := u.Query()
	l := Link{URL: headerSafe(raw), Size: size, ContentHash: strings.ToLower(hash)}
	if strings.Contains(strings.ToLower(q.Get("x-oss-additional-headers")), "referer") {
		l.Referer = WebReferer
	}
	if s := q.Get("x-oss-expires"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			l.Expires = time.Unix(sec, 0)
		}
	}
	if t := parseTime(expiration); !t.IsZero() && (l.Expires.IsZero() || t.Before(l.Expires)) {
		l.Expires = t
	}
	if l.Expires.IsZero() {
		l.Expires = now.Add(fallbackLinkLife)
	}
	return l, nil
}

// headerSafe percent-encodes the bytes that must never appear in a URL sent in a
// Location header (controls, space, non-ASCII): a drive URL with a raw file name
// in it still makes a valid, injection-free header.
func headerSafe(raw string) string {
	n := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] >= 0x7f {
			n++
		}
	}
	if n == 0 {
		return raw
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(raw)+2*n)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
