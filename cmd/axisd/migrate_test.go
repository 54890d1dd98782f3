package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// A bbolt hub moves to PostgreSQL with axisctl migrate-store (the real
// binaries), and back into a file: the day's reconciliation and the
// audit of the event chain say the same before and after, and a second
// migration into the same database is refused.
//
// AXIS_MIGRATE_STORE=FILE migrates that store instead (a big one made by
// internal/cmd/genstore, for the time the closing note quotes), with
// AXIS_MIGRATE_DAY the day to reconcile.
func TestMigrateStoreBoltToPostgresAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds axisd and axisctl")
	}
	ctx := context.Background()
	pg := pgtest.Start(t, pgtest.Options{})
	pg.Exec(t, "CREATE DATABASE axis")
	t.Setenv("AXIS_MIGRATE_DSN", pg.DSN("axis"))
	bolt := func(c *axis.Config) { c.Store = axis.StoreConfig{Engine: axis.EngineBolt} }
	onPG := func(c *axis.Config) {
		c.Store = axis.StoreConfig{Engine: axis.EnginePostgres, DSNEnv: "AXIS_MIGRATE_DSN"}
	}

	file, day := os.Getenv("AXIS_MIGRATE_STORE"), os.Getenv("AXIS_MIGRATE_DAY")
	dataDir := t.TempDir()
	if file == "" {
		// A small province's day: documents fetched and acked, others
		// waiting, a status message.
		m := start(t, bolt, func(c *axis.Config) { c.DataDir = dataDir })
		for i := 0; i < 24; i++ {
			d := fixture.Numbered(fmt.Sprintf("M%d", i))
			d.DueDate = ""
			rc := intake(t, m, testgen.Commune, fixture.Sign(t, d))
			if i%3 == 0 {
				call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(testgen.Department), nil)
				if r := call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Department), []byte(`{"status":"done"}`)); r.status != 200 {
					t.Fatalf("ack: %d %s", r.status, r.body)
				}
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		file, day = filepath.Join(dataDir, "axis.db"), store.Day(fixture.Now())
	}
	if day == "" {
		t.Fatal("AXIS_MIGRATE_DAY: the day of AXIS_MIGRATE_STORE to reconcile")
	}

	// What a hub on the bbolt file says.
	report := func(c func(*axis.Config)) (*api.Report, record.ChainReport) {
		t.Helper()
		m := start(t, c, func(cfg *axis.Config) { cfg.DataDir = filepath.Dir(file) })
		r, err := m.Hub.Reconcile(ctx, day, false)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Report record.ChainReport `json:"report"`
		}
		call(t, m, "GET", "/admin/v1/audit/verify", testgen.DemoAdminToken, nil).json(t, &v)
		chain := v.Report
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return r, chain
	}
	before, chainBefore := report(bolt)

	// The move, as the README prints it.
	t0 := time.Now()
	code, out, errOut := axisctl(t, "migrate-store", "--from", file, "--to-dsn-env", "AXIS_MIGRATE_DSN")
	took := time.Since(t0)
	if code != 0 {
		t.Fatalf("migrate-store: exit %d\n%s%s", code, out, errOut)
	}
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + ` -> postgres: (\d+) documents, (\d+) keys in \S+; checked; event chain verified on both: (\d+) events, head ([0-9a-f]{64})\n$`)
	mm := want.FindStringSubmatch(out)
	if mm == nil || mm[3] != fmt.Sprint(chainBefore.Events) || mm[4] != chainBefore.Head {
		t.Fatalf("migrate-store said %q; the chain before: %+v", out, chainBefore)
	}
	t.Logf("migrate-store bbolt -> postgres: %s documents, %s keys in %s", mm[1], mm[2], took.Round(time.Millisecond))

	after, chainAfter := report(onPG)
	if chainAfter.Events != chainBefore.Events || chainAfter.Head != chainBefore.Head || !chainAfter.OK() {
		t.Fatalf("audit-verify: before %+v, after %+v", chainBefore, chainAfter)
	}
	if !reflect.DeepEqual(summary(before), summary(after)) {
		t.Fatalf("the reconciliation differs:\nbefore %+v\nafter  %+v", summary(before), summary(after))
	}
	if before.Totals.Accepted == 0 {
		t.Fatalf("nothing accepted on %s: the comparison proves nothing", day)
	}

	// Into that database again: refused, nothing changed.
	code, _, errOut = axisctl(t, "migrate-store", "--from", file, "--to-dsn-env", "AXIS_MIGRATE_DSN")
	if code != 1 || !strings.Contains(errOut, "already holds documents") {
		t.Fatalf("a second migration: exit %d %s", code, errOut)
	}

	// And back into a file: audit-verify --db on it says the same.
	back := filepath.Join(t.TempDir(), "back.db")
	code, out, errOut = axisctl(t, "migrate-store", "--from-dsn-env", "AXIS_MIGRATE_DSN", "--to", back, "--json")
	if code != 0 {
		t.Fatalf("migrate-store back: exit %d\n%s%s", code, out, errOut)
	}
	var r store.MigrateReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Target.Head != chainAfter.Head {
		t.Fatalf("migrate-store back said %s (%v)", out, err)
	}
	code, out, _ = axisctl(t, "audit-verify", "--db", back, "--json")
	var chainBack record.ChainReport
	if code != 0 || json.Unmarshal([]byte(out), &chainBack) != nil || chainBack.Head != chainBefore.Head || chainBack.Events != chainBefore.Events {
		t.Fatalf("audit-verify of the file made from postgres: exit %d %s", code, out)
	}
}

// summary is a report without what differs between two runs (when,
// where the files are).
func summary(r *api.Report) any {
	return struct {
		Totals        api.Totals
		Agencies      []api.AgencyTotals
		Peers         []api.PeerTotals
		Discrepancies []api.Discrepancy
	}{r.Totals, r.Agencies, r.Peers, r.Discrepancies}
}
