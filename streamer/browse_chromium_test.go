package streamer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
	"github.com/alilink/alilink/streamer/sign"
	"github.com/alilink/alilink/streamer/streamertest"
)

// chromium starts Debian's Chromium headless with a fresh profile and
// collects every console error, uncaught exception and error log entry.
func chromium(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	exe := streamertest.NeedTool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.WindowSize(1200, 800),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	var mu sync.Mutex
	var errs []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				errs = append(errs, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			errs = append(errs, "exception: "+msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				errs = append(errs, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
	if err := chromedp.Listen(bctx, listen); err != nil {
		t.Fatalf("chromium did not start: %v", err)
	}
	for _, cmd := range []cdp.Command[cdp.Empty, cdp.Empty]{log.Enable, runtime.Enable} {
		if _, err := chromedp.Call(bctx, cmd, cdp.Empty{}); err != nil {
			t.Fatalf("chromium did not start: %v", err)
		}
	}
	return bctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string{}, errs...)
	}
}

// waitJS polls a JavaScript condition until it holds or the time is up.
func waitJS(t *testing.T, ctx context.Context, what, cond string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var m=document.getElementById("media");return m?JSON.stringify({rs:m.readyState,ns:m.networkState,err:m.error&&m.error.message,t:m.currentTime,src:m.currentSrc}):document.title})()`))
			t.Fatalf("%s: not within %s (%s)", what, within, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserPlays: Chromium opens the index, follows a video's play link,
// and the <video> loads, seeks and shows the subtitles converted from SubRip,
// with signs on, in redirect and proxy mode, without a console error.
func TestBrowserPlays(t *testing.T) {
	clip := makeWebM(t)
	for _, mode := range []string{streamer.ModeRedirect, streamer.ModeProxy} {
		t.Run(mode, func(t *testing.T) {
			ctx, consoleErrors := chromium(t)
			env := newEnv(t, alifake.Options{}, streamer.Config{Mode: mode, SignSecret: testSecret})
			env.fake.AddFile("/Films/Ocean's <Eleven> & #1.webm", clip)
			env.fake.AddFile("/Films/Ocean's <Eleven> & #1.en.srt", []byte("1\r\n00:00:00,000 --> 00:00:03,000\r\nHello <i>there</i>\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n"))
			env.fake.AddFile("/Films/Ocean's <Eleven> & #1.fr.ass", []byte("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:00.00,0:00:03.50,Default,,0,0,0,,{\\i1}Bonjour{\\i0}, toi\\Nligne 2\n"))
			env.fake.AddFile("/Films/שלום עולם.webm", clip)
			base := serveTCP(t, env)
			q := "?sign=" + sign.New(testSecret).Sign("/Films", time.Now().Add(time.Hour))
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/Films/"+q), chromedp.WaitVisible("#list")); err != nil {
				t.Fatal(err)
			}
			if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "Index of /Films/" {
				t.Fatalf("unexpected index title %q", title)
			}
			// The names read as they are, the script sorts by size.
			waitJS(t, ctx, "names", `[...document.querySelectorAll("tr[data-name] td.n a")].map(a=>a.textContent).join("|")==="Ocean's <Eleven> & #1.en.srt|Ocean's <Eleven> & #1.fr.ass|Ocean's <Eleven> & #1.webm|שלום עולם.webm"`, 5*time.Second)
			// Twice: size descending, the videos first and the SubRip file last.
			if err := chromedp.Do(ctx, chromedp.Click(`th[data-key="size"] button`), chromedp.Click(`th[data-key="size"] button`)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "sorted by size", `(r => r[0].dataset.name.endsWith(".webm") && r[3].dataset.name.endsWith(".srt"))(document.querySelectorAll("#list tbody tr[data-name]")) && document.querySelector('th[data-key="size"]').getAttribute("aria-sort")==="descending"`, 5*time.Second)
			// Follow the name link's sibling play link.
			if err := chromedp.Do(ctx, chromedp.Click(`tr.video[data-name="Ocean's <Eleven> & #1.webm"] td.p a`), chromedp.WaitReady("#media")); err != nil {
				t.Fatal(err)
			}
			if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "Ocean's <Eleven> & #1.webm" {
				t.Fatalf("unexpected player title %q (%v)", title, err)
			}
			waitJS(t, ctx, "video loaded", `document.getElementById("media").readyState >= 2`, 30*time.Second)
			if dur, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("media").duration`)); err != nil || dur < 3.5 || dur > 4.5 {
				t.Fatalf("unexpected duration %v (%v)", dur, err)
			}
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`void (document.getElementById("media").currentTime = 2.5)`)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "seeked", `(m => !m.seeking && m.currentTime >= 2.4 && m.readyState >= 2)(document.getElementById("media"))`, 30*time.Second)
			// The default track (SubRip, converted) loads and has its cues;
			// the ASS one converts too.
			waitJS(t, ctx, "subtitles", `(v => v.textTracks.length === 2 && v.textTracks[0].cues && v.textTracks[0].cues.length === 2 && v.textTracks[0].cues[0].text === "Hello <i>there</i>")(document.getElementById("media"))`, 15*time.Second)
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`void (document.getElementById("media").textTracks[1].mode = "hidden")`)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "ASS subtitles", `(t => t.cues && t.cues.length === 1 && t.cues[0].text === "Bonjour, toi\nligne 2")(document.getElementById("media").textTracks[1])`, 15*time.Second)
			// Next goes to the other file's player.
			if err := chromedp.Do(ctx, chromedp.Click("#next"), chromedp.WaitReady("#prev")); err != nil {
				t.Fatal(err)
			}
			if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "שלום עולם.webm" {
				t.Fatalf("unexpected next player %q (%v)", title, err)
			}
			waitJS(t, ctx, "next video loaded", `document.getElementById("media").readyState >= 2`, 30*time.Second)
			if errs := consoleErrors(); len(errs) > 0 {
				t.Fatalf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
			}
			// The listener does hear errors (else the check above proves nothing).
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.error("probe")`)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the probe error", func() bool { return len(consoleErrors()) == 1 && strings.Contains(consoleErrors()[0], "probe") })
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
	}
}
