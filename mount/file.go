// Package mount reads the mounts file (ALILINK_MOUNTS_FILE): the accounts
// alilink logs in to and the mounts that serve their drives, and shares
// played through them, at path prefixes. Without the file, the environment
// describes one account mounted at "/".
//
// The file is YAML; examples/mounts.yaml is the documented example
// (backup drive at "/", resource drive at /Resource, one share). Errors
// name the file, the entry (counted from 0, with its line) and the field.
package mount

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	pathpkg "path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/alilink/alilink/aliclient"
)

// File is a mounts file as read and checked.
type File struct {
	Path     string // the file it was read from
	Accounts []Account
	Mounts   []Spec
	// Warnings are worth a log line at start (no secret in them): e.g.
	// secrets written in a file others may read.
	Warnings []string
}

// Account is one login of the drive.
type Account struct {
	Name                   string // key mounts refer to
	Driver                 string // "drive" (default) or "open"
	RefreshToken           string // inline or from refresh_token_env; "" = the state file's
	ClientID, ClientSecret string // open
	StateKey               string // state file / Redis key; default: Name
}

// Spec is one mount: a path prefix served by a drive (or a share) of an
// account.
type Spec struct {
	Path              string // clean absolute prefix, "/" allowed
	Account           string
	Drive             string // "default" (default) | "backup" | "resource"
	RootFolderID      string // default "root"
	ShareID, SharePwd string // a share through Account
	Mode              string // "" = the server's ALILINK_MODE; else auto|redirect|proxy|rewrite|accel
	ReadOnly          bool
}

// Variable is the environment variable naming the mounts file.
const Variable = "ALILINK_MOUNTS_FILE"

// maxFileSize bounds the file read: a mounts file is a few kilobytes.
const maxFileSize = 1 << 20

// modes are the streamer's modes (streamer.ModeAuto…), "" for the server's.
var modes = []string{"auto", "redirect", "proxy", "rewrite", "accel"}

// rawFile, rawAccount and rawSpec are the file's YAML; the yaml tags are
// also the known fields.
type rawFile struct {
	Accounts []rawAccount `yaml:"accounts"`
	Mounts   []rawSpec    `yaml:"mounts"`
}

type rawAccount struct {
	Name            string `yaml:"name"`
	Driver          string `yaml:"driver"`
	RefreshToken    string `yaml:"refresh_token"`
	RefreshTokenEnv string `yaml:"refresh_token_env"`
	ClientID        string `yaml:"client_id"`
	ClientSecret    string `yaml:"client_secret"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	StateKey        string `yaml:"state_key"`
}

type rawSpec struct {
	Path         string `yaml:"path"`
	Account      string `yaml:"account"`
	Drive        string `yaml:"drive"`
	RootFolderID string `yaml:"root_folder_id"`
	ShareID      string `yaml:"share_id"`
	SharePwd     string `yaml:"share_pwd"`
	SharePwdEnv  string `yaml:"share_pwd_env"`
	Mode         string `yaml:"mode"`
	ReadOnly     bool   `yaml:"read_only"`
}

// Load reads and checks the mounts file at path. Its error is one line naming
// the file, the entry (counted from 0, with its line) and the field, and
// never holds a secret (tokens, client secrets, share passwords). Secrets
// given by variable (refresh_token_env…) are read now.
func Load(path string) (*File, error) {
	return load(path, os.LookupEnv)
}

// problem is one error of the file: where, then what.
type problem struct {
	where string // "mounts[2] (path \"/Films\", line 14)", or "line 3"
	what  string
}

func load(path string, lookup func(string) (string, bool)) (*File, error) {
	fail := func(p problem) error {
		msg := Variable + " " + path + ": "
		if p.where != "" {
			msg += p.where + ": "
		}
		return errors.New(msg + p.what)
	}
	raw, perm, err := readFile(path)
	if err != nil {
		return nil, fail(problem{what: err.Error()})
	}
	var doc yaml.Node
	// The document is walked as nodes (parse), not decoded into structs
	// with KnownFields: a misspelt field is then named with its entry and
	// line, and the rest of the entry is checked in the same pass.
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, fail(problem{what: yamlMessage(err)})
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return nil, fail(problem{where: lineOf(&more), what: "a second YAML document (---); the file holds one"})
	case !errors.Is(err, io.EOF):
		return nil, fail(problem{what: yamlMessage(err)})
	}
	f, p := parse(&doc, lookup)
	if p != nil {
		return nil, fail(*p)
	}
	f.Path = path
	if perm&0o077 != 0 && inlineSecrets(&doc) {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s %s: the file holds secrets (refresh_token, client_secret or share_pwd) and others may read it (mode %04o): chmod 600 it, or name environment variables with refresh_token_env, client_secret_env, share_pwd_env", Variable, path, perm))
	}
	return f, nil
}

// inlineSecrets tells whether any entry writes a secret in the file.
func inlineSecrets(doc *yaml.Node) bool {
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch n.Content[i].Value {
				case "refresh_token", "client_secret", "share_pwd":
					if n.Content[i+1].Value != "" {
						return true
					}
				}
			}
		}
		return slices.ContainsFunc(n.Content, walk)
	}
	return walk(doc)
}

// readFile reads at most maxFileSize bytes, naming what went wrong without
// the Go error's repetition of the path.
func readFile(path string) ([]byte, os.FileMode, error) {
	if path == "" {
		return nil, 0, errors.New("empty: name the mounts file, or unset the variable for the one-drive configuration")
	}
	cannot := func(err error) error {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot read the file: %v", err)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, cannot(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, 0, cannot(err)
	}
	if st.IsDir() {
		return nil, 0, errors.New("cannot read the file: is a directory")
	}
	raw, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, 0, cannot(err)
	}
	if len(raw) > maxFileSize {
		return nil, 0, fmt.Errorf("larger than %d bytes; a mounts file is a few kilobytes", maxFileSize)
	}
	return raw, st.Mode().Perm(), nil
}

// yamlMessage makes a YAML syntax error one line: "line 3: did not find
// expected key" (the library says "yaml: line 3: …"). The message quotes no
// value of the file beyond the token the parser stopped at.
func yamlMessage(err error) string {
	if errors.Is(err, io.EOF) {
		return "empty: the file needs accounts and mounts"
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return "YAML syntax: " + strings.Join(strings.Fields(msg), " ")
}

func lineOf(n *yaml.Node) string { return "line " + strconv.Itoa(n.Line) }

// parse walks the document: the top mapping, then each entry, checking the
// fields it knows before decoding them (so that a misspelt field is named
// with its entry and line, not as a Go type).
func parse(doc *yaml.Node, lookup func(string) (string, bool)) (*File, *problem) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &problem{what: "empty: the file needs accounts and mounts"}
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, &problem{where: lineOf(top), what: "the file must be a mapping with accounts and mounts"}
	}
	var accounts, mounts *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "accounts":
			accounts = v
		case "mounts":
			mounts = v
		default:
			return nil, &problem{where: lineOf(k), what: fmt.Sprintf("unknown field %q (the file has accounts and mounts)", k.Value)}
		}
	}
	f := &File{}
	names := map[string]int{} // account name → index
	stateKeys := map[string]int{}
	for i, n := range seq(accounts) {
		where := entryName("accounts", i, n, "name")
		var ra rawAccount
		if p := decodeEntry(n, &ra, where); p != nil {
			return nil, p
		}
		a, what := account(ra, lookup)
		if what != "" {
			return nil, &problem{where: where, what: what}
		}
		if j, dup := names[a.Name]; dup {
			return nil, &problem{where: where, what: fmt.Sprintf("name %q is already the name of accounts[%d]", a.Name, j)}
		}
		if j, dup := stateKeys[a.StateKey]; dup {
			return nil, &problem{where: where, what: fmt.Sprintf("state_key %q is already the state key of accounts[%d]: two accounts would spend each other's tokens", a.StateKey, j)}
		}
		names[a.Name], stateKeys[a.StateKey] = i, i
		f.Accounts = append(f.Accounts, a)
	}
	paths := map[string]int{}
	specs := seq(mounts)
	if len(specs) == 0 {
		where := ""
		if mounts != nil {
			where = lineOf(mounts)
		}
		return nil, &problem{where: where, what: "no mounts: list at least one under mounts (path, account, drive)"}
	}
	for i, n := range specs {
		where := entryName("mounts", i, n, "path")
		var rs rawSpec
		if p := decodeEntry(n, &rs, where); p != nil {
			return nil, p
		}
		s, what := spec(rs, f.Accounts, lookup)
		if what != "" {
			return nil, &problem{where: where, what: what}
		}
		if j, dup := paths[s.Path]; dup {
			return nil, &problem{where: where, what: fmt.Sprintf("path %q is already mounted by mounts[%d]", s.Path, j)}
		}
		paths[s.Path] = i
		f.Mounts = append(f.Mounts, s)
	}
	return f, nil
}

// entryName names an entry in errors: accounts[1] (name "bob", line 7), by
// its identifying field when it has one (names and paths are no secrets).
func entryName(list string, i int, n *yaml.Node, key string) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == key && v.Kind == yaml.ScalarNode && v.Value != "" {
				return fmt.Sprintf("%s[%d] (%s %q, %s)", list, i, key, v.Value, lineOf(n))
			}
		}
	}
	return fmt.Sprintf("%s[%d] (%s)", list, i, lineOf(n))
}

// seq is the entries of a list ("accounts:" with nothing after it is none).
func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []*yaml.Node{n} // decodeEntry reports it
	}
	return n.Content
}

// decodeEntry checks an entry's fields against out's yaml tags and decodes it.
func decodeEntry(n *yaml.Node, out any, where string) *problem {
	if n.Kind != yaml.MappingNode {
		return &problem{where: where, what: "not a mapping of fields (each entry starts with \"- \" and holds field: value lines)"}
	}
	known := knownFields(out)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			return &problem{where: where, what: fmt.Sprintf("unknown field %q at %s (known: %s)", k.Value, lineOf(k), strings.Join(known, ", "))}
		}
		if seen[k.Value] {
			return &problem{where: where, what: fmt.Sprintf("field %q given twice (%s)", k.Value, lineOf(k))}
		}
		seen[k.Value] = true
		v := n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return &problem{where: where, what: fmt.Sprintf("%s: a single value is expected (%s)", k.Value, lineOf(v))}
		}
		if k.Value == "read_only" && v.Tag != "!!bool" && v.Tag != "!!null" {
			return &problem{where: where, what: fmt.Sprintf("read_only: %q is not true or false (%s)", v.Value, lineOf(v))}
		}
	}
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// Every field is a string but read_only (checked above): a
			// type error quotes no value of ours, but say nothing more.
			return &problem{where: where, what: fmt.Sprintf("a value of the wrong type (%d errors)", len(te.Errors))}
		}
		return &problem{where: where, what: yamlMessage(err)}
	}
	return nil
}

func knownFields(out any) []string {
	switch out.(type) {
	case *rawAccount:
		return []string{"name", "driver", "refresh_token", "refresh_token_env", "client_id", "client_secret", "client_secret_env", "state_key"}
	default:
		return []string{"path", "account", "drive", "root_folder_id", "share_id", "share_pwd", "share_pwd_env", "mode", "read_only"}
	}
}

// secret is a value given inline or through an environment variable.
func secret(field, inline, envName string, lookup func(string) (string, bool)) (string, string) {
	if envName == "" {
		return inline, ""
	}
	if inline != "" {
		return "", fmt.Sprintf("%s and %s_env are both set; keep one", field, field)
	}
	v, ok := lookup(envName)
	if !ok || v == "" {
		return "", fmt.Sprintf("%s_env: the environment variable %s is not set", field, envName)
	}
	return strings.TrimSpace(v), ""
}

func account(ra rawAccount, lookup func(string) (string, bool)) (Account, string) {
	a := Account{Name: ra.Name, Driver: cmp.Or(ra.Driver, "drive"), ClientID: ra.ClientID, StateKey: cmp.Or(ra.StateKey, ra.Name)}
	if a.Name == "" {
		return a, "name is missing: every account has a name the mounts refer to"
	}
	if err := aliclient.ValidStateKey(a.Name); err != nil {
		return a, "name " + strings.Replace(err.Error(), "state key", "name", 1)
	}
	if err := aliclient.ValidStateKey(a.StateKey); err != nil {
		return a, "state_key " + err.Error()
	}
	switch a.Driver {
	case "drive", "open":
	case "share":
		return a, `driver "share" is not an account: mount a share with share_id on a driver "drive" account`
	default:
		return a, fmt.Sprintf("driver %q is not one of drive, open", a.Driver)
	}
	var what string
	if a.RefreshToken, what = secret("refresh_token", ra.RefreshToken, ra.RefreshTokenEnv, lookup); what != "" {
		return a, what
	}
	if a.ClientSecret, what = secret("client_secret", ra.ClientSecret, ra.ClientSecretEnv, lookup); what != "" {
		return a, what
	}
	if a.Driver != "open" && (a.ClientID != "" || a.ClientSecret != "") {
		return a, `client_id and client_secret are for driver "open" accounts`
	}
	if (a.ClientID == "") != (a.ClientSecret == "") {
		return a, "client_id and client_secret go together: set both (your Open platform app), or neither for the ALILINK_OPEN_* variables"
	}
	return a, ""
}

func spec(rs rawSpec, accounts []Account, lookup func(string) (string, bool)) (Spec, string) {
	s := Spec{Path: rs.Path, Account: rs.Account, Drive: cmp.Or(rs.Drive, aliclient.DriveDefault),
		RootFolderID: cmp.Or(rs.RootFolderID, "root"), ShareID: rs.ShareID, Mode: rs.Mode, ReadOnly: rs.ReadOnly}
	if what := checkPath(s.Path); what != "" {
		return s, what
	}
	if s.Account == "" {
		if len(accounts) != 1 {
			return s, fmt.Sprintf("account is missing (there are %d accounts; name one)", len(accounts))
		}
		s.Account = accounts[0].Name
	}
	i := slices.IndexFunc(accounts, func(a Account) bool { return a.Name == s.Account })
	if i < 0 {
		return s, fmt.Sprintf("account %q is not defined", s.Account)
	}
	switch s.Drive {
	case aliclient.DriveDefault, aliclient.DriveBackup, aliclient.DriveResource:
	default:
		return s, fmt.Sprintf("drive %q is not one of default, backup, resource", s.Drive)
	}
	if s.Mode != "" && !slices.Contains(modes, s.Mode) {
		return s, fmt.Sprintf("mode %q is not one of %s", s.Mode, strings.Join(modes, ", "))
	}
	var what string
	if s.SharePwd, what = secret("share_pwd", rs.SharePwd, rs.SharePwdEnv, lookup); what != "" {
		return s, what
	}
	if s.ShareID == "" {
		if s.SharePwd != "" {
			return s, "share_pwd without share_id"
		}
		return s, ""
	}
	if err := aliclient.CanShare(accounts[i].Driver); err != nil {
		return s, fmt.Sprintf("share_id: account %q is a driver %q account: %v", s.Account, accounts[i].Driver, strings.TrimSuffix(err.Error(), ": "+errors.ErrUnsupported.Error()))
	}
	if rs.Drive != "" {
		return s, "drive and share_id: a share mount serves the share; its files are copied into the account's resource drive (else its default drive) to play"
	}
	return s, ""
}

// checkPath accepts clean absolute prefixes: "/", "/Films", "/a/b".
func checkPath(p string) string {
	switch {
	case p == "":
		return "path is missing"
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("path %q is not absolute: write %q", p, pathpkg.Clean("/"+p))
	case pathpkg.Clean(p) != p:
		return fmt.Sprintf("path %q is not clean: write %q", p, pathpkg.Clean(p))
	case p == "/-" || strings.HasPrefix(p, "/-/"):
		return fmt.Sprintf("path %q: /- is alilink's own (/-/api, /-/readyz…)", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Sprintf("path %q holds a control character", p)
	}
	return ""
}

// AccountConfig returns the aliclient.Config for one account: base (the
// env-derived config: URLs, rates, timeouts, state dir) with the account's
// driver, token, client id/secret and state key applied. name must be one of
// f's accounts (every mount's is); for another, base is returned named name.
// The share and drive choices of base are cleared: each mount takes its own
// drive (Account.Drive) or share (Account.Share).
func (f *File) AccountConfig(base aliclient.Config, name string) aliclient.Config {
	cfg := base
	cfg.AccountName = name
	cfg.ShareID, cfg.SharePwd = "", ""
	cfg.OpenDriveType = aliclient.DriveDefault
	i := slices.IndexFunc(f.Accounts, func(a Account) bool { return a.Name == name })
	if i < 0 {
		return cfg
	}
	a := f.Accounts[i]
	cfg.Driver, cfg.RefreshToken, cfg.StateKey = a.Driver, a.RefreshToken, a.StateKey
	if a.ClientID != "" {
		// The account's own app; a broker is only for setups without one.
		cfg.OpenClientID, cfg.OpenClientSecret, cfg.OpenTokenURL = a.ClientID, a.ClientSecret, ""
	}
	return cfg
}

// Check validates every account's configuration over base (cfg.Validate),
// naming the file and the account: e.g. an open account with neither an app
// of its own nor ALILINK_OPEN_CLIENT_ID.
func (f *File) Check(base aliclient.Config) error {
	for i, a := range f.Accounts {
		cfg := f.AccountConfig(base, a.Name)
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%s %s: accounts[%d] (name %q): %v", Variable, f.Path, i, a.Name, err)
		}
	}
	return nil
}

// Mount returns the mount at exactly path p (nil if none).
func (f *File) Mount(p string) *Spec {
	for i := range f.Mounts {
		if f.Mounts[i].Path == p {
			return &f.Mounts[i]
		}
	}
	return nil
}
