package main

import "net"

// localAddr is the host:port this machine reaches a server listening on
// listen at: an empty or unspecified host (":8080", "0.0.0.0:8080",
// "[::]:8080") becomes 127.0.0.1, any other is kept.
func localAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
