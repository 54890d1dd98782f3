package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

// awaitingLines reads peer's whole awaiting index, a few at a time through
// the cursor, as "doc organ peer-doc-id" lines.
func awaitingLines(t *testing.T, db *store.DB, peer string) []string {
	t.Helper()
	var out []string
	var after store.Awaiting
	for {
		page, err := db.AwaitingStates(ctx, peer, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			out = append(out, a.DocID[:6]+" "+a.OrganID+" "+a.PeerDocID)
		}
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1]
	}
}

// A relay to a peer that is polled for states (national) enters the
// awaiting index, one entry per recipient under the peer's doc id; one to
// a peer the predicate refuses (h41) does not. A final report takes the
// entry out, "delivered" does not; so does a requeue, and relaying again
// puts it back under the new id unless the state there is already final.
func TestAwaitingStates(t *testing.T) {
	db := storetest.OpenWith(t, &store.Options{PollStates: func(p string) bool { return p == "national" }})
	a, _ := putRoutes(t, db, 400, at, viaNational(remote1, remote2)...)
	c, _ := putRoutes(t, db, 401, at, viaNational(remote1)...)
	toH41 := []record.Route{{OrganID: h41Dept, Peer: "h41"}}
	b, _ := putRoutes(t, db, 402, at, toH41...)
	if got := awaitingLines(t, db, "national"); len(got) != 0 {
		t.Fatalf("awaiting before any relay: %q", got)
	}
	for _, x := range []struct {
		d      *record.Document
		peer   string
		peerID string
	}{{a, "national", "pA"}, {c, "national", "pC"}, {b, "h41", "pB"}} {
		e, err := db.OutboxEntryOf(ctx, x.peer, x.d.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MarkRelayed(ctx, x.peer, *e, x.peerID, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{a.ID[:6] + " " + remote1 + " pA", a.ID[:6] + " " + remote2 + " pA", c.ID[:6] + " " + remote1 + " pC"}
	slices.Sort(want) // doc id order
	if got := awaitingLines(t, db, "national"); !slices.Equal(got, want) {
		t.Fatalf("awaiting national\n got %q\nwant %q", got, want)
	}
	if got := awaitingLines(t, db, "h41"); len(got) != 0 {
		t.Fatalf("awaiting h41 (not polled): %q", got)
	}
	// The cursor: after the last entry there is nothing; a limit holds.
	all, err := db.AwaitingStates(ctx, "national", store.Awaiting{}, 10)
	if err != nil || len(all) != 3 {
		t.Fatal(all, err)
	}
	if rest, _ := db.AwaitingStates(ctx, "national", all[2], 10); len(rest) != 0 {
		t.Fatalf("after the last: %+v", rest)
	}
	if first, _ := db.AwaitingStates(ctx, "national", store.Awaiting{}, 1); len(first) != 1 || first[0] != all[0] {
		t.Fatalf("limit 1: %+v, want %+v", first, all[0])
	}
	checked(t, db)

	report := func(d *record.Document, organ, state string, when time.Time) {
		t.Helper()
		r := record.DeliveryReport{DocID: d.ID, OrganID: organ, State: state, AtHub: "national", At: when}
		if n, err := db.ApplyReports(ctx, "national", []record.DeliveryReport{r}, when); err != nil || n != 1 {
			t.Fatalf("report %s %s: %d applied, %v", organ, state, n, err)
		}
	}
	without := func(lines []string, drop string) []string {
		return slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, drop) })
	}
	// Delivered is not final: still asked about. Acked is.
	report(a, remote1, store.StateDelivered, at.Add(2*time.Minute))
	if got := awaitingLines(t, db, "national"); !slices.Equal(got, want) {
		t.Fatalf("after delivered\n got %q\nwant %q", got, want)
	}
	report(a, remote1, store.StateAckedDone, at.Add(3*time.Minute))
	want = without(want, a.ID[:6]+" "+remote1)
	if got := awaitingLines(t, db, "national"); !slices.Equal(got, want) {
		t.Fatalf("after acked_done\n got %q\nwant %q", got, want)
	}
	// The same final report again changes nothing (one reported event).
	again := record.DeliveryReport{DocID: a.ID, OrganID: remote1, State: store.StateAckedDone, AtHub: "national", At: at.Add(3 * time.Minute)}
	if n, err := db.ApplyReports(ctx, "national", []record.DeliveryReport{again}, at.Add(4*time.Minute)); err != nil || n != 0 {
		t.Fatalf("the same report again: %d applied, %v", n, err)
	}
	if got := lastEvents(t, db, a.ID, 2); !slices.Equal(got, []string{"reported " + remote1 + " delivered at national", "reported " + remote1 + " acked_done at national"}) {
		t.Fatalf("events %q", got)
	}
	checked(t, db)

	// The peer lost a's copy for remote2 (and remote1's, long acked):
	// requeued, they are not relayed, so not asked about; relayed again,
	// remote2 is asked about under the new id, remote1 (final) is not.
	when := at.Add(24 * time.Hour)
	if err := db.Requeue(ctx, a.ID, "national", []string{remote1, remote2}, "not found at the peer", "", when); err != nil {
		t.Fatal(err)
	}
	want = without(want, a.ID[:6])
	if got := awaitingLines(t, db, "national"); !slices.Equal(got, want) {
		t.Fatalf("after requeue\n got %q\nwant %q", got, want)
	}
	checked(t, db)
	if err := db.MarkRelayed(ctx, "national", outboxOf(t, db, a.ID), "pA2", when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want = append(want, a.ID[:6]+" "+remote2+" pA2")
	slices.Sort(want)
	if got := awaitingLines(t, db, "national"); !slices.Equal(got, want) {
		t.Fatalf("relayed again\n got %q\nwant %q", got, want)
	}
	checked(t, db)
	// Dead there is final too; the last one acked empties the index.
	report(a, remote2, store.StateDead, when.Add(2*time.Minute))
	report(c, remote1, store.StateAckedFail, when.Add(2*time.Minute))
	if got := awaitingLines(t, db, "national"); len(got) != 0 {
		t.Fatalf("after final reports: %q", got)
	}
}
