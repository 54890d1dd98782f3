package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // "a day" is a day in Asia/Ho_Chi_Minh, on any machine

	"github.com/axis-h40/axis/envelope"
	bolt "go.etcd.io/bbolt"
)

// Zone is the time zone of days in indexes and statistics.
var Zone = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// Day formats t as the Asia/Ho_Chi_Minh date YYYY-MM-DD.
func Day(t time.Time) string { return t.In(Zone).Format("2006-01-02") }

// Bucket names.
var (
	bMeta       = []byte("meta")
	bDocs       = []byte("docs")         // doc id → Document JSON
	bBlobs      = []byte("blobs")        // doc seq, chunk → envelope bytes, exactly as received, in chunks
	bByHash     = []byte("by_hash")      // sha256 (32 bytes) → doc id
	bByDocID    = []byte("by_docid")     // from organ \x00 edXML DocumentId → doc id
	bDeliveries = []byte("deliveries")   // doc id \x00 organ → Delivery JSON
	bQueues     = []byte("queues")       // organ → { seq → doc id } (FIFO, until acked)
	bOutboxes   = []byte("outboxes")     // peer → { seq → OutboxEntry JSON }
	bBySender   = []byte("by_sender")    // organ \x00 day \x00 seq → doc id
	bByRecip    = []byte("by_recipient") // organ \x00 day \x00 seq → doc id
	bEvents     = []byte("events")       // seq → Event JSON (one hash chain)
	bDocEvents  = []byte("doc_events")   // doc id \x00 seq → nil
	bRegistry   = []byte("registry")     // name → value: small records the hub keeps (agencies registered over VDXP)
	allBuckets  = [][]byte{bMeta, bDocs, bBlobs, bByHash, bByDocID, bDeliveries, bQueues, bOutboxes, bBySender, bByRecip, bEvents, bDocEvents, bRegistry, bByCode, bByWord, bByDay, bActivity}
	kChainHead  = []byte("chain_head")
	kSchema     = []byte("schema")
)

// schemaVersion 3 added the search indexes (by_code, by_word, by_day) and
// activity; a schema-2 store is migrated at open.
const schemaVersion = "3"

// Delivery states.
const (
	StateQueued    = "queued"
	StateDelivered = "delivered"
	StateAckedDone = "acked_done"
	StateAckedFail = "acked_fail"
	StateRelaying  = "relaying"
	StateRelayed   = "relayed"
	StateDead      = "dead"
)

// Event types.
const (
	EventReceived  = "received"
	EventVerified  = "verified"
	EventQueued    = "queued"
	EventOutboxed  = "outboxed"
	EventFetched   = "fetched"
	EventAcked     = "acked"
	EventStatus    = "status"
	EventRelated   = "related"
	EventDuplicate = "duplicate"
)

// Options tune Open; nil means defaults.
type Options struct {
	// MaxBatchDelay is how long a lone write waits for others to share its
	// commit; default 0 (while a commit is on its way to disk, the writes
	// that arrive form the next batch anyway).
	MaxBatchDelay time.Duration
	// MaxBatchSize caps the intakes in one commit; default 256.
	MaxBatchSize int
	// Timeout waits for the file lock; default 5s.
	Timeout time.Duration
	// OnBatch, when set, is told how many intakes or acks each commit held.
	OnBatch func(n int)
}

// DB is the store.
type DB struct {
	bolt      *bolt.DB
	onBatch   func(int)
	maxDelay  time.Duration
	maxBatch  int
	writes    chan writeReq
	closing   chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
}

// Open opens or creates the store file.
func Open(path string, opts *Options) (*DB, error) {
	o := Options{MaxBatchSize: 256, Timeout: 5 * time.Second}
	if opts != nil {
		if opts.MaxBatchDelay > 0 {
			o.MaxBatchDelay = opts.MaxBatchDelay
		}
		if opts.MaxBatchSize > 0 {
			o.MaxBatchSize = opts.MaxBatchSize
		}
		if opts.Timeout > 0 {
			o.Timeout = opts.Timeout
		}
		o.OnBatch = opts.OnBatch
	}
	// NoFreelistSync: the freelist is rebuilt from the pages at open instead
	// of being written at every commit (as etcd does); durability of data is
	// unchanged.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		if v := m.Get(kSchema); v == nil {
			return m.Put(kSchema, []byte(schemaVersion))
		} else if string(v) == "2" {
			if err := migrate2to3(tx); err != nil {
				return fmt.Errorf("store: migrating schema 2 to 3: %w", err)
			}
			return m.Put(kSchema, []byte(schemaVersion))
		} else if string(v) != schemaVersion {
			return fmt.Errorf("store: schema %q, this program knows %q", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		bdb.Close()
		return nil, err
	}
	db := &DB{bolt: bdb, onBatch: o.OnBatch, maxDelay: o.MaxBatchDelay, maxBatch: o.MaxBatchSize,
		writes: make(chan writeReq), closing: make(chan struct{}), loopDone: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// Close stops the commit loop (writes already handed to it finish first) and
// closes the file.
//
// A graceful close writes bbolt's freelist once: commits skip it
// (NoFreelistSync), so without it the next open rebuilds the freelist by
// walking every page of the file (measured on a million documents, 8.6 GB:
// 13-15 s with the file in the page cache, over 2 minutes without). After a
// crash there is no freelist and the next open rebuilds it, as before.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closing) })
	<-db.loopDone
	if !db.bolt.IsReadOnly() {
		db.bolt.NoFreelistSync = false // the commit loop has stopped: this is the last writer
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			m := tx.Bucket(bMeta)
			return m.Put(kSchema, m.Get(kSchema)) // a commit, to carry the freelist
		})
		if err != nil {
			db.bolt.Close()
			return fmt.Errorf("store: writing the freelist at close: %w", err)
		}
	}
	return db.bolt.Close()
}

// Path is the file's path.
func (db *DB) Path() string { return db.bolt.Path() }

// batch runs fn in a shared commit and returns when that commit is on disk.
// fn may run more than once (a failed shared commit is retried one function
// at a time), so it must reset whatever it reports and be idempotent.
func (db *DB) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.closing:
		return ErrClosed
	}
	return <-req.done
}

type writeReq struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// commitLoop is the store's only writer of batched work: it takes every
// request that is waiting, runs them in one transaction and one fsync, and
// answers them all. While a commit is on its way to disk, new requests queue
// up and form the next batch, so batches grow with load and with disk
// latency, without a fixed delay. MaxBatchDelay adds an optional wait for
// more requests when a batch would otherwise hold one.
func (db *DB) commitLoop() {
	defer close(db.loopDone)
	for {
		var first writeReq
		select {
		case first = <-db.writes:
		case <-db.closing:
			return
		}
		reqs := append(make([]writeReq, 0, 16), first)
		reqs = db.drain(reqs)
		if len(reqs) == 1 && db.maxDelay > 0 {
			t := time.NewTimer(db.maxDelay)
		wait:
			for len(reqs) < db.maxBatch {
				select {
				case r := <-db.writes:
					reqs = append(reqs, r)
					reqs = db.drain(reqs)
				case <-t.C:
					break wait
				}
			}
			t.Stop()
		}
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for _, r := range reqs {
				if err := r.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && len(reqs) > 1 {
			// One function failed the shared commit: run each alone so
			// only the failing one sees its error.
			for _, r := range reqs {
				r.done <- db.bolt.Update(r.fn)
			}
			continue
		}
		if err == nil && db.onBatch != nil {
			db.onBatch(len(reqs))
		}
		for _, r := range reqs {
			r.done <- err
		}
	}
}

func (db *DB) drain(reqs []writeReq) []writeReq {
	for len(reqs) < db.maxBatch {
		select {
		case r := <-db.writes:
			reqs = append(reqs, r)
		default:
			return reqs
		}
	}
	return reqs
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func key(parts ...[]byte) []byte { return bytes.Join(parts, []byte{0}) }

// DocIDFor is the document id of envelope bytes with this SHA-256.
func DocIDFor(sum [32]byte) string { return hex.EncodeToString(sum[:16]) }

// Route says where one recipient's copy goes: Peer "" is local delivery.
type Route struct {
	OrganID string `json:"organ_id"`
	Peer    string `json:"peer,omitempty"`
}

// Name is "local" or the peer's name.
func (r Route) Name() string {
	if r.Peer == "" {
		return "local"
	}
	return r.Peer
}

// Document is the hub's record of one envelope, from its verified header.
type Document struct {
	ID           string     `json:"id"`
	Seq          uint64     `json:"seq"`
	SHA256       string     `json:"sha256"`
	Size         int        `json:"size"`
	Kind         string     `json:"kind"`
	From         string     `json:"from"`
	To           []string   `json:"to,omitempty"`
	DocumentID   string     `json:"document_id,omitempty"`
	Code         string     `json:"code,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	BusinessType int        `json:"business_type"`
	StatusCode   string     `json:"status_code,omitempty"`
	RespondsTo   string     `json:"responds_to,omitempty"` // our id of the document a status or revoke/update/replace targets
	Recipients   []Route    `json:"recipients"`
	ReceivedAt   time.Time  `json:"received_at"`
	Via          string     `json:"via,omitempty"` // peer hub it came through
	Signer       string     `json:"signer"`
	SignerSHA256 string     `json:"signer_sha256"`
	Related      []Relation `json:"related,omitempty"` // later revokes, updates, replacements of this document
	// Revocation is what the revocation check established about the
	// signer's chain at intake (its evidence, by SHA-256, in Evidence).
	Revocation *envelope.Revocation `json:"revocation,omitempty"`
	// State is "" for a document routed at intake, "held" while the
	// revocation status of its chain is unknown (Pending lists where it will
	// go; Recipients is empty until it is released), "refused" when a
	// re-check refused it (RefusedCode, RefusedDetail).
	State         string    `json:"state,omitempty"`
	Pending       []Route   `json:"pending,omitempty"`
	RefusedCode   string    `json:"refused_code,omitempty"`
	RefusedDetail string    `json:"refused_detail,omitempty"`
	DecidedAt     time.Time `json:"decided_at,omitzero"` // when a held document was released or refused
}

// Relation is a later envelope that revokes (1), updates (2) or replaces (3)
// a document.
type Relation struct {
	DocID        string    `json:"doc_id"`
	BusinessType int       `json:"business_type"`
	From         string    `json:"from"`
	At           time.Time `json:"at"`
}

// Delivery is one recipient's copy of a document.
type Delivery struct {
	DocID      string    `json:"doc_id"`
	OrganID    string    `json:"organ_id"`
	Route      string    `json:"route"`
	State      string    `json:"state"`
	QueueSeq   uint64    `json:"queue_seq"`
	StatusCode string    `json:"status_code,omitempty"`
	StatusAt   time.Time `json:"status_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	PeerDocID  string    `json:"peer_doc_id,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// OutboxEntry is one envelope waiting to be relayed to a peer.
type OutboxEntry struct {
	Seq     uint64    `json:"seq"`
	DocID   string    `json:"doc_id"`
	Organs  []string  `json:"organs"`
	Created time.Time `json:"created"`
}

// Event is one line of the trace: append-only and hash-chained (Hash is the
// SHA-256 of Prev and the event's other fields).
type Event struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	DocID   string    `json:"doc_id"`
	OrganID string    `json:"organ_id,omitempty"`
	Type    string    `json:"type"`
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"`
	Hash    string    `json:"hash"`
}

func (e *Event) computeHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%s\n%s\n%s\n%s\n%s", e.Prev, e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.DocID, e.OrganID, e.Type, e.Detail)
	return hex.EncodeToString(h.Sum(nil))
}

// appendEvent adds e to the chain inside tx.
func appendEvent(tx *bolt.Tx, e Event) error {
	eb := tx.Bucket(bEvents)
	eb.FillPercent = 1.0 // append-only: full pages, not the half-empty ones a split leaves
	seq, err := eb.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	e.Prev = string(tx.Bucket(bMeta).Get(kChainHead))
	e.Hash = e.computeHash()
	v, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	if err := eb.Put(u64(seq), v); err != nil {
		return err
	}
	if err := tx.Bucket(bMeta).Put(kChainHead, []byte(e.Hash)); err != nil {
		return err
	}
	return tx.Bucket(bDocEvents).Put(key([]byte(e.DocID), u64(seq)), nil)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func getJSON(b *bolt.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return ErrNotFound
	}
	return json.Unmarshal(data, v)
}

// PutEnvelope stores a verified envelope with one delivery per route, in one
// transaction, and returns its record. created is false when the same bytes
// were stored before: then nothing is written but a "duplicate" event.
// via names the peer hub it came from ("" for an agency).
func (db *DB) PutEnvelope(ctx context.Context, v *envelope.Verified, routes []Route, at time.Time, via string) (*Document, bool, error) {
	return db.putEnvelope(ctx, v, routes, at, via, false)
}

// PutHeld stores a verified envelope whose chain's revocation status is
// not known yet: its bytes, record, indexes and evidence, and routes as
// the document's Pending, but no delivery, queue or outbox entry until
// Release. A later Refuse ends it instead.
func (db *DB) PutHeld(ctx context.Context, v *envelope.Verified, routes []Route, at time.Time, via string) (*Document, bool, error) {
	return db.putEnvelope(ctx, v, routes, at, via, true)
}

func (db *DB) putEnvelope(ctx context.Context, v *envelope.Verified, routes []Route, at time.Time, via string, hold bool) (*Document, bool, error) {
	m := v.Message()
	sum := v.SHA256()
	id := DocIDFor(sum)
	doc := &Document{
		ID: id, SHA256: v.SHA256Hex(), Size: len(v.Raw()), Kind: string(m.Kind), From: m.From.OrganID,
		DocumentID: m.DocumentID, Code: m.Code.String(), Subject: m.Subject, BusinessType: m.BusinessDocType(),
		StatusCode: m.StatusCode, Recipients: routes, ReceivedAt: at.UTC(), Via: via,
		Signer: v.Signer().Subject.String(), SignerSHA256: v.SignerFingerprint(),
	}
	for _, t := range m.To {
		doc.To = append(doc.To, t.OrganID)
	}
	target := m.Target()
	doc.Revocation = v.Revocation()
	var out *Document
	var created bool
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		var err error
		out, created, err = putDocHeld(tx, doc, sum, v.Raw(), v.Algorithms().Signature, target, routes, at, via, hold)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if !created {
		// Outside the intake batch: a duplicate must not slow the others.
		_ = db.bolt.Update(func(tx *bolt.Tx) error {
			return appendEvent(tx, Event{At: at, DocID: out.ID, OrganID: doc.From, Type: EventDuplicate, Detail: "same bytes posted again; nothing stored"})
		})
	}
	return out, created, nil
}

// linkToTarget records a status message (or a revoke, update or replace) on
// the document it answers.
func linkToTarget(tx *bolt.Tx, d *Document, at time.Time) error {
	if d.Kind == string(envelope.KindStatus) {
		dk := key([]byte(d.RespondsTo), []byte(d.From))
		var dl Delivery
		if err := getJSON(tx.Bucket(bDeliveries), dk, &dl); err == nil {
			dl.StatusCode, dl.StatusAt, dl.UpdatedAt = d.StatusCode, at.UTC(), at.UTC()
			if err := putJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil {
				return err
			}
		}
		return appendEvent(tx, Event{At: at, DocID: d.RespondsTo, OrganID: d.From, Type: EventStatus,
			Detail: fmt.Sprintf("status=%s (%s) message=%s", d.StatusCode, envelope.StatusCodes[d.StatusCode], d.ID)})
	}
	var t Document
	if err := getJSON(tx.Bucket(bDocs), []byte(d.RespondsTo), &t); err != nil {
		return err
	}
	t.Related = append(t.Related, Relation{DocID: d.ID, BusinessType: d.BusinessType, From: d.From, At: at.UTC()})
	if err := putJSON(tx.Bucket(bDocs), []byte(t.ID), &t); err != nil {
		return err
	}
	return appendEvent(tx, Event{At: at, DocID: d.RespondsTo, OrganID: d.From, Type: EventRelated,
		Detail: fmt.Sprintf("business_type=%d by=%s", d.BusinessType, d.ID)})
}

// sameParties reports whether d may be linked to the earlier document t
// (d.RespondsTo, t.Related): a link shows t's id to d's recipients and d on
// t's trace, so it is made only between documents of the same parties. A
// status must come from one of t's recipients; a revoke, update or replace
// from t's sender; a reply from one of t's recipients; and everyone d goes
// to must already be a party of t.
func sameParties(d, t *Document) bool {
	party := func(o string) bool { return o == t.From || slices.Contains(t.To, o) }
	if d.Kind == string(envelope.KindStatus) {
		return slices.Contains(t.To, d.From)
	}
	if d.BusinessType != envelope.BusinessNew && d.From != t.From {
		return false
	}
	if !party(d.From) {
		return false
	}
	for _, o := range d.To {
		if !party(o) {
			return false
		}
	}
	return true
}

// DocumentFor returns the document an organ sent under an edXML DocumentId
// (the one a status or a revoke names), or ErrNotFound.
func (db *DB) DocumentFor(ctx context.Context, organ, documentID string) (*Document, error) {
	var d Document
	err := db.bolt.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bByDocID).Get(key([]byte(organ), []byte(documentID)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bDocs), id, &d)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Document returns a document's record.
func (db *DB) Document(ctx context.Context, id string) (*Document, error) {
	var d Document
	err := db.bolt.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bDocs), []byte(id), &d) })
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// blobChunk is the size of the pieces envelope bytes are stored in. bbolt
// rewrites a whole leaf whenever a key is added to it, and a large value is a
// leaf of its own: stored whole, every envelope would rewrite the envelope
// stored before it (2 MB for 2 MB). In pieces keyed by (sequence, chunk) and
// packed at FillPercent 1.0, two to a 4 KiB page, appending rewrites at most
// one partly filled page.
const blobChunk = 1984

func blobKey(seq uint64, chunk uint32) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, seq)
	binary.BigEndian.PutUint32(k[8:], chunk)
	return k
}

func putBlob(tx *bolt.Tx, seq uint64, raw []byte) error {
	b := tx.Bucket(bBlobs)
	b.FillPercent = 1.0
	for i := 0; i < len(raw); i += blobChunk {
		if err := b.Put(blobKey(seq, uint32(i/blobChunk)), raw[i:min(i+blobChunk, len(raw))]); err != nil {
			return err
		}
	}
	return nil
}

// readBlob copies a document's bytes out of its chunks.
func readBlob(tx *bolt.Tx, d *Document) ([]byte, error) {
	out := make([]byte, 0, d.Size)
	prefix := u64(d.Seq)
	c := tx.Bucket(bBlobs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if binary.BigEndian.Uint32(k[8:]) != uint32(len(out)/blobChunk) || len(out)%blobChunk != 0 {
			return nil, fmt.Errorf("%w: doc %s: chunk %x out of order", ErrCorrupt, d.ID, k)
		}
		out = append(out, v...)
	}
	if len(out) != d.Size {
		return nil, fmt.Errorf("%w: doc %s: %d bytes stored, %d recorded", ErrCorrupt, d.ID, len(out), d.Size)
	}
	return out, nil
}

// Blob returns a copy of a document's envelope bytes, exactly as received.
func (db *DB) Blob(ctx context.Context, id string) ([]byte, error) {
	d, err := db.Document(ctx, id)
	if err != nil {
		return nil, err
	}
	return db.BlobOf(ctx, d)
}

// BlobOf is Blob for a document record the caller already read.
func (db *DB) BlobOf(ctx context.Context, d *Document) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = readBlob(tx, d)
		return err
	})
	return out, err
}

// Deliveries returns every recipient's delivery of a document, in route order.
func (db *DB) Deliveries(ctx context.Context, id string) ([]Delivery, error) {
	var out []Delivery
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var d Document
		if err := getJSON(tx.Bucket(bDocs), []byte(id), &d); err != nil {
			return err
		}
		for _, r := range d.Recipients {
			var dl Delivery
			if err := getJSON(tx.Bucket(bDeliveries), key([]byte(id), []byte(r.OrganID)), &dl); err != nil {
				return fmt.Errorf("%w: delivery %s/%s: %v", ErrCorrupt, id, r.OrganID, err)
			}
			out = append(out, dl)
		}
		return nil
	})
	return out, err
}

// Delivery returns one recipient's delivery.
func (db *DB) Delivery(ctx context.Context, id, organ string) (*Delivery, error) {
	var dl Delivery
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bDeliveries), key([]byte(id), []byte(organ)), &dl)
	})
	if err != nil {
		return nil, err
	}
	return &dl, nil
}

// InboxItem is one not-yet-acked entry of an agency's queue.
type InboxItem struct {
	Seq uint64
	Doc Document
}

// Inbox lists up to limit entries of organ's queue after the cursor, oldest
// first, and whether more follow.
func (db *DB) Inbox(ctx context.Context, organ string, after uint64, limit int) ([]InboxItem, bool, error) {
	var out []InboxItem
	more := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		qb := tx.Bucket(bQueues).Bucket([]byte(organ))
		if qb == nil {
			return nil
		}
		c := qb.Cursor()
		k, v := c.Seek(u64(after + 1))
		for ; k != nil; k, v = c.Next() {
			if len(out) == limit {
				more = true
				break
			}
			var d Document
			if err := getJSON(tx.Bucket(bDocs), v, &d); err != nil {
				return fmt.Errorf("%w: queue %s entry %x: %v", ErrCorrupt, organ, k, err)
			}
			out = append(out, InboxItem{Seq: binary.BigEndian.Uint64(k), Doc: d})
		}
		return nil
	})
	return out, more, err
}

// MarkFetched moves a local delivery from queued to delivered (once; later
// fetches change nothing) and returns it.
func (db *DB) MarkFetched(ctx context.Context, id, organ string, at time.Time) (*Delivery, error) {
	var out Delivery
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		out = Delivery{}
		dk := key([]byte(id), []byte(organ))
		if err := getJSON(tx.Bucket(bDeliveries), dk, &out); err != nil {
			return nil // reported below
		}
		if out.State != StateQueued {
			return nil
		}
		out.State, out.UpdatedAt = StateDelivered, at.UTC()
		if err := putJSON(tx.Bucket(bDeliveries), dk, &out); err != nil {
			return err
		}
		if err := touchActivity(tx, organ, at, time.Time{}); err != nil {
			return err
		}
		return appendEvent(tx, Event{At: at, DocID: id, OrganID: organ, Type: EventFetched, Detail: "pull"})
	})
	if err != nil {
		return nil, err
	}
	if out.DocID == "" {
		return nil, ErrNotFound
	}
	return &out, nil
}

// Ack records a local recipient's acknowledgement (done or fail) and removes
// the entry from its queue. Acking again with the same outcome is a no-op;
// with the other outcome it is ErrConflict.
func (db *DB) Ack(ctx context.Context, id, organ string, done bool, reason string, at time.Time) (*Delivery, error) {
	want := StateAckedFail
	if done {
		want = StateAckedDone
	}
	var out Delivery
	var failure error
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		out, failure = Delivery{}, nil
		dk := key([]byte(id), []byte(organ))
		if err := getJSON(tx.Bucket(bDeliveries), dk, &out); err != nil {
			failure = ErrNotFound
			return nil
		}
		switch out.State {
		case want:
			return nil
		case StateQueued, StateDelivered:
		default:
			failure = fmt.Errorf("%w: delivery is %s", ErrConflict, out.State)
			return nil
		}
		if qb := tx.Bucket(bQueues).Bucket([]byte(organ)); qb != nil {
			if err := qb.Delete(u64(out.QueueSeq)); err != nil {
				return err
			}
		}
		out.State, out.Reason, out.UpdatedAt = want, reason, at.UTC()
		if err := putJSON(tx.Bucket(bDeliveries), dk, &out); err != nil {
			return err
		}
		if err := touchActivity(tx, organ, time.Time{}, at); err != nil {
			return err
		}
		detail := want
		if reason != "" {
			detail += ": " + reason
		}
		return appendEvent(tx, Event{At: at, DocID: id, OrganID: organ, Type: EventAcked, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return &out, nil
}

// Events returns a document's trace, oldest first.
func (db *DB) Events(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDocEvents).Cursor()
		prefix := append([]byte(id), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var e Event
			if err := getJSON(tx.Bucket(bEvents), k[len(prefix):], &e); err != nil {
				return fmt.Errorf("%w: event %x: %v", ErrCorrupt, k[len(prefix):], err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// QueueDepths returns the number of not-yet-acked entries per agency queue.
func (db *DB) QueueDepths(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bQueues).ForEachBucket(func(k []byte) error {
			out[string(k)] = tx.Bucket(bQueues).Bucket(k).Stats().KeyN
			return nil
		})
	})
	return out, err
}

// OutboxDepths returns the number of entries waiting per peer.
func (db *DB) OutboxDepths(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bOutboxes).ForEachBucket(func(k []byte) error {
			out[string(k)] = tx.Bucket(bOutboxes).Bucket(k).Stats().KeyN
			return nil
		})
	})
	return out, err
}

// Outbox lists up to limit entries waiting for peer after sequence after,
// oldest first.
func (db *DB) Outbox(ctx context.Context, peer string, after uint64, limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bOutboxes).Bucket([]byte(peer))
		if ob == nil {
			return nil
		}
		c := ob.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Count returns the number of stored documents.
func (db *DB) Count(ctx context.Context) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// Every stored document took one sequence number and none is ever
		// deleted: O(1), where Stats().KeyN reads every page (a scrape of
		// /metrics on a million documents).
		n = int(tx.Bucket(bDocs).Sequence())
		return nil
	})
	return n, err
}

// Backup writes a consistent copy of the whole file to w while the store
// keeps serving (bbolt Tx.WriteTo). Restore = start on the copy.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// putDoc writes a new document's records inside tx: bytes, record, indexes,
// one delivery per route, queue and outbox entries, events, and the link to
// the document it answers. It returns the stored record, or the earlier
// one (created false) when the same bytes are already there.
func putDoc(tx *bolt.Tx, doc *Document, sum [32]byte, raw []byte, sigAlg string, target *envelope.ResponseFor, routes []Route, at time.Time, via string) (out *Document, created bool, err error) {
	return putDocHeld(tx, doc, sum, raw, sigAlg, target, routes, at, via, false)
}

// putDocHeld is putDoc; with hold, the routes become the document's Pending
// and nothing is routed (routeDoc does that at release).
func putDocHeld(tx *bolt.Tx, doc *Document, sum [32]byte, raw []byte, sigAlg string, target *envelope.ResponseFor, routes []Route, at time.Time, via string, hold bool) (out *Document, created bool, err error) {
	id := doc.ID
	if old := tx.Bucket(bByHash).Get(sum[:]); old != nil {
		var d Document
		if err := getJSON(tx.Bucket(bDocs), old, &d); err != nil {
			return nil, false, err
		}
		out = &d
		return out, created, nil
	}
	d := *doc
	docs := tx.Bucket(bDocs)
	seq, err := docs.NextSequence()
	if err != nil {
		return nil, false, err
	}
	d.Seq = seq
	if target != nil {
		if t := tx.Bucket(bByDocID).Get(key([]byte(target.OrganID), []byte(target.DocumentID))); t != nil {
			var td Document
			if err := getJSON(docs, t, &td); err != nil {
				return nil, false, err
			}
			if sameParties(&d, &td) {
				d.RespondsTo = td.ID
			}
		}
	}
	idb := []byte(id)
	day := []byte(Day(at))
	if err := putBlob(tx, seq, raw); err != nil {
		return nil, false, err
	}
	if err := putJSON(docs, idb, &d); err != nil {
		return nil, false, err
	}
	if err := indexDoc(tx, &d); err != nil {
		return nil, false, err
	}
	if err := tx.Bucket(bByHash).Put(sum[:], idb); err != nil {
		return nil, false, err
	}
	if d.Kind == string(envelope.KindDocument) && d.DocumentID != "" {
		k := key([]byte(d.From), []byte(d.DocumentID))
		if tx.Bucket(bByDocID).Get(k) == nil {
			if err := tx.Bucket(bByDocID).Put(k, idb); err != nil {
				return nil, false, err
			}
		}
	}
	if err := tx.Bucket(bBySender).Put(key([]byte(d.From), day, u64(seq)), idb); err != nil {
		return nil, false, err
	}
	detail := fmt.Sprintf("sha256=%s size=%d", d.SHA256, d.Size)
	if via != "" {
		detail += " via=" + via
	}
	if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: d.From, Type: EventReceived, Detail: detail}); err != nil {
		return nil, false, err
	}
	if err := putEvidence(tx, d.Revocation); err != nil {
		return nil, false, err
	}
	if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: d.From, Type: EventVerified,
		Detail: fmt.Sprintf("signer=%q alg=%s", d.Signer, sigAlg) + revocationDetail(d.Revocation)}); err != nil {
		return nil, false, err
	}
	if hold {
		d.State, d.Pending, d.Recipients = StateHeld, routes, nil
		if err := putJSON(docs, idb, &d); err != nil {
			return nil, false, err
		}
		if err := tx.Bucket(bHeld).Put(idb, []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
			return nil, false, err
		}
		if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: d.From, Type: EventHeld,
			Detail: "revocation status unknown: " + revocationReason(d.Revocation)}); err != nil {
			return nil, false, err
		}
		return &d, true, nil
	}
	if err := routeDoc(tx, &d, routes, at); err != nil {
		return nil, false, err
	}
	return &d, true, nil
}

// routeDoc writes, for a stored document, one delivery per route with its
// queue or outbox entry and events, and the link to the document it
// answers: at intake, or when a held document is released.
func routeDoc(tx *bolt.Tx, dp *Document, routes []Route, at time.Time) error {
	d := *dp
	id, idb, seq, day := d.ID, []byte(d.ID), d.Seq, []byte(Day(d.ReceivedAt))
	outboxes := map[string]*OutboxEntry{}
	var peers []string
	seen := map[string]bool{}
	for _, r := range routes {
		if seen[r.OrganID] {
			continue // one delivery per recipient, however often it is named
		}
		seen[r.OrganID] = true
		dl := Delivery{DocID: id, OrganID: r.OrganID, Route: r.Name(), UpdatedAt: at.UTC()}
		if r.Peer == "" {
			qb, err := tx.Bucket(bQueues).CreateBucketIfNotExists([]byte(r.OrganID))
			if err != nil {
				return err
			}
			qs, err := qb.NextSequence()
			if err != nil {
				return err
			}
			if err := qb.Put(u64(qs), idb); err != nil {
				return err
			}
			dl.State, dl.QueueSeq = StateQueued, qs
			if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: r.OrganID, Type: EventQueued, Detail: "local"}); err != nil {
				return err
			}
		} else {
			dl.State = StateRelaying
			e := outboxes[r.Peer]
			if e == nil {
				e = &OutboxEntry{DocID: id, Created: at.UTC()}
				outboxes[r.Peer] = e
				peers = append(peers, r.Peer)
			}
			e.Organs = append(e.Organs, r.OrganID)
		}
		if err := putJSON(tx.Bucket(bDeliveries), key(idb, []byte(r.OrganID)), &dl); err != nil {
			return err
		}
		if err := tx.Bucket(bByRecip).Put(key([]byte(r.OrganID), day, u64(seq)), idb); err != nil {
			return err
		}
	}
	for _, p := range peers {
		ob, err := tx.Bucket(bOutboxes).CreateBucketIfNotExists([]byte(p))
		if err != nil {
			return err
		}
		e := outboxes[p]
		if e.Seq, err = ob.NextSequence(); err != nil {
			return err
		}
		if err := putJSON(ob, u64(e.Seq), e); err != nil {
			return err
		}
		for _, o := range e.Organs {
			if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: o, Type: EventOutboxed, Detail: "peer=" + p}); err != nil {
				return err
			}
		}
	}
	if d.RespondsTo != "" {
		if err := linkToTarget(tx, &d, at); err != nil {
			return err
		}
	}
	return nil
}
