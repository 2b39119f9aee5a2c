package main

import (
	"fmt"
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
	addr, err := localAddr(cfg.Listen)
	if err != nil {
		return fmt.Errorf("ALILINK_LISTEN: %w", err)
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/-/healthz")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}
