package axis

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeConfigFiles writes a config and an agencies file into a temp
// folder and returns the config's path and the agencies file's.
func writeConfigFiles(t *testing.T, cfg, agencies string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	c, a := filepath.Join(dir, "axis.yaml"), filepath.Join(dir, "agencies.yaml")
	for f, s := range map[string]string{c: cfg, a: agencies} {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c, a
}

const configHead = "hub: {name: h}\ntrust:\n  roots: [r.pem]\n"

// TestConfigErrorLines: every kind of problem LoadConfig finds names the
// file it is in and the line of the key at fault: YAML syntax, an unknown
// key, a bad duration (yaml's own line), a semantic problem of an inline
// agency (the config) and of one in agencies_file (that file, its own
// index), a peer's route, and a missing agencies_file (the key's line).
func TestConfigErrorLines(t *testing.T) {
	token := TokenHash("x")
	for _, c := range []struct {
		name, cfg, agencies string
		file                string // "config" or "agencies"
		line                int
		msg                 string
	}{
		{"syntax", configHead + "limits:\n  max_depth: 3: 4\n", "[]", "config", 5, "mapping values are not allowed in this context"},
		{"unknown key", configHead + "limits:\n  max_depth: 3\n  max_width: 4\n", "[]", "config", 6, `unknown key "max_width"`},
		{"unknown key in agencies", configHead + "agencies_file: agencies.yaml\n", "- organ_id: 000.00.01.H40\n  name: a\n  colour: red\n", "agencies", 3, `unknown key "colour"`},
		{"duration", configHead + "relay:\n  retry_min: soon\n", "[]", "config", 5, `"soon" is not a duration`},
		{"wrong type", configHead + "relay:\n  concurrency: many\n", "[]", "config", 5, "cannot unmarshal !!str `many` (wrong type for this key)"},
		{"inline agency", configHead + "agencies:\n  - {organ_id: 000.00.01.H40, name: a}\n  - organ_id: 000.00.02.H40\n    token_sha256: abc\n",
			"[]", "config", 7, "agencies[1] 000.00.02.H40: token_sha256 is not 64 hex digits"},
		{"agency of the file", configHead + "agencies_file: agencies.yaml\nagencies:\n  - {organ_id: 000.00.01.H40, name: a}\n",
			"- {organ_id: 000.00.02.H40, name: b}\n- organ_id: 000.00.03.H40\n  name: c\n  push_url: ftp://x\n", "agencies", 4, "agencies[2] 000.00.03.H40: push_url must be http(s)"},
		{"listed twice", configHead + "agencies_file: agencies.yaml\n", "- {organ_id: 000.00.02.H40, token_sha256: " + token + "}\n\n- {organ_id: 000.00.02.H40}\n",
			"agencies", 3, "000.00.02.H40 listed twice"},
		{"peer route", configHead + "peers:\n  - name: n\n    kind: axis\n    url: http://x\n    routes: [\"*.H41\", \"[\"]\n", "[]", "config", 8, `peers[0] n: route "["`},
		{"missing agencies_file", configHead + "log: {level: info}\nagencies_file: nowhere.yaml\n", "[]", "config", 5, "agencies_file: open "},
		{"missing key", "trust: {roots: [r.pem]}\n", "[]", "config", 0, "hub.name is required"},
	} {
		cfg, agencies := writeConfigFiles(t, c.cfg, c.agencies)
		_, err := LoadConfig(cfg)
		var ce *ConfigError
		if err == nil || !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *ConfigError", c.name, err)
			continue
		}
		file := cfg
		if c.file == "agencies" {
			file = agencies
		}
		if ce.File != file || ce.Line != c.line || !strings.Contains(ce.Err.Error(), c.msg) {
			t.Errorf("%s: %s:%d: %v; want %s:%d: ...%s...", c.name, ce.File, ce.Line, ce.Err, file, c.line, c.msg)
		}
	}

	// Several problems: each its own error, in order, each with its line.
	cfg, _ := writeConfigFiles(t, configHead+"reconcile: {at: noon}\nadmin:\n  token_sha256: [abc]\n", "[]")
	_, err := LoadConfig(cfg)
	var got []string
	for _, e := range ConfigErrors(err) {
		got = append(got, strings.TrimPrefix(e.Error(), cfg))
	}
	want := []string{`:4: reconcile.at "noon": want HH:MM`, `:6: admin.token_sha256 "abc" is not 64 hex digits`}
	if !slices.Equal(got, want) {
		t.Errorf("two problems: %q, want %q", got, want)
	}
}

// TestReloadDirectoryKeepsRegistered: replacing a directory keeps the
// agencies registered over VDXP; a configured agency of the same code
// shadows one while it is in the config.
func TestReloadDirectoryKeepsRegistered(t *testing.T) {
	cfg := func(agencies ...Agency) *Config { return &Config{Agencies: agencies} }
	d := NewDirectory(cfg(Agency{OrganID: "000.00.01.H40", TokenSHA256: TokenHash("a")}))
	d.register(&Agency{OrganID: "000.00.09.H40", Name: "registered"})
	names := func() []string {
		var out []string
		for _, a := range d.Agencies() {
			out = append(out, a.OrganID+"="+a.Name)
		}
		return out
	}
	d.replace(NewDirectory(cfg(Agency{OrganID: "000.00.02.H40"})))
	if got := names(); !slices.Equal(got, []string{"000.00.02.H40=", "000.00.09.H40=registered"}) {
		t.Fatalf("after a reload: %v", got)
	}
	if _, ok := d.Authenticate("a"); ok {
		t.Fatal("a removed agency's token still authenticates")
	}
	d.replace(NewDirectory(cfg(Agency{OrganID: "000.00.09.H40", Name: "configured"})))
	if got := names(); !slices.Equal(got, []string{"000.00.09.H40=configured"}) || !d.configuredAgency("000.00.09.H40") {
		t.Fatalf("configured over registered: %v", got)
	}
	d.replace(NewDirectory(cfg()))
	if got := names(); !slices.Equal(got, []string{"000.00.09.H40=registered"}) {
		t.Fatalf("the config dropped it: %v", got)
	}
	d.unregister("000.00.09.H40")
	if got := names(); len(got) != 0 {
		t.Fatalf("unregistered: %v", got)
	}
}

// TestReloadRestartKeys: the keys a reload does not apply are named when
// they change, and only those.
func TestReloadRestartKeys(t *testing.T) {
	dir := t.TempDir() // both in one folder: the same relative data_dir
	load := func(name, extra string) *Config {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(configHead+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := load("old.yaml", "listen: 127.0.0.1:8080\nagencies: [{organ_id: 000.00.01.H40}]\n")
	cur := load("new.yaml", "listen: 127.0.0.1:9090\nagencies: [{organ_id: 000.00.02.H40}]\nrelay: {concurrency: 4}\nadmin: {sla_ack: 1h, token_sha256: ["+TokenHash("x")+"]}\n")
	if got, want := restartKeys(old, cur), []string{"listen", "relay", "admin.sla_*"}; !slices.Equal(got, want) {
		t.Fatalf("restart keys %v, want %v", got, want)
	}
}
