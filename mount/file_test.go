package mount

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alilink/alilink/aliclient"
)

// The secrets of the test files: none may appear in an error.
const (
	secretToken  = "rt-SECRET-1"
	secretClient = "cs-SECRET-2"
	secretPwd    = "pw-SECRET-3"
)

var testEnv = map[string]string{
	"ALI_TOKEN":  secretToken,
	"ALI_SECRET": secretClient,
	"ALI_PWD":    secretPwd,
	"ALI_EMPTY":  "",
}

func lookup(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// write puts content in a mounts file of its own.
func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mounts.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantError loads content and wants exactly one line, the file's name, then
// want, and no secret.
func wantError(t *testing.T, content, want string) {
	t.Helper()
	p := write(t, content)
	_, err := load(p, lookup)
	if err == nil {
		t.Fatalf("unexpected success; want %q", want)
	}
	got := err.Error()
	if full := Variable + " " + p + ": " + want; got != full {
		t.Fatalf("unexpected error;\n got %q\nwant %q", got, full)
	}
	noSecret(t, got)
}

func noSecret(t *testing.T, msg string) {
	t.Helper()
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("the error is more than one line: %q", msg)
	}
	for _, s := range []string{secretToken, secretClient, secretPwd} {
		if strings.Contains(msg, s) {
			t.Fatalf("the error holds a secret: %q", msg)
		}
	}
}

// good is a file with every feature, each error case changes one thing.
const good = `# backup + resource + one share
accounts:
  - name: me
    refresh_token_env: ALI_TOKEN
  - name: app
    driver: open
    refresh_token: rt-SECRET-1
    client_id: my-app
    client_secret_env: ALI_SECRET
    state_key: app-open
mounts:
  - path: /
    account: me
    drive: backup
  - path: /Resource
    account: me
    drive: resource
    root_folder_id: 64de0fb5
  - path: /Resource/Films
    account: me
    share_id: 7JKbXyV6Q2a
    share_pwd_env: ALI_PWD
    mode: proxy
    read_only: true
  - path: /Open
    account: app
`

func TestLoad(t *testing.T) {
	p := write(t, good)
	f, err := load(p, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Path: p,
		Accounts: []Account{
			{Name: "me", Driver: "drive", RefreshToken: secretToken, StateKey: "me"},
			{Name: "app", Driver: "open", RefreshToken: secretToken, ClientID: "my-app", ClientSecret: secretClient, StateKey: "app-open"},
		},
		Mounts: []Spec{
			{Path: "/", Account: "me", Drive: "backup", RootFolderID: "root"},
			{Path: "/Resource", Account: "me", Drive: "resource", RootFolderID: "64de0fb5"},
			{Path: "/Resource/Films", Account: "me", Drive: "default", RootFolderID: "root", ShareID: "7JKbXyV6Q2a", SharePwd: secretPwd, Mode: "proxy", ReadOnly: true},
			{Path: "/Open", Account: "app", Drive: "default", RootFolderID: "root"},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("unexpected file;\n got %+v\nwant %+v", f, want)
	}
	if m := f.Mount("/Resource"); m == nil || m.Drive != "resource" {
		t.Fatalf("unexpected Mount(/Resource): %+v", m)
	}
}

// TestWarnReadableSecrets: inline secrets in a file others may read are
// worth a warning (without the secret); a 0600 file, or secrets by
// variable, are not.
func TestWarnReadableSecrets(t *testing.T) {
	p := write(t, good) // 0600, refresh_token inline
	f, err := load(p, lookup)
	if err != nil || len(f.Warnings) != 0 {
		t.Fatalf("unexpected warnings of a 0600 file: %v %v", f, err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err = load(p, lookup)
	if err != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "mode 0644") {
		t.Fatalf("unexpected warnings of a 0644 file with a secret: %v %v", f.Warnings, err)
	}
	noSecret(t, f.Warnings[0])
	p = write(t, "accounts:\n  - name: me\n    refresh_token_env: ALI_TOKEN\nmounts:\n  - path: /\n")
	_ = os.Chmod(p, 0o644)
	if f, err = load(p, lookup); err != nil || len(f.Warnings) != 0 {
		t.Fatalf("unexpected warnings without inline secrets: %v %v", f.Warnings, err)
	}
}

// TestLoadDefaults: the only account needs no naming; driver, state key,
// drive and root folder have defaults; a token may come from the state file
// alone (none here).
func TestLoadDefaults(t *testing.T) {
	f, err := load(write(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Path: "/", Account: "me", Drive: "default", RootFolderID: "root"}
	if f.Mounts[0] != want || f.Accounts[0] != (Account{Name: "me", Driver: "drive", StateKey: "me"}) {
		t.Fatalf("unexpected defaults: %+v %+v", f.Accounts[0], f.Mounts[0])
	}
}

func TestLoadViaEnvironment(t *testing.T) {
	t.Setenv("ALI_T", secretToken)
	p := write(t, "accounts:\n  - name: me\n    refresh_token_env: ALI_T\nmounts:\n  - path: /\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Accounts[0].RefreshToken != secretToken {
		t.Fatalf("the token of the environment was not read")
	}
}

func TestErrorUnreadableFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(p)
	if want := Variable + " " + p + ": cannot read the file: no such file or directory"; err == nil || err.Error() != want {
		t.Fatalf("unexpected error; got %v; want %q", err, want)
	}
	dir := t.TempDir()
	_, err = Load(dir)
	if want := Variable + " " + dir + ": cannot read the file: is a directory"; err == nil || err.Error() != want {
		t.Fatalf("unexpected error; got %v; want %q", err, want)
	}
}

func TestErrorEmptyFile(t *testing.T) {
	wantError(t, "", "empty: the file needs accounts and mounts")
	wantError(t, "# only a comment\n", "empty: the file needs accounts and mounts")
}

func TestErrorTooLarge(t *testing.T) {
	wantError(t, "#"+strings.Repeat("x", maxFileSize)+"\n", "larger than 1048576 bytes; a mounts file is a few kilobytes")
}

func TestErrorYAMLSyntax(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n    refresh_token: \"rt-SECRET-1\nmounts: []\n",
		"YAML syntax: line 3: found unexpected end of stream")
	wantError(t, "accounts:\n  - name: me\n\trefresh_token: rt-SECRET-1\n",
		"YAML syntax: line 2: found a tab character that violates indentation")
}

func TestErrorSecondDocument(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n---\nmounts: []\n",
		"line 5: a second YAML document (---); the file holds one")
}

func TestErrorNotAMapping(t *testing.T) {
	wantError(t, "- name: me\n", "line 1: the file must be a mapping with accounts and mounts")
	wantError(t, "accounts:\n  - me\nmounts:\n  - path: /\n",
		`accounts[0] (line 2): not a mapping of fields (each entry starts with "- " and holds field: value lines)`)
	wantError(t, "accounts:\n  - name: [me, you]\nmounts:\n  - path: /\n",
		`accounts[0] (line 2): name: a single value is expected (line 2)`)
}

func TestErrorUnknownField(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n    refresh_tokn: rt-SECRET-1\nmounts:\n  - path: /\n",
		`accounts[0] (name "me", line 2): unknown field "refresh_tokn" at line 3 (known: name, driver, refresh_token, refresh_token_env, client_id, client_secret, client_secret_env, state_key)`)
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n    sharepwd: pw-SECRET-3\n",
		`mounts[0] (path "/", line 4): unknown field "sharepwd" at line 5 (known: path, account, drive, root_folder_id, share_id, share_pwd, share_pwd_env, mode, read_only)`)
	wantError(t, "accounts:\n  - name: me\nmount:\n  - path: /\n",
		`line 3: unknown field "mount" (the file has accounts and mounts)`)
}

func TestErrorFieldTwice(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n    refresh_token: rt-SECRET-1\n    refresh_token: rt-SECRET-1\nmounts:\n  - path: /\n",
		`accounts[0] (name "me", line 2): field "refresh_token" given twice (line 4)`)
}

func TestErrorBadReadOnly(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n    read_only: yes\n",
		`mounts[0] (path "/", line 4): read_only: "yes" is not true or false (line 5)`)
}

func TestErrorUnknownAccount(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n  - name: you\nmounts:\n  - path: /\n    account: me\n  - path: /Films\n    account: bob\n",
		`mounts[1] (path "/Films", line 7): account "bob" is not defined`)
	wantError(t, "accounts:\n  - name: me\n  - name: you\nmounts:\n  - path: /\n",
		`mounts[0] (path "/", line 5): account is missing (there are 2 accounts; name one)`)
	wantError(t, "mounts:\n  - path: /\n    account: me\n",
		`mounts[0] (path "/", line 2): account "me" is not defined`)
}

func TestErrorDuplicateAccount(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n    refresh_token: rt-SECRET-1\n  - name: me\n    driver: open\nmounts:\n  - path: /\n",
		`accounts[1] (name "me", line 4): name "me" is already the name of accounts[0]`)
	wantError(t, "accounts:\n  - name: me\n  - name: you\n    state_key: me\nmounts:\n  - path: /\n    account: me\n",
		`accounts[1] (name "you", line 3): state_key "me" is already the state key of accounts[0]: two accounts would spend each other's tokens`)
}

func TestErrorBadAccount(t *testing.T) {
	for _, c := range []struct{ entry, want string }{
		{"  - driver: drive\n", `accounts[0] (line 2): name is missing: every account has a name the mounts refer to`},
		{"  - name: my account\n", `accounts[0] (name "my account", line 2): name "my account" is not a name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"  - name: me\n    state_key: ../x\n", `accounts[0] (name "me", line 2): state_key "../x" is not a state key: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"  - name: me\n    driver: share\n", `accounts[0] (name "me", line 2): driver "share" is not an account: mount a share with share_id on a driver "drive" account`},
		{"  - name: me\n    driver: webdav\n", `accounts[0] (name "me", line 2): driver "webdav" is not one of drive, open`},
		{"  - name: me\n    refresh_token: rt-SECRET-1\n    refresh_token_env: ALI_TOKEN\n", `accounts[0] (name "me", line 2): refresh_token and refresh_token_env are both set; keep one`},
		{"  - name: me\n    refresh_token_env: ALI_UNSET\n", `accounts[0] (name "me", line 2): refresh_token_env: the environment variable ALI_UNSET is not set`},
		{"  - name: me\n    refresh_token_env: ALI_EMPTY\n", `accounts[0] (name "me", line 2): refresh_token_env: the environment variable ALI_EMPTY is not set`},
		{"  - name: me\n    driver: open\n    client_id: app\n    client_secret_env: ALI_UNSET\n", `accounts[0] (name "me", line 2): client_secret_env: the environment variable ALI_UNSET is not set`},
		{"  - name: me\n    driver: open\n    client_id: app\n", `accounts[0] (name "me", line 2): client_id and client_secret go together: set both (your Open platform app), or neither for the ALILINK_OPEN_* variables`},
		{"  - name: me\n    client_id: app\n    client_secret: cs-SECRET-2\n", `accounts[0] (name "me", line 2): client_id and client_secret are for driver "open" accounts`},
	} {
		wantError(t, "accounts:\n"+c.entry+"mounts:\n  - path: /\n    account: me\n", c.want)
	}
}

func TestErrorDuplicatePath(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /Films\n  - path: /\n  - path: /Films\n    drive: resource\n",
		`mounts[2] (path "/Films", line 6): path "/Films" is already mounted by mounts[0]`)
}

// TestNestedPathsAllowed: a mount inside another is fine (the longest
// prefix wins when serving).
func TestNestedPathsAllowed(t *testing.T) {
	f, err := load(write(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n  - path: /a\n  - path: /a/b\n    drive: resource\n"), lookup)
	if err != nil || len(f.Mounts) != 3 {
		t.Fatalf("unexpected nested mounts: %v %+v", err, f)
	}
}

func TestErrorUncleanPath(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/a/../b", `path "/a/../b" is not clean: write "/b"`},
		{"a", `path "a" is not absolute: write "/a"`},
		{"/a/", `path "/a/" is not clean: write "/a"`},
		{"//a", `path "//a" is not clean: write "/a"`},
		{"/a/./b", `path "/a/./b" is not clean: write "/a/b"`},
		{"/-/api", `path "/-/api": /- is alilink's own (/-/api, /-/readyz…)`},
	} {
		wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: '"+c.path+"'\n",
			`mounts[0] (path "`+c.path+`", line 4): `+c.want)
	}
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - drive: backup\n", `mounts[0] (line 4): path is missing`)
}

func TestErrorBadDriveKind(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n    drive: safebox\n",
		`mounts[0] (path "/", line 4): drive "safebox" is not one of default, backup, resource`)
}

func TestErrorBadMode(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /\n    mode: stream\n",
		`mounts[0] (path "/", line 4): mode "stream" is not one of auto, redirect, proxy, rewrite, accel`)
}

func TestErrorShareOnOpenAccount(t *testing.T) {
	wantError(t, "accounts:\n  - name: app\n    driver: open\n    client_id: x\n    client_secret: cs-SECRET-2\nmounts:\n  - path: /s\n    share_id: abc\n    share_pwd: pw-SECRET-3\n",
		`mounts[0] (path "/s", line 7): share_id: account "app" is a driver "open" account: a share is played by copying its files into your drive, a call of the legacy API that needs the account's legacy refresh token; the Open platform has no share calls: mount shares through a driver "drive" account`)
}

func TestErrorBadShare(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /s\n    share_pwd: pw-SECRET-3\n",
		`mounts[0] (path "/s", line 4): share_pwd without share_id`)
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /s\n    share_id: abc\n    drive: resource\n",
		`mounts[0] (path "/s", line 4): drive and share_id: a share mount serves the share; its files are copied into the account's resource drive (else its default drive) to play`)
	wantError(t, "accounts:\n  - name: me\nmounts:\n  - path: /s\n    share_id: abc\n    share_pwd_env: ALI_UNSET\n",
		`mounts[0] (path "/s", line 4): share_pwd_env: the environment variable ALI_UNSET is not set`)
}

func TestErrorNoMounts(t *testing.T) {
	wantError(t, "accounts:\n  - name: me\n", "no mounts: list at least one under mounts (path, account, drive)")
	wantError(t, "accounts:\n  - name: me\nmounts: []\n", "line 3: no mounts: list at least one under mounts (path, account, drive)")
	wantError(t, "accounts:\n  - name: me\nmounts:\n", "line 3: no mounts: list at least one under mounts (path, account, drive)")
}

// TestAccountConfig: the env-derived base keeps its URLs, rates, timeouts
// and state dir; the account brings driver, token, app and state key; the
// base's share and drive choice do not leak into accounts.
func TestAccountConfig(t *testing.T) {
	f, err := load(write(t, good), lookup)
	if err != nil {
		t.Fatal(err)
	}
	base := aliclient.DefaultConfig()
	base.StateDir, base.APIURL, base.RateLink, base.Timeout = "/var/lib/alilink", "http://127.0.0.1:9", 0.5, 7*time.Second
	base.RefreshToken, base.ShareID, base.SharePwd, base.OpenDriveType = "env-token", "envshare", "envpwd", "resource"
	base.OpenTokenURL = "https://broker.example/token"

	me := f.AccountConfig(base, "me")
	want := base
	want.Driver, want.RefreshToken, want.StateKey, want.AccountName = "drive", secretToken, "me", "me"
	want.ShareID, want.SharePwd, want.OpenDriveType = "", "", "default"
	if me != want {
		t.Fatalf("unexpected config of me;\n got %+v\nwant %+v", me, want)
	}
	app := f.AccountConfig(base, "app")
	want.Driver, want.StateKey, want.AccountName = "open", "app-open", "app"
	want.OpenClientID, want.OpenClientSecret, want.OpenTokenURL = "my-app", secretClient, ""
	if app != want {
		t.Fatalf("unexpected config of app;\n got %+v\nwant %+v", app, want)
	}
	if err := app.Validate(); err != nil {
		t.Fatalf("unexpected invalid config of app: %v", err)
	}
	if aliclient.StateFile(me) != "me-drive-token.json" || aliclient.StateFile(app) != "app-open-open-token.json" {
		t.Fatalf("unexpected state files %q %q", aliclient.StateFile(me), aliclient.StateFile(app))
	}
}

// TestCheck: an open account with no app of its own relies on the
// ALILINK_OPEN_* variables; without them start-up stops naming the account.
func TestCheck(t *testing.T) {
	p := write(t, "accounts:\n  - name: tv\n    driver: open\n    refresh_token: rt-SECRET-1\nmounts:\n  - path: /\n")
	f, err := load(p, lookup)
	if err != nil {
		t.Fatal(err)
	}
	base := aliclient.DefaultConfig()
	base.StateDir = t.TempDir()
	err = f.Check(base)
	want := Variable + " " + p + `: accounts[0] (name "tv"): ALILINK_OPEN_CLIENT_ID: the open driver needs your Open platform app (ALILINK_OPEN_CLIENT_ID and ALILINK_OPEN_CLIENT_SECRET), or a token broker you choose in ALILINK_OPEN_TOKEN_URL`
	if err == nil || err.Error() != want {
		t.Fatalf("unexpected check;\n got %v\nwant %s", err, want)
	}
	noSecret(t, err.Error())
	base.OpenClientID, base.OpenClientSecret = "app", secretClient
	if err := f.Check(base); err != nil {
		t.Fatalf("unexpected check with the env's app: %v", err)
	}
}

// TestExampleFile: the README's mounts file (backup + resource + one share)
// loads as documented.
func TestExampleFile(t *testing.T) {
	t.Setenv("ALI_REFRESH_TOKEN", secretToken)
	t.Setenv("ALI_FILMS_PWD", secretPwd)
	f, err := Load(filepath.Join("..", "examples", "mounts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Accounts) != 1 || len(f.Mounts) != 3 || f.Mounts[1].Drive != "resource" || f.Mounts[2].SharePwd != secretPwd {
		t.Fatalf("unexpected example: %+v", f)
	}
}
