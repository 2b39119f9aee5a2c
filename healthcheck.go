package main

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd asks the local server for /-/healthz, so a container image
// needs no curl for its HEALTHCHECK.
func healthcheckCmd(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("healthcheck takes no arguments")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("ALILINK_LISTEN: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/-/healthz")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}
