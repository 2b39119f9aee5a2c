package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/strm"
)

// strmCmd writes one .strm file per video of a drive folder, for media servers
// (Jellyfin, Plex, Emby) that play a URL from a .strm file:
//
//	alilink strm --out DIR [--path /Movies] [--base URL] [--ttl 0] [--ext mkv,mp4,…] [--prune]
func strmCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the folder to write .strm files into (required)")
	from := fs.String("path", "/", "the drive folder to mirror")
	base := fs.String("base", "", "the URL alilink is reached at by the media server (default http://$ALILINK_LISTEN)")
	ttl := fs.Duration("ttl", 0, "how long the signed URLs work; 0 = forever (a .strm file lives long)")
	exts := fs.String("ext", strm.DefaultExts, "the file extensions that get a .strm file")
	prune := fs.Bool("prune", false, "remove .strm files whose video is gone from the drive")
	if pos, err := parseInterspersed(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *out == "" {
		return fmt.Errorf("usage: alilink strm --out DIR [--path /Movies] [--base URL] [--ttl 0] [--ext mkv,mp4] [--prune]")
	}
	if *ttl < 0 {
		return fmt.Errorf("--ttl: negative")
	}
	root, err := humanPath(*from)
	if err != nil {
		return fmt.Errorf("--path: %w", err)
	}
	a, err := openApp(stderr)
	if err != nil {
		return err
	}
	defer a.close()
	cfg := a.cfg
	res, err := a.resolver()
	if err != nil {
		return err
	}
	st, err := strm.Run(ctx, res, strm.Options{
		Signer: sign.New(cfg.Streamer.SignSecret), Base: baseURL(*base, cfg.Listen),
		TTL: *ttl, Exts: *exts, Out: *out, Root: root, Prune: *prune, Log: stderr,
	})
	fmt.Fprintf(stdout, "strm: %d written, %d unchanged, %d removed, %d errors\n", st.Written, st.Unchanged, st.Removed, st.Errors)
	if err != nil {
		return err
	}
	if st.Errors > 0 {
		return fmt.Errorf("%d errors (see above); nothing was pruned where a folder could not be read", st.Errors)
	}
	return nil
}
