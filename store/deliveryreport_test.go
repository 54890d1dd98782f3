package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

const h41Dept = "000.00.11.H41"

// reportLines is the reports waiting for peer, as "doc organ state at_hub
// reason" lines.
func reportLines(t *testing.T, db *store.DB, peer string) ([]string, []uint64) {
	t.Helper()
	qs, err := db.Reports(ctx, peer, 100)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var seqs []uint64
	for _, q := range qs {
		r := q.Report
		lines = append(lines, r.DocID[:6]+" "+r.OrganID+" "+r.State+" "+r.AtHub+" "+r.Reason)
		seqs = append(seqs, q.Seq)
	}
	return lines, seqs
}

// The hub in the middle of a path (national, say): a document came from
// h40 for a local agency and for a department of H41, relayed on to
// nghe-an. The local agency's fetch and ack, and nghe-an's report about
// its department, are queued for h40 in order; nothing else is.
func TestDeliveryReports(t *testing.T) {
	db := storetest.OpenWith(t, &store.Options{ReportTo: func(p string) bool { return p == "h40" || p == "nghe-an" }})
	routes := []record.Route{{OrganID: testgen.Department}, {OrganID: h41Dept, Peer: "nghe-an"}}
	v := fixture.Verified(t, addressed(1, routes))
	d, created, err := db.PutEnvelope(ctx, v, routes, at, "h40")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	id := d.ID[:6]
	if _, err := db.MarkFetched(ctx, d.ID, testgen.Department, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ack(ctx, d.ID, testgen.Department, true, "", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rep := record.DeliveryReport{DocID: d.ID, OrganID: h41Dept, State: store.StateAckedDone, AtHub: "nghe-an", At: at.Add(3 * time.Minute)}
	late := rep
	late.State, late.At = store.StateDelivered, at.Add(4*time.Minute)
	wrongOrgan := rep
	wrongOrgan.OrganID = testgen.Department // local here: nghe-an has no say on it
	unknownDoc := rep
	unknownDoc.DocID = "00000000000000000000000000000000"
	for _, tc := range []struct {
		peer    string
		reports []record.DeliveryReport
		applied int
	}{
		{"national2", []record.DeliveryReport{rep}, 0}, // not the peer the copy went to
		{"nghe-an", []record.DeliveryReport{wrongOrgan, unknownDoc}, 0},
		{"nghe-an", []record.DeliveryReport{rep}, 1},
		{"nghe-an", []record.DeliveryReport{rep, late}, 0}, // again, and a late "delivered"
	} {
		n, err := db.ApplyReports(ctx, tc.peer, tc.reports, at.Add(5*time.Minute))
		if err != nil || n != tc.applied {
			t.Fatalf("ApplyReports from %s: %d applied, %v; want %d", tc.peer, n, err, tc.applied)
		}
	}
	dl := delivery(t, db, d.ID, h41Dept)
	if dl.State != store.StateQueued && dl.State != store.StateRelaying || dl.RemoteState != store.StateAckedDone || dl.AtHub != "nghe-an" || !dl.RemoteAt.Equal(rep.At) {
		t.Fatalf("delivery %+v: want its own state kept and acked_done at nghe-an", dl)
	}
	if got := lastEvents(t, db, d.ID, 1); !slices.Equal(got, []string{"reported " + h41Dept + " acked_done at nghe-an"}) {
		t.Fatalf("last event %v", got)
	}
	lines, seqs := reportLines(t, db, "h40")
	want := []string{
		id + " " + testgen.Department + " delivered  ",
		id + " " + testgen.Department + " acked_done  ",
		id + " " + h41Dept + " acked_done nghe-an ",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("reports for h40\n got %q\nwant %q", lines, want)
	}
	if l, _ := reportLines(t, db, "nghe-an"); len(l) != 0 {
		t.Fatalf("reports for nghe-an %q: a report goes only back along the path", l)
	}
	// Sent: gone; what was not sent stays.
	if err := db.ReportsSent(ctx, "h40", seqs[:2]); err != nil {
		t.Fatal(err)
	}
	if lines, _ := reportLines(t, db, "h40"); !slices.Equal(lines, want[2:]) {
		t.Fatalf("after sending two: %q", lines)
	}
}

// A document that did not come through a peer, or came through one that
// gets no reports, queues none; a hop given up on is reported as dead.
func TestDeliveryReportsOnlyBackAlongThePath(t *testing.T) {
	db := storetest.OpenWith(t, &store.Options{ReportTo: func(p string) bool { return p == "h40" }})
	local := local(testgen.Department)
	mine, _ := put(t, db, addressed(1, local), at, local...)
	pulled, _, err := db.PutEnvelope(ctx, fixture.Verified(t, addressed(2, local)), local, at, "pull-peer")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{mine.ID, pulled.ID} {
		if _, err := db.MarkFetched(ctx, id, testgen.Department, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"h40", "pull-peer", ""} {
		if l, _ := reportLines(t, db, p); len(l) != 0 {
			t.Fatalf("reports for %q: %q", p, l)
		}
	}
	// From h40, relayed on to nghe-an, which refuses it for good.
	routes := []record.Route{{OrganID: h41Dept, Peer: "nghe-an"}}
	d, _, err := db.PutEnvelope(ctx, fixture.Verified(t, addressed(3, routes)), routes, at, "h40")
	if err != nil {
		t.Fatal(err)
	}
	e, err := db.OutboxEntryOf(ctx, "nghe-an", d.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RelayFailed(ctx, "nghe-an", *e, "peer answered 422 unknown_recipient", true, at); err != nil {
		t.Fatal(err)
	}
	lines, _ := reportLines(t, db, "h40")
	if want := []string{d.ID[:6] + " " + h41Dept + " dead  peer answered 422 unknown_recipient"}; !slices.Equal(lines, want) {
		t.Fatalf("reports for h40 %q, want %q", lines, want)
	}
	// A hop re-driven after its "dead" may still be delivered.
	dead := record.DeliveryReport{DocID: d.ID, OrganID: h41Dept, State: store.StateDead, AtHub: "nghe-an", At: at}
	done := dead
	done.State, done.At = store.StateAckedDone, at.Add(time.Hour)
	if _, err := db.Redrive(ctx, d.ID, h41Dept, "", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i, r := range []record.DeliveryReport{dead, done} {
		if n, err := db.ApplyReports(ctx, "nghe-an", []record.DeliveryReport{r}, at.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("report %d: %d applied, %v", i, n, err)
		}
	}
	if dl := delivery(t, db, d.ID, h41Dept); dl.RemoteState != store.StateAckedDone {
		t.Fatalf("after re-drive: %+v", dl)
	}
}
