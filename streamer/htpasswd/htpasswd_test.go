package htpasswd

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestParseAndCheck(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse([]byte("# users\n\nalice:" + string(h) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user, pass string
		want       bool
	}{{"alice", "s3cret", true}, {"alice", "s3cret", true}, {"alice", "wrong", false}, {"bob", "s3cret", false}, {"alice", "", false}} {
		if got := f.Check(c.user, c.pass); got != c.want {
			t.Fatalf("unexpected Check(%q, %q); got %v; want %v", c.user, c.pass, got, c.want)
		}
	}
	if !f.Has("alice") || f.Has("bob") {
		t.Fatal("unexpected Has")
	}
	var nilFile *File
	if nilFile.Check("alice", "s3cret") || nilFile.Has("alice") {
		t.Fatal("a nil File let someone in")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "alice\n", ":x\n", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "alice:$apr1$abc$def\n"} {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Fatalf("Parse(%q): want an error", in)
		}
		if strings.Contains(err.Error(), "$apr1$") || strings.Contains(err.Error(), "W6ph") {
			t.Fatalf("the error shows a hash: %v", err)
		}
	}
}
