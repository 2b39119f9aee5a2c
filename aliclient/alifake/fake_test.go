package alifake

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExternalHandlers(t *testing.T) {
	f := New(Options{})
	api := httptest.NewServer(f.APIHandler())
	defer api.Close()
	cdn := httptest.NewServer(f.CDNHandler())
	defer cdn.Close()
	f.SetCDNURL(cdn.URL)
	c := testClient(t)

	resp := postJSON(t, c, api.URL+"/v2/account/token", nil, map[string]string{"refresh_token": f.NewRefreshToken(), "grant_type": "refresh_token"})
	if resp.status != http.StatusOK {
		t.Fatalf("unexpected token status; got %d %s; want 200", resp.status, resp.raw)
	}
	id := f.AddFile("/x.txt", []byte("x"))
	link, err := f.DownloadURL(id, 60)
	if err != nil || !strings.HasPrefix(link, cdn.URL+"/") {
		t.Fatalf("unexpected link; got %q, %v; want one on %s", link, err, cdn.URL)
	}
	if got := fetch(t, c, link, ""); got.status != http.StatusOK || string(got.raw) != "x" {
		t.Fatalf("unexpected download; got %d %q; want 200 x", got.status, got.raw)
	}

	f.Close()
	if got := fetch(t, c, link, ""); got.status != http.StatusServiceUnavailable {
		t.Fatalf("unexpected status after Close; got %d; want 503", got.status)
	}
}

func TestDownloadURLHelper(t *testing.T) {
	f := New(Options{})
	file := f.AddFile("/a/b.txt", nil)
	folder, _ := f.FileID("/a")
	tests := []struct {
		name    string
		id      string
		wantErr string
	}{
		{"file", file, ""},
		{"folder", folder, "InvalidResource.FileTypeFolder"},
		{"missing", "nope", "NotFound.File"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.DownloadURL(tc.id, 0)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if !strings.HasPrefix(got, tc.wantErr) || (tc.wantErr == "") != (err == nil) {
				t.Fatalf("unexpected error; got %q; want prefix %q", got, tc.wantErr)
			}
		})
	}
	if calls := f.Calls(EndpointDownloadURL); calls != 0 {
		t.Fatalf("unexpected Calls after DownloadURL; got %d; want 0", calls)
	}
}

func TestTreeHelpers(t *testing.T) {
	f := New(Options{})
	a := f.AddFolder("/A/B")
	if again := f.AddFolder("A/B/"); again != a {
		t.Fatalf("unexpected AddFolder id; got %s; want the same %s", again, a)
	}
	if root := f.AddFolder("/"); root != "root" {
		t.Fatalf("unexpected root id; got %s; want root", root)
	}
	f.AddSynthetic("/A/B/c.bin", 10)
	f.Remove("/A")
	for _, p := range []string{"/A", "/A/B", "/A/B/c.bin"} {
		if _, ok := f.FileID(p); ok {
			t.Fatalf("unexpected %s after removing its parent", p)
		}
	}
	panics := func(fn func()) (p bool) {
		defer func() { p = recover() != nil }()
		fn()
		return false
	}
	f.AddFile("/file", []byte("x"))
	tests := []struct {
		name string
		fn   func()
	}{
		{"folder under a file", func() { f.AddFolder("/file/sub") }},
		{"file over a folder", func() { f.AddFile("/", nil) }},
		{"empty name", func() { f.AddFile("/a//b", nil) }},
		{"negative size", func() { f.AddSynthetic("/n", -1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !panics(tc.fn) {
				t.Fatalf("unexpected success; want a panic for a broken fixture")
			}
		})
	}
}

func TestCDNOverTLS(t *testing.T) {
	f := New(Options{CDNTLS: true})
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id := f.AddFile("/a.txt", []byte("secure"))
	link, err := f.DownloadURL(id, 60)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://127.0.0.1:") {
		t.Fatalf("unexpected link %q", link)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(f.CDNCertPEM()) {
		t.Fatalf("CDNCertPEM is not a certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "secure" {
		t.Fatalf("unexpected answer over TLS: %d %q", resp.StatusCode, b)
	}
}
