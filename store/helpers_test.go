package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/kv/pgkv"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

var (
	ctx = context.Background()
	at  = time.Date(2026, 6, 1, 2, 30, 0, 0, time.UTC) // 09:30 in Hà Nội
	// The two days before at's, in searchFixture and the tests that read it.
	day1, day2 = at.Add(-48 * time.Hour), at.Add(-24 * time.Hour)
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
	v := fixture.VerifierWith(t, func(p *envelope.Policy) {
		p.RevocationMode = envelope.RevocationHold
		p.Revocation = envelope.NewRevocationChecker(envelope.RevocationOptions{Now: fixture.Now})
	})
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
	add := func(name, from, to, number, subject string, when time.Time) {
		m := testgen.NewDocument()
		m.From = envelope.Organization{OrganID: from}
		m.To = []envelope.Organization{{OrganID: to}}
		m.Code.CodeNumber = number
		m.DocumentID = from + ",2026/05/28," + number + "/UBND-VP"
		m.Subject = subject
		d, _ := put(t, db, m, when, local(to)...)
		ids[name] = d.ID
	}
	add("a", testgen.Commune, testgen.Department, "15", "Công văn về việc báo cáo chuyển đổi số", day1)
	add("b", testgen.Commune, testgen.District, "16", "Kế hoạch phòng chống lụt bão", day1)
	add("c", testgen.District, testgen.Department, "15", "Công văn đôn đốc nộp báo cáo", day2)
	add("d", testgen.Commune, testgen.Department, "17", "Giấy mời họp", day2)
	add("e", testgen.Commune, testgen.Department, "18", "CONG VAN khong dau", at)
	add("f", testgen.Department, testgen.Commune, "19", "Thông báo kết luận", at)
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
func numbered(n int) *envelope.Message { return fixture.Numbered(fmt.Sprint(n)) }

// addressed is envelope number n with its header addressed to the organs
// of routes.
func addressed(n int, routes []record.Route) *envelope.Message {
	m := numbered(n)
	m.To = nil
	for _, r := range routes {
		m.To = append(m.To, envelope.Organization{OrganID: r.OrganID})
	}
	return m
}

// put verifies m and stores it, a new document, with these routes at when.
func put(t *testing.T, db *store.DB, m *envelope.Message, when time.Time, routes ...record.Route) (*record.Document, *envelope.Verified) {
	t.Helper()
	v := fixture.Verified(t, m)
	d, created, err := db.PutEnvelope(ctx, v, routes, when, "")
	if err != nil || !created {
		t.Fatalf("PutEnvelope %s: %v created=%v", m.Code, err, created)
	}
	return d, v
}

// putRoutes stores envelope number n from the commune with these routes
// (its header addressed to the same organs) at when.
func putRoutes(t *testing.T, db *store.DB, n int, when time.Time, routes ...record.Route) (*record.Document, *envelope.Verified) {
	t.Helper()
	return put(t, db, addressed(n, routes), when, routes...)
}

// putFromProvince stores envelope number n, sent by the province to each
// of organs (all local), at at.
func putFromProvince(t *testing.T, db *store.DB, n int, organs []string) (*record.Document, *envelope.Verified) {
	t.Helper()
	m := addressed(n, local(organs...))
	m.From = testgen.Organ(testgen.Province)
	return put(t, db, m, at, local(organs...)...)
}

// concurrently calls fn(0) to fn(n-1), each on a goroutine of its own,
// fails the test with their errors, and closes the channel it returns once
// all have returned.
func concurrently(t *testing.T, n int, fn func(i int) error) <-chan struct{} {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				t.Error(err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// agencies is n distinct organ codes of local agencies, none of testgen's.
func agencies(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("000.%02d.%02d.H40", i%90, 20+i/90)
	}
	return out
}

// verifiedPool is n distinct verified envelopes, numbered from first, each
// with an extra attachment of attach bytes (none when 0).
func verifiedPool(tb testing.TB, first, n, attach int) []*envelope.Verified {
	tb.Helper()
	pool := make([]*envelope.Verified, n)
	for i := range pool {
		m := numbered(first + i)
		if attach > 0 {
			m.Attachments = append(m.Attachments, envelopeAttachment(attach))
		}
		pool[i] = fixture.Verified(tb, m)
	}
	return pool
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
//
// In a PostgreSQL run (storetest.Postgres) the store is a fresh schema and
// edit changes its tables through the engine, as a DBA with psql could.
type fileStore struct {
	*store.DB
	t   *testing.T
	dsn string // on PostgreSQL
}

func openFileStore(t *testing.T) *fileStore {
	t.Helper()
	if !storetest.Postgres() {
		return openBoltFileStore(t)
	}
	dsn := pgtest.Schema(t)
	db, err := store.OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	return closedAtCleanup(t, &fileStore{DB: db, t: t, dsn: dsn})
}

// openBoltFileStore is openFileStore on bbolt whatever the run: for what
// only a file has (the copy a migration leaves beside it).
func openBoltFileStore(t *testing.T) *fileStore {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "axis.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return closedAtCleanup(t, &fileStore{DB: db, t: t})
}

// closedAtCleanup closes fs's store (as it then is: edit reopens it) at
// the test's end.
func closedAtCleanup(t *testing.T, fs *fileStore) *fileStore {
	t.Cleanup(func() {
		if err := fs.Close(); err != nil {
			t.Error(err)
		}
	})
	return fs
}

func (fs *fileStore) edit(fn func(tx kv.Tx) error) {
	fs.t.Helper()
	path := fs.Path()
	if err := fs.Close(); err != nil {
		fs.t.Fatal(err)
	}
	var err error
	if fs.dsn != "" {
		k, err := pgkv.Open(ctx, fs.dsn, nil)
		if err != nil {
			fs.t.Fatal(err)
		}
		err = k.Update(fn)
		if cerr := k.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fs.t.Fatal(err)
		}
		if fs.DB, err = store.OpenPostgres(ctx, fs.dsn, nil); err != nil {
			fs.t.Fatal(err)
		}
		return
	}
	editFile(fs.t, path, fn)
	if fs.DB, err = store.Open(path, nil); err != nil {
		fs.t.Fatal(err)
	}
}

// storeFile is the path of a new store that fill (when not nil) wrote to
// and that is closed again.
func storeFile(t *testing.T, fill func(db *store.DB)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "axis.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fill != nil {
		fill(db)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// editFile changes a bbolt file no store has open, as an administrator with
// the file could (bbolt creates it when there is none).
func editFile(t *testing.T, path string, fn func(tx kv.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = kv.NewBolt(b).Update(fn)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// viewFile reads a bbolt file no store has open (a closed store, a copy).
func viewFile(t *testing.T, path string, fn func(tx kv.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := kv.NewBolt(b).View(fn); err != nil {
		t.Fatal(err)
	}
}

// blobChunks are the keys of a document's chunks in the blobs bucket.
func blobChunks(tx kv.Tx, d *record.Document) [][]byte {
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
