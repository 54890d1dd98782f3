package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestPutFetchAck(t *testing.T) {
	db := storetest.Open(t)
	v := fixture.Verified(t, testgen.NewDocument())
	doc, created, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, "")
	if err != nil || !created {
		t.Fatal(err, created)
	}
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
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprint(100 + i)
		d, _, err := db.PutEnvelope(ctx, fixture.Verified(t, m), local(testgen.Department), at.Add(time.Duration(i)*time.Second), "")
		if err != nil {
			t.Fatal(err)
		}
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
