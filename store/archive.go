package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// What the daily archives (axis/archive, the hub's archive.go) read from the
// store and record in it: a day's documents and chain segment, the seals,
// and the retirement of archived documents from the hot store (retention).

// bArchives: day → record.Sealed JSON, the days sealed.
var bArchives = []byte("archives")

// Event types of the archives.
const (
	EventSealed  = "sealed"  // a day's archive was written (DocID "")
	EventRetired = "retired" // a day's documents left the hot store for its archive (DocID "")
)

// DayDocs are the documents accepted on day, in the order received.
func (db *DB) DayDocs(ctx context.Context, day string) ([]record.Document, error) {
	var out []record.Document
	err := db.kv.View(func(tx kv.Tx) error {
		prefix := key([]byte(day), nil)
		c := tx.Bucket(bByDay).Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			var d record.Document
			if err := getJSON(tx.Bucket(bDocs), id, &d); err != nil {
				return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, id, err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// WriteBlob streams a document's envelope bytes to w from one read
// transaction, chunk by chunk.
func (db *DB) WriteBlob(ctx context.Context, d *record.Document, w io.Writer) error {
	return db.kv.View(func(tx kv.Tx) error {
		prefix := u64(d.Seq)
		n := 0
		c := tx.Bucket(bBlobs).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if binary.BigEndian.Uint32(k[8:]) != uint32(n/blobChunk) || n%blobChunk != 0 {
				return fmt.Errorf("%w: doc %s: chunk %x out of order", ErrCorrupt, d.ID, k)
			}
			if _, err := w.Write(v); err != nil {
				return err
			}
			n += len(v)
		}
		if n != d.Size {
			return fmt.Errorf("%w: doc %s: %d bytes stored, %d recorded", ErrCorrupt, d.ID, n, d.Size)
		}
		return nil
	})
}

// Settled says whether every copy of a document reached an end: acked
// (done or fail), given up on (dead), or handed to a peer hub that took it
// (relayed); and the document is not held.
func Settled(d *record.Document, dls []record.Delivery) bool {
	if d.State == StateHeld {
		return false
	}
	if len(dls) < len(d.Recipients) {
		return false
	}
	for _, dl := range dls {
		switch dl.State {
		case StateAckedDone, StateAckedFail, StateDead, StateRelayed:
		default:
			return false
		}
	}
	return true
}

// SegmentEnd is the last event recorded before t, and its hash: the end of
// the chain segment of the day that ends at t (0 and the base when none is
// kept before t). Events are appended in time order (their At is the
// hub's clock when appended), which the binary search relies on; a clock
// stepped back moves an event to the next day's segment, never out of
// the chain.
func (db *DB) SegmentEnd(ctx context.Context, t time.Time) (uint64, string, error) {
	var seq uint64
	var hash string
	err := db.kv.View(func(tx kv.Tx) error {
		base, baseHash := chainBase(tx)
		eb := tx.Bucket(bEvents)
		k, _ := eb.Cursor().Last()
		if k == nil {
			seq, hash = base, baseHash
			return nil
		}
		last := binary.BigEndian.Uint64(k)
		var e record.Event
		at := func(s uint64) (time.Time, error) {
			if err := getJSON(eb, u64(s), &e); err != nil {
				return time.Time{}, fmt.Errorf("%w: event %d: %v", ErrCorrupt, s, err)
			}
			return e.At, nil
		}
		// The largest s in [base, last] with At(s) < t; At(base) counts as
		// before everything.
		lo, hi := base, last
		var ferr error
		for lo < hi {
			mid := lo + (hi-lo+1)/2
			a, err := at(mid)
			if err != nil {
				ferr = err
				break
			}
			if a.Before(t) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		if ferr != nil {
			return ferr
		}
		seq = lo
		if seq == base {
			hash = baseHash
			return nil
		}
		if _, err := at(seq); err != nil {
			return err
		}
		hash = e.Hash
		return nil
	})
	return seq, hash, err
}

// ChainBaseSeq is where the store's chain starts: the seq and hash of the
// last event retired to the archives (0, "" when it holds them all).
func (db *DB) ChainBaseSeq(ctx context.Context) (uint64, string, error) {
	var seq uint64
	var hash string
	err := db.kv.View(func(tx kv.Tx) error {
		seq, hash = chainBase(tx)
		return nil
	})
	return seq, hash, err
}

// EventRange calls fn with events first..last in order.
func (db *DB) EventRange(ctx context.Context, first, last uint64, fn func(e *record.Event) error) error {
	return db.kv.View(func(tx kv.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(u64(first)); k != nil && binary.BigEndian.Uint64(k) <= last; k, v = c.Next() {
			var e record.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: event %x: %v", ErrCorrupt, k, err)
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		return nil
	})
}

// FirstEventTime is when the first event the store keeps was recorded
// (zero on an empty chain).
func (db *DB) FirstEventTime(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := db.kv.View(func(tx kv.Tx) error {
		_, v := tx.Bucket(bEvents).Cursor().First()
		if v == nil {
			return nil
		}
		var e record.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("%w: first event: %v", ErrCorrupt, err)
		}
		t = e.At
		return nil
	})
	return t, err
}

// Seals are the days sealed, oldest first.
func (db *DB) Seals(ctx context.Context) ([]record.Sealed, error) {
	var out []record.Sealed
	err := db.kv.View(func(tx kv.Tx) error {
		return tx.Bucket(bArchives).ForEach(func(k, v []byte) error {
			var s record.Sealed
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%w: archive %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// Seal is day's seal, nil when the day is not sealed.
func (db *DB) Seal(ctx context.Context, day string) (*record.Sealed, error) {
	var s *record.Sealed
	err := db.kv.View(func(tx kv.Tx) error {
		v := tx.Bucket(bArchives).Get([]byte(day))
		if v == nil {
			return nil
		}
		s = new(record.Sealed)
		return json.Unmarshal(v, s)
	})
	return s, err
}

// RecordSeal records a day's archive, with an event in the chain. A day
// sealed again (--force over an earlier seal) keeps the latest.
func (db *DB) RecordSeal(ctx context.Context, s record.Sealed) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		if err := putJSON(tx.Bucket(bArchives), []byte(s.Day), &s); err != nil {
			return err
		}
		detail := fmt.Sprintf("day %s sealed in %s: %d documents, %d bytes, SHA-256 %s", s.Day, s.File, s.Documents, s.Bytes, s.SHA256)
		switch {
		case s.Forced:
			detail += fmt.Sprintf(", forced with %d not settled", s.Unsettled)
		case s.Expired:
			detail += fmt.Sprintf(", settle_after passed with %d not settled", s.Unsettled)
		}
		return appendEvent(tx, record.Event{At: s.SealedAt, Type: EventSealed, Detail: detail + byWhom(s.By)})
	})
}

// Retire moves a sealed day out of the hot store: its settled documents'
// envelope bytes (they are in the archive, checked against the SHA-256
// recorded at intake when read back) and the day's chain segment, as
// sealed (Sealed.Start+1 .. Sealed.End, which must follow the chain's
// base: the days before it retired first). Every document of the day is
// marked with its archive (Document.Archive): its events up to the day's
// end are there. Records, deliveries and indexes stay, so search, status,
// statuses arriving later, re-drives and the reconciliation work as
// before. A document not settled keeps its bytes; calling Retire again
// later (it is idempotent) retires those settled since.
func (db *DB) Retire(ctx context.Context, day string, at time.Time) (retired, kept int, err error) {
	err = db.batch(ctx, func(tx kv.Tx) error {
		retired, kept = 0, 0
		s := tx.Bucket(bArchives).Get([]byte(day))
		if s == nil {
			return fmt.Errorf("store: day %s is not sealed", day)
		}
		var sealed record.Sealed
		if err := json.Unmarshal(s, &sealed); err != nil {
			return err
		}
		docs, dls, blobs, de := tx.Bucket(bDocs), tx.Bucket(bDeliveries), tx.Bucket(bBlobs), tx.Bucket(bDocEvents)
		prefix := key([]byte(day), nil)
		c := tx.Bucket(bByDay).Cursor()
		var ids [][]byte
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			ids = append(ids, append([]byte(nil), id...))
		}
		for _, id := range ids {
			var d record.Document
			if err := getJSON(docs, id, &d); err != nil {
				return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, id, err)
			}
			if d.Archive != "" && !hasBlob(blobs, d.Seq) {
				retired++
				continue
			}
			var ds []record.Delivery
			for _, r := range d.Recipients {
				var dl record.Delivery
				if getJSON(dls, key(id, []byte(r.OrganID)), &dl) == nil {
					ds = append(ds, dl)
				}
			}
			if d.Archive == "" {
				d.Archive = sealed.File
				if err := putJSON(docs, id, &d); err != nil {
					return err
				}
			}
			if !Settled(&d, ds) {
				kept++
				continue
			}
			if err := deletePrefix(blobs, u64(d.Seq)); err != nil {
				return err
			}
			retired++
		}
		// The chain segment: it is in the archive.
		base, baseHash := chainBase(tx)
		switch {
		case sealed.End <= base:
			// retired already
		case sealed.Start != base || sealed.StartHash != baseHash:
			return fmt.Errorf("store: day %s's chain segment follows event %d, the store's chain starts after %d: retire the days before it first", day, sealed.Start, base)
		default:
			eb := tx.Bucket(bEvents)
			for seq := base + 1; seq <= sealed.End; seq++ {
				var e record.Event
				if err := getJSON(eb, u64(seq), &e); err != nil {
					return fmt.Errorf("%w: event %d: %v", ErrCorrupt, seq, err)
				}
				if err := de.Delete(key([]byte(e.DocID), u64(seq))); err != nil {
					return err
				}
				if err := eb.Delete(u64(seq)); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bMeta).Put(kChainBase, fmt.Appendf(nil, "%d %s", sealed.End, sealed.EndHash)); err != nil {
				return err
			}
		}
		if !sealed.Retired.IsZero() && kept == sealed.Kept {
			return nil // retired before, nothing settled since: no event
		}
		sealed.Retired, sealed.Kept = at, kept
		if err := putJSON(tx.Bucket(bArchives), []byte(day), &sealed); err != nil {
			return err
		}
		return appendEvent(tx, record.Event{At: at, Type: EventRetired,
			Detail: fmt.Sprintf("day %s: %d documents' bytes are in %s only (%d kept, not settled); events to %d are in the archives", day, retired, sealed.File, kept, sealed.End)})
	})
	return retired, kept, err
}

func hasBlob(blobs kv.Bucket, seq uint64) bool {
	k, _ := blobs.Cursor().Seek(u64(seq))
	return k != nil && bytes.HasPrefix(k, u64(seq))
}

func deletePrefix(b kv.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
