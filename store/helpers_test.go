package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

var (
	ctx = context.Background()
	at  = time.Date(2026, 6, 1, 2, 30, 0, 0, time.UTC) // 09:30 in Hà Nội
)

func local(organs ...string) []record.Route {
	var r []record.Route
	for _, o := range organs {
		r = append(r, record.Route{OrganID: o})
	}
	return r
}

// heldVerified signs m and verifies it in revocation mode hold with a
// checker that has no source at all: every certificate of the chain is
// "unknown", as when the CA's responders are down.
func heldVerified(t *testing.T, m *envelope.Message) *envelope.Verified {
	t.Helper()
	roots, err := envelope.LoadRoots(fixture.RootCA)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return demopki.TestNow }
	v, err := envelope.NewVerifier(envelope.Policy{Roots: roots, Now: now, RevocationMode: envelope.RevocationHold,
		Revocation: envelope.NewRevocationChecker(envelope.RevocationOptions{Now: now})})
	if err != nil {
		t.Fatal(err)
	}
	vd, err := v.Verify(fixture.Sign(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if vd.Revocation().Status() != envelope.StatusUnknown {
		t.Fatalf("revocation %+v, want unknown", vd.Revocation())
	}
	return vd
}

// searchFixture stores six documents over three days.
func searchFixture(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ids := map[string]string{}
	put := func(name, from, to, number, subject string, when time.Time) {
		m := testgen.NewDocument()
		m.From = envelope.Organization{OrganID: from}
		m.To = []envelope.Organization{{OrganID: to}}
		m.Code.CodeNumber = number
		m.DocumentID = from + ",2026/05/28," + number + "/UBND-VP"
		m.Subject = subject
		d, _, err := db.PutEnvelope(ctx, fixture.Verified(t, m), local(to), when, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = d.ID
	}
	day1 := at.Add(-48 * time.Hour)
	day2 := at.Add(-24 * time.Hour)
	put("a", testgen.Commune, testgen.Department, "15", "Công văn về việc báo cáo chuyển đổi số", day1)
	put("b", testgen.Commune, testgen.District, "16", "Kế hoạch phòng chống lụt bão", day1)
	put("c", testgen.District, testgen.Department, "15", "Công văn đôn đốc nộp báo cáo", day2)
	put("d", testgen.Commune, testgen.Department, "17", "Giấy mời họp", day2)
	put("e", testgen.Commune, testgen.Department, "18", "CONG VAN khong dau", at)
	put("f", testgen.Department, testgen.Commune, "19", "Thông báo kết luận", at)
	return ids
}

func ids(r *record.SearchResult) []string {
	var out []string
	for _, d := range r.Docs {
		out = append(out, d.ID)
	}
	return out
}

// Remote organs, reached through the peer "national".
const (
	remote1 = "000.00.00.G22"
	remote2 = "000.00.00.G23"
)

// checked fails the test unless db passes the full consistency check now
// (storetest.Open runs it again at cleanup).
func checked(t *testing.T, db *store.DB) {
	t.Helper()
	if err := db.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
}

// numbered is the base sample with its own notation and DocumentId, so
// that every number is a different envelope.
func numbered(n int) *envelope.Message {
	m := testgen.NewDocument()
	m.Code.CodeNumber = fmt.Sprint(n)
	m.DocumentID = fmt.Sprintf("%s,2026/05/28,%d/UBND-VP", testgen.Commune, n)
	return m
}

// putRoutes stores envelope number n from the commune with these routes
// (its header addressed to the same organs) at when.
func putRoutes(t *testing.T, db *store.DB, n int, when time.Time, routes ...record.Route) (*record.Document, *envelope.Verified) {
	t.Helper()
	m := numbered(n)
	m.To = nil
	for _, r := range routes {
		m.To = append(m.To, envelope.Organization{OrganID: r.OrganID})
	}
	v := fixture.Verified(t, m)
	d, created, err := db.PutEnvelope(ctx, v, routes, when, "")
	if err != nil || !created {
		t.Fatalf("PutEnvelope %d: %v created=%v", n, err, created)
	}
	return d, v
}

// viaNational routes organs through the peer "national".
func viaNational(organs ...string) []record.Route {
	var r []record.Route
	for _, o := range organs {
		r = append(r, record.Route{OrganID: o, Peer: "national"})
	}
	return r
}

// outboxOf is the only entry of doc id in national's outbox.
func outboxOf(t *testing.T, db *store.DB, id string) record.OutboxEntry {
	t.Helper()
	e, err := db.OutboxEntryOf(ctx, "national", id, 100)
	if err != nil {
		t.Fatalf("outbox entry of %s: %v", id, err)
	}
	return *e
}

// delivery reads one delivery or fails.
func delivery(t *testing.T, db *store.DB, id, organ string) *record.Delivery {
	t.Helper()
	dl, err := db.Delivery(ctx, id, organ)
	if err != nil {
		t.Fatalf("delivery %s/%s: %v", id, organ, err)
	}
	return dl
}

// events reads a document's trace or fails.
func events(t *testing.T, db *store.DB, id string) []record.Event {
	t.Helper()
	evs, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// eventLine is how the tests compare events: type, organ, detail.
func eventLine(e record.Event) string { return e.Type + " " + e.OrganID + " " + e.Detail }

// lastEvents is the last n events of a document's trace, as eventLines.
func lastEvents(t *testing.T, db *store.DB, id string, n int) []string {
	t.Helper()
	evs := events(t, db, id)
	if len(evs) < n {
		t.Fatalf("%d events, want at least %d", len(evs), n)
	}
	var out []string
	for _, e := range evs[len(evs)-n:] {
		out = append(out, eventLine(e))
	}
	return out
}

// fileStore is a store whose file a test edits behind its back, as an
// administrator with the file (or a failing disk) could: edit closes the
// store, changes the file with bbolt and opens it again. At cleanup the
// store is closed, not checked (such a test usually means to damage it).
type fileStore struct {
	*store.DB
	t *testing.T
}

func openFileStore(t *testing.T) *fileStore {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "axis.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := &fileStore{DB: db, t: t}
	t.Cleanup(func() {
		if err := fs.Close(); err != nil {
			t.Error(err)
		}
	})
	return fs
}

func (fs *fileStore) edit(fn func(tx *bolt.Tx) error) {
	fs.t.Helper()
	path := fs.Path()
	if err := fs.Close(); err != nil {
		fs.t.Fatal(err)
	}
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		fs.t.Fatal(err)
	}
	err = b.Update(fn)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fs.t.Fatal(err)
	}
	if fs.DB, err = store.Open(path, nil); err != nil {
		fs.t.Fatal(err)
	}
}

// blobChunks are the keys of a document's chunks in the blobs bucket.
func blobChunks(tx *bolt.Tx, d *record.Document) [][]byte {
	var out [][]byte
	prefix := binary.BigEndian.AppendUint64(nil, d.Seq)
	c := tx.Bucket([]byte("blobs")).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, bytes.Clone(k))
	}
	return out
}

// envelopeAttachment is an attachment of size bytes of content.
func envelopeAttachment(size int) *envelope.Attachment {
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(i * 7)
	}
	return envelope.NewAttachment("cid:2", "x.zip", "application/zip", content)
}
