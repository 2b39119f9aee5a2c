package aliclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestOpenLivePhotoPlaysTheMovie: the Open API links a .livp without url,
// with streamsUrl {jpeg, mov} (spec §13.8); the open driver takes the mov,
// the part a player can play, and the link works without a Referer. The
// legacy driver links the container itself.
func TestOpenLivePhotoPlaysTheMovie(t *testing.T) {
	fake, c := aliclienttest.StartDriver(t, "open", alifake.Options{}, nil)
	mov := []byte("....ftypqt  the movie part")
	id := fake.AddLivePhoto("/Photos/IMG_0001.livp", []byte("\xff\xd8the still"), mov)
	l, err := c.Link(context.Background(), id)
	if err != nil {
		t.Fatalf("unexpected error linking a live photo: %v", err)
	}
	// The link says it serves the mov, whose size no answer tells.
	if l.Referer != "" || l.Expires.IsZero() || l.Part != "mov" || l.Size != 0 {
		t.Fatalf("unexpected link %+v", l)
	}
	resp, err := http.Get(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, mov) {
		t.Fatalf("unexpected content behind the link; got %d %q; want the mov part", resp.StatusCode, body)
	}

	plain := fake.AddFile("/Photos/a.jpg", []byte("\xff\xd8a still"))
	if l, err := c.Link(context.Background(), plain); err != nil || l.Part != "" || l.Size == 0 {
		t.Fatalf("unexpected link of a plain file %+v, %v", l, err)
	}
	lfake, legacy := aliclienttest.StartDriver(t, "drive", alifake.Options{}, nil)
	id = lfake.AddLivePhoto("/Photos/IMG_0001.livp", []byte("\xff\xd8the still"), mov)
	zip, _ := lfake.ReadFile("/Photos/IMG_0001.livp")
	if l, err := legacy.Link(context.Background(), id); err != nil || l.Part != "" || l.Size != int64(len(zip)) {
		t.Fatalf("unexpected legacy link of a live photo %+v, %v; want the %d-byte container", l, err, len(zip))
	}
}

// TestMayLinkPart: only a live photo's link may serve a part of it.
func TestMayLinkPart(t *testing.T) {
	f := func(it aliclient.File, want bool) {
		t.Helper()
		if got := it.MayLinkPart(); got != want {
			t.Fatalf("unexpected MayLinkPart of %+v; got %v; want %v", it, got, want)
		}
	}
	f(aliclient.File{Name: "IMG_0001.livp"}, true)
	f(aliclient.File{Name: "IMG_0001.LIVP"}, true)
	f(aliclient.File{Name: "IMG_0001.mov"}, false)
	f(aliclient.File{Name: "livp"}, false)
	f(aliclient.File{Name: "Photos.livp", Folder: true}, false)
}
