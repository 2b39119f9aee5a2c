package tokenstore

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	f := func(name, saveSeed, saved, configured, want string, wantFromState bool, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if saved != "" {
				s := New(dir, "t.json")
				if _, _, err := s.Load(saveSeed); err != nil && !errors.Is(err, ErrEmpty) {
					t.Fatal(err)
				}
				if err := s.Save(saved); err != nil {
					t.Fatal(err)
				}
			}
			got, fromState, err := New(dir, "t.json").Load(configured)
			if !errors.Is(err, wantErr) {
				t.Fatalf("unexpected error; got %v; want %v", err, wantErr)
			}
			if got != want || fromState != wantFromState {
				t.Fatalf("unexpected token; got %q (state %v); want %q (state %v)", got, fromState, want, wantFromState)
			}
		})
	}
	f("nothing at all", "", "", "", "", false, ErrEmpty)
	f("configured only", "", "", "env1", "env1", false, nil)
	f("saved, same seed configured", "env1", "rot2", "env1", "rot2", true, nil)
	f("saved, nothing configured", "env1", "rot2", "", "rot2", true, nil)
	f("saved, user pasted a new token", "env1", "rot2", "env9", "env9", false, nil)
	f("saved token itself configured", "env1", "rot2", "rot2", "rot2", true, nil)
}

func TestLoadCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _, err := New(dir, "t.json").Load("env1"); err != nil || got != "env1" {
		t.Fatalf("unexpected result with a configured token; got %q, %v; want env1, nil", got, err)
	}
	if _, _, err := New(dir, "t.json").Load(""); err == nil {
		t.Fatalf("unexpected success loading a corrupt state with no configured token")
	}
}

func TestSaveChainSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, "t.json")
	if _, _, err := s.Load("seed"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Save(fmt.Sprintf("rot%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A restart with the same configured (now spent) token continues the chain.
	s2 := New(dir, "t.json")
	if got, _, _ := s2.Load("seed"); got != "rot2" {
		t.Fatalf("unexpected token after restart; got %q; want rot2", got)
	}
	if err := s2.Save("rot3"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := New(dir, "t.json").Load("seed"); got != "rot3" {
		t.Fatalf("unexpected token after second restart; got %q; want rot3", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "t.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("unexpected token file mode; got %v; want 0600", fi.Mode().Perm())
	}
}

// faultFS fails one named step of the write path.
type faultFS struct {
	osFS
	failAt string
}

var errInjected = errors.New("injected failure")

type faultFile struct {
	*os.File
	failAt string
	wrote  bool
}

func (f *faultFS) CreateTemp(dir, pattern string) (File, error) {
	if f.failAt == "create" {
		return nil, errInjected
	}
	file, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, failAt: f.failAt}, nil
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.failAt == "write" {
		// A torn write: half the bytes reach the temp file, then the disk fails.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if f.failAt == "sync" {
		return errInjected
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	err := f.File.Close()
	if f.failAt == "close" {
		return errInjected
	}
	return err
}

func (f *faultFS) Rename(o, n string) error {
	if f.failAt == "rename" {
		return errInjected
	}
	return os.Rename(o, n)
}

func (f *faultFS) SyncDir(dir string) error {
	if f.failAt == "syncdir" {
		return errInjected
	}
	return f.osFS.SyncDir(dir)
}

func TestSaveInjectedFailures(t *testing.T) {
	for _, step := range []string{"create", "write", "sync", "close", "rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			good := New(dir, "t.json")
			if _, _, err := good.Load("seed"); err != nil {
				t.Fatal(err)
			}
			if err := good.Save("old-token"); err != nil {
				t.Fatal(err)
			}
			s := New(dir, "t.json").WithFS(&faultFS{failAt: step})
			if _, _, err := s.Load("seed"); err != nil {
				t.Fatal(err)
			}
			err := s.Save("new-secret-token")
			if !errors.Is(err, errInjected) {
				t.Fatalf("unexpected error; got %v; want the injected failure", err)
			}
			if strings.Contains(err.Error(), "new-secret-token") {
				t.Fatalf("error leaks the token: %v", err)
			}
			got, _, err := New(dir, "t.json").Load("seed")
			if err != nil {
				t.Fatal(err)
			}
			want := "old-token"
			if step == "syncdir" { // the rename happened; only its durability is unknown
				want = "new-secret-token"
			}
			if got != want {
				t.Fatalf("unexpected token after a failed save; got %q; want %q", got, want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("unexpected files left in the state dir; got %d entries; want only t.json", len(entries))
			}
		})
	}
}

// TestCrashNeverTearsState kills a process that saves tokens in a loop, at a
// random moment, many times, and checks the file is always one whole token.
func TestCrashNeverTearsState(t *testing.T) {
	if os.Getenv("TOKENSTORE_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	dir := t.TempDir()
	for i := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashNeverTearsState$")
		cmd.Env = append(os.Environ(), "TOKENSTORE_CRASH_CHILD="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has saved at least once, then kill it mid-loop.
		buf := make([]byte, 1)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatalf("child did not start saving: %v", err)
		}
		time.Sleep(time.Duration(i%4) * 3 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		s := New(dir, "t.json")
		got, _, err := s.Load("seed")
		if err != nil {
			t.Fatalf("round %d: state unreadable after a crash: %v", i, err)
		}
		if !wholeToken.MatchString(got) {
			t.Fatalf("round %d: torn or unexpected token after a crash; got %q", i, got)
		}
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".token-*")); len(tmps) != 0 {
			t.Fatalf("round %d: Load left stale temp files: %v", i, tmps)
		}
	}
}

var wholeToken = regexp.MustCompile(`^token-[0-9]+x*$`)

func crashChild() {
	dir := os.Getenv("TOKENSTORE_CRASH_CHILD")
	s := New(dir, "t.json")
	_, _, _ = s.Load("seed")
	for i := 0; ; i++ {
		if err := s.Save("token-" + strconv.Itoa(i) + strings.Repeat("x", i%7)); err != nil {
			os.Exit(3)
		}
		if i == 0 {
			os.Stdout.Write([]byte{'1'})
		}
	}
}

// TestLoadRecoversInterruptedSave: a crash after the temp file was written but
// before the rename must not lose the newest token, and a torn temp is dropped.
func TestLoadRecoversInterruptedSave(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, "t.json")
	if _, _, err := s.Load("seed"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("old-token"); err != nil {
		t.Fatal(err)
	}
	whole := fmt.Sprintf(`{"version":1,"refresh_token":"new-token","seed_sha256":%q,"saved_at":%q}`,
		seedOf("seed"), time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(filepath.Join(dir, ".token-1.tmp"), []byte(whole), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".token-2.tmp"), []byte(whole[:20]), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, err := New(dir, "t.json").Load("seed")
	if err != nil || got != "new-token" {
		t.Fatalf("unexpected token; got %q, %v; want new-token", got, err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".token-*")); len(tmps) != 0 {
		t.Fatalf("unexpected temp files left; got %v", tmps)
	}
	if got, _, _ := New(dir, "t.json").Load(""); got != "new-token" {
		t.Fatalf("unexpected token after the recovery was made durable; got %q; want new-token", got)
	}
}
