package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/archive"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/tsatest"
	"github.com/axis-h40/axis/store/storetest"
	"github.com/beevik/etree"
)

// archived is configure for start: daily archives in dir, timestamped by
// ts, the loop looking every check.
func archived(ts *tsatest.TSA, dir string, check time.Duration) func(*axis.Config) {
	return func(c *axis.Config) {
		c.Archive.Dir = dir
		c.Archive.TSAURL = ts.URL
		c.Archive.TSARoots = []string{ts.RootPEM}
		c.Archive.AnchorEvery.Duration = time.Hour
		c.Archive.Check.Duration = check
		c.Archive.Retry.Duration = check
		c.Limits.MaxEnvelopeBytes = 40 << 20
	}
}

// aDay posts the day's documents, the second a 30 MB one, and has the
// department fetch and ack the first n of them. It answers them posted,
// by doc id.
func aDay(t *testing.T, m *Main, n int) (ids []string, raws map[string][]byte) {
	t.Helper()
	raws = map[string][]byte{}
	envs := [][]byte{fixture.Sign(t, fixture.Numbered("301")), bigEnvelope(t, "302", 30<<20), fixture.Sign(t, fixture.Numbered("303"))}
	for _, raw := range envs {
		rc := intake(t, m, testgen.Commune, raw)
		ids = append(ids, rc.DocID)
		raws[rc.DocID] = raw
	}
	for _, id := range ids[:n] {
		call(t, m, "GET", "/api/v1/envelopes/"+id, tok(testgen.Department), nil)
		if r := call(t, m, "POST", "/api/v1/envelopes/"+id+"/ack", tok(testgen.Department), []byte(`{"status":"done"}`)); r.status != 200 {
			t.Fatalf("ack: %d %s", r.status, r.body)
		}
	}
	return ids, raws
}

// Issue 18 #3: a day of documents, a 30 MB one among them, is settled,
// sealed, and verified by axisctl archive verify and, independently, by
// unzip, sha256 of each entry against the manifest, xmlsec1 on the
// manifest's signature and openssl ts -verify on its token.
func TestArchiveSeal(t *testing.T) {
	ts := tsatest.Start(t)
	dir := filepath.Join(t.TempDir(), "archive")
	clock := fixture.NewClock(fixture.Now()) // 2026-06-01 16:00 in Hà Nội
	m := startWith(t, func(m *Main) { m.Options.Now = clock.Now }, archived(ts, dir, time.Hour))
	day := "2026-06-01"
	ids, raws := aDay(t, m, 2)
	admin := []string{"--hub", m.URL(), "--token", testgen.DemoAdminToken}

	// Not over yet; then over, but a document is not acked.
	code, _, errOut := axisctl(t, append([]string{"archive", "seal", "--date", day}, admin...)...)
	if code != 1 || !strings.Contains(errOut, "day 2026-06-01 is not over") {
		t.Fatalf("seal of today: exit %d %s", code, errOut)
	}
	clock.Add(24 * time.Hour)
	code, _, errOut = axisctl(t, append([]string{"archive", "seal", "--date", day}, admin...)...)
	if code != 1 || !strings.Contains(errOut, "1 of 3 documents are not settled") {
		t.Fatalf("seal, one not acked: exit %d %s", code, errOut)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*")); len(names) != 0 {
		t.Fatalf("a refused seal left %v", names)
	}
	call(t, m, "GET", "/api/v1/envelopes/"+ids[2], tok(testgen.Department), nil)
	call(t, m, "POST", "/api/v1/envelopes/"+ids[2]+"/ack", tok(testgen.Department), []byte(`{"status":"fail"}`))
	code, out, errOut := axisctl(t, append([]string{"archive", "seal", "--date", day}, admin...)...)
	file := filepath.Join(dir, "2026", "06", "axis-axis-h40-2026-06-01.zip")
	if code != 0 || !strings.HasPrefix(out, "2026-06-01 sealed in 2026/06/axis-axis-h40-2026-06-01.zip: 3 documents, ") {
		t.Fatalf("seal: exit %d %s %s", code, out, errOut)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	sum1 := fileSum(t, file)
	// Sealing again changes nothing.
	if code, out2, _ := axisctl(t, append([]string{"archive", "seal", "--date", day}, admin...)...); code != 0 || out2 != out || fileSum(t, file) != sum1 {
		t.Fatalf("seal again: exit %d %s", code, out2)
	}
	if v := metric(t, m, "axis_archive_bytes"); v != float64(st.Size()) {
		t.Errorf("axis_archive_bytes %v, file %d", v, st.Size())
	}
	if v := metric(t, m, "axis_archive_sealed_days"); v != 1 {
		t.Errorf("axis_archive_sealed_days %v", v)
	}

	// axisctl archive verify.
	code, out, errOut = axisctl(t, "archive", "verify", "--hub-roots", fixture.RootCA, "--tsa-roots", ts.RootPEM, file)
	if code != 0 || !strings.Contains(out, ": OK: axis-h40 2026-06-01, 3 documents, 9 entries, events 1-") || !strings.Contains(out, "timestamped ") {
		t.Fatalf("archive verify: exit %d %s %s", code, out, errOut)
	}

	// Independently: unzip, sha256, xmlsec1, openssl ts.
	un := t.TempDir()
	if b, err := exec.Command(fixture.Tool(t, "unzip", "unzip"), "-q", file, "-d", un).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v %s", err, b)
	}
	mdoc := etree.NewDocument()
	if err := mdoc.ReadFromFile(filepath.Join(un, "manifest.xml")); err != nil {
		t.Fatal(err)
	}
	entries := mdoc.Root().SelectElements("Entry")
	if len(entries) != 7 {
		t.Fatalf("manifest lists %d entries, want 7 (3 envelopes, 3 records, the chain)", len(entries))
	}
	for _, e := range entries {
		name := e.SelectAttrValue("name", "")
		b, err := os.ReadFile(filepath.Join(un, name))
		if err != nil {
			t.Fatal(err)
		}
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != e.SelectAttrValue("sha256", "") {
			t.Errorf("%s: sha256 %x, manifest %s", name, s, e.SelectAttrValue("sha256", ""))
		}
		if id := e.SelectAttrValue("doc", ""); strings.HasPrefix(name, "envelopes/") && !bytes.Equal(b, raws[id]) {
			t.Errorf("%s: %d bytes, not the %d posted", name, len(b), len(raws[id]))
		}
	}
	if ok, out := fixture.XmlsecVerify(t, filepath.Join(un, "manifest.xml")); !ok {
		t.Fatalf("xmlsec1: %s", out)
	}
	if ok, out := ts.VerifyData(t, filepath.Join(un, "manifest.tsr"), filepath.Join(un, "manifest.xml")); !ok {
		t.Fatalf("openssl ts -verify: %s", out)
	}

	// An altered copy: one envelope's bytes replaced, the zip rewritten.
	bad := filepath.Join(t.TempDir(), "altered.zip")
	rewriteZip(t, file, bad, "envelopes/"+ids[0]+".edxml", []byte("<not the envelope/>"))
	code, out, _ = axisctl(t, "archive", "verify", "--hub-roots", fixture.RootCA, "--tsa-roots", ts.RootPEM, bad)
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "envelopes/"+ids[0]+".edxml: 19 bytes with SHA-256") {
		t.Fatalf("altered archive: exit %d %s", code, out)
	}
	// Another hub's roots do not make its signature good.
	code, out, _ = axisctl(t, "archive", "verify", "--hub-roots", ts.RootPEM, file)
	if code != 1 || !strings.Contains(out, "manifest.xml: signature: the signer") {
		t.Fatalf("wrong roots: exit %d %s", code, out)
	}
	if r := call(t, m, "POST", "/admin/v1/archive/seal?date=2026-13-01", testgen.DemoAdminToken, nil); r.status != http.StatusBadRequest {
		t.Errorf("bad date: %d %s", r.status, r.body)
	}
}

func fileSum(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// rewriteZip copies zip src to dst with entry name's content replaced.
func rewriteZip(t *testing.T, src, dst, name string, content []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			w.Write(content)
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Issue 18 #3, the crash: axisd is SIGKILLed in the middle of sealing a
// day (its journal holds some entries, the archive is not there), and
// started again: it resumes from the entries written (its log says how
// many) and writes, byte for byte, the archive that an uninterrupted
// sealing of the same store writes, up to manifest.tsr (a token is new
// each time one is asked for; both verify).
func TestArchiveSealKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	if storetest.Postgres() {
		t.Skip("the processes run on the bbolt file the in-process hub leaves")
	}
	ts := tsatest.Start(t)
	bin := buildAxisdRace(t, false)

	// The day, made in-process on the demo clock, settled; the store
	// copied for two processes.
	m := demoMain(t)
	m.Config.Limits.MaxEnvelopeBytes = 40 << 20
	run(t, m)
	aDay(t, m, 3)
	src := filepath.Join(m.Config.Path(m.Config.DataDir), "axis.db")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	configs := map[string]string{}
	for _, n := range []string{"a", "b"} {
		d := t.TempDir()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "axis.db"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		dirs[n] = d
		configs[n] = processConfig(t, "axis-h40.yaml", func(s string) string {
			return s + "\narchive:\n  dir: " + filepath.Join(d, "archive") + "\n  tsa_url: " + ts.URL + "\n  tsa_roots: [" + ts.RootPEM + "]\n  retry: 200ms\n"
		})
	}
	zipOf := func(n string) string {
		return filepath.Join(dirs[n], "archive", "2026", "06", "axis-axis-h40-2026-06-01.zip")
	}

	// b: killed once its journal holds an entry and before the archive is there.
	cmd, _ := startProcessWith(t, bin, configs["b"], dirs["b"])
	journal := zipOf("b") + ".journal"
	killed := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if b, _ := os.ReadFile(journal); bytes.Count(b, []byte("\n")) >= 1 {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			killed = true
			break
		}
	}
	if !killed {
		cmd.Process.Kill()
		t.Fatal("the journal never had an entry")
	}
	jb, _ := os.ReadFile(journal)
	written := bytes.Count(jb, []byte("\n"))
	if _, err := os.Stat(zipOf("b")); err == nil || written < 1 || written >= 9 {
		t.Fatalf("killed with %d entries journaled, archive there: %v", written, err == nil)
	}
	var resumed atomic.Int64
	resumed.Store(-1)
	cmd, _ = startProcessLog(t, bin, configs["b"], dirs["b"], func(line string) {
		var l struct {
			Msg     string `json:"msg"`
			Resumed int64  `json:"resumed_entries"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "archive: day sealed" {
			resumed.Store(l.Resumed)
		}
	})
	eventually(t, 120*time.Second, "b's archive after the restart", func() bool { return resumed.Load() >= 0 })
	stopProcess(t, cmd)
	if n := resumed.Load(); n < int64(written) || n == 0 {
		t.Errorf("the restart resumed %d entries, %d were journaled", n, written)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("journal left after the seal: %v", err)
	}

	// a: uninterrupted.
	cmd, _ = startProcessWith(t, bin, configs["a"], dirs["a"])
	eventually(t, 120*time.Second, "a's archive", func() bool { _, err := os.Stat(zipOf("a")); return err == nil })
	stopProcess(t, cmd)

	for _, n := range []string{"a", "b"} {
		if code, out, _ := axisctl(t, "archive", "verify", "--hub-roots", fixture.RootCA, "--tsa-roots", ts.RootPEM, zipOf(n)); code != 0 {
			t.Fatalf("%s: %s", n, out)
		}
	}
	a, _ := os.ReadFile(zipOf("a"))
	b, _ := os.ReadFile(zipOf("b"))
	za, _ := zip.OpenReader(zipOf("a"))
	defer za.Close()
	var tsrAt int64
	for _, f := range za.File {
		if f.Name == archive.TokenName {
			tsrAt, _ = f.DataOffset()
		}
	}
	if tsrAt < 20<<20 || int64(len(b)) < tsrAt || !bytes.Equal(a[:tsrAt], b[:tsrAt]) {
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		t.Fatalf("archives differ at byte %d of %d / %d (manifest.tsr's data at %d)", i, len(a), len(b), tsrAt)
	}
}

// stopProcess stops axisd as systemd would (SIGTERM) and waits for it.
func stopProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("axisd did not stop on SIGTERM")
	}
}
