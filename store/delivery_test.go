package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestPutFetchAck(t *testing.T) {
	db := storetest.Open(t)
	doc, v := put(t, db, testgen.NewDocument(), at, local(testgen.Department)...)
	if doc.ID != store.DocIDFor(v.SHA256()) || doc.Code != "15/UBND-VP" || doc.From != testgen.Commune || doc.Seq != 1 {
		t.Fatalf("%+v", doc)
	}
	raw, err := db.Blob(ctx, doc.ID)
	if err != nil || !bytes.Equal(raw, v.Raw()) {
		t.Fatal("stored bytes differ", err)
	}
	items, more, err := db.Inbox(ctx, testgen.Department, 0, 10)
	if err != nil || more || len(items) != 1 || items[0].Doc.ID != doc.ID {
		t.Fatalf("inbox %v %v %v", items, more, err)
	}
	if items, _, _ := db.Inbox(ctx, testgen.District, 0, 10); len(items) != 0 {
		t.Fatal("another agency's inbox has it")
	}
	dl, err := db.MarkFetched(ctx, doc.ID, testgen.Department, at.Add(time.Minute))
	if err != nil || dl.State != store.StateDelivered {
		t.Fatal(dl, err)
	}
	if _, err := db.MarkFetched(ctx, doc.ID, testgen.District, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fetch by non-recipient: %v", err)
	}
	dl, err = db.Ack(ctx, doc.ID, testgen.Department, true, "", at.Add(2*time.Minute))
	if err != nil || dl.State != store.StateAckedDone {
		t.Fatal(dl, err)
	}
	if _, err := db.Ack(ctx, doc.ID, testgen.Department, true, "", at); err != nil {
		t.Fatalf("same ack again: %v", err)
	}
	if _, err := db.Ack(ctx, doc.ID, testgen.Department, false, "x", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("opposite ack: %v", err)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 0 {
		t.Fatal("acked entry still in the inbox")
	}
	evs, err := db.Events(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if fmt.Sprint(types) != "[received verified queued fetched acked]" {
		t.Fatalf("events %v", types)
	}
}

func TestInboxPaging(t *testing.T) {
	db := storetest.Open(t)
	var ids []string
	for i := 0; i < 7; i++ {
		d, _ := putRoutes(t, db, 100+i, at.Add(time.Duration(i)*time.Second), local(testgen.Department)...)
		ids = append(ids, d.ID)
	}
	var got []string
	var after uint64
	pages := 0
	for {
		items, more, err := db.Inbox(ctx, testgen.Department, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range items {
			got = append(got, it.Doc.ID)
			after = it.Seq
		}
		if !more {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) || pages != 3 {
		t.Fatalf("paging: %d pages, %v", pages, got)
	}
}

// A push worker lists the queued deliveries, counts a failed push, and a
// successful one makes the delivery delivered (it stays in the queue until
// acked). A push of a delivery no longer queued changes nothing.
func TestPushResult(t *testing.T) {
	db := storetest.Open(t)
	d, _ := putRoutes(t, db, 200, at, local(testgen.Department, testgen.District)...)
	queued, err := db.Queued(ctx, testgen.Department, 0, 10)
	if err != nil || len(queued) != 1 || queued[0].Seq != 1 || queued[0].Doc.ID != d.ID {
		t.Fatalf("queued %+v %v", queued, err)
	}

	if err := db.PushResult(ctx, d.ID, testgen.Department, false, "connection refused", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	dl := delivery(t, db, d.ID, testgen.Department)
	if dl.State != store.StateQueued || dl.Attempts != 1 || dl.LastError != "connection refused" || !dl.UpdatedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("after a failed push: %+v", dl)
	}
	if got := lastEvents(t, db, d.ID, 1); got[0] != "push_failed "+testgen.Department+" attempt 1: connection refused" {
		t.Fatalf("event %q", got)
	}
	if q, _ := db.Queued(ctx, testgen.Department, 0, 10); len(q) != 1 {
		t.Fatalf("a failed push left the push list: %+v", q)
	}
	checked(t, db)

	if err := db.PushResult(ctx, d.ID, testgen.Department, true, "", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	dl = delivery(t, db, d.ID, testgen.Department)
	if dl.State != store.StateDelivered || dl.Attempts != 2 || dl.LastError != "" || !dl.UpdatedAt.Equal(at.Add(2*time.Minute)) {
		t.Fatalf("after a push: %+v", dl)
	}
	if got := lastEvents(t, db, d.ID, 1); got[0] != "pushed "+testgen.Department+" attempt 2" {
		t.Fatalf("event %q", got)
	}
	if q, _ := db.Queued(ctx, testgen.Department, 0, 10); len(q) != 0 {
		t.Fatalf("pushed, still in the push list: %+v", q)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 1 || items[0].Doc.ID != d.ID {
		t.Fatalf("pushed, not acked: the inbox still holds it: %+v", items)
	}
	if dl := delivery(t, db, d.ID, testgen.District); dl.State != store.StateQueued || dl.Attempts != 0 {
		t.Errorf("the other recipient's delivery changed: %+v", dl)
	}
	checked(t, db)

	// Pushed again, fetched by pull meanwhile, or not a recipient: nothing.
	n := len(events(t, db, d.ID))
	if _, err := db.MarkFetched(ctx, d.ID, testgen.District, at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, organ := range []string{testgen.Department, testgen.District, testgen.Province} {
		if err := db.PushResult(ctx, d.ID, organ, true, "", at.Add(4*time.Minute)); err != nil {
			t.Fatalf("%s: %v", organ, err)
		}
	}
	if got := lastEvents(t, db, d.ID, 2); len(events(t, db, d.ID)) != n+1 || !slices.Equal(got, []string{
		"pushed " + testgen.Department + " attempt 2",
		"fetched " + testgen.District + " pull",
	}) {
		t.Fatalf("events after pushes that do not apply: %q", got)
	}
	if dl := delivery(t, db, d.ID, testgen.District); dl.State != store.StateDelivered || dl.Attempts != 0 {
		t.Errorf("a push after the pull changed the delivery: %+v", dl)
	}
	checked(t, db)
}

// Queued pages with the queue's cursor and skips what was fetched.
func TestQueuedPaging(t *testing.T) {
	db := storetest.Open(t)
	var ids []string
	for i := range 5 {
		d, _ := putRoutes(t, db, 210+i, at, local(testgen.Department)...)
		ids = append(ids, d.ID)
	}
	if _, err := db.MarkFetched(ctx, ids[1], testgen.Department, at); err != nil {
		t.Fatal(err)
	}
	var got []string
	var after uint64
	for {
		page, err := db.Queued(ctx, testgen.Department, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, it := range page {
			got = append(got, it.Doc.ID)
			after = it.Seq
		}
	}
	if want := []string{ids[0], ids[2], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Fatalf("queued %v, want %v", got, want)
	}
}
