package store_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/storetest"
)

func TestDuplicateStoresNothing(t *testing.T) {
	db := storetest.Open(t)
	d1, v := put(t, db, testgen.NewDocument(), at, local(testgen.Department)...)
	d2, created, err := db.PutEnvelope(ctx, v, local(testgen.Department), at.Add(time.Hour), "")
	if err != nil || created || d2.ID != d1.ID || !d2.ReceivedAt.Equal(d1.ReceivedAt) {
		t.Fatalf("duplicate: %+v created=%v %v", d2, created, err)
	}
	if n, _ := db.Count(ctx); n != 1 {
		t.Fatalf("%d documents", n)
	}
	if items, _, _ := db.Inbox(ctx, testgen.Department, 0, 10); len(items) != 1 {
		t.Fatalf("%d inbox entries", len(items))
	}
}

func TestFanOutStoresBytesOnce(t *testing.T) {
	db := storetest.Open(t)
	organs := agencies(240)
	doc, v := putFromProvince(t, db, 15, organs)
	for _, o := range organs {
		items, _, err := db.Inbox(ctx, o, 0, 10)
		if err != nil || len(items) != 1 || items[0].Doc.ID != doc.ID {
			t.Fatalf("%s inbox: %v %v", o, items, err)
		}
	}
	dls, err := db.Deliveries(ctx, doc.ID)
	if err != nil || len(dls) != 240 {
		t.Fatal(len(dls), err)
	}
	// The bytes are stored once: the blobs bucket holds one document's chunks.
	docs := map[string]bool{}
	var blobBytes int
	cp := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(cp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	viewFile(t, cp, func(tx kv.Tx) error {
		return tx.Bucket([]byte("blobs")).ForEach(func(k, v []byte) error {
			docs[string(k[:8])] = true
			blobBytes += len(v)
			return nil
		})
	})
	if len(docs) != 1 || blobBytes != len(v.Raw()) {
		t.Fatalf("%d blobs, %d bytes; want 1 of %d", len(docs), blobBytes, len(v.Raw()))
	}
}

func TestStatusLinksToOriginal(t *testing.T) {
	db := storetest.Open(t)
	doc, _ := put(t, db, testgen.NewDocument(), at, local(testgen.Department)...)
	st, _ := put(t, db, testgen.Status("03", "accepted"), at.Add(time.Hour), local(testgen.Commune)...)
	if st.RespondsTo != doc.ID || st.Kind != "status" {
		t.Fatalf("status record %+v", st)
	}
	dl, err := db.Delivery(ctx, doc.ID, testgen.Department)
	if err != nil || dl.StatusCode != "03" || !dl.StatusAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("delivery %+v %v", dl, err)
	}
	evs, _ := db.Events(ctx, doc.ID)
	if last := evs[len(evs)-1]; last.Type != store.EventStatus || last.OrganID != testgen.Department {
		t.Fatalf("last event %+v", last)
	}
}
