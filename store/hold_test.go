package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

// putHeldNumbered holds envelope number n (revocation status unknown) for
// these routes at when.
func putHeldNumbered(t *testing.T, db *store.DB, n int, when time.Time, routes ...record.Route) *record.Document {
	t.Helper()
	d, created, err := db.PutHeld(ctx, heldVerified(t, addressed(n, routes)), routes, when, "")
	if err != nil || !created || d.State != store.StateHeld {
		t.Fatalf("PutHeld %d: %+v %v created=%v", n, d, err, created)
	}
	return d
}

// A held document is stored but routed nowhere until released; released,
// it is routed as its intake would have been, once.
func TestHoldRelease(t *testing.T) {
	db := storetest.Open(t)
	routes := append(local(testgen.Department), viaNational(remote1)...)
	d := putHeldNumbered(t, db, 1000, at, routes...)
	if d.State != store.StateHeld || len(d.Recipients) != 0 || !slices.Equal(d.Pending, routes) || d.Revocation == nil {
		t.Fatalf("held record %+v", d)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 0 {
		t.Fatalf("a held document is in an inbox: %+v", items)
	}
	if ob, _ := db.Outbox(ctx, "national", 0, 10); len(ob) != 0 {
		t.Fatalf("a held document is in an outbox: %+v", ob)
	}
	if dls, err := db.Deliveries(ctx, d.ID); err != nil || len(dls) != 0 {
		t.Fatalf("deliveries of a held document: %+v %v", dls, err)
	}
	held, err := db.Held(ctx, 0)
	if err != nil || len(held) != 1 || held[0].Doc.ID != d.ID || !held[0].Since.Equal(at) {
		t.Fatalf("held list %+v %v", held, err)
	}
	checked(t, db)

	when := at.Add(time.Hour)
	r, err := db.Release(ctx, d.ID, nil, when)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "" || len(r.Pending) != 0 || !slices.Equal(r.Recipients, routes) || !r.DecidedAt.Equal(when) {
		t.Fatalf("released record %+v", r)
	}
	if stored, _ := db.Document(ctx, d.ID); stored.State != "" || !slices.Equal(stored.Recipients, routes) {
		t.Fatalf("stored record %+v", stored)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 1 || items[0].Doc.ID != d.ID {
		t.Fatalf("inbox after release %+v", items)
	}
	if e := outboxOf(t, db, d.ID); !slices.Equal(e.Organs, []string{remote1}) || !e.Created.Equal(when) {
		t.Fatalf("outbox after release %+v", e)
	}
	var types []string
	for _, e := range events(t, db, d.ID) {
		types = append(types, e.Type)
	}
	if want := []string{"received", "verified", "held", "released", "queued", "outboxed"}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if n, _ := db.HeldCount(ctx); n != 0 {
		t.Fatalf("held count %d", n)
	}
	checked(t, db)

	if _, err := db.Release(ctx, d.ID, nil, when); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second release: %v", err)
	}
	if _, err := db.Refuse(ctx, d.ID, "revoked", "x", nil, when, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("refusal after release: %v", err)
	}
	checked(t, db)
}

// A refused document is kept, with why, and routed nowhere; the hub's
// notice to its sender is stored and queued in the same commit.
func TestHoldRefuse(t *testing.T) {
	db := storetest.Open(t)
	d := putHeldNumbered(t, db, 1010, at, local(testgen.Department)...)
	nm := &envelope.Message{Kind: envelope.KindStatus, From: envelope.Organization{OrganID: testgen.Province},
		ResponseFor: []envelope.ResponseFor{{OrganID: d.From, Code: d.Code, DocumentID: d.DocumentID}},
		StatusCode:  "02", Description: "refused", Timestamp: "2026/06/01 10:30:00"}
	raw, err := envelope.Encode(nm)
	if err != nil {
		t.Fatal(err)
	}
	when := at.Add(time.Hour)
	r, err := db.Refuse(ctx, d.ID, "revoked", "the signer's certificate is revoked", nil, when, &store.Notice{Raw: raw, Message: nm, Route: record.Route{OrganID: testgen.Commune}})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != store.StateRefused || r.RefusedCode != "revoked" || r.RefusedDetail != "the signer's certificate is revoked" || len(r.Recipients) != 0 || !r.DecidedAt.Equal(when) {
		t.Fatalf("refused record %+v", r)
	}
	items, _, err := db.Inbox(ctx, testgen.Commune, 0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("the sender's inbox %+v %v", items, err)
	}
	n := items[0].Doc
	if n.Kind != "status" || n.StatusCode != "02" || n.RespondsTo != d.ID || n.Signer != "hub" || n.From != testgen.Province {
		t.Fatalf("notice %+v", n)
	}
	// The refusal, then the notice answering it, on the refused document's trace.
	if got := lastEvents(t, db, d.ID, 2); !slices.Equal(got, []string{
		"refused " + testgen.Commune + " revoked: the signer's certificate is revoked",
		"status " + testgen.Province + " status=02 (refused) message=" + n.ID,
	}) {
		t.Fatalf("events %q", got)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 0 {
		t.Fatalf("a refused document is in an inbox: %+v", items)
	}
	if got, _ := db.Blob(ctx, n.ID); string(got) != string(raw) {
		t.Fatal("the notice's bytes differ")
	}
	if c, _ := db.HeldCount(ctx); c != 0 {
		t.Fatalf("held count %d", c)
	}
	checked(t, db)
	if _, err := db.Release(ctx, d.ID, nil, when); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("release after refusal: %v", err)
	}
}
