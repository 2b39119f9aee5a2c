package aliclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/alilink/alilink/aliclient/aliclienttest"
	"github.com/alilink/alilink/aliclient/alifake"
)

// TestOpenLivePhotoPlaysTheMovie: the Open API links a .livp without url,
// with streamsUrl {jpeg, mov} (spec §13.8); the open driver takes the mov,
// the part a player can play, and the link works without a Referer.
func TestOpenLivePhotoPlaysTheMovie(t *testing.T) {
	fake, c := aliclienttest.StartDriver(t, "open", alifake.Options{}, nil)
	mov := []byte("....ftypqt  the movie part")
	id := fake.AddLivePhoto("/Photos/IMG_0001.livp", []byte("\xff\xd8the still"), mov)
	l, err := c.Link(context.Background(), id)
	if err != nil {
		t.Fatalf("unexpected error linking a live photo: %v", err)
	}
	if l.Referer != "" || l.Expires.IsZero() {
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
}
