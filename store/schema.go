package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

// The schema: every bucket of the file, what its keys and values are, the
// helpers that build keys, the schema version and its migrations.
//
// Keys join their parts with a 0 byte (key); sequence numbers are 8-byte
// big-endian (u64), so byte order is numeric order and a cursor walks a
// queue, an outbox, an index or the event log oldest first. The parts that
// come from an envelope's header (organ codes, DocumentId, notation,
// Subject words) are bounded by envelope's header limits (MaxDocumentIDLen
// and the others) and Words (64 bytes a word), which keeps every key far
// under bbolt's 32 KiB.

// Bucket names.
var (
	// Records.
	bMeta       = []byte("meta")
	bDocs       = []byte("docs")       // doc id → record.Document JSON
	bBlobs      = []byte("blobs")      // doc seq, chunk → envelope bytes, exactly as received, in chunks
	bDeliveries = []byte("deliveries") // doc id \x00 organ → record.Delivery JSON
	bRegistry   = []byte("registry")   // name → value: small records the hub keeps (agencies registered over VDXP)

	// Work waiting: local queues, peers' outboxes, relays given up on,
	// held documents.
	bQueues   = []byte("queues")   // organ → { seq → doc id } (FIFO, until acked)
	bOutboxes = []byte("outboxes") // peer → { seq → record.OutboxEntry JSON }
	bDead     = []byte("dead")     // peer → { seq → record.OutboxEntry JSON } given up on
	bHeld     = []byte("held")     // doc id → held since (RFC 3339)
	bReports  = []byte("reports")  // peer → { seq → record.DeliveryReport JSON } waiting to be sent (deliveryreport.go)
	bAwaiting = []byte("awaiting") // peer → { doc id \x00 organ → peer doc id } relayed, state polled from the peer until final (awaiting.go)

	// Lookup indexes.
	bByHash  = []byte("by_hash")  // sha256 (32 bytes) → doc id
	bByDocID = []byte("by_docid") // from organ \x00 edXML DocumentId → doc id

	// Day indexes (statistics, the reconciliation).
	bBySender = []byte("by_sender")    // organ \x00 day \x00 seq → doc id
	bByRecip  = []byte("by_recipient") // organ \x00 day \x00 seq → doc id

	// Search indexes (schema 3). Every key ends with the document's 8-byte
	// sequence, so a prefix read backwards lists newest first and a cursor is a
	// sequence number.
	bByCode   = []byte("by_code")  // folded notation \x00 seq → doc id
	bByWord   = []byte("by_word")  // folded Subject word \x00 seq → doc id
	bByDay    = []byte("by_day")   // day \x00 seq → doc id
	bByDue    = []byte("by_due")   // edXML DueDate (YYYY-MM-DD) \x00 seq → doc id (processing deadlines, stuck.go)
	bActivity = []byte("activity") // organ → record.Activity JSON (last fetch, last ack)

	// The trace.
	bEvents    = []byte("events")     // seq → record.Event JSON (one hash chain)
	bDocEvents = []byte("doc_events") // doc id \x00 seq → nil

	// Revocation evidence.
	bEvidence = []byte("evidence") // sha256 → DER of an OCSP response or a CRL

	// Several nodes on one store (lease.go, session.go).
	bLeases   = []byte("leases")   // loop name → record.Lease JSON (who runs it, until when)
	bSessions = []byte("sessions") // SHA-256 of a console session id → session JSON

	// allBuckets are created at open when missing: held, evidence, dead,
	// reports, by_due, awaiting, leases, sessions and archives came after schema 3 without a new
	// version, being empty in a store that predates them (its documents
	// have no due date indexed: only those taken since are watched for
	// processing; its relays to a VDXP peer are not polled for states:
	// only those relayed since are).
	allBuckets = [][]byte{bMeta, bDocs, bBlobs, bByHash, bByDocID, bDeliveries, bQueues, bOutboxes, bBySender, bByRecip,
		bEvents, bDocEvents, bRegistry, bByCode, bByWord, bByDay, bActivity, bHeld, bEvidence, bDead, bReports, bByDue, bAwaiting, bLeases, bSessions, bArchives}
)

// Keys of the meta bucket.
var (
	kChainHead = []byte("chain_head") // the hash of the last event
	kSchema    = []byte("schema")     // schemaVersion
)

// schemaVersion 3 added the search indexes (by_code, by_word, by_day) and
// activity; a schema-2 store is migrated at open.
const schemaVersion = "3"

// backupBeforeMigration copies the store next to itself
// (PATH.schema-FROM.bak, a consistent copy from one read transaction,
// fsynced) before a migration to schemaVersion rewrites it, so that an
// upgrade can be rolled back by starting the old program on the copy. A
// copy already there from an earlier attempt is kept, not overwritten: it
// is the one taken before anything changed.
func backupBeforeMigration(bdb *bolt.DB, path string, told func(from, to, backup string)) error {
	var from string
	var copyErr error
	backup := ""
	err := bdb.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if m == nil {
			return nil // a new store
		}
		v := m.Get(kSchema)
		if v == nil || string(v) == schemaVersion || !migratable[string(v)] {
			return nil // nothing to migrate (or refused by initSchema)
		}
		from = string(v)
		backup = path + ".schema-" + from + ".bak"
		if _, err := os.Stat(backup); err == nil {
			return nil
		}
		copyErr = tx.CopyFile(backup+".tmp", 0o600)
		if copyErr == nil {
			copyErr = syncFile(backup + ".tmp")
		}
		if copyErr == nil {
			copyErr = os.Rename(backup+".tmp", backup)
		}
		return nil
	})
	if err == nil {
		err = copyErr
	}
	if err != nil {
		return fmt.Errorf("store: copying the store before migrating schema %s to %s: %w (nothing was migrated)", from, schemaVersion, err)
	}
	if backup != "" && told != nil {
		told(from, schemaVersion, backup)
	}
	return nil
}

// migratable are the schema versions initSchema migrates.
var migratable = map[string]bool{"2": true}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// initSchema creates the buckets a store lacks and brings its schema to
// schemaVersion, inside Open's first transaction.
func initSchema(tx kv.Tx) error {
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
}

// migrate2to3 builds the search indexes of a schema-2 store.
func migrate2to3(tx kv.Tx) error {
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		var d record.Document
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, k, err)
		}
		return indexDoc(tx, &d)
	})
}

// DocIDFor is the document id of envelope bytes with this SHA-256.
func DocIDFor(sum [32]byte) string { return hex.EncodeToString(sum[:16]) }

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func key(parts ...[]byte) []byte { return bytes.Join(parts, []byte{0}) }

// nextIn opens the sequence-keyed sub-bucket name of parent (a queue, an
// outbox, a report queue), creating it when missing, and takes its next
// sequence number.
func nextIn(parent kv.Bucket, name []byte) (kv.Bucket, uint64, error) {
	b, err := parent.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, 0, err
	}
	seq, err := b.NextSequence()
	return b, seq, err
}

// eachAfter walks a sequence-keyed bucket (a queue, an outbox, a dead list;
// nil: one never created, so empty) from the entry after sequence after,
// oldest first, while fn returns true.
func eachAfter(b kv.Bucket, after uint64, fn func(k, v []byte) (bool, error)) error {
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		if more, err := fn(k, v); err != nil || !more {
			return err
		}
	}
	return nil
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

// Records are JSON: putJSON writes one, getJSON reads one (ErrNotFound when
// the key is absent).

func putJSON(b kv.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func getJSON(b kv.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return ErrNotFound
	}
	return json.Unmarshal(data, v)
}
