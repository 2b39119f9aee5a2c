package streamer_test

import (
	"net/http"
	"testing"

	"github.com/alilink/alilink/aliclient/alifake"
	"github.com/alilink/alilink/streamer"
)

// TestOpenLivePhotoRedirectsToTheMovie: a .livp on the open driver plays
// its mov part (spec §13.8): the 302 leads to the movie.
func TestOpenLivePhotoRedirectsToTheMovie(t *testing.T) {
	env := newEnvFor(t, "open", alifake.Options{}, streamer.Config{})
	mov := "....ftypqt  the movie part"
	env.fake.AddLivePhoto("/Photos/IMG_0001.livp", []byte("\xff\xd8the still"), []byte(mov))
	r := env.do(t, http.MethodGet, "/Photos/IMG_0001.livp")
	if r.status != http.StatusFound {
		t.Fatalf("unexpected answer for a live photo; got %d %q; want 302", r.status, r.body)
	}
	if got := env.follow(t, r.header.Get("Location")); got.status != http.StatusOK || got.body != mov {
		t.Fatalf("unexpected content behind the redirect; got %d %q; want the mov part", got.status, got.body)
	}
}
