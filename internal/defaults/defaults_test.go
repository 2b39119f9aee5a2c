package defaults_test

import (
	"testing"
	"time"

	"github.com/alilink/alilink/internal/defaults"
)

type sample struct {
	Name  string        `env:"NAME" envDefault:"root"`
	Wait  time.Duration `env:"WAIT" envDefault:"15s"`
	Count int           `env:"COUNT"`
}

// TestFromTagsIgnoresTheEnvironment: a variable set in the process does not
// leak into the defaults.
func TestFromTagsIgnoresTheEnvironment(t *testing.T) {
	t.Setenv("NAME", "elsewhere")
	t.Setenv("COUNT", "7")
	got := defaults.FromTags[sample]()
	if want := (sample{Name: "root", Wait: 15 * time.Second}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestFromTagsPanicsOnABadTag(t *testing.T) {
	type bad struct {
		N int `env:"N" envDefault:"many"`
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a default that does not parse did not panic")
		}
	}()
	defaults.FromTags[bad]()
}
