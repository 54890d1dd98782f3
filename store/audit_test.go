package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

// AuditDay reads the day's documents with their deliveries and finds
// nothing on a sound store; after the file is damaged it names each
// finding: bytes that no longer hash to the record, a recipient without
// its delivery, a queue entry that points at nothing.
func TestAuditDay(t *testing.T) {
	fs := openFileStore(t)
	x := searchFixture(t, fs.DB) // e and f today, two on each of the two days before
	today := store.Day(at)
	a, err := fs.AuditDay(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ad := range a.Docs {
		if len(ad.Deliveries) != 1 || ad.Deliveries[0].DocID != ad.Doc.ID || ad.Deliveries[0].State != store.StateQueued {
			t.Errorf("%s: deliveries %+v", ad.Doc.ID, ad.Deliveries)
		}
		got = append(got, ad.Doc.ID)
	}
	if !slices.Equal(got, []string{x["e"], x["f"]}) || a.Day != today {
		t.Fatalf("audit of %s: docs %v, want e and f", a.Day, got)
	}
	if len(a.HashMismatch)+len(a.MissingDelivery)+len(a.DanglingQueue) != 0 {
		t.Fatalf("findings on a sound store: %+v", a)
	}
	// Six documents of three events each (received, verified, queued).
	if !a.Chain.OK() || a.Chain.Events != 18 || a.Chain.Head == "" {
		t.Fatalf("chain %+v", a.Chain)
	}
	if other, err := fs.AuditDay(ctx, store.Day(at.Add(-48*time.Hour))); err != nil || len(other.Docs) != 2 {
		t.Fatalf("day1: %+v %v", other, err)
	}
	checked(t, fs.DB)

	e, err := fs.Document(ctx, x["e"])
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Document(ctx, x["f"])
	if err != nil {
		t.Fatal(err)
	}
	fs.edit(func(tx kv.Tx) error {
		// e's first chunk altered, same length.
		k := blobChunks(tx, e)[0]
		v := bytes.Clone(tx.Bucket([]byte("blobs")).Get(k))
		v[10] ^= 0x20
		if err := tx.Bucket([]byte("blobs")).Put(k, v); err != nil {
			return err
		}
		// f's delivery lost.
		if err := tx.Bucket([]byte("deliveries")).Delete([]byte(f.ID + "\x00" + testgen.Commune)); err != nil {
			return err
		}
		// A queue entry for a document that is not there.
		return tx.Bucket([]byte("queues")).Bucket([]byte(testgen.Department)).Put([]byte{0, 0, 0, 0, 0, 0, 0, 99}, []byte("0123456789abcdef0123456789abcdef"))
	})
	a, err = fs.AuditDay(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.HashMismatch) != 1 || a.HashMismatch[0].DocID != e.ID ||
		!strings.HasPrefix(a.HashMismatch[0].Detail, "stored bytes hash to ") || !strings.HasSuffix(a.HashMismatch[0].Detail, ", recorded "+e.SHA256) {
		t.Errorf("hash mismatch %+v", a.HashMismatch)
	}
	if want := (store.AuditRef{DocID: f.ID, OrganID: testgen.Commune, Detail: "no delivery record for a recipient"}); len(a.MissingDelivery) != 1 || a.MissingDelivery[0] != want {
		t.Errorf("missing delivery %+v", a.MissingDelivery)
	}
	if want := (store.AuditRef{DocID: "0123456789abcdef0123456789abcdef", OrganID: testgen.Department, Detail: "queue entry 99 points at no stored envelope"}); len(a.DanglingQueue) != 1 || a.DanglingQueue[0] != want {
		t.Errorf("dangling queue %+v", a.DanglingQueue)
	}
	if len(a.Docs) != 2 || len(a.Docs[1].Deliveries) != 0 {
		t.Errorf("docs %+v", a.Docs)
	}
	if !a.Chain.OK() {
		t.Errorf("chain %+v", a.Chain)
	}
	// Check, which the audit backs, sees the same damage.
	if err := fs.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check on a damaged store: %v", err)
	}
}

// Requeue puts relayed deliveries back in the peer's outbox (the peer lost
// the document): a new entry for the organs named, their deliveries back to
// relaying without the peer's id, the others untouched.
func TestRequeue(t *testing.T) {
	db := storetest.Open(t)
	d, _ := putRoutes(t, db, 300, at, viaNational(remote1, remote2)...)
	if err := db.MarkRelayed(ctx, "national", outboxOf(t, db, d.ID), "p300", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	when := at.Add(24 * time.Hour)
	if err := db.Requeue(ctx, d.ID, "national", []string{remote1}, "not found at the peer", "", when); err != nil {
		t.Fatal(err)
	}
	e := outboxOf(t, db, d.ID)
	if e.Seq != 2 || !slices.Equal(e.Organs, []string{remote1}) || !e.Created.Equal(when) {
		t.Fatalf("requeued entry %+v", e)
	}
	if dl := delivery(t, db, d.ID, remote1); dl.State != store.StateRelaying || dl.PeerDocID != "" || !dl.UpdatedAt.Equal(when) || dl.Attempts != 1 {
		t.Errorf("requeued delivery %+v", dl)
	}
	if dl := delivery(t, db, d.ID, remote2); dl.State != store.StateRelayed || dl.PeerDocID != "p300" {
		t.Errorf("the other delivery changed: %+v", dl)
	}
	if got := lastEvents(t, db, d.ID, 1); got[0] != "requeued "+remote1+" peer=national: not found at the peer" {
		t.Fatalf("event %q", got)
	}
	checked(t, db)
	// Relayed again, it is relayed under the new id.
	if err := db.MarkRelayed(ctx, "national", e, "p300b", when.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if dl := delivery(t, db, d.ID, remote1); dl.State != store.StateRelayed || dl.PeerDocID != "p300b" || dl.Attempts != 2 {
		t.Errorf("relayed again: %+v", dl)
	}
	checked(t, db)

	if err := db.Requeue(ctx, "0123456789abcdef0123456789abcdef", "national", []string{remote1}, "x", "", when); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("requeue of an unknown document: %v", err)
	}
	checked(t, db)
}

// RestoreBlob repairs altered or lost bytes from a good copy (which must
// hash to the record) and says so on the trace; any other copy is refused
// and changes nothing.
func TestRestoreBlob(t *testing.T) {
	fs := openFileStore(t)
	small, vs := putRoutes(t, fs.DB, 400, at, local(testgen.Department)...)
	m := numbered(401)
	m.Attachments = append(m.Attachments, envelopeAttachment(3*1984+100))
	vl := fixture.Verified(t, m)
	large, _, err := fs.PutEnvelope(ctx, vl, local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
	fs.edit(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("blobs"))
		k := blobChunks(tx, small)[0]
		v := bytes.Clone(b.Get(k))
		v[0] = 'X'
		if err := b.Put(k, v); err != nil {
			return err
		}
		chunks := blobChunks(tx, large)
		return b.Delete(chunks[len(chunks)-1]) // the tail lost
	})
	if err := fs.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check after the damage: %v", err)
	}
	if _, err := fs.Blob(ctx, large.ID); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("blob with its tail lost: %v", err)
	}

	// A copy that is not the recorded envelope.
	n := len(events(t, fs.DB, small.ID))
	for name, bad := range map[string][]byte{
		"other bytes":      vl.Raw(),
		"same length":      append([]byte{'Y'}, vs.Raw()[1:]...),
		"empty":            nil,
		"one byte shorter": vs.Raw()[:len(vs.Raw())-1],
	} {
		if err := fs.RestoreBlob(ctx, small.ID, bad, "national", "", at); !errors.Is(err, store.ErrConflict) ||
			err.Error() != "store: state conflict: the copy from national is not the recorded envelope" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := len(events(t, fs.DB, small.ID)); got != n {
		t.Errorf("refused copies added %d events", got-n)
	}
	if raw, _ := fs.Blob(ctx, small.ID); raw[0] != 'X' {
		t.Errorf("a refused copy changed the stored bytes")
	}
	if err := fs.RestoreBlob(ctx, "0123456789abcdef0123456789abcdef", vs.Raw(), "national", "", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore of an unknown document: %v", err)
	}

	// The good copies.
	when := at.Add(time.Hour)
	for _, c := range []struct {
		d   *record.Document
		raw []byte
	}{{small, vs.Raw()}, {large, vl.Raw()}} {
		if err := fs.RestoreBlob(ctx, c.d.ID, c.raw, "national", "", when); err != nil {
			t.Fatal(err)
		}
		raw, err := fs.Blob(ctx, c.d.ID)
		if err != nil || !bytes.Equal(raw, c.raw) {
			t.Fatalf("restored bytes differ: %v", err)
		}
		want := fmt.Sprintf("restored %s stored bytes did not hash to sha256=%s; restored from national", testgen.Commune, c.d.SHA256)
		if got := lastEvents(t, fs.DB, c.d.ID, 1); got[0] != want {
			t.Errorf("event %q, want %q", got[0], want)
		}
	}
	if a, err := fs.AuditDay(ctx, store.Day(at)); err != nil || len(a.HashMismatch) != 0 {
		t.Fatalf("audit after the repair: %+v %v", a, err)
	}
	checked(t, fs.DB)
}

// Have says which ids are stored and through which peer each came;
// ReceivedVia lists a day's documents that came through one.
func TestHaveAndReceivedVia(t *testing.T) {
	db := storetest.Open(t)
	mine, _ := putRoutes(t, db, 500, at, local(testgen.Department)...)
	v := fixture.Verified(t, numbered(501))
	theirs, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, "national")
	if err != nil {
		t.Fatal(err)
	}
	unknown := "0123456789abcdef0123456789abcdef"
	have, err := db.Have(ctx, []string{mine.ID, theirs.ID, unknown})
	if err != nil || len(have) != 2 || have[mine.ID] != "" || have[theirs.ID] != "national" {
		t.Fatalf("have %v %v", have, err)
	}
	if _, ok := have[unknown]; ok {
		t.Fatal("an unknown id is had")
	}
	for peer, want := range map[string][]string{"national": {theirs.ID}, "": {mine.ID}, "h41": nil} {
		got, err := db.ReceivedVia(ctx, store.Day(at), peer)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("received via %q: %v %v, want %v", peer, got, err, want)
		}
	}
	if got, _ := db.ReceivedVia(ctx, store.Day(at.Add(-24*time.Hour)), "national"); len(got) != 0 {
		t.Errorf("another day: %v", got)
	}
	checked(t, db)
}
