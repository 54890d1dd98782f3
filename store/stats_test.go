package store_test

import (
	"maps"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store/storetest"
)

// The counts the metrics and the console's overview read: documents
// stored, stored today, entries waiting per queue and per outbox.
func TestCountsAndDepths(t *testing.T) {
	db := storetest.Open(t)
	if n, err := db.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count of an empty store %d %v", n, err)
	}
	a, _ := putRoutes(t, db, 1100, at.Add(-24*time.Hour), local(testgen.Department, testgen.District)...)
	putRoutes(t, db, 1101, at, local(testgen.Department)...)
	putRoutes(t, db, 1102, at, append(local(testgen.District), viaNational(remote1, remote2)...)...)
	if n, _ := db.Count(ctx); n != 3 {
		t.Fatalf("count %d", n)
	}
	for day, want := range map[string]int{"2026-06-01": 2, "2026-05-31": 1, "2026-05-30": 0} {
		if n, err := db.DayCount(ctx, day); err != nil || n != want {
			t.Errorf("day count %s = %d %v, want %d", day, n, err, want)
		}
	}
	if _, err := db.Ack(ctx, a.ID, testgen.Department, true, "", at); err != nil {
		t.Fatal(err)
	}
	q, err := db.QueueDepths(ctx)
	if want := map[string]int{testgen.Department: 1, testgen.District: 2}; err != nil || !maps.Equal(q, want) {
		t.Fatalf("queue depths %v %v, want %v", q, err, want)
	}
	o, err := db.OutboxDepths(ctx)
	if want := map[string]int{"national": 1}; err != nil || !maps.Equal(o, want) {
		t.Fatalf("outbox depths %v %v, want %v", o, err, want)
	}
	checked(t, db)
}
