package sign

import "github.com/alilink/alilink/resolver"

// Query is the query string that lets a link reach the drive path p until exp
// (Unix seconds; 0: never): "?sign=" and p's sign, or "" when signs are off.
// Every signed link alilink hands out ends with it.
func (s *Signer) Query(p string, exp int64) string {
	if !s.Enabled() {
		return ""
	}
	return "?sign=" + s.SignUnix(p, exp)
}

// URL is the link to the drive path p under base (a scheme and host, or a
// prefix such as ALILINK_PROXY_URL): p percent-encoded as the server decodes
// it (resolver.EscapePath), then Query. It is the one shape of a signed link
// for alilink sign, /-/api/sign, rewrite mode and strm.
func (s *Signer) URL(base, p string, exp int64) string {
	return base + resolver.EscapePath(p) + s.Query(p, exp)
}
