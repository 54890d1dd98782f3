package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

var (
	ctx = context.Background()
	at  = time.Date(2026, 6, 1, 2, 30, 0, 0, time.UTC) // 09:30 in Hà Nội
)

func local(organs ...string) []store.Route {
	var r []store.Route
	for _, o := range organs {
		r = append(r, store.Route{OrganID: o})
	}
	return r
}

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

func TestDuplicateStoresNothing(t *testing.T) {
	db := storetest.Open(t)
	v := fixture.Verified(t, testgen.NewDocument())
	d1, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
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
	m := testgen.NewDocument()
	m.From = testgen.Organ(testgen.Province)
	var organs []string
	for i := 1; i <= 240; i++ {
		o := fmt.Sprintf("000.%02d.%02d.H40", i%90, 20+i/90)
		organs = append(organs, o)
		m.To = append(m.To, envelope.Organization{OrganID: o})
	}
	v := fixture.Verified(t, m)
	doc, _, err := db.PutEnvelope(ctx, v, local(organs...), at, "")
	if err != nil {
		t.Fatal(err)
	}
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
	f, _ := os.Create(cp)
	if _, err := db.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	bdb, err := bolt.Open(cp, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	bdb.View(func(tx *bolt.Tx) error {
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

func TestStatusLinksToOriginal(t *testing.T) {
	db := storetest.Open(t)
	doc, _, err := db.PutEnvelope(ctx, fixture.Verified(t, testgen.NewDocument()), local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := db.PutEnvelope(ctx, fixture.Verified(t, testgen.Status("03", "accepted")), local(testgen.Commune), at.Add(time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
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

func TestConcurrentIntakeShareCommits(t *testing.T) {
	var mu sync.Mutex
	var batches, total int
	db, err := store.Open(filepath.Join(t.TempDir(), "axis.db"), &store.Options{
		MaxBatchDelay: 20 * time.Millisecond,
		OnBatch: func(n int) {
			mu.Lock()
			batches++
			total += n
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 32
	vs := make([]*envelope.Verified, n)
	for i := range vs {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprint(1000 + i)
		vs[i] = fixture.Verified(t, m)
	}
	var wg sync.WaitGroup
	for _, v := range vs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c, _ := db.Count(ctx); c != n {
		t.Fatalf("%d stored", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if total != n || batches >= n {
		t.Fatalf("%d intakes in %d commits: no commit was shared", total, batches)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestChainDetectsEdits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "axis.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.PutEnvelope(ctx, fixture.Verified(t, testgen.NewDocument()), local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.VerifyChain(ctx)
	if err != nil || !r.OK() || r.Events != 3 {
		t.Fatalf("%+v %v", r, err)
	}
	db.Close()

	// An administrator with the file edits event 2's detail.
	bdb, _ := bolt.Open(path, 0o600, nil)
	bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := bytes.Replace(b.Get(k), []byte("signer="), []byte("signer=forged "), 1)
		return b.Put(k, v)
	})
	bdb.Close()
	db, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err = db.VerifyChain(ctx)
	if err != nil || r.OK() || r.BrokenAt != 2 {
		t.Fatalf("edited chain: %+v %v", r, err)
	}
	if err := db.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check: %v", err)
	}
	if _, err := db.Events(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
}

func TestBackupRestore(t *testing.T) {
	db := storetest.Open(t)
	doc, _, err := db.PutEnvelope(ctx, fixture.Verified(t, testgen.NewDocument()), local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(cp, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Document(ctx, doc.ID)
	if err != nil || got.SHA256 != doc.SHA256 {
		t.Fatal(got, err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDay(t *testing.T) {
	// 17:30 UTC on 31 May is 00:30 on 1 June in Hà Nội.
	if d := store.Day(time.Date(2026, 5, 31, 17, 30, 0, 0, time.UTC)); d != "2026-06-01" {
		t.Fatal(d)
	}
}

func TestLargeEnvelopeInChunks(t *testing.T) {
	db := storetest.Open(t)
	var ids []string
	var raws [][]byte
	for i, size := range []int{0, 1984 * 3, 2 << 20} { // empty, a chunk multiple of base64 text, 2 MB
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprint(500 + i)
		content := make([]byte, size)
		for j := range content {
			content[j] = byte(j * 13)
		}
		m.Attachments = append(m.Attachments, envelope.NewAttachment("cid:2", "x.zip", "application/zip", content))
		v := fixture.Verified(t, m)
		d, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, "")
		if err != nil {
			t.Fatal(err)
		}
		ids, raws = append(ids, d.ID), append(raws, v.Raw())
	}
	for i, id := range ids {
		got, err := db.Blob(ctx, id)
		if err != nil || !bytes.Equal(got, raws[i]) {
			t.Fatalf("envelope %d (%d bytes): round trip differs: %v", i, len(raws[i]), err)
		}
	}
}
