package store_test

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

// A peer's outbox lists oldest first after a cursor; OutboxEntryOf finds a
// document's entry near the head, no further than its limit.
func TestOutbox(t *testing.T) {
	db := storetest.Open(t)
	var ids []string
	for i := range 3 {
		d, _ := putRoutes(t, db, 600+i, at.Add(time.Duration(i)*time.Minute), viaNational(remote1)...)
		ids = append(ids, d.ID)
	}
	page, err := db.Outbox(ctx, "national", 0, 2)
	if err != nil || len(page) != 2 || page[0].Seq != 1 || page[0].DocID != ids[0] || page[1].Seq != 2 || page[1].DocID != ids[1] {
		t.Fatalf("first page %+v %v", page, err)
	}
	page, err = db.Outbox(ctx, "national", 2, 10)
	if err != nil || len(page) != 1 || page[0].Seq != 3 || page[0].DocID != ids[2] || !page[0].Created.Equal(at.Add(2*time.Minute)) {
		t.Fatalf("second page %+v %v", page, err)
	}
	if page, err := db.Outbox(ctx, "h41", 0, 10); err != nil || len(page) != 0 {
		t.Fatalf("a peer without an outbox: %+v %v", page, err)
	}

	if e, err := db.OutboxEntryOf(ctx, "national", ids[1], 10); err != nil || e.Seq != 2 || e.DocID != ids[1] {
		t.Fatalf("entry of the second: %+v %v", e, err)
	}
	if _, err := db.OutboxEntryOf(ctx, "national", ids[2], 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("entry beyond the limit: %v", err)
	}
	if _, err := db.OutboxEntryOf(ctx, "h41", ids[0], 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("entry at a peer without an outbox: %v", err)
	}
	if d, _ := db.OutboxDepths(ctx); len(d) != 1 || d["national"] != 3 {
		t.Fatalf("depths %v", d)
	}

	if err := db.MarkRelayed(ctx, "national", outboxOf(t, db, ids[0]), "p", at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OutboxEntryOf(ctx, "national", ids[0], 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("entry of a relayed document: %v", err)
	}
	if d, _ := db.OutboxDepths(ctx); d["national"] != 2 {
		t.Fatalf("depths after a relay %v", d)
	}
	checked(t, db)
}

// One outbox entry carries every organ a document goes to through a peer;
// MarkRelayed takes it out of the outbox and makes each of its deliveries
// relayed under the peer's id, and leaves the local delivery alone. Marking
// it again (a retried commit) changes nothing.
func TestMarkRelayed(t *testing.T) {
	db := storetest.Open(t)
	d, _ := putRoutes(t, db, 100, at, append(viaNational(remote1, remote2), local(testgen.Department)...)...)
	e := outboxOf(t, db, d.ID)
	if e.Seq != 1 || e.DocID != d.ID || !slices.Equal(e.Organs, []string{remote1, remote2}) || !e.Created.Equal(at) {
		t.Fatalf("outbox entry %+v", e)
	}
	for _, o := range []string{remote1, remote2} {
		if dl := delivery(t, db, d.ID, o); dl.State != store.StateRelaying || dl.Route != "national" || dl.Attempts != 0 {
			t.Fatalf("%s before: %+v", o, dl)
		}
	}
	if got := lastEvents(t, db, d.ID, 3); !slices.Equal(got, []string{
		"queued " + testgen.Department + " local",
		"outboxed " + remote1 + " peer=national",
		"outboxed " + remote2 + " peer=national",
	}) {
		t.Fatalf("intake events %q", got)
	}
	checked(t, db)

	when := at.Add(time.Minute)
	if err := db.MarkRelayed(ctx, "national", e, "peer-doc-1", when); err != nil {
		t.Fatal(err)
	}
	if ob, err := db.Outbox(ctx, "national", 0, 10); err != nil || len(ob) != 0 {
		t.Fatalf("outbox after relay: %+v %v", ob, err)
	}
	for _, o := range []string{remote1, remote2} {
		dl := delivery(t, db, d.ID, o)
		if dl.State != store.StateRelayed || dl.PeerDocID != "peer-doc-1" || dl.Attempts != 1 || dl.LastError != "" || !dl.UpdatedAt.Equal(when) {
			t.Errorf("%s after: %+v", o, dl)
		}
	}
	if dl := delivery(t, db, d.ID, testgen.Department); dl.State != store.StateQueued {
		t.Errorf("the local delivery changed: %+v", dl)
	}
	want := []string{
		"relayed " + remote1 + " peer=national peer_doc_id=peer-doc-1",
		"relayed " + remote2 + " peer=national peer_doc_id=peer-doc-1",
	}
	if got := lastEvents(t, db, d.ID, 2); !slices.Equal(got, want) {
		t.Fatalf("relay events %q", got)
	}
	checked(t, db)

	n := len(events(t, db, d.ID))
	if err := db.MarkRelayed(ctx, "national", e, "peer-doc-2", when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := len(events(t, db, d.ID)); got != n {
		t.Errorf("marking again added %d events", got-n)
	}
	if dl := delivery(t, db, d.ID, remote1); dl.PeerDocID != "peer-doc-1" || dl.Attempts != 1 {
		t.Errorf("marking again changed the delivery: %+v", dl)
	}
	checked(t, db)
}

// MarkRelayedMany records many accepted entries in one commit, each under
// its own peer id and time.
func TestMarkRelayedMany(t *testing.T) {
	var commits atomic.Int64
	db := storetest.OpenWith(t, &store.Options{OnBatch: func(int) { commits.Add(1) }})
	var rs []store.Relayed
	for i := range 3 {
		d, _ := putRoutes(t, db, 110+i, at, viaNational(remote1)...)
		rs = append(rs, store.Relayed{Entry: outboxOf(t, db, d.ID), PeerDocID: "p" + d.ID[:6], At: at.Add(time.Duration(i+1) * time.Minute)})
	}
	before := commits.Load()
	if err := db.MarkRelayedMany(ctx, "national", rs); err != nil {
		t.Fatal(err)
	}
	if n := commits.Load() - before; n != 1 {
		t.Errorf("%d commits for one MarkRelayedMany", n)
	}
	if depth, _ := db.OutboxDepths(ctx); depth["national"] != 0 {
		t.Errorf("outbox depth %d", depth["national"])
	}
	for i, r := range rs {
		dl := delivery(t, db, r.Entry.DocID, remote1)
		if dl.State != store.StateRelayed || dl.PeerDocID != r.PeerDocID || !dl.UpdatedAt.Equal(r.At) || dl.Attempts != 1 {
			t.Errorf("doc %d: %+v", i, dl)
		}
		if got := lastEvents(t, db, r.Entry.DocID, 1); got[0] != "relayed "+remote1+" peer=national peer_doc_id="+r.PeerDocID {
			t.Errorf("doc %d: last event %q", i, got[0])
		}
	}
	checked(t, db)
}

// A failed attempt leaves the entry in the outbox and counts it; a
// permanent one moves it to the peer's dead list and makes its deliveries
// dead; Redrive puts it back at the end of the outbox with a fresh age,
// only for a recipient it carries.
func TestRelayFailedDeadRedrive(t *testing.T) {
	db := storetest.Open(t)
	d, _ := putRoutes(t, db, 120, at, viaNational(remote1, remote2)...)
	other, _ := putRoutes(t, db, 121, at, viaNational(remote1)...)
	e := outboxOf(t, db, d.ID)

	// A retryable failure.
	if err := db.RelayFailed(ctx, "national", e, "timeout", false, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := outboxOf(t, db, d.ID); got.Seq != e.Seq {
		t.Fatalf("entry moved on a retryable failure: %+v", got)
	}
	for _, o := range e.Organs {
		if dl := delivery(t, db, d.ID, o); dl.State != store.StateRelaying || dl.Attempts != 1 || dl.LastError != "timeout" || !dl.UpdatedAt.Equal(at.Add(time.Minute)) {
			t.Errorf("%s after a retryable failure: %+v", o, dl)
		}
	}
	if got := lastEvents(t, db, d.ID, 2); !slices.Equal(got, []string{
		"relay_failed " + remote1 + " peer=national: timeout",
		"relay_failed " + remote2 + " peer=national: timeout",
	}) {
		t.Fatalf("events %q", got)
	}
	if dead, err := db.Dead(ctx, "national"); err != nil || len(dead) != 0 {
		t.Fatalf("dead list %+v %v", dead, err)
	}
	checked(t, db)

	// Given up on.
	if err := db.RelayFailed(ctx, "national", e, "refused: 422", true, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OutboxEntryOf(ctx, "national", d.ID, 100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a dead entry is still in the outbox: %v", err)
	}
	dead, err := db.Dead(ctx, "national")
	if err != nil || len(dead) != 1 || dead[0].Seq != e.Seq || dead[0].DocID != d.ID || !slices.Equal(dead[0].Organs, e.Organs) || !dead[0].Created.Equal(e.Created) {
		t.Fatalf("dead list %+v %v", dead, err)
	}
	for _, o := range e.Organs {
		if dl := delivery(t, db, d.ID, o); dl.State != store.StateDead || dl.Attempts != 2 || dl.LastError != "refused: 422" {
			t.Errorf("%s when dead: %+v", o, dl)
		}
	}
	if got := lastEvents(t, db, d.ID, 2); !slices.Equal(got, []string{
		"dead " + remote1 + " peer=national: gave up: refused: 422",
		"dead " + remote2 + " peer=national: gave up: refused: 422",
	}) {
		t.Fatalf("events %q", got)
	}
	if dl := delivery(t, db, other.ID, remote1); dl.State != store.StateRelaying || dl.Attempts != 0 {
		t.Errorf("the other document's relay changed: %+v", dl)
	}
	checked(t, db)

	// The entry is gone from the outbox: a late failure report changes nothing.
	n := len(events(t, db, d.ID))
	if err := db.RelayFailed(ctx, "national", e, "late", false, at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := len(events(t, db, d.ID)); got != n {
		t.Errorf("a failure of a dead entry added %d events", got-n)
	}

	// Redrive for a recipient the entry does not carry moves nothing.
	if moved, err := db.Redrive(ctx, d.ID, testgen.Department, "", at.Add(4*time.Minute)); err != nil || moved != 0 {
		t.Fatalf("redrive for another recipient: %d %v", moved, err)
	}
	// Redrive for one of its recipients moves the whole entry.
	redriven := at.Add(5 * time.Minute)
	if moved, err := db.Redrive(ctx, d.ID, remote2, "admin:Trần Thị Bình", redriven); err != nil || moved != 1 {
		t.Fatalf("redrive: %d %v", moved, err)
	}
	if dead, _ := db.Dead(ctx, "national"); len(dead) != 0 {
		t.Fatalf("dead list after redrive %+v", dead)
	}
	ne := outboxOf(t, db, d.ID)
	if ne.Seq != 3 || !slices.Equal(ne.Organs, e.Organs) || !ne.Created.Equal(redriven) {
		t.Fatalf("redriven entry %+v, want seq 3 (after the other document's) created %s", ne, redriven)
	}
	ob, _ := db.Outbox(ctx, "national", 0, 10)
	if len(ob) != 2 || ob[0].DocID != other.ID || ob[1].DocID != d.ID {
		t.Fatalf("outbox order %+v", ob)
	}
	for _, o := range e.Organs {
		// Redrive changes the state only: the attempts and the last error
		// stay as the history of the relay.
		if dl := delivery(t, db, d.ID, o); dl.State != store.StateRelaying || dl.Attempts != 2 || dl.LastError != "refused: 422" || !dl.UpdatedAt.Equal(redriven) {
			t.Errorf("%s after redrive: %+v", o, dl)
		}
	}
	if got := lastEvents(t, db, d.ID, 2); !slices.Equal(got, []string{
		"redriven " + remote1 + " peer=national by admin:Trần Thị Bình",
		"redriven " + remote2 + " peer=national by admin:Trần Thị Bình",
	}) {
		t.Fatalf("events %q", got)
	}
	checked(t, db)
	if moved, err := db.Redrive(ctx, d.ID, "", "", at.Add(6*time.Minute)); err != nil || moved != 0 {
		t.Fatalf("second redrive: %d %v", moved, err)
	}
	checked(t, db)
}
