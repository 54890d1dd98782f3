package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/browser"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/kv/pgkv"
	"github.com/axis-h40/axis/store/record"
)

// The nightly proof, with three faults injected on purpose: a relayed
// envelope the national hub lost (it was restored from a backup taken
// before it arrived), a recipient that never acks, and an envelope whose
// bytes were altered on disk in a copy of H40's store that H40 then runs
// on. The report lists exactly those three; --repair sends the lost one
// again and restores the altered bytes from the national hub's copy; a
// second run is clean but for the unacked delivery, still overdue.
func TestReconcileFindsExactlyTheInjectedFaults(t *testing.T) {
	n := startNetwork(t, func(cfg string, c *axis.Config) {
		if cfg == cfgH40 {
			c.Admin.SLAFetch.Duration, c.Admin.SLAAck.Duration = time.Millisecond, time.Millisecond
			c.Admin.Users = []axis.AdminUser{{Name: "Nguyễn Văn An", TokenSHA256: axis.TokenHash("token-an")},
				{Name: "Lê Thị Xem", TokenSHA256: axis.TokenHash("token-xem"), Role: axis.RoleViewer}}
		}
	})
	send := func(content, number string, to ...string) string {
		d := fixture.Numbered(number)
		d.To = organs(to...)
		d.Content = content
		d.DueDate = "" // no processing deadline: this hub runs on the real clock, past the sample's
		return intake(t, n.h40, testgen.Commune, fixture.Sign(t, d)).DocID
	}
	relayed := func(id string) {
		waitRecipients(t, n.h40, testgen.Commune, id, 1, id+" relayed", inState("relayed"))
	}
	// B reaches the national hub and stays there; its bytes get altered at H40.
	docB := send("Nội dung ZQXB-MARKER của văn bản B", "21", vpcp)
	relayed(docB)
	backup := filepath.Join(t.TempDir(), "national-before-A.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.national.Hub.Store().Backup(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// A reaches the national hub, which then loses it.
	docA := send("Nội dung của văn bản A", "22", vpcp)
	relayed(docA)
	// C waits at H40 for a department that never fetches it.
	docC := send("Nội dung của văn bản C", "23", testgen.Department)

	n.national.Close()
	if pg := n.stores[cfgNational]; pg.Engine == axis.EnginePostgres {
		// Restored from the backup file into a new database (schema).
		n.stores[cfgNational] = restoreToPostgres(t, backup)
	} else {
		nationalDB := filepath.Join(n.dirs[cfgNational], "axis.db")
		b, _ := os.ReadFile(backup)
		if err := os.WriteFile(nationalDB, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n.national = n.start(t, cfgNational)

	n.h40.Close()
	marker := []byte("ZQXB-MARKER")
	if pg := n.stores[cfgH40]; pg.Engine == axis.EnginePostgres {
		alterInPostgres(t, os.Getenv(pg.DSNEnv), marker) // in place, as a DBA could
	} else {
		raw, err := os.ReadFile(filepath.Join(n.dirs[cfgH40], "axis.db"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(raw, marker) != 1 {
			t.Fatalf("the marker is in the store %d times, want once", bytes.Count(raw, marker))
		}
		raw[bytes.Index(raw, marker)] = 'X' // one byte of B's stored envelope, in a copy
		copyDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(copyDir, "axis.db"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		n.dirs[cfgH40] = copyDir
	}
	n.h40 = n.start(t, cfgH40)

	day := store.Day(time.Now())
	admin := []string{"--hub", n.h40.URL(), "--token", testgen.DemoAdminToken, "--date", day}
	out1 := filepath.Join(t.TempDir(), "run1")
	code, stdout, stderr := axisctl(t, append([]string{"reconcile", "--out", out1}, admin...)...)
	if code != 2 {
		t.Fatalf("first run: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	r1 := readReport(t, out1)
	want := map[string]string{api.KindMissingAtPeer: docA, api.KindHashMismatch: docB, api.KindOverdue: docC}
	if got := kinds(r1); len(got) != 3 || got[api.KindMissingAtPeer] != docA || got[api.KindHashMismatch] != docB || got[api.KindOverdue] != docC {
		t.Fatalf("discrepancies %v, want exactly %v\n%s", got, want, stdout)
	}
	if r1.Totals.Accepted != 3 || r1.Totals.Relayed != 2 || r1.Totals.Confirmed != 1 || !r1.Totals.ChainOK || r1.Totals.Remaining != 3 {
		t.Fatalf("totals %+v", r1.Totals)
	}
	for _, d := range r1.Discrepancies {
		if d.Kind == api.KindMissingAtPeer && (d.Peer != "national" || d.OrganID != vpcp) {
			t.Errorf("missing_at_peer names %+v", d)
		}
		if d.Kind == api.KindOverdue && d.OrganID != testgen.Department {
			t.Errorf("overdue names %+v", d)
		}
		if d.Code == "" || d.Subject == "" { // every document here is H40's: its notation and subject are known
			t.Errorf("discrepancy without the document's notation and subject: %+v", d)
		}
	}
	for _, f := range []string{"report.csv", "report.html"} {
		b, err := os.ReadFile(filepath.Join(out1, f))
		if err != nil || !bytes.Contains(b, []byte(docA)) || !bytes.Contains(b, []byte(docB)) || !bytes.Contains(b, []byte(docC)) {
			t.Errorf("%s does not list the three documents: %v", f, err)
		}
	}

	lookAtReport(t, out1, "reconcile-report-3-discrepancies.png", 3)

	// A viewer may reconcile but not repair.
	code, _, stderr = axisctl(t, "reconcile", "--repair", "--out", filepath.Join(t.TempDir(), "viewer"), "--hub", n.h40.URL(), "--token", "token-xem", "--date", day)
	if code != 1 || !strings.Contains(stderr, "forbidden: ") || !strings.Contains(stderr, "is a viewer: repairing needs an administrator") {
		t.Fatalf("a viewer's repair: exit %d %s", code, stderr)
	}
	// A named administrator repairs: the chain says who.
	out2 := filepath.Join(t.TempDir(), "run2")
	an := []string{"--hub", n.h40.URL(), "--token", "token-an", "--date", day}
	code, stdout, stderr = axisctl(t, append([]string{"reconcile", "--repair", "--out", out2}, an...)...)
	if code != 2 {
		t.Fatalf("repair run: exit %d, want 2 (the overdue delivery remains)\n%s%s", code, stdout, stderr)
	}
	r2 := readReport(t, out2)
	for _, d := range r2.Discrepancies {
		if (d.Kind == api.KindOverdue) == d.Repaired {
			t.Errorf("repair run: %+v", d)
		}
	}
	if r2.Totals.Repaired != 2 || r2.Totals.Remaining != 1 {
		t.Fatalf("repair totals %+v\n%s", r2.Totals, stdout)
	}
	eventually(t, 20*time.Second, "the national hub has A again", func() bool {
		have, _ := n.national.Hub.Store().Have(context.Background(), []string{docA})
		_, ok := have[docA]
		return ok
	})
	relayed(docA)
	if r := call(t, n.h40, "GET", "/api/v1/envelopes/"+docB, tok(testgen.Commune), nil); r.status != 200 || !bytes.Contains(r.body, marker) {
		t.Fatalf("B's bytes are not restored: %d", r.status)
	}
	by := " by admin:Nguyễn Văn An"
	for _, want := range []struct{ doc, typ string }{{docA, store.EventRequeued}, {docB, store.EventRestored}, {"", store.EventAdmin}} {
		evs, err := n.h40.Hub.Store().Events(context.Background(), want.doc)
		if err != nil {
			t.Fatal(err)
		}
		named := slices.ContainsFunc(evs, func(e record.Event) bool {
			if e.Type != want.typ {
				return false
			}
			if want.typ == store.EventAdmin {
				return e.Detail == "admin:Nguyễn Văn An: reconcile "+day+" with repair"
			}
			return strings.HasSuffix(e.Detail, by)
		})
		if !named {
			t.Errorf("no %s event of %q names the administrator: %+v", want.typ, want.doc, evs)
		}
	}
	if code, out, _ := axisctl(t, "audit-verify", "--hub", n.h40.URL(), "--token", "token-an"); code != 0 || !strings.Contains(out, "event chain verified") {
		t.Fatalf("audit-verify after the repair: exit %d %s", code, out)
	}

	out3 := filepath.Join(t.TempDir(), "run3")
	code, stdout, _ = axisctl(t, append([]string{"reconcile", "--out", out3}, admin...)...)
	r3 := readReport(t, out3)
	if got := kinds(r3); code != 2 || len(r3.Discrepancies) != 1 || got[api.KindOverdue] != docC {
		t.Fatalf("second run: exit %d, %v\n%s", code, got, stdout)
	}
	if r3.Totals.Confirmed != 2 {
		t.Fatalf("second run: national confirms %d relays, want 2", r3.Totals.Confirmed)
	}
	// The last run is on /metrics.
	m := call(t, n.h40, "GET", "/metrics", "", nil)
	for _, line := range []string{`axis_reconcile_discrepancies{kind="overdue"} 1`, `axis_reconcile_discrepancies{kind="missing_at_peer"} 0`, "axis_reconcile_remaining 1", `axis_reconcile_last_date_info{date="` + day + `"} 1`} {
		if !strings.Contains(string(m.body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	// Nothing but the department's own fetch would clear C: it is listed, not hidden.
	if !slices.ContainsFunc(inbox(t, n.h40, testgen.Department).Items, func(it api.InboxItem) bool { return it.DocID == docC }) {
		t.Fatal("C left the department's inbox")
	}
}

func readReport(t *testing.T, dir string) *api.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r api.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func kinds(r *api.Report) map[string]string {
	out := map[string]string{}
	for _, d := range r.Discrepancies {
		out[d.Kind] = d.DocID
	}
	return out
}

// lookAtReport opens report.html in headless Chromium, checks what a person
// sees first (the verdict, then the totals, then one row per discrepancy)
// and keeps a screenshot under the test's artifact folder.
func lookAtReport(t *testing.T, dir, shot string, discrepancies int) {
	t.Helper()
	p := newPage(t, browser.ForTest(t), 60*time.Second)
	p.open("file://" + filepath.Join(dir, "report.html"))
	if verdict := p.text("#verdict"); !strings.Contains(verdict, "Còn 3 sai lệch cần xem xét") {
		t.Fatalf("verdict %q", verdict)
	}
	if rows := p.count("#discrepancies tr.discrepancy"); rows != discrepancies {
		t.Fatalf("%d discrepancy rows, want %d", rows, discrepancies)
	}
	var order []string // the verdict and totals come before the discrepancies
	if p.eval(`[...document.querySelectorAll("#verdict, #totals, #discrepancies")].map(e => e.id)`, &order); strings.Join(order, ",") != "verdict,totals,discrepancies" {
		t.Fatalf("page order %v", order)
	}
	p.shot(shot)
	t.Logf("screenshot: %s", p.artifact(shot))
}

// restoreToPostgres copies a backup file into a fresh schema of the test
// cluster (axisd migrate-store's path) and returns the store config of it.
func restoreToPostgres(t *testing.T, backup string) axis.StoreConfig {
	t.Helper()
	var st axis.Config
	testhub.UseEngine(t, &st)
	if _, err := store.Migrate(context.Background(), store.Location{File: backup}, store.Location{DSN: os.Getenv(st.Store.DSNEnv)}, nil); err != nil {
		t.Fatal(err)
	}
	return st.Store
}

// alterInPostgres changes one byte of the one stored chunk that holds
// marker, through the engine.
func alterInPostgres(t *testing.T, dsn string, marker []byte) {
	t.Helper()
	k, err := pgkv.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	found := 0
	err = k.Update(func(tx kv.Tx) error {
		found = 0
		b := tx.Bucket([]byte("blobs"))
		var key, val []byte
		err := b.ForEach(func(k, v []byte) error {
			if i := bytes.Index(v, marker); i >= 0 {
				found++
				key, val = bytes.Clone(k), bytes.Clone(v)
				val[i] = 'X'
			}
			return nil
		})
		if err != nil || found != 1 {
			return err
		}
		return b.Put(key, val)
	})
	if err != nil || found != 1 {
		t.Fatalf("the marker is in %d chunks (want one): %v", found, err)
	}
}
