// Command proxybench runs alilink in proxy mode for bench/proxy-vs-nginx.sh:
// the fake drive's API hands out download links on an external origin (nginx
// serving a big file, the CDN stand-in), and alilink streams from it through
// the real client, resolver and streamer.
//
//	proxybench -listen 127.0.0.1:18503 -origin http://127.0.0.1:18500 -root DIR -file big.bin
//
// The link path the fake signs is made to exist under DIR as a symlink to
// DIR/big.bin, so the origin serves the real bytes (the fake's signature and
// expiry query parameters are ignored by nginx). It prints "ready <url>" once
// serving and stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
	"github.com/alilink/alilink/streamer"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:18503", "alilink's listen address")
	origin := flag.String("origin", "", "base URL of the origin serving -root")
	root := flag.String("root", "", "the origin's document root")
	file := flag.String("file", "big.bin", "the file in -root to serve as /big.bin")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (for profiling a run)")
	flag.Parse()
	if *pprofAddr != "" {
		runtime.MemProfileRate = 4096 // see small per-stream allocations
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }()
	}
	if *origin == "" || *root == "" {
		return fmt.Errorf("-origin and -root are required")
	}
	fi, err := os.Stat(filepath.Join(*root, *file))
	if err != nil {
		return err
	}
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		return err
	}
	defer fake.Close()
	fake.SetCDNURL(*origin)
	id := fake.AddSynthetic("/big.bin", fi.Size())
	link, err := fake.DownloadURL(id, 60)
	if err != nil {
		return err
	}
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	obj := filepath.Join(*root, filepath.FromSlash(u.Path))
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return err
	}
	_ = os.Remove(obj)
	if err := os.Symlink(filepath.Join(*root, *file), obj); err != nil {
		return err
	}

	state, err := os.MkdirTemp("", "proxybench-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := aliclient.New(aliclient.Config{
		Driver: "drive", RefreshToken: fake.NewRefreshToken(), StateDir: state,
		APIURL: fake.APIURL(), AuthURL: fake.APIURL(), Timeout: 30 * time.Second,
		RateList: 4, RateLink: 1, RateOther: 15, LinkExpireSec: 14400, MaxRetries: 3,
	}, aliclient.Deps{Logger: log})
	if err != nil {
		return err
	}
	res, err := resolver.New(resolver.Config{
		RootFolderID: "root", PathCacheSize: 1000, PathCacheTTL: time.Hour, ListCacheSize: 100,
		NegativeTTL: 10 * time.Second, LinkCacheSize: 1000, LinkMargin: time.Minute, ResolveTimeout: 30 * time.Second,
	}, client, resolver.Deps{Log: log})
	if err != nil {
		return err
	}
	cfg := streamer.DefaultConfig()
	cfg.Mode = streamer.ModeProxy
	cfg.AccessLog = false // as the nginx peer runs with access_log off
	srv, err := streamer.New(cfg, res, streamer.Deps{Log: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	// Resolve once so that every measured request is a cache hit.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if _, _, err := res.Resolve(ctx, "/big.bin"); err != nil {
		return err
	}
	fmt.Printf("ready http://%s/big.bin\n", ln.Addr())
	<-ctx.Done()
	return hs.Shutdown()
}
