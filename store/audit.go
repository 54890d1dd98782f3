package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// What the reconciliation reads (a day's documents and deliveries, which
// documents are here, what came through a peer) and the repairs it makes
// (Requeue, RestoreBlob).

// DayAudit is what one read-only transaction finds about the documents
// accepted on one day (Asia/Ho_Chi_Minh), plus the store-wide checks that
// back them (queues, the event chain). The reconciliation builds its report
// from it; nothing here changes the store.
type DayAudit struct {
	Day  string
	Docs []AuditDoc
	// MissingDelivery: a recipient of a document with no delivery record.
	MissingDelivery []AuditRef
	// HashMismatch: documents whose bytes no longer hash to the recorded
	// SHA-256 (or cannot be read back).
	HashMismatch []AuditRef
	// DanglingQueue: queue entries that point at no stored document (any
	// day: a queue entry is a promise to deliver).
	DanglingQueue []AuditRef
	Chain         record.ChainReport
	// Retired are the day's documents whose bytes left the hot store for
	// its archive: the reconciliation checks them there.
	Retired []record.Document
}

// AuditDoc is one document of the day with its deliveries.
type AuditDoc struct {
	Doc        record.Document
	Deliveries []record.Delivery
}

// AuditRef names one finding.
type AuditRef struct {
	DocID   string `json:"doc_id"`
	OrganID string `json:"organ_id,omitempty"`
	Detail  string `json:"detail"`
}

// AuditDay reads, in one consistent view, every document accepted on day
// (through the day index), re-hashes its bytes, reads its deliveries, walks
// every queue and verifies the event chain.
func (db *DB) AuditDay(ctx context.Context, day string) (*DayAudit, error) {
	a := &DayAudit{Day: day}
	err := db.kv.View(func(tx kv.Tx) error {
		docs, dls := tx.Bucket(bDocs), tx.Bucket(bDeliveries)
		prefix := key([]byte(day), nil)
		c := tx.Bucket(bByDay).Cursor()
		n := 0
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var ad AuditDoc
			if err := getJSON(docs, id, &ad.Doc); err != nil {
				a.HashMismatch = append(a.HashMismatch, AuditRef{DocID: string(id), Detail: "record unreadable: " + err.Error()})
				continue
			}
			d := &ad.Doc
			raw, err := readBlob(tx, d)
			switch {
			case errors.Is(err, ErrArchived):
				a.Retired = append(a.Retired, *d) // its bytes are in its archive: the hub checks them there
			case err != nil:
				a.HashMismatch = append(a.HashMismatch, AuditRef{DocID: d.ID, Detail: err.Error()})
			default:
				sum := sha256.Sum256(raw)
				if hex.EncodeToString(sum[:]) != d.SHA256 {
					a.HashMismatch = append(a.HashMismatch, AuditRef{DocID: d.ID,
						Detail: fmt.Sprintf("stored bytes hash to %x, recorded %s", sum, d.SHA256)})
				}
			}
			for _, r := range d.Recipients {
				var dl record.Delivery
				if err := getJSON(dls, key([]byte(d.ID), []byte(r.OrganID)), &dl); err != nil {
					a.MissingDelivery = append(a.MissingDelivery, AuditRef{DocID: d.ID, OrganID: r.OrganID, Detail: "no delivery record for a recipient"})
					continue
				}
				ad.Deliveries = append(ad.Deliveries, dl)
			}
			a.Docs = append(a.Docs, ad)
		}
		err := tx.Bucket(bQueues).ForEachBucket(func(organ []byte) error {
			return tx.Bucket(bQueues).Bucket(organ).ForEach(func(k, id []byte) error {
				if docs.Get(id) == nil {
					a.DanglingQueue = append(a.DanglingQueue, AuditRef{DocID: string(id), OrganID: string(organ),
						Detail: fmt.Sprintf("queue entry %d points at no stored envelope", binary.BigEndian.Uint64(k))})
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		return db.verifyChain(ctx, tx, &a.Chain)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Have reports which of ids are stored here, and through which peer each
// came (Via, "" for an agency).
func (db *DB) Have(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := db.kv.View(func(tx kv.Tx) error {
		docs := tx.Bucket(bDocs)
		for _, id := range ids {
			v := docs.Get([]byte(id))
			if v == nil {
				continue
			}
			var d struct {
				Via string `json:"via"`
			}
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, id, err)
			}
			out[id] = d.Via
		}
		return nil
	})
	return out, err
}

// ReceivedVia lists the documents accepted on day that came through peer.
func (db *DB) ReceivedVia(ctx context.Context, day, peer string) ([]string, error) {
	var out []string
	err := db.kv.View(func(tx kv.Tx) error {
		docs := tx.Bucket(bDocs)
		prefix := key([]byte(day), nil)
		c := tx.Bucket(bByDay).Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			var d struct {
				Via string `json:"via"`
			}
			if err := json.Unmarshal(docs.Get(id), &d); err != nil {
				return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, id, err)
			}
			if d.Via == peer {
				out = append(out, string(id))
			}
		}
		return nil
	})
	return out, err
}

// Requeue puts a relayed document back in peer's outbox for organs (the
// peer lost it): their deliveries go back to relaying, with an event
// saying why.
func (db *DB) Requeue(ctx context.Context, docID, peer string, organs []string, why, by string, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		if tx.Bucket(bDocs).Get([]byte(docID)) == nil {
			return ErrNotFound
		}
		ob, seq, err := nextIn(tx.Bucket(bOutboxes), []byte(peer))
		if err != nil {
			return err
		}
		e := record.OutboxEntry{Seq: seq, DocID: docID, Organs: organs, Created: at.UTC()}
		if err := putJSON(ob, u64(e.Seq), &e); err != nil {
			return err
		}
		if err := updateDeliveries(tx, docID, organs, func(dl *record.Delivery) {
			dl.State, dl.UpdatedAt, dl.PeerDocID = StateRelaying, at.UTC(), ""
		}); err != nil {
			return err
		}
		if err := unawait(tx, peer, docID, organs...); err != nil { // no longer relayed: nothing to poll (awaiting.go)
			return err
		}
		for _, o := range organs {
			if err := appendEvent(tx, record.Event{At: at, DocID: docID, OrganID: o, Type: EventRequeued, Detail: "peer=" + peer + ": " + why + byWhom(by)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// RestoreBlob replaces a document's stored bytes with raw, which must hash
// to the recorded SHA-256 (a good copy from a peer, since ids are content
// hashes): the repair of a hash mismatch.
func (db *DB) RestoreBlob(ctx context.Context, docID string, raw []byte, from, by string, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		var d record.Document
		if err := getJSON(tx.Bucket(bDocs), []byte(docID), &d); err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		if hex.EncodeToString(sum[:]) != d.SHA256 || len(raw) != d.Size {
			return fmt.Errorf("%w: the copy from %s is not the recorded envelope", ErrConflict, from)
		}
		b := tx.Bucket(bBlobs)
		prefix := u64(d.Seq)
		c := b.Cursor()
		var old [][]byte
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if err := putBlob(tx, d.Seq, raw); err != nil {
			return err
		}
		return appendEvent(tx, record.Event{At: at, DocID: docID, OrganID: d.From, Type: EventRestored,
			Detail: fmt.Sprintf("stored bytes did not hash to sha256=%s; restored from %s%s", d.SHA256, from, byWhom(by))})
	})
}
