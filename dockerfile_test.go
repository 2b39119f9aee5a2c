package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dockerInstr is one Dockerfile instruction, continuations joined.
type dockerInstr struct {
	cmd  string // upper-cased: FROM, RUN, ENV, …
	args string
	line int // where it starts, for messages
}

// dockerStage is one FROM and the instructions under it.
type dockerStage struct {
	image, name string
	instrs      []dockerInstr
}

// all returns the stage's instructions named cmd.
func (s dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env returns the value the stage's ENV instructions give key, the last one winning.
func (s dockerStage) env(key string) (string, bool) {
	val, ok := "", false
	for _, in := range s.all("ENV") {
		for k, v := range dockerEnvPairs(in.args) {
			if k == key {
				val, ok = v, true
			}
		}
	}
	return val, ok
}

// parseDockerfile is just enough of the Dockerfile grammar for the checks
// below: comment lines are skipped (inside continuations too, as Docker
// does), a line ending in a backslash continues on the next, and each FROM
// starts a stage. Heredocs and escape directives are not supported.
func parseDockerfile(src string) ([]dockerStage, error) {
	var (
		stages  []dockerStage
		pending strings.Builder
		start   int
	)
	lines := strings.Split(src, "\n")
	for i, raw := range lines {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		} else {
			pending.WriteByte(' ')
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(strings.TrimSpace(body))
			if i < len(lines)-1 {
				continue
			}
		} else {
			pending.WriteString(line)
		}
		full := pending.String()
		pending.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			f := dockerFlagless(in.args)
			if len(f) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", in.line)
			}
			st := dockerStage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				continue // an ARG before the first FROM is global
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		}
		last := &stages[len(stages)-1]
		last.instrs = append(last.instrs, in)
	}
	return stages, nil
}

// dockerFlagless splits args into words and drops the leading --flags.
func dockerFlagless(args string) []string {
	f := strings.Fields(args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	return f
}

// dockerEnvPairs reads ENV's key=value words, or the legacy "ENV key value".
// Values with spaces are not supported.
func dockerEnvPairs(args string) map[string]string {
	out := map[string]string{}
	f := strings.Fields(args)
	if len(f) > 0 && !strings.Contains(f[0], "=") {
		out[f[0]] = strings.Join(f[1:], " ")
		return out
	}
	for _, w := range f {
		k, v, _ := strings.Cut(w, "=")
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

// dockerExecForm decodes a JSON array (the exec form of CMD, ENTRYPOINT,
// HEALTHCHECK CMD); a shell-form command is an error.
func dockerExecForm(s string) ([]string, error) {
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil {
		return nil, fmt.Errorf("not exec form (a JSON array): %q", s)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty exec form")
	}
	return argv, nil
}

func TestDockerfileParser(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\nARG GO=1.26\nFROM golang:${GO} AS build\n" +
		"RUN a \\\n  # a comment inside\n  && b\n\nfrom --platform=$BUILDPLATFORM scratch\nENV A=1 B=\"2\"\nENV C 3 4\n"
	stages, err := parseDockerfile(src)
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(stages) != 2 {
		t.Fatalf("unexpected stages; got %d; want 2", len(stages))
	}
	if got, want := stages[0].name, "build"; got != want {
		t.Fatalf("unexpected stage name; got %q; want %q", got, want)
	}
	if got, want := stages[1].image, "scratch"; got != want {
		t.Fatalf("unexpected image; got %q; want %q", got, want)
	}
	run := stages[0].all("RUN")
	if len(run) != 1 || run[0].args != "a && b" || run[0].line != 4 {
		t.Fatalf("unexpected RUN; got %+v; want one 'a && b' at line 4", run)
	}
	f := func(key, want string) {
		t.Helper()
		if got, _ := stages[1].env(key); got != want {
			t.Fatalf("unexpected ENV %s; got %q; want %q", key, got, want)
		}
	}
	f("A", "1")
	f("B", "2")
	f("C", "3 4")
	if _, err := parseDockerfile("RUN true\n"); err == nil {
		t.Fatalf("unexpected success for an instruction before FROM")
	}
}

// TestDockerfile checks the promises of the image: a static build on a
// minimal non-root runtime, one port, a healthcheck that needs no curl, and
// the state dir as a volume.
func TestDockerfile(t *testing.T) {
	src, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseDockerfile(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("unexpected number of stages; got %v; want at least 2", len(stages))
	}
	final := stages[len(stages)-1]
	builds := stages[:len(stages)-1]

	t.Run("runtime image", func(t *testing.T) {
		img := final.image
		if !strings.Contains(img, "distroless") && img != "scratch" {
			t.Fatalf("unexpected runtime image; got %v; want distroless or scratch", img)
		}
		for _, b := range builds {
			if img == b.image || img == b.name {
				t.Fatalf("unexpected runtime image; got %v; want one other than the build stage's", img)
			}
		}
		if n := len(final.all("RUN")); n != 0 {
			t.Fatalf("unexpected RUN in the runtime stage; got %v; want 0 (no shell there)", n)
		}
	})

	t.Run("static build", func(t *testing.T) {
		var build *dockerStage
		var cmd string
		for i := range builds {
			for _, in := range builds[i].all("RUN") {
				if strings.Contains(in.args, "go build") {
					build, cmd = &builds[i], in.args
				}
			}
		}
		if build == nil {
			t.Fatalf("unexpected build stage; got none running go build; want one")
		}
		if v, _ := build.env("CGO_ENABLED"); v != "0" && !strings.Contains(cmd, "CGO_ENABLED=0") {
			t.Fatalf("unexpected CGO_ENABLED; got %q; want 0", v)
		}
		for _, flag := range []string{"-trimpath", "-s -w", "-tags nodemo"} {
			if !strings.Contains(cmd, flag) {
				t.Fatalf("unexpected go build command; got %v; want it to contain %v", cmd, flag)
			}
		}
		copies := build.all("COPY")
		if len(copies) < 2 || !strings.Contains(copies[0].args, "go.mod") || len(build.all("RUN")) < 2 ||
			!strings.Contains(build.all("RUN")[0].args, "go mod download") {
			t.Fatalf("unexpected build steps; got %v; want go.mod copied and go mod download run before the source", build.instrs)
		}
	})

	t.Run("user", func(t *testing.T) {
		users := final.all("USER")
		if len(users) == 0 {
			t.Fatalf("unexpected USER in the runtime stage; got none; want a non-root one")
		}
		u := users[len(users)-1].args
		name, _, _ := strings.Cut(u, ":")
		if name == "" || name == "root" || name == "0" {
			t.Fatalf("unexpected USER; got %v; want a non-root user", u)
		}
	})

	t.Run("expose", func(t *testing.T) {
		var exposed []string
		for _, st := range stages {
			for _, in := range st.all("EXPOSE") {
				exposed = append(exposed, strings.Fields(in.args)...)
			}
		}
		if want := []string{"8080"}; !slices.Equal(exposed, want) && !slices.Equal(exposed, []string{"8080/tcp"}) {
			t.Fatalf("unexpected EXPOSE; got %v; want %v", exposed, want)
		}
		listen, _ := final.env("ALILINK_LISTEN")
		if want := "0.0.0.0:8080"; listen != want {
			t.Fatalf("unexpected ALILINK_LISTEN; got %q; want %q", listen, want)
		}
	})

	t.Run("healthcheck", func(t *testing.T) {
		hc := final.all("HEALTHCHECK")
		if len(hc) != 1 {
			t.Fatalf("unexpected HEALTHCHECK count; got %v; want 1", len(hc))
		}
		_, rest, ok := strings.Cut(hc[0].args, "CMD ")
		if !ok {
			t.Fatalf("unexpected HEALTHCHECK; got %v; want HEALTHCHECK [options] CMD [...]", hc[0].args)
		}
		argv, err := dockerExecForm(strings.TrimSpace(rest))
		if err != nil {
			t.Fatalf("unexpected HEALTHCHECK CMD: %v", err)
		}
		if want := []string{"/alilink", "healthcheck"}; !slices.Equal(argv, want) {
			t.Fatalf("unexpected HEALTHCHECK CMD; got %v; want %v", argv, want)
		}
	})

	t.Run("state volume", func(t *testing.T) {
		dir, ok := final.env("ALILINK_STATE_DIR")
		if !ok || dir == "" {
			t.Fatalf("unexpected ALILINK_STATE_DIR; got %q; want a path", dir)
		}
		var vols []string
		for _, in := range final.all("VOLUME") {
			if v, err := dockerExecForm(in.args); err == nil {
				vols = append(vols, v...)
			} else {
				vols = append(vols, strings.Fields(in.args)...)
			}
		}
		if !slices.Contains(vols, dir) {
			t.Fatalf("unexpected VOLUME; got %v; want %v", vols, dir)
		}
		owned := false
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.args)
			if len(f) > 0 && f[len(f)-1] == dir && strings.Contains(in.args, "--chown=") &&
				!strings.Contains(in.args, "--chown=0") && !strings.Contains(in.args, "--chown=root") {
				owned = true
			}
		}
		if !owned {
			t.Fatalf("unexpected state dir owner; got no COPY --chown to %v; want one giving it to the non-root user", dir)
		}
	})

	t.Run("entrypoint", func(t *testing.T) {
		eps := final.all("ENTRYPOINT")
		if len(eps) != 1 {
			t.Fatalf("unexpected ENTRYPOINT count; got %v; want 1", len(eps))
		}
		argv, err := dockerExecForm(eps[0].args)
		if err != nil {
			t.Fatalf("unexpected ENTRYPOINT: %v", err)
		}
		if want := []string{"/alilink"}; !slices.Equal(argv, want) {
			t.Fatalf("unexpected ENTRYPOINT; got %v; want %v", argv, want)
		}
		cmds := final.all("CMD")
		if len(cmds) != 1 {
			t.Fatalf("unexpected CMD count; got %v; want 1", len(cmds))
		}
		argv, err = dockerExecForm(cmds[0].args)
		if err != nil {
			t.Fatalf("unexpected CMD: %v", err)
		}
		if want := []string{"serve"}; !slices.Equal(argv, want) {
			t.Fatalf("unexpected CMD; got %v; want %v", argv, want)
		}
	})
}

// TestNoDemoBuild builds the binary as the Dockerfile does (-tags nodemo) and
// runs it: the demo and the fake drive are not linked, demo says why, and the
// other commands are still there.
func TestNoDemoBuild(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("unexpected: no go command in PATH to build with: %v", err)
	}
	deps, err := exec.Command(goBin, "list", "-tags", "nodemo", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -tags nodemo: %v", err)
	}
	for _, pkg := range []string{"github.com/alilink/alilink/aliclient/alifake", "archive/zip"} {
		if slices.Contains(strings.Fields(string(deps)), pkg) {
			t.Fatalf("unexpected dependency of the nodemo build; got %v linked; want it left out", pkg)
		}
	}
	bin := filepath.Join(t.TempDir(), "alilink")
	if out, err := exec.Command(goBin, "build", "-tags", "nodemo", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nodemo: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "demo").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "built without the demo") {
		t.Fatalf("unexpected demo of the nodemo build; got %v, %q; want exit 1 saying it was built without the demo", err, out)
	}
	out, err = exec.Command(bin, "help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "serve") || !strings.Contains(string(out), "login") {
		t.Fatalf("unexpected help of the nodemo build; got %v, %q; want the command list", err, out)
	}
}
