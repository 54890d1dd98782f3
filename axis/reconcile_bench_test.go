package axis_test

import (
	"context"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// BenchmarkReconcile is the nightly reconciliation of a day of 1000
// envelopes from a commune to a department, half of them fetched and
// acknowledged: one store read of the day (AuditDay, every byte re-hashed,
// the event chain walked), the totals and the overdue list. The hub is
// alone, so no peer is asked.
func BenchmarkReconcile(b *testing.B) {
	const n = 1000
	h := testhub.Open(b, testhub.Options{})
	ctx := context.Background()
	from, to := axis.Caller{Agency: testgen.Commune}, axis.Caller{Agency: testgen.Department}
	for i, raw := range benchPool(b, n, 14000) {
		r, created, err := h.Intake(ctx, from, raw)
		if err != nil || !created {
			b.Fatal(err, created)
		}
		if i%2 == 0 {
			if _, err := h.Fetch(ctx, to, r.DocID); err != nil {
				b.Fatal(err)
			}
			if _, err := h.Ack(ctx, to, r.DocID, true, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	day := store.Day(fixture.Now())
	for b.Loop() {
		r, err := h.Reconcile(ctx, day, false)
		if err != nil || r.Totals.Accepted != n || r.Totals.AckedDone != n/2 {
			b.Fatalf("%v %+v", err, r.Totals)
		}
	}
}
