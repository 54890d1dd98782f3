package main

// The README's commands as printed: each block after a marker line
//
//	<!-- tested: cmd/axisd/readme_test.go TestNAME -->
//
// runs here the way its reader runs it, in a folder laid out as a clone
// after make build (bin/axisd, bin/axisctl, testdata), against hubs started
// with the Makefile's own recipes (make run, run-national, run-h41) on the
// demo configs' fixed ports. Those ports make the two tests exclusive: no
// t.Parallel, and a port that is taken fails the test, saying so.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/tsatest"
	"github.com/axis-h40/axis/store/record"
)

// TestREADMEThreeHubs runs "Three hubs on one machine": the three demo hubs
// from make run, make run-national and make run-h41, then the block (compose,
// sign, send, fetch and ack at the recipients' hubs, status, trace --follow)
// with bash -euo pipefail. The commune's status must show both recipients
// acked_done at their hubs, and the trace one timeline across the three.
func TestREADMEThreeHubs(t *testing.T) {
	blocks := readmeBlocks(t, "TestREADMEThreeHubs")
	if len(blocks) != 1 || blocks[0].lang != "sh" {
		t.Fatalf("README: want one sh block after the TestREADMEThreeHubs marker, got %d", len(blocks))
	}
	h40 := demoHubConfig(t, "axis-h40.yaml")
	national := demoHubConfig(t, "axis-national.yaml")
	h41 := demoHubConfig(t, "axis-h41.yaml")
	const (
		commune    = "000.07.35.H40"
		central    = "000.00.00.G22" // Văn phòng Chính phủ, an agency of the national axis
		department = "000.00.11.H41" // Sở Thông tin và Truyền thông Nghệ An
	)
	requireAgency(t, national, central)
	requireAgency(t, h41, department)
	route := h40.Peers[0].Name // everything outside the province: the national axis

	dir := demoClone(t)
	for _, h := range []struct {
		target string
		cfg    *axis.Config
	}{{"run", h40}, {"run-national", national}, {"run-h41", h41}} {
		startMakeHub(t, dir, h.target, h.cfg.Listen)
	}
	out := runBlock(t, dir, blocks[0])

	doc := regexp.MustCompile(`(?m)^([0-9a-f]{32})$`).FindStringSubmatch(out)
	if doc == nil || !api.IsDocID(doc[1]) {
		t.Fatalf("no doc id echoed by the block:\n%s", out)
	}
	id := doc[1]
	for organ, hub := range map[string]string{central: national.Hub.Name, department: h41.Hub.Name} {
		row := `(?m)^` + regexp.QuoteMeta(organ) + `\s+` + regexp.QuoteMeta(route) + `\s+acked_done\s+` + regexp.QuoteMeta(hub) + `\s`
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("status: no row %s acked_done at %s:\n%s", organ, hub, out)
		}
	}

	// The trace: its header names the document and the three hubs, and
	// its events, from every hub, are one timeline in time order.
	i := strings.Index(out, "document "+id)
	if i < 0 {
		t.Fatalf("no trace of %s:\n%s", id, out)
	}
	trace := out[i:]
	hubs := "hubs: " + strings.Join([]string{h40.Hub.Name, national.Hub.Name, h41.Hub.Name}, ", ")
	if !strings.Contains(trace, hubs) {
		t.Errorf("trace: want %q:\n%s", hubs, trace)
	}
	if strings.Contains(trace, "not followed:") {
		t.Errorf("trace: a peer hub was not followed:\n%s", trace)
	}
	for _, e := range []struct{ hub, event, organ, detail string }{
		{h40.Hub.Name, "received", commune, ""},
		{h40.Hub.Name, "relayed", department, "peer=" + route},
		{national.Hub.Name, "received", commune, "via=" + national.Peers[0].Name},
		{national.Hub.Name, "acked", central, "acked_done"},
		{h41.Hub.Name, "received", commune, "via=" + h41.Peers[0].Name},
		{h41.Hub.Name, "acked", department, "acked_done"},
		{h40.Hub.Name, "reported", central, "acked_done at " + national.Hub.Name},
		{h40.Hub.Name, "reported", department, "acked_done at " + h41.Hub.Name},
	} {
		line := `(?m)^\S+\s+` + regexp.QuoteMeta(e.hub) + `\s+` + e.event + `\s+` + regexp.QuoteMeta(e.organ) + `\s.*` + regexp.QuoteMeta(e.detail)
		if !regexp.MustCompile(line).MatchString(trace) {
			t.Errorf("trace: no %s event at %s for %s (%q)", e.event, e.hub, e.organ, e.detail)
		}
	}
	var last time.Time
	events := 0
	for _, l := range strings.Split(trace, "\n") {
		at, err := time.Parse("2006-01-02T15:04:05.000-07:00", strings.SplitN(l, " ", 2)[0])
		if err != nil {
			continue
		}
		if at.Before(last) {
			t.Errorf("trace: %s comes before the event above it: not one timeline", l)
		}
		last, events = at, events+1
	}
	if events < 8 {
		t.Errorf("trace: %d events, want the three hubs' (8 or more):\n%s", events, trace)
	}
}

// TestREADMEReconcileAndCron runs "The nightly reconciliation" against the
// demo hub of make run: the reconcile block as printed; then the cron line
// the way cron runs it (time and user fields dropped, \% unescaped, sh -c,
// cron's environment with the file's settings; axisctl from the PATH it
// sets, the built one standing in for /usr/local/bin's) and the systemd
// unit's ExecStart (%% unescaped, its EnvironmentFile). Those two read
// /etc/axis/admin.env and write /var/lib/axis/reconcile/<yesterday>: the
// test writes the one and removes both afterwards; it runs them only as
// root (CI is root), and refuses to touch an admin.env or a report that is
// already there.
func TestREADMEReconcileAndCron(t *testing.T) {
	blocks := readmeBlocks(t, "TestREADMEReconcileAndCron")
	var langs []string
	for _, b := range blocks {
		langs = append(langs, b.lang)
	}
	if strings.Join(langs, ",") != "sh,cron,ini" {
		t.Fatalf("README: want the sh, cron and ini blocks after the TestREADMEReconcileAndCron markers, got %q", langs)
	}
	h40 := demoHubConfig(t, "axis-h40.yaml")
	dir := demoClone(t)
	startMakeHub(t, dir, "run", h40.Listen)

	out := runBlock(t, dir, blocks[0])
	if !strings.Contains(out, "0 discrepancies, 0 repaired, 0 remain; report in var/reconcile/2026-06-01") {
		t.Errorf("reconcile: want a clean day reported in var/reconcile/2026-06-01:\n%s", out)
	}
	requireReport(t, filepath.Join(dir, "var/reconcile/2026-06-01"), "2026-06-01", h40.Hub.Name)

	// cron and systemd: as root, on the machine's /etc/axis and /var/lib/axis.
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the cron and systemd lines write /etc/axis and /var/lib/axis: CI runs the tests as root")
		}
		t.Skip("the cron and systemd lines need root (/etc/axis/admin.env, /var/lib/axis/reconcile)")
	}
	if _, err := os.Stat("/usr/share/zoneinfo/Asia/Ho_Chi_Minh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the cron and systemd lines' TZ=Asia/Ho_Chi_Minh date needs tzdata (apt-get install tzdata)")
		}
		t.Skip("no tzdata: TZ=Asia/Ho_Chi_Minh date would answer in UTC")
	}
	writeAdminEnv(t, "/etc/axis/admin.env", "AXIS_HUB=http://"+h40.Listen+"\nAXIS_TOKEN=demo-admin-token\n")
	bin := filepath.Join(dir, "bin")

	t.Run("cron", func(t *testing.T) {
		env, cmd := cronJob(t, blocks[1].text)
		path := env["PATH"]
		if !strings.Contains(":"+path+":", ":/usr/local/bin:") {
			t.Fatalf("cron: PATH=%s: axisctl, in /usr/local/bin, would not be found", path)
		}
		env["PATH"] = strings.Replace(path, "/usr/local/bin", bin, 1)
		dirs := claimReportDirs(t)
		code, out := runSh(t, env, cmd)
		if code != 0 {
			t.Fatalf("cron line: exit %d:\n%s", code, out)
		}
		requireReportIn(t, dirs, h40.Hub.Name)
	})

	t.Run("systemd", func(t *testing.T) {
		units := systemdUnits(t, blocks[2].text)
		svc := units["axis-reconcile.service"]
		if svc == "" || units["axis-reconcile.timer"] == "" {
			t.Fatalf("ini block: want axis-reconcile.service and .timer, got %v", units)
		}
		analyzeUnits(t, units)
		envFile := iniValue(t, svc, "EnvironmentFile")
		if envFile != "/etc/axis/admin.env" {
			t.Fatalf("EnvironmentFile=%q, want /etc/axis/admin.env", envFile)
		}
		execStart := iniValue(t, svc, "ExecStart")
		m := regexp.MustCompile(`^/bin/sh -c '([^']*)'$`).FindStringSubmatch(execStart)
		if m == nil {
			t.Fatalf("ExecStart is not /bin/sh -c '...': %s", execStart)
		}
		script := m[1]
		if regexp.MustCompile(`%[^%]|\$\{`).MatchString(strings.ReplaceAll(script, "%%", "")) {
			t.Fatalf("ExecStart has a systemd specifier or ${VAR} besides %%%%: %s", script)
		}
		script = strings.ReplaceAll(script, "%%", "%")
		if !strings.Contains(script, "/usr/local/bin/axisctl ") {
			t.Fatalf("ExecStart does not run /usr/local/bin/axisctl: %s", script)
		}
		script = strings.ReplaceAll(script, "/usr/local/bin/axisctl ", filepath.Join(bin, "axisctl")+" ")
		// systemd's environment: its PATH, then EnvironmentFile's.
		env := map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		b, err := os.ReadFile(envFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(l, "=")
			env[k] = v
		}
		dirs := claimReportDirs(t)
		code, out := runSh(t, env, script)
		if code != 0 {
			t.Fatalf("ExecStart: exit %d on a clean day:\n%s", code, out)
		}
		requireReportIn(t, dirs, h40.Hub.Name)
	})
}

// A codeBlock is a fenced block of README.md: its info string, its text
// and the line its fence opens on.
type codeBlock struct {
	lang, text string
	line       int
}

// readmeBlocks returns the fenced blocks that follow the marker line of
// test in README.md, in order.
func readmeBlocks(t *testing.T, test string) []codeBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.Root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- tested: cmd/axisd/readme_test.go " + test + " -->"
	lines := strings.Split(string(b), "\n")
	var blocks []codeBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != marker {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: the marker is not followed by a fenced block", i+1)
		}
		cb := codeBlock{lang: strings.TrimPrefix(lines[i+1], "```"), line: i + 2}
		j := i + 2
		for ; j < len(lines) && lines[j] != "```"; j++ {
			cb.text += lines[j] + "\n"
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: the block does not end", cb.line)
		}
		blocks = append(blocks, cb)
		i = j
	}
	if len(blocks) == 0 {
		t.Fatalf("README.md has no %s marker", marker)
	}
	return blocks
}

// demoHubConfig is a demo hub's config, as axisd reads it.
func demoHubConfig(t *testing.T, name string) *axis.Config {
	t.Helper()
	c, err := axis.LoadConfig(fixture.Demo(name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func requireAgency(t *testing.T, c *axis.Config, organ string) {
	t.Helper()
	for _, a := range c.Agencies {
		if a.OrganID == organ {
			return
		}
	}
	t.Fatalf("%s is not an agency of %s", organ, c.Hub.Name)
}

// demoClone is a folder laid out as a clone after make build: bin/axisd and
// bin/axisctl built from this tree, testdata a link to its testdata (the
// demo configs' relative data dirs land in the folder's var/).
func demoClone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "bin")+string(filepath.Separator), "./cmd/...")
	cmd.Dir = fixture.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, out)
	}
	for _, b := range []string{"axisd", "axisctl"} {
		if _, err := os.Stat(filepath.Join(dir, "bin", b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(fixture.Testdata, filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// makefile is the repository's Makefile.
func makefile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.Root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// makeRecipe is the commands of a Makefile target joined for sh, without
// its prerequisites (the binaries are built already): what make TARGET runs
// after make build, its last command exec'd (the hub is the process).
func makeRecipe(t *testing.T, target string) string {
	t.Helper()
	lines := makefile(t)
	for i, l := range lines {
		if !strings.HasPrefix(l, target+":") {
			continue
		}
		var cmds []string
		for _, c := range lines[i+1:] {
			if !strings.HasPrefix(c, "\t") {
				break
			}
			cmds = append(cmds, strings.TrimPrefix(c, "\t"))
		}
		if len(cmds) == 0 || strings.Contains(strings.Join(cmds, "\n"), "$") {
			t.Fatalf("Makefile: make %s: want plain shell commands, got %q", target, cmds)
		}
		cmds[len(cmds)-1] = "exec " + cmds[len(cmds)-1]
		return strings.Join(cmds, " && ")
	}
	t.Fatalf("Makefile: no target %s", target)
	return ""
}

// makeExports is the variables the Makefile sets with ?= and exports to
// its recipes, with the Makefile's values.
func makeExports(t *testing.T) []string {
	t.Helper()
	lines := makefile(t)
	set := map[string]string{}
	var env []string
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "?="); ok {
			set[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		if k, ok := strings.CutPrefix(l, "export "); ok {
			k = strings.TrimSpace(k)
			if v, ok := set[k]; ok {
				env = append(env, k+"="+v)
			}
		}
	}
	if len(env) == 0 {
		t.Fatal("Makefile exports nothing to the hubs")
	}
	return env
}

// cleanEnv is the test's environment without AXIS_ variables: a fresh
// terminal's.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXIS_") {
			env = append(env, kv)
		}
	}
	return env
}

// startMakeHub runs make TARGET's recipe in dir (a demo hub, in its own
// process group) with the Makefile's exports, waits until the hub on
// listen is ready, and stops it at cleanup. A listen address already taken
// fails the test: the README's hubs have fixed ports.
func startMakeHub(t *testing.T, dir, target, listen string) {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("make %s: %s is taken (%v): the README's demo hubs listen on 127.0.0.1:8080, :9090 and :8081; stop what runs there (a make run?) and test again", target, listen, err)
	}
	ln.Close()
	recipe := makeRecipe(t, target)
	cmd := exec.Command("sh", "-c", recipe)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), makeExports(t)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var log testhub.Log
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Errorf("make %s: the hub did not stop on SIGTERM within 20 s; killed", target)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("make %s (%s), its log:\n%s", target, recipe, tail(log.String(), 8000))
		}
	})
	hc := &http.Client{Timeout: 2 * time.Second}
	ready := fixture.Poll(30*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		resp, err := hc.Get("http://" + listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-exited:
		t.Fatalf("make %s: %s exited:\n%s", target, recipe, tail(log.String(), 8000))
	default:
	}
	if !ready {
		t.Fatalf("make %s: the hub on %s was not ready within 30 s", target, listen)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// runBlock runs a README sh block with bash -euo pipefail in dir, from a
// fresh terminal's environment, and returns its output (standard output
// and error). It fails the test unless the block exits 0. Files the block
// writes in /tmp that were not there before are removed at cleanup.
func runBlock(t *testing.T, dir string, b codeBlock) string {
	t.Helper()
	for _, f := range regexp.MustCompile(`/tmp/[\w.-]+`).FindAllString(b.text, -1) {
		if _, err := os.Lstat(f); errors.Is(err, fs.ErrNotExist) {
			t.Cleanup(func() { os.Remove(f) })
		}
	}
	script := filepath.Join(t.TempDir(), fmt.Sprintf("README.md-%d.sh", b.line))
	if err := os.WriteFile(script, []byte(b.text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", script)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README.md:%d: bash -euo pipefail: %v\n%s", b.line, err, out)
	}
	t.Logf("README.md:%d:\n%s", b.line, out)
	return string(out)
}

// requireReport checks a reconciliation's report files in dir: report.json
// of that date and hub, report.csv and report.html beside it.
func requireReport(t *testing.T, dir, date, hub string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Date, Hub string }
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s/report.json: %v", dir, err)
	}
	if r.Date != date || r.Hub != hub {
		t.Errorf("%s/report.json: date %q hub %q, want %q %q", dir, r.Date, r.Hub, date, hub)
	}
	for _, f := range []string{"report.csv", "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s/%s: %v (want a non-empty file)", dir, f, err)
		}
	}
}

// requireReportIn is requireReport on the one of dirs (a day each) that
// holds a report.
func requireReportIn(t *testing.T, dirs []string, hub string) {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "report.json")); err == nil {
			requireReport(t, d, filepath.Base(d), hub)
			return
		}
	}
	t.Fatalf("no report.json in %v", dirs)
}

// writeAdminEnv writes the admin env file (mode 0600) the cron line and the
// systemd unit read, and removes it, and its folder if it made it, at
// cleanup. An existing file is someone's: the test stops.
func writeAdminEnv(t *testing.T, file, content string) {
	t.Helper()
	mustNotExist(t, file, "this machine's admin credentials, which the test will not overwrite; move it away to run the README's cron line")
	made := mkdirAllOwned(t, filepath.Dir(file), 0o755)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(file)
		if made != "" {
			os.Remove(made) // empty unless someone else wrote there meanwhile
		}
	})
}

// shTimeout bounds one run of runSh.
const shTimeout = 2 * time.Minute

// claimReportDirs returns the folders a reconcile for yesterday in Hà Nội,
// starting now, may write its reports in: yesterday's, and the next day's
// too when midnight falls within shTimeout. None may exist (that day's
// reports are someone's); at cleanup they go, and so do the folders above
// them that the run made (/var/lib/axis/reconcile, /var/lib/axis).
func claimReportDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	now := time.Now()
	for _, at := range []time.Time{now, now.Add(shTimeout)} {
		d := "/var/lib/axis/reconcile/" + record.Day(at.Add(-24*time.Hour))
		if len(dirs) > 0 && dirs[0] == d {
			continue
		}
		mustNotExist(t, d, "that day's reports, which the test will not overwrite")
		top := d
		for p := filepath.Dir(d); ; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				break
			}
			top = p
		}
		t.Cleanup(func() { os.RemoveAll(top) })
		dirs = append(dirs, d)
	}
	return dirs
}

// mustNotExist stops the test when file exists: it is what.
func mustNotExist(t *testing.T, file, what string) {
	t.Helper()
	switch _, err := os.Lstat(file); {
	case err == nil:
		t.Fatalf("%s exists: %s", file, what)
	case !errors.Is(err, fs.ErrNotExist):
		t.Fatal(err)
	}
}

// mkdirAllOwned is os.MkdirAll returning the topmost folder it made ("" if
// none).
func mkdirAllOwned(t *testing.T, dir string, perm fs.FileMode) string {
	t.Helper()
	top := ""
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		top = p
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		t.Fatal(err)
	}
	return top
}

// cronJob reads a cron.d file's one job as cron runs it: the environment
// (cron's own, then the file's settings) and the command, after the five
// time fields and the user, with \% unescaped.
func cronJob(t *testing.T, file string) (map[string]string, string) {
	t.Helper()
	env := map[string]string{"SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "HOME": t.TempDir()}
	if u, err := user.Current(); err == nil {
		env["LOGNAME"] = u.Username
	}
	setting := regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)
	job := regexp.MustCompile(`^(?:\S+\s+){5}\S+\s+(.+)$`) // min hour dom month dow user command
	var cmds []string
	for _, l := range strings.Split(file, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case setting.MatchString(l):
			m := setting.FindStringSubmatch(l)
			v := m[2]
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			env[m[1]] = v
		case job.MatchString(l):
			cmds = append(cmds, job.FindStringSubmatch(l)[1])
		default:
			t.Fatalf("cron block: neither a setting nor a job: %s", l)
		}
	}
	if len(cmds) != 1 {
		t.Fatalf("cron block: want one job, got %d", len(cmds))
	}
	var cmd strings.Builder
	for i := 0; i < len(cmds[0]); i++ {
		c := cmds[0][i]
		switch {
		case c == '\\' && i+1 < len(cmds[0]) && cmds[0][i+1] == '%':
			cmd.WriteByte('%')
			i++
		case c == '%':
			t.Fatalf("cron block: an unescaped %% would end the command there (cron sends the rest to its stdin): %s", cmds[0])
		default:
			cmd.WriteByte(c)
		}
	}
	return env, cmd.String()
}

// runSh runs a command with sh -c, in exactly env, from env's HOME (or /),
// and returns its exit code and output.
func runSh(t *testing.T, env map[string]string, command string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = "/"
	if h := env["HOME"]; h != "" {
		cmd.Dir = h
	}
	cmd.Env = []string{}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatal(err)
	}
	return 0, string(out)
}

// systemdUnits splits the ini block into its units, each after its
// "# /etc/systemd/system/NAME" line: name → text.
func systemdUnits(t *testing.T, block string) map[string]string {
	t.Helper()
	units := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(block, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(l), "# /etc/systemd/system/"); ok {
			name = n
			continue
		}
		if name == "" && strings.TrimSpace(l) != "" {
			t.Fatalf("ini block: %q before any # /etc/systemd/system/NAME line", l)
		}
		units[name] += l
	}
	for n, u := range units { // systemd: comments on their own lines only
		for _, l := range strings.Split(u, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && regexp.MustCompile(`\s#`).MatchString(v) {
				t.Errorf("%s: %s= %q: systemd would take the comment as part of the value", n, k, v)
			}
		}
	}
	return units
}

// iniValue is the value of key in a unit (its one line).
func iniValue(t *testing.T, unit, key string) string {
	t.Helper()
	var vs []string
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) != 1 {
		t.Fatalf("want one %s= line, got %q", key, vs)
	}
	return vs[0]
}

// analyzeUnits has systemd-analyze verify the units, where it is installed
// (a check of the block's syntax besides the run): it must not complain
// about them.
func analyzeUnits(t *testing.T, units map[string]string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("no systemd-analyze: the units' syntax is not verified")
		return
	}
	dir := t.TempDir()
	var files []string
	for n, u := range units {
		f := filepath.Join(dir, n)
		if err := os.WriteFile(f, []byte(u), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out, _ := exec.Command(sa, append([]string{"verify", "--man=no"}, files...)...).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, dir) {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}

// TestREADMEArchiveAudit runs the auditor's check of "Archives" as
// printed, in a clone, on a day's archive a demo hub sealed (timestamped
// by a TSA run by the test, whose root the block reads as var/tsa-roots.pem):
// unzip, sha256sum -c, xmlsec1, openssl ts -verify, axisctl archive verify.
func TestREADMEArchiveAudit(t *testing.T) {
	blocks := readmeBlocks(t, "TestREADMEArchiveAudit")
	if len(blocks) != 1 || blocks[0].lang != "sh" {
		t.Fatalf("README: want one sh block after the TestREADMEArchiveAudit marker, got %d", len(blocks))
	}
	fixture.Tool(t, "unzip", "unzip")
	ts := tsatest.Start(t)
	clock := fixture.NewClock(fixture.Now())
	arch := filepath.Join(t.TempDir(), "archive")
	m := startWith(t, func(m *Main) { m.Options.Now = clock.Now }, archived(ts, arch, time.Hour))
	for i := range 2 {
		rc := intake(t, m, testgen.Commune, fixture.Sign(t, fixture.Numbered(fmt.Sprint(40+i))))
		call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(testgen.Department), nil)
		call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Department), []byte(`{"status":"done"}`))
	}
	clock.Add(24 * time.Hour)
	s, err := m.Hub.SealDay(t.Context(), "2026-06-01", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := demoClone(t)
	into := filepath.Join(dir, "var", "archive", "2026", "06")
	if err := os.MkdirAll(into, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{filepath.Join(arch, s.File): filepath.Join(into, filepath.Base(s.File)), ts.RootPEM: filepath.Join(dir, "var", "tsa-roots.pem")} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := runBlock(t, dir, blocks[0])
	for _, want := range []string{"OK\nSignedInfo References (ok/all): 1/1", "Verification: OK", ": OK: axis-h40 2026-06-01, 2 documents, 7 entries"} {
		if !strings.Contains(out, want) {
			t.Errorf("the block's output lacks %q:\n%s", want, out)
		}
	}
}
