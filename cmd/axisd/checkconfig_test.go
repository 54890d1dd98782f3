package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/axis-h40/axis/internal/fixture"
)

// checkConfig runs the built axisd with --check-config and args, in a
// clean environment (no demo secrets), and returns its exit code and
// outputs.
func checkConfig(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	return runProgram(t, []string{"PATH=" + os.Getenv("PATH")}, bin, append([]string{"--check-config"}, args...)...)
}

// TestCheckConfig runs the real binary: the demo config passes and the
// summary names the hub and its 258 agencies; a YAML syntax error, an
// unknown key and a semantic error are refused (exit 1) with the file and
// line; a missing agencies_file is named; a usage error stays exit 2; and
// it does not take the store's lock (a hub runs on the same data dir).
func TestCheckConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildAxisdRace(t, false)

	code, out, errOut := checkConfig(t, bin, "--config", demoConfig)
	if code != 0 {
		t.Fatalf("the demo config: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{`(?m)^hub: axis-h40 \(`, `(?m)^agencies: 258 \(0 inline, 258 in .*agencies-h40\.yaml\); 258 with a token`,
		`(?m)^peers: 1: national \(axis http://127\.0\.0\.1:9090, routes \*\)$`, `(?m)^tls: off`, `(?m)^revocation: hold \(2 CRL file`,
		`(?m)^reconcile: no schedule`, `(?m)^store: bbolt, \S+/axis\.db$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("the demo config's summary has no %s:\n%s", want, out)
		}
	}
	demo := string(fixture.ReadFile(t, demoConfig))
	line := func(s, sub string) int {
		i := strings.Index(s, sub)
		if i < 0 {
			t.Fatalf("%q not in the config", sub)
		}
		return strings.Count(s[:i], "\n") + 1
	}
	// Its warnings: the demo secrets are not in this environment.
	if want := "axisd: warning: " + demoConfig + ":" + strconv.Itoa(line(demo, "- {id: demo-dms-h40")) +
		": vdxp.systems[0] demo-dms-h40: the secret variable AXIS_DEMO_VDXP_SECRET is empty or not set"; !strings.Contains(errOut, want) {
		t.Errorf("no warning %q:\n%s", want, errOut)
	}

	// Copies in a temp folder, with absolute paths to the demo files.
	base := string(fixture.ReadFile(t, processConfig(t, "axis-h40.yaml", func(s string) string { return s })))
	dir := t.TempDir()
	variant := func(name string, edit func(string) string) string {
		p := filepath.Join(dir, name)
		writeText(t, p, edit(base))
		return p
	}
	at := func(sub string) string { return strconv.Itoa(line(base, sub)) }
	next := func(sub string) string { return strconv.Itoa(line(base, sub) + 1) }

	for _, c := range []struct {
		name string
		edit func(string) string
		want string // a regexp of stderr
	}{
		{"syntax", func(s string) string {
			return strings.Replace(s, "  allow_sha1: false\n", "  allow_sha1: false\n  limit: a: b\n", 1)
		}, `^axisd: \S+syntax\.yaml:` + next("  allow_sha1: false") + `: mapping values are not allowed in this context\n$`},
		{"unknown", func(s string) string {
			return strings.Replace(s, "  legacy_signature_ns: false\n", "  legacy_signature_ns: false\n  allow_md5: true\n", 1)
		}, `^axisd: \S+unknown\.yaml:` + next("  legacy_signature_ns: false") + `: unknown key "allow_md5"\n$`},
		{"semantic", func(s string) string {
			return strings.Replace(s, "    mode: hold", "    mode: sometimes", 1)
		}, `^axisd: \S+semantic\.yaml:` + at("    mode: hold") + `: trust.revocation.mode "sometimes": want off, prefer, require or hold\n$`},
		{"missing-agencies", func(s string) string {
			return regexp.MustCompile(`agencies_file: \S+`).ReplaceAllString(s, "agencies_file: agencies-nowhere.yaml")
		}, `^axisd: \S+missing-agencies\.yaml:` + at("agencies_file:") + `: agencies_file: open \S+/agencies-nowhere\.yaml: no such file or directory\n$`},
		{"postgres-without-dsn", func(s string) string {
			return s + "store: {engine: postgres, dsn_env: AXIS_CHECK_NO_SUCH_DSN}\n"
		}, `(?m)^axisd: \S+postgres-without-dsn\.yaml:\d+: store\.dsn_env: the environment variable AXIS_CHECK_NO_SUCH_DSN is empty: it must hold the PostgreSQL DSN$`},
		{"missing-root", func(s string) string {
			return strings.Replace(s, "/demo-root-ca.crt", "/no-such-root.crt", 1)
		}, `(?m)^axisd: \S+missing-root\.yaml:` + at("  roots:") + `: trust.roots: open \S+/no-such-root\.crt: no such file or directory$`},
	} {
		p := variant(c.name+".yaml", c.edit)
		code, out, errOut := checkConfig(t, bin, "--config", p)
		if code != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want 1 and nothing", c.name, code, out)
		}
		errOut = regexp.MustCompile(`(?m)^axisd: warning: .*\n`).ReplaceAllString(errOut, "")
		if !regexp.MustCompile(c.want).MatchString(errOut) {
			t.Errorf("%s: stderr\n%s\nwant %s", c.name, errOut, c.want)
		}
	}
	// On PostgreSQL: the DSN's variable is named, the database not connected to.
	ha := variant("ha.yaml", func(s string) string {
		return s + "store: {engine: postgres, dsn_env: AXIS_CHECK_DSN}\ncluster: {node: axis-7}\n"
	})
	code, out, errOut = runProgram(t, []string{"PATH=" + os.Getenv("PATH"), "AXIS_CHECK_DSN=postgres://axis@127.0.0.1:1/axis"}, bin, "--check-config", "--config", ha)
	if want := "store: postgres, DSN in AXIS_CHECK_DSN (not connected by --check-config); cluster node axis-7, lease_ttl 15s\n"; code != 0 || !strings.Contains(out, want) {
		t.Errorf("a postgres config: exit %d\n%s%s\nwant %q", code, out, errOut, want)
	}
	if code, _, errOut := checkConfig(t, bin, "--config", demoConfig, "--no-such-flag"); code != 2 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("a usage error: exit %d %s; want 2", code, errOut)
	}

	// Beside a running hub on the same data dir: the store is not opened.
	m := start(t)
	dataDir := m.Config.DataDir
	code, out, errOut = checkConfig(t, bin, "--config", demoConfig, "--data-dir", dataDir)
	if code != 0 || !strings.Contains(out, "data_dir: "+dataDir+" (the store is not opened") {
		t.Fatalf("beside a running hub: exit %d\n%s%s", code, out, errOut)
	}
	if err := m.Hub.Ready(); err != nil {
		t.Fatal(err)
	}
}
