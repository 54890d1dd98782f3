package store_test

import (
	"errors"
	"testing"
	"time"

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
