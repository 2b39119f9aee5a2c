package main

import "testing"

func TestLocalAddr(t *testing.T) {
	f := func(listen, want string) {
		t.Helper()
		got, err := localAddr(listen)
		if err != nil || got != want {
			t.Fatalf("localAddr(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	f(":8080", "127.0.0.1:8080")
	f("0.0.0.0:8080", "127.0.0.1:8080")
	f("[::]:8080", "127.0.0.1:8080")
	f("127.0.0.2:81", "127.0.0.2:81")
	f("[::1]:81", "[::1]:81")
	f("media.lan:81", "media.lan:81")
	if _, err := localAddr("no-port"); err == nil {
		t.Fatalf("an address without a port was accepted")
	}
}
