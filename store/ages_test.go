package store_test

import (
	"os"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

// The metrics' reads: per queue the oldest unfetched and the oldest
// unacked document (by queue order, measured from ReceivedAt), the oldest
// held, the dead lists per peer, the file's space.
func TestMetricReadsAges(t *testing.T) {
	db := storetest.Open(t)
	if ages, err := db.QueueAges(ctx); err != nil || len(ages) != 0 {
		t.Fatalf("empty store: %v %v", ages, err)
	}
	if h, err := db.HeldOldest(ctx); err != nil || !h.IsZero() {
		t.Fatalf("empty store held: %v %v", h, err)
	}
	// The department: 1 (at) fetched, 2 (at+1h) and 3 (at+2h) not; then 1
	// acked: the head is 2. The district: 4 (at+3h) fetched, not acked.
	d1, _ := putRoutes(t, db, 1, at, local(testgen.Department)...)
	putRoutes(t, db, 2, at.Add(time.Hour), local(testgen.Department)...)
	putRoutes(t, db, 3, at.Add(2*time.Hour), local(testgen.Department)...)
	d4, _ := putRoutes(t, db, 4, at.Add(3*time.Hour), local(testgen.District)...)
	for _, f := range []struct{ id, organ string }{{d1.ID, testgen.Department}, {d4.ID, testgen.District}} {
		if _, err := db.MarkFetched(ctx, f.id, f.organ, at.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	ages, err := db.QueueAges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.QueueAge{
		testgen.Department: {Unfetched: at.Add(time.Hour), Unacked: at},
		testgen.District:   {Unacked: at.Add(3 * time.Hour)},
	}
	if len(ages) != len(want) || !ages[testgen.Department].Unfetched.Equal(want[testgen.Department].Unfetched) ||
		!ages[testgen.Department].Unacked.Equal(at) || !ages[testgen.District].Unfetched.IsZero() ||
		!ages[testgen.District].Unacked.Equal(at.Add(3*time.Hour)) {
		t.Fatalf("ages %+v, want %+v", ages, want)
	}
	if _, err := db.Ack(ctx, d1.ID, testgen.Department, true, "", at.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ages, _ = db.QueueAges(ctx); !ages[testgen.Department].Unfetched.Equal(at.Add(time.Hour)) || !ages[testgen.Department].Unacked.IsZero() {
		t.Fatalf("after the ack: %+v", ages[testgen.Department])
	}

	// Held: the oldest of two, whatever their doc ids' order.
	putHeldNumbered(t, db, 10, at.Add(2*time.Hour), local(testgen.Department)...)
	putHeldNumbered(t, db, 11, at.Add(time.Hour), local(testgen.Department)...)
	if h, err := db.HeldOldest(ctx); err != nil || !h.Equal(at.Add(time.Hour)) {
		t.Fatalf("held oldest %v %v, want %v", h, err, at.Add(time.Hour))
	}

	// Dead: one entry at national.
	if d, err := db.DeadDepths(ctx); err != nil || len(d) != 0 {
		t.Fatalf("dead before: %v %v", d, err)
	}
	deadRelay(t, db)
	if d, err := db.DeadDepths(ctx); err != nil || len(d) != 1 || d["national"] != 1 {
		t.Fatalf("dead: %v %v", d, err)
	}

	// Space: the file's size as the file system says; free pages as bbolt
	// counts them. On PostgreSQL: the tables' size (two tables and their
	// indexes, a page each at least), no free pages.
	sp, err := db.Space()
	if err != nil {
		t.Fatal(err)
	}
	if storetest.Postgres() {
		if sp.FileBytes < 4*8192 || sp.FreePages != 0 {
			t.Fatalf("space on postgres %+v", sp)
		}
		return
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if sp.FileBytes != fi.Size() || sp.FreePages < 0 || int64(sp.FreePages*os.Getpagesize()) >= sp.FileBytes {
		t.Fatalf("space %+v, file %d bytes", sp, fi.Size())
	}
}

// How far QueueAges reads: at most QueueHeadScan entries of a queue, and
// at most QueueUnackedLookahead past its first unfetched one.
func TestMetricReadsQueueBounds(t *testing.T) {
	db := storetest.Open(t)
	n := 100
	put := func(organ string, fetched bool) *time.Time {
		t.Helper()
		n++
		when := at.Add(time.Duration(n) * time.Second)
		d, _ := putRoutes(t, db, n, when, local(organ)...)
		if fetched {
			if _, err := db.MarkFetched(ctx, d.ID, organ, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		return &when
	}
	// The department fetched QueueHeadScan documents and acked none: the
	// unfetched one behind them is not read.
	first := put(testgen.Department, true)
	for range store.QueueHeadScan - 1 {
		put(testgen.Department, true)
	}
	put(testgen.Department, false)
	// The district: its first unfetched, then QueueUnackedLookahead-1 more,
	// then a fetched one: still read.
	districtHead := put(testgen.District, false)
	for range store.QueueUnackedLookahead - 1 {
		put(testgen.District, false)
	}
	districtFetched := put(testgen.District, true)
	// The province: one more unfetched before its fetched one: not read.
	provinceHead := put(testgen.Province, false)
	for range store.QueueUnackedLookahead {
		put(testgen.Province, false)
	}
	put(testgen.Province, true)

	ages, err := db.QueueAges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for organ, want := range map[string]store.QueueAge{
		testgen.Department: {Unacked: *first},
		testgen.District:   {Unfetched: *districtHead, Unacked: *districtFetched},
		testgen.Province:   {Unfetched: *provinceHead},
	} {
		if a := ages[organ]; !a.Unfetched.Equal(want.Unfetched) || !a.Unacked.Equal(want.Unacked) {
			t.Errorf("%s: ages %+v, want %+v", organ, a, want)
		}
	}
}
