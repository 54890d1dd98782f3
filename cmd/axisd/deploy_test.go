package main

// The Debian package's files (deploy/; make deb, scripts/deb-smoke.sh) where
// a plain `go test` can check them: the example config starts a hub, the
// reconcile units are the README's, axisd.service keeps its sandbox and
// passes systemd-analyze, and nfpm's list names files that exist.

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/axis-h40/axis/internal/fixture"
	"go.yaml.in/yaml/v3"
)

func deployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.Root, "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeployConfigStarts: deploy/axis.yaml, as the package installs it in
// /etc/axis, with the files it names put there (the demo PKI for the roots
// and the hub key, deploy/agencies.yaml), is a config axisd starts on.
func TestDeployConfigStarts(t *testing.T) {
	conf := deployFile(t, "axis.yaml")
	for _, want := range []string{"\nlisten: 127.0.0.1:8080\n", "\ndata_dir: /var/lib/axis\n", "\nagencies_file: /etc/axis/agencies.yaml\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("deploy/axis.yaml: no %q line (the unit's StateDirectory, the README)", strings.TrimSpace(want))
		}
	}
	etc := t.TempDir() // stands for /etc/axis
	if err := os.Mkdir(filepath.Join(etc, "pki"), 0o750); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{
		filepath.Join(fixture.PKIDir, "demo-root-ca.crt"):       "pki/roots.pem",
		filepath.Join(fixture.PKIDir, "demo-hub-h40.key"):       "pki/hub.key",
		filepath.Join(fixture.PKIDir, "demo-hub-h40.chain.pem"): "pki/hub.chain.pem",
		filepath.Join(fixture.Root, "deploy", "agencies.yaml"):  "agencies.yaml",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(etc, dst), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	// Only the paths move: every /etc/axis/ in a value (comments too, which
	// do not matter).
	file := filepath.Join(etc, "axis.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(conf, "/etc/axis/", etc+"/")), 0o640); err != nil {
		t.Fatal(err)
	}
	m := run(t, newMain(t, file, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()))
	if m.Config.Hub.Key == "" || m.Config.Trust.Revocation.Mode != "hold" {
		t.Errorf("deploy/axis.yaml: hub.key %q, revocation mode %q: want a hub key file and hold", m.Config.Hub.Key, m.Config.Trust.Revocation.Mode)
	}
	if n := len(m.Config.Agencies); n != 0 {
		t.Errorf("deploy/agencies.yaml: %d agencies, want none (an example)", n)
	}
	resp, err := http.Get(m.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: %s", resp.Status)
	}
}

// unitLines is a unit's settings in order: section headers and KEY=VALUE
// lines, without comments, blank lines and, when dropUnit, the [Unit]
// section (the package's units add a Description there).
func unitLines(text string, dropUnit bool) []string {
	var out []string
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = l
		}
		if dropUnit && section == "[Unit]" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestDeployReconcileUnitsAreTheREADMEs: the package's axis-reconcile.service
// and .timer are the README's ("The nightly reconciliation"), with axisctl
// in /usr/bin where the package puts it, and a [Unit] section.
func TestDeployReconcileUnitsAreTheREADMEs(t *testing.T) {
	blocks := readmeBlocks(t, "TestREADMEReconcileAndCron")
	if len(blocks) != 3 || blocks[2].lang != "ini" {
		t.Fatalf("README: want the reconcile block's ini units third after the TestREADMEReconcileAndCron markers")
	}
	units := systemdUnits(t, blocks[2].text)
	for _, name := range []string{"axis-reconcile.service", "axis-reconcile.timer"} {
		readme := strings.ReplaceAll(units[name], "/usr/local/bin/axisctl", "/usr/bin/axisctl")
		got, want := unitLines(deployFile(t, "systemd/"+name), true), unitLines(readme, false)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("deploy/systemd/%s is not the README's unit (/usr/local/bin -> /usr/bin):\n got:\n%s\nwant:\n%s",
				name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestDeployAxisdUnit: axisd.service runs /usr/bin/axisd on /etc/axis/axis.yaml
// as axis with its sandbox, systemd-analyze verify takes it and
// systemd-analyze security --offline scores it 2.0 or less.
func TestDeployAxisdUnit(t *testing.T) {
	unit := deployFile(t, "systemd/axisd.service")
	settings := map[string][]string{}
	for _, l := range unitLines(unit, false) {
		if k, v, ok := strings.Cut(l, "="); ok {
			settings[k] = append(settings[k], v)
		}
	}
	for k, want := range map[string]string{
		"Type": "simple", "User": "axis", "Group": "axis", "DynamicUser": "no",
		"ExecStart": "/usr/bin/axisd --config /etc/axis/axis.yaml", "ExecReload": "/bin/kill -HUP $MAINPID",
		"StateDirectory": "axis", "ConfigurationDirectory": "axis", "UMask": "0027",
		"Restart": "on-failure", "RestartSec": "5s", "TimeoutStopSec": "45s", "LimitNOFILE": "65536",
		"NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
		"ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes",
		"RestrictNamespaces": "yes", "RestrictRealtime": "yes", "RestrictSUIDSGID": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "SystemCallArchitectures": "native",
		"SystemCallFilter": "@system-service", "SystemCallErrorNumber": "EPERM",
	} {
		if got := settings[k]; len(got) != 1 || got[0] != want {
			t.Errorf("axisd.service: %s=%q, want %s=%s", k, got, k, want)
		}
	}
	// The drain on SIGTERM (Main.ShutdownTimeout) fits in TimeoutStopSec.
	if d := NewMain().ShutdownTimeout.Seconds(); d+10 > 45 {
		t.Errorf("axisd drains for %vs on SIGTERM: TimeoutStopSec=45s leaves it less than 10 s", d)
	}

	sa := fixture.Tool(t, "systemd-analyze", "systemd")
	// verify wants ExecStart's program to exist: this test binary stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "axisd.service")}
	if err := os.WriteFile(files[0], []byte(strings.ReplaceAll(unit, "/usr/bin/axisd ", self+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"axis-reconcile.service", "axis-reconcile.timer"} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(deployFile(t, "systemd/"+name)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out, err := exec.Command(sa, append([]string{"verify", "--man=no"}, files...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(sa, "security", "--offline=yes", "--no-pager", files[0]).CombinedOutput()
	if err != nil && strings.Contains(string(out), "offline") {
		t.Skipf("systemd-analyze security --offline: %s", out) // systemd before 250
	}
	m := regexp.MustCompile(`Overall exposure level for axisd\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no exposure level: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 2.0 {
		t.Errorf("axisd.service: exposure %v, above 2.0:\n%s", score, out)
	}
}

// TestDeployNfpm: the package's list (deploy/nfpm.yaml) names files that
// exist, the units where the units say, the configs as conffiles, and
// maintainer scripts that sh can parse.
func TestDeployNfpm(t *testing.T) {
	var cfg struct {
		Contents []struct {
			Src, Dst, Type string
		}
		Scripts map[string]string
	}
	if err := yaml.Unmarshal([]byte(deployFile(t, "nfpm.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	dst := map[string]string{} // dst -> src or type
	for _, c := range cfg.Contents {
		if c.Src != "" && !strings.HasPrefix(c.Src, "dist/") { // dist/: make deb builds them
			if _, err := os.Stat(filepath.Join(fixture.Root, c.Src)); err != nil {
				t.Errorf("nfpm.yaml: %s: %v", c.Dst, err)
			}
		}
		dst[c.Dst] = c.Src + " " + c.Type
	}
	for d, want := range map[string]string{
		"/usr/bin/axisd":                             "dist/build/axisd ",
		"/usr/bin/axisctl":                           "dist/build/axisctl ",
		"/lib/systemd/system/axisd.service":          "deploy/systemd/axisd.service ",
		"/lib/systemd/system/axis-reconcile.service": "deploy/systemd/axis-reconcile.service ",
		"/lib/systemd/system/axis-reconcile.timer":   "deploy/systemd/axis-reconcile.timer ",
		"/etc/axis/axis.yaml":                        "deploy/axis.yaml config|noreplace",
		"/etc/axis/agencies.yaml":                    "deploy/agencies.yaml config|noreplace",
		"/usr/share/doc/axis/README.md":              "README.md ",
		"/usr/share/axis/prometheus/axis-rules.yml":  "deploy/prometheus/axis-rules.yml ",
		"/usr/share/axis/grafana/axis.json":          "deploy/grafana/axis.json ",
	} {
		if dst[d] != want {
			t.Errorf("nfpm.yaml: %s from %q, want %q", d, dst[d], want)
		}
	}
	for _, s := range []string{"postinstall", "preremove", "postremove"} {
		f := cfg.Scripts[s]
		if f == "" {
			t.Errorf("nfpm.yaml: no %s script", s)
			continue
		}
		if out, err := exec.Command("sh", "-n", filepath.Join(fixture.Root, f)).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", f, err, out)
		}
	}
}
