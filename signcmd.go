package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer/sign"
)

// signCmd prints a signed URL for a drive path: alilink sign PATH [--ttl 24h] [--base URL].
func signCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the link works; 0 = forever")
	base := fs.String("base", "", "the URL alilink is reached at (default http://$ALILINK_LISTEN)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: alilink sign PATH [--ttl 24h] [--base URL]")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s := sign.New(cfg.Streamer.SignSecret)
	if !s.Enabled() {
		return fmt.Errorf("ALILINK_SIGN_SECRET: not set, so links need no sign")
	}
	if *ttl < 0 {
		return fmt.Errorf("--ttl: negative")
	}
	p, err := humanPath(pos[0])
	if err != nil {
		return err
	}
	var exp int64 // 0: never expires
	if *ttl > 0 {
		exp = time.Now().Add(*ttl).Unix()
	}
	fmt.Fprintln(stdout, s.URL(baseURL(*base, cfg.Listen), p, exp))
	return nil
}

// humanPath cleans a path typed by a person (not percent-encoded) with the one
// canonicalisation the server uses, so the sign matches what it checks.
func humanPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return resolver.CleanPath([]byte(resolver.EscapePath(p)))
}

// baseURL is --base, or the listen address made reachable from this machine.
func baseURL(flagBase, listen string) string {
	if flagBase != "" {
		return strings.TrimRight(flagBase, "/")
	}
	addr, err := localAddr(listen)
	if err != nil {
		return "http://" + listen
	}
	return "http://" + addr
}

// parseInterspersed lets flags come before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
