package alifake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	clock := newTestClock()
	f := startFake(t, Options{Now: clock.Now})
	s := login(t, f)
	f.SetRateLimit(EndpointFileList, 2)
	list := func() response {
		return s.post(t, "/v2/file/list", map[string]any{"drive_id": f.DriveID(), "parent_file_id": "root"})
	}
	steps := []struct {
		name    string
		advance time.Duration
		status  int
		retry   string
	}{
		{"first in window", 0, 200, ""},
		{"second in window", 300 * time.Millisecond, 200, ""},
		{"third in window", 300 * time.Millisecond, 429, "400"},
		{"rejected calls do not fill the window", 100 * time.Millisecond, 429, "300"},
		{"first call left the window", 400 * time.Millisecond, 200, ""},
		{"window full again", 0, 429, "200"},
		{"window empty", 2 * time.Second, 200, ""},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		resp := list()
		if resp.status != st.status {
			t.Fatalf("%s: unexpected status; got %d %s; want %d", st.name, resp.status, resp.raw, st.status)
		}
		if st.status != 429 {
			continue
		}
		m := resp.fields(t)
		if m["code"] != "TooManyRequests" || m["message"] != "Too Many Requests" {
			t.Fatalf("%s: unexpected body; got %s; want TooManyRequests", st.name, resp.raw)
		}
		if got := resp.header.Get("x-retry-after"); got != st.retry {
			t.Fatalf("%s: unexpected x-retry-after; got %q; want %q", st.name, got, st.retry)
		}
	}
	if got := f.Rejected(EndpointFileList); got != 3 {
		t.Fatalf("unexpected Rejected; got %d; want 3", got)
	}
	if got := f.Calls(EndpointFileList); got != len(steps) {
		t.Fatalf("unexpected Calls; got %d; want %d", got, len(steps))
	}
	if got := f.Rejected(EndpointFileGet); got != 0 {
		t.Fatalf("unexpected Rejected of an unlimited endpoint; got %d; want 0", got)
	}
	f.SetRateLimit(EndpointFileList, 0)
	for range 5 {
		if resp := list(); resp.status != 200 {
			t.Fatalf("unexpected status with the quota off; got %d; want 200", resp.status)
		}
	}
}

func TestFailNext(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/a.bin", []byte("abc"))
	s := login(t, f)
	link := s.link(t, id, 900)
	get := func() response {
		return s.post(t, "/v2/file/get", map[string]any{"drive_id": f.DriveID(), "file_id": id})
	}
	f.FailNext(EndpointFileGet, 2, Fault{Status: 503})
	f.FailNext(EndpointFileGet, 1, Fault{Status: 429, RetryAfter: 1500 * time.Millisecond})
	f.FailNext(EndpointFileGet, 1, Fault{Status: 500, Code: "InternalError", Message: "boom", RetryAfter: time.Second, RetryAfterHeader: "Retry-After"})
	tests := []struct {
		status             int
		code, message      string
		header, headerWant string
	}{
		{503, "ServiceUnavailable", "Service Unavailable", "x-retry-after", ""},
		{503, "ServiceUnavailable", "Service Unavailable", "x-retry-after", ""},
		{429, "TooManyRequests", "Too Many Requests", "x-retry-after", "1500"},
		{500, "InternalError", "boom", "Retry-After", "1"},
		{200, "", "", "x-retry-after", ""},
	}
	for i, tc := range tests {
		resp := get()
		if resp.status != tc.status {
			t.Fatalf("call %d: unexpected status; got %d %s; want %d", i, resp.status, resp.raw, tc.status)
		}
		if got := resp.header.Get(tc.header); got != tc.headerWant {
			t.Fatalf("call %d: unexpected %s; got %q; want %q", i, tc.header, got, tc.headerWant)
		}
		if tc.status == 200 {
			continue
		}
		if m := resp.fields(t); m["code"] != tc.code || m["message"] != tc.message {
			t.Fatalf("call %d: unexpected body; got %s; want %s %s", i, resp.raw, tc.code, tc.message)
		}
	}

	f.FailNext(EndpointCDN, 1, Fault{Status: 503})
	got := fetch(t, s.c, link, "")
	if got.status != 503 || xmlError(t, got).Code != "ServiceUnavailable" {
		t.Fatalf("unexpected CDN fault; got %d %s; want 503 XML ServiceUnavailable", got.status, got.raw)
	}
	if got := fetch(t, s.c, link, ""); got.status != 200 || string(got.raw) != "abc" {
		t.Fatalf("unexpected CDN answer after the fault; got %d %q; want 200 abc", got.status, got.raw)
	}
}

func TestFaultDropAndDelay(t *testing.T) {
	f := startFake(t, Options{})
	s := login(t, f)
	body := strings.NewReader(`{"refresh_token":"x","grant_type":"refresh_token"}`)

	f.FailNext(EndpointToken, 1, Fault{Drop: true})
	if _, err := s.c.Post(f.APIURL()+"/v2/account/token", "application/json", body); err == nil {
		t.Fatalf("unexpected response to a dropped call; got nil error; want a transport error")
	}

	f.FailNext(EndpointToken, 1, Fault{Status: 500, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.APIURL()+"/v2/account/token", strings.NewReader("{}"))
	_, err := s.c.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected result of a delayed call; got %v; want context.DeadlineExceeded", err)
	}
	// The handler notices the disconnect and returns; Close would hang otherwise.
	waitFor(t, "the delayed handler to finish", func() bool {
		log := f.Requests()
		last := log[len(log)-1]
		return last.Endpoint == EndpointToken && last.Status == 0 && last.Done
	})
	if got := f.Calls(EndpointToken); got != 3 { // login, drop, delay
		t.Fatalf("unexpected token calls; got %d; want 3", got)
	}
}

func TestLatency(t *testing.T) {
	f := startFake(t, Options{})
	s := login(t, f)
	f.SetLatency(EndpointUserGet, 300*time.Millisecond)
	began := time.Now()
	if resp := postJSON(t, s.c, f.APIURL()+"/v2/user/get", http.Header{"Authorization": {"Bearer " + s.access}}, "{}"); resp.status != 200 {
		t.Fatalf("unexpected status; got %d; want 200", resp.status)
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Fatalf("unexpected fast answer; got %v; want at least 300ms", d)
	}
}

func TestCountersAndLog(t *testing.T) {
	f := startFake(t, Options{})
	id := f.AddFile("/a.bin", []byte("abc"))
	s := login(t, f)
	link := s.link(t, id, 900)
	fetch(t, s.c, link, webReferer)
	s.post(t, "/v2/file/list", "not json")
	do(t, s.c, http.MethodGet, f.APIURL()+"/v2/file/get", nil, nil)

	want := map[string]int{
		EndpointToken:         1,
		EndpointCreateSession: 1,
		EndpointDownloadURL:   1,
		EndpointCDN:           1,
		EndpointFileList:      1,
		EndpointFileGet:       1,
		EndpointUserGet:       0,
	}
	for ep, n := range want {
		if got := f.Calls(ep); got != n {
			t.Fatalf("unexpected Calls(%q); got %d; want %d", ep, got, n)
		}
	}
	log := f.Requests()
	if len(log) != 6 {
		t.Fatalf("unexpected log length; got %d; want 6", len(log))
	}
	last, cdn := log[5], log[3]
	if last.Endpoint != EndpointFileGet || last.Method != http.MethodGet || last.Status != 405 {
		t.Fatalf("unexpected last entry; got %+v; want GET file/get 405", last)
	}
	if cdn.Endpoint != EndpointCDN || cdn.Status != 200 || cdn.Header.Get("Referer") != webReferer {
		t.Fatalf("unexpected CDN entry; got %+v; want cdn 200 with the Referer", cdn)
	}
	if log[4].Status != 400 {
		t.Fatalf("unexpected status of the bad-JSON call; got %d; want 400", log[4].Status)
	}

	f.ResetCounters()
	if got := f.Calls(EndpointCDN); got != 0 || len(f.Requests()) != 0 {
		t.Fatalf("unexpected state after ResetCounters; got %d calls, %d log entries; want 0, 0", got, len(f.Requests()))
	}
}

func TestUnknownPath(t *testing.T) {
	f := startFake(t, Options{})
	resp := postJSON(t, testClient(t), f.APIURL()+"/v2/nope", nil, "{}")
	if resp.status != http.StatusNotFound || resp.code(t) != "NotFound" {
		t.Fatalf("unexpected answer for an unknown path; got %d %s; want 404 NotFound", resp.status, resp.raw)
	}
}

func TestStartTwice(t *testing.T) {
	f := startFake(t, Options{})
	if err := f.Start(); err == nil {
		t.Fatalf("unexpected second Start; got nil; want an error")
	}
	f.Close()
	f.Close() // idempotent
	if err := f.Start(); err == nil {
		t.Fatalf("unexpected Start after Close; got nil; want an error")
	}
}
