//go:build !nodemo

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/resolver"
)

// demoCmd starts the fake drive with sample content on loopback and serves
// alilink in front of it, through the real client: the README's first command.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "listen address (default $ALILINK_LISTEN or 127.0.0.1:8080)")
	filmSize := fs.Int64("film-size", 1<<30, "size in bytes of the largest sample file (the others scale with it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fake := alifake.New(alifake.Options{})
	if err := fake.Start(); err != nil {
		return fmt.Errorf("start the fake drive: %w", err)
	}
	defer fake.Close()
	if *filmSize < 1<<20 {
		return fmt.Errorf("demo: -film-size must be at least 1 MiB")
	}
	samples := addDemoContent(fake, *filmSize)
	// The fake hashes a file on its first listing; the films would make the
	// first request wait ~2.5 s for the 1 GiB one.
	go fake.WarmHashes(ctx)

	stateDir, err := os.MkdirTemp("", "alilink-demo-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)

	// The demo reads the same variables as serve, but points the client at the
	// fake drive and a throwaway state dir, with a fresh token minted by the fake.
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	cfg.Client.Driver = "drive"
	cfg.Client.RefreshToken = ""
	cfg.Client.APIURL = fake.APIURL()
	cfg.Client.AuthURL = fake.APIURL()
	cfg.Client.StateDir = stateDir
	cfg.Streamer.SpoolDir = stateDir
	// The fake account's two drives and a share through it, as a mounts
	// file (ALILINK_MOUNTS_FILE) would serve them: / lists the mounts.
	if cfg.MountsFile, err = writeDemoMounts(stateDir, fake.NewRefreshToken(), samples.shareID); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.RedisURL = "" // the demo's fake drive is this process's alone
	// Uploads need an admin token: a random one in a file of the state dir,
	// which the printed curl line reads (it is never printed itself).
	tokenFile := ""
	if cfg.Streamer.AdminToken == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		cfg.Streamer.AdminToken = hex.EncodeToString(b[:])
		tokenFile = filepath.Join(stateDir, "admin-token")
		if err := os.WriteFile(tokenFile, []byte(cfg.Streamer.AdminToken), 0o600); err != nil {
			return err
		}
	}
	a, err := newApp(cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	a.logOut = stderr
	return serve(ctx, a, func(addr string) {
		if a, err := localAddr(addr); err == nil {
			addr = a // a demo on ":8080" prints links this machine can open
		}
		base := "http://" + addr
		u := func(p string) string { return "'" + base + resolver.EscapePath(p) + "'" }
		bk := func(p string) string { return u(demoBackup + p) }
		fmt.Fprintf(stdout, "\nalilink demo: a fake drive at %s, alilink at %s (Ctrl-C stops both)\n", fake.APIURL(), base)
		fmt.Fprintf(stdout, "mounts (a mounts file, %s): %s the backup drive, %s the resource drive, %s a share (read-only)\n\n",
			cfg.MountsFile, demoBackup, demoResource, demoShare)
		fmt.Fprintf(stdout, "  xdg-open %s                         # browse and play in a browser (an HTML index)\n", u("/"))
		fmt.Fprintf(stdout, "  curl -s -H 'Accept: application/json' %s; echo   # / lists the mounts\n", u("/"))
		fmt.Fprintf(stdout, "  curl -si %s | grep -i location      # a 302 to the drive's CDN\n", bk(samples.film))
		fmt.Fprintf(stdout, "  curl -sL -r 0-15 %s | od -An -tx1   # a Range through the redirect\n", bk(samples.film))
		fmt.Fprintf(stdout, "  curl -s -r 0-15 %s | od -An -tx1   # Referer-bound: auto mode proxies it\n", bk(samples.bound))
		fmt.Fprintf(stdout, "  curl -sL -o /dev/null -w '%%{http_code} %%{size_download} bytes\\n' %s\n", bk(samples.song))
		fmt.Fprintf(stdout, "  curl -s %s | head -c 300; echo      # %d files, several drive pages, as JSON\n",
			strings.TrimSuffix(bk(samples.bigFolder), "'")+"?format=json'", samples.bigCount)
		fmt.Fprintf(stdout, "  mpv %s   # a folder's media as an M3U8 playlist\n", strings.TrimSuffix(bk(path.Dir(samples.film)), "'")+"/?format=m3u'")
		fmt.Fprintf(stdout, "  curl -sL -r 0-15 %s | od -An -tx1   # the resource drive\n", u(demoResource+samples.resource))
		fmt.Fprintf(stdout, "  curl -s -H 'Accept: application/json' %s; echo   # a share, played by a copy in your drive\n", u(demoShare))
		if tokenFile != "" {
			fmt.Fprintf(stdout, "  echo hello | curl -s -T - -H \"Authorization: Bearer $(cat %s)\" %s; echo   # an upload\n",
				tokenFile, bk("/Uploads/hello.txt"))
			fmt.Fprintf(stdout, "  curl -sL %s\n", bk("/Uploads/hello.txt"))
			if cfg.Streamer.DAV.On() {
				fmt.Fprintf(stdout, "  rclone lsf -R --webdav-url %s/ --webdav-bearer-token-command \"cat %s\" :webdav:   # WebDAV\n",
					base+cfg.Streamer.DAV.Prefix, tokenFile)
			}
		}
		fmt.Fprintf(stdout, "  curl -s %s\n\n", u("/-/readyz"))
	})
}

type demoSamples struct {
	film, bound, song, bigFolder, resource string
	bigCount                               int
	shareID                                string
}

// The demo's mounts: the fake account's backup drive, its resource drive,
// and a share of its /Music folder played through it.
const (
	demoBackup   = "/Backup"
	demoResource = "/Resource"
	demoShare    = "/Shared/Music"
)

// writeDemoMounts writes the demo's mounts file into dir.
func writeDemoMounts(dir, token, shareID string) (string, error) {
	f := filepath.Join(dir, "mounts.yaml")
	body := fmt.Sprintf(`accounts:
  - name: demo
    refresh_token: %s
mounts:
  - path: %s
    account: demo
    drive: backup
  - path: %s
    account: demo
    drive: resource
  - path: %s
    account: demo
    share_id: %s
    read_only: true
`, token, demoBackup, demoResource, demoShare, shareID)
	return f, os.WriteFile(f, []byte(body), 0o600)
}

// addDemoContent fills the fake drive: folders, a large file that is generated,
// never stored, names with non-ASCII and URL-hostile characters, and a folder
// with more children than one listing page holds.
// The generated files' sizes scale with film, the largest.
func addDemoContent(fake *alifake.Fake, film int64) demoSamples {
	s := demoSamples{
		film:      "/Movies/Big Buck Bunny (2008).mkv",
		bound:     "/Movies/Tears of Steel (2012).mkv",
		song:      "/Music/Café del Mar #1 (100% chill?).flac",
		bigFolder: "/Photos/2024",
		bigCount:  450,
	}
	fake.AddSynthetic(s.film, film)
	fake.AddSynthetic("/Movies/Sintel (2010).mp4", film/10*3)
	// A link the CDN binds to the Referer (a web-login token's): players cannot
	// follow a 302 to it, so auto mode proxies it.
	fake.SetRefererBound(fake.AddSynthetic(s.bound, film/4), true)
	fake.AddSynthetic("/电影/千与千寻 (2001).mp4", film/16)
	fake.AddSynthetic("/TV/The Show/Season 01/The Show S01E01.mkv", film/5)
	fake.AddSynthetic("/TV/The Show/Season 01/The Show S01E02.mkv", film/5)
	fake.AddFile(s.song, []byte(strings.Repeat("not really flac ", 4096)))
	fake.AddFile("/README.txt", []byte("This drive is a fake, served by `alilink demo`.\n"))
	for i := 1; i <= s.bigCount; i++ {
		fake.AddFile(fmt.Sprintf("%s/IMG_%04d.jpg", s.bigFolder, i), []byte(fmt.Sprintf("photo %d\n", i)))
	}
	fake.AddFolder("/Empty folder")
	// The resource drive (spec §16): what people keep there.
	s.resource = "/Films/Cosmos Laundromat (2015).mkv"
	fake.AddSyntheticTo(alifake.DriveResource, s.resource, film/8)
	fake.AddSyntheticTo(alifake.DriveResource, "/Films/Elephants Dream (2006).mp4", film/12)
	fake.AddSyntheticTo(alifake.DriveResource, "/Series/Pioneer One/S01E01.mkv", film/10)
	fake.AddFileTo(alifake.DriveResource, "/README.txt", []byte("The resource drive of the fake account, at "+demoResource+".\n"))
	s.shareID = fake.AddShare("/Music", "")
	return s
}
