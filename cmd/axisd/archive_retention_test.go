package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/tsatest"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// syntheticDays writes days of synthetic traffic ending the day before
// last: perDay documents a day from the commune to the department
// (storetest.Day), each of size bytes.
func syntheticDays(t *testing.T, file string, last time.Time, days, perDay, size int) {
	t.Helper()
	db, err := store.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := days; i >= 1; i-- {
		docs := storetest.Day(last.AddDate(0, 0, -i), perDay, size, func(int) (string, string) { return testgen.Commune, testgen.Department })
		if err := storetest.LoadSynthetic(context.Background(), db, docs); err != nil {
			t.Fatal(err)
		}
	}
}

// compacted is the size of a store file once compacted (axisd compact):
// its live data, without the pages bbolt keeps free.
func compacted(t *testing.T, file string) int64 {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := compact(context.Background(), []string{"--db", file}, &out, &errOut); code != 0 {
		t.Fatalf("compact %s: %s%s", file, out.String(), errOut.String())
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// Issue 18 #4: a store with 100 days of traffic, archived with hot_days 30:
// the hot file's live data is within 40% of a store holding only the last
// 30 days; a 60-day-old document still answers search, trace, status and
// fetch (byte-identical, from its archive); the reconciliation of its day
// runs from the archive; the chain still verifies, from its base.
func TestArchiveRetention(t *testing.T) {
	if storetest.Postgres() {
		t.Skip("sizes a bbolt file, loaded before the hub opens it")
	}
	const days, perDay, size = 100, 20, 24 << 10
	now := fixture.Now() // 2026-06-01 16:00 in Hà Nội
	dataDir := t.TempDir()
	syntheticDays(t, filepath.Join(dataDir, "axis.db"), now, days, perDay, size)
	thirty := filepath.Join(t.TempDir(), "thirty.db")
	syntheticDays(t, thirty, now, 30, perDay, size)

	ts := tsatest.Start(t)
	arch := filepath.Join(t.TempDir(), "archive")
	clock := fixture.NewClock(now)
	m := newMain(t, demoConfig, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	m.Config.Peers = nil
	m.Options.Now = clock.Now
	archived(ts, arch, 100*time.Millisecond)(m.Config)
	m.Config.Archive.HotDays = 30
	run(t, m)
	eventually(t, 5*time.Minute, "100 days sealed and 70 retired", func() bool {
		seals, err := m.Hub.Store().Seals(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		retired := 0
		for _, s := range seals {
			if !s.Retired.IsZero() {
				retired++
			}
		}
		return len(seals) == days && retired == 70
	})
	seals, _ := m.Hub.Store().Seals(t.Context())
	if seals[0].Day != "2026-02-21" || seals[69].Day != "2026-05-01" || !seals[70].Retired.IsZero() || seals[99].Day != "2026-05-31" {
		t.Fatalf("seals from %s to %s, the 70th %s retired %v", seals[0].Day, seals[99].Day, seals[69].Day, seals[70].Retired)
	}

	// A document of 2026-04-02, 60 days back.
	day := "2026-04-02"
	res := adminGet[record.SearchResult](t, m, "/admin/v1/search?code="+url.QueryEscape("3/0402/UBND-VP"))
	if len(res.Docs) != 1 || res.Docs[0].Archive != "2026/04/axis-axis-h40-2026-04-02.zip" {
		t.Fatalf("search: %+v", res.Docs)
	}
	id := res.Docs[0].ID
	tr := adminGet[api.Trace](t, m, "/admin/v1/documents/"+id)
	var types []string
	for _, e := range tr.Events {
		types = append(types, e.Event)
	}
	if got := strings.Join(types, " "); got != "received verified queued fetched acked" || len(tr.Recipients) != 1 || tr.Recipients[0].State != store.StateAckedDone {
		t.Fatalf("trace of a retired document: %s, %+v", got, tr.Recipients)
	}
	st := statusAs(t, m, tok(testgen.Commune), id)
	if len(st.Recipients) != 1 || st.Recipients[0].State != store.StateAckedDone {
		t.Fatalf("status: %+v", st)
	}
	r := call(t, m, "GET", "/api/v1/envelopes/"+id, tok(testgen.Department), nil)
	sent := storetest.Day(time.Date(2026, 4, 2, 12, 0, 0, 0, store.Zone), perDay, size, nil)[2].Raw // "3/0402/UBND-VP"
	if r.status != 200 || !bytes.Equal(r.body, sent) {
		t.Fatalf("fetch: %d, %d bytes", r.status, len(r.body))
	}
	if raw, err := m.Hub.Store().Blob(t.Context(), id); err == nil {
		t.Fatalf("the retired document's %d bytes are still in the hot store", len(raw))
	}
	rep := call(t, m, "POST", "/admin/v1/reconcile?date="+day, testgen.DemoAdminToken, nil)
	var report api.Report
	rep.json(t, &report)
	if rep.status != 200 || report.Totals.Accepted != perDay || report.FromArchive != perDay || report.Totals.AckedDone != perDay || len(report.Discrepancies) != 0 ||
		!strings.HasSuffix(report.Archive, "axis-axis-h40-2026-04-02.zip") {
		t.Fatalf("reconcile of a retired day: %d %+v", rep.status, report)
	}
	chain, err := m.Hub.Store().VerifyChain(t.Context())
	if err != nil || !chain.OK() || chain.BaseSeq == 0 || chain.Anchors == 0 {
		t.Fatalf("chain: %+v %v", chain, err)
	}

	// Every archive verifies, each day's chain continuing the day before.
	files, _ := filepath.Glob(filepath.Join(arch, "2026", "*", "*.zip"))
	code, out, _ := axisctl(t, append([]string{"archive", "verify", "--hub-roots", fixture.RootCA, "--tsa-roots", ts.RootPEM}, files...)...)
	if code != 0 || strings.Count(out, ": OK: ") != days || strings.Count(out, "chain continues") != days-1 {
		t.Fatalf("archive verify: exit %d, %d OK, %d linked\n%s", code, strings.Count(out, ": OK: "), strings.Count(out, "chain continues"), out)
	}

	// The hot store's live data against a store of the last 30 days.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	hotFile := filepath.Join(dataDir, "axis.db")
	before, _ := os.Stat(hotFile)
	compacted(t, hotFile)
	compacted(t, thirty)
	hot, want := liveBytes(t, hotFile), liveBytes(t, thirty)
	t.Logf("live data: hot store %d bytes (its file was %d before axisd compact), a 30-day store %d: %.2f×", hot, before.Size(), want, float64(hot)/float64(want))
	if float64(hot) > 1.4*float64(want) {
		t.Errorf("hot store %d bytes, more than 1.4 × the 30-day store's %d", hot, want)
	}
	if hot >= before.Size()/2 {
		t.Errorf("compaction: %d bytes → %d live", before.Size(), hot)
	}
}

// liveBytes is the data a compacted bbolt file holds: its pages up to the
// high-water mark (a compacted file has no free page; its size on disk is
// rounded up to bbolt's next mapping size).
func liveBytes(t *testing.T, file string) int64 {
	t.Helper()
	db, err := bolt.Open(file, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	return size
}

// adminGet decodes an admin GET's JSON.
func adminGet[T any](t *testing.T, m *Main, path string) T {
	t.Helper()
	var v T
	r := call(t, m, "GET", path, testgen.DemoAdminToken, nil)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
