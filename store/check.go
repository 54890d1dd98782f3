package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ChainReport is the result of verifying the event log's hash chain.
type ChainReport struct {
	Events    uint64 `json:"events"`
	Head      string `json:"head"`
	BrokenAt  uint64 `json:"broken_at,omitempty"` // first event whose link does not hold
	BrokenWhy string `json:"broken_why,omitempty"`
	// Broken is the event at BrokenAt as stored (when readable): which
	// document and organ it claims to be about.
	Broken *Event `json:"broken_event,omitempty"`
}

// OK reports whether the chain held everywhere.
func (r *ChainReport) OK() bool { return r.BrokenAt == 0 }

// VerifyChain walks the whole event log and reports the first broken link.
func (db *DB) VerifyChain(ctx context.Context) (*ChainReport, error) {
	r := &ChainReport{}
	err := db.bolt.View(func(tx *bolt.Tx) error { return verifyChain(ctx, tx, r) })
	return r, err
}

// VerifyChainFile verifies the event chain of a store file opened
// read-only (a backup, or a copy), without a running hub.
func VerifyChainFile(ctx context.Context, path string) (*ChainReport, error) {
	bdb, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	defer bdb.Close()
	r := &ChainReport{}
	err = bdb.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bEvents) == nil || tx.Bucket(bMeta) == nil {
			return fmt.Errorf("%w: %s is not an axis store", ErrCorrupt, path)
		}
		return verifyChain(ctx, tx, r)
	})
	return r, err
}

func verifyChain(ctx context.Context, tx *bolt.Tx, r *ChainReport) error {
	prev := ""
	var want uint64 = 1
	c := tx.Bucket(bEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if r.Events%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r.Events++
		seq := binary.BigEndian.Uint64(k)
		var e Event
		broken := func(why string) error {
			r.BrokenAt, r.BrokenWhy = seq, why
			if e.Type != "" {
				ev := e
				r.Broken = &ev
			}
			return nil
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return broken("unreadable event: " + err.Error())
		}
		switch {
		case seq != want:
			return broken(fmt.Sprintf("sequence gap: want %d", want))
		case e.Seq != seq:
			return broken("event seq differs from its key")
		case e.Prev != prev:
			return broken("prev does not match the previous event's hash")
		case e.computeHash() != e.Hash:
			return broken("hash does not match the event's contents")
		}
		prev = e.Hash
		want++
	}
	if head := string(tx.Bucket(bMeta).Get(kChainHead)); head != prev {
		r.BrokenAt, r.BrokenWhy = want, "chain head does not match the last event"
	}
	r.Head = prev
	return nil
}

// Check runs bbolt's own page check and axis's invariants: every document has
// its bytes, which hash to its id and recorded SHA-256; the hash index points
// back; every recipient has a delivery; every queue entry points at a stored
// document whose delivery to that organ is not yet acked, and every unacked
// local delivery has its queue entry; outbox entries point at stored
// documents, and so do dead-list entries; the event chain holds. It returns nil or an error wrapping
// ErrCorrupt listing the first problems found.
func (db *DB) Check(ctx context.Context) error {
	var problems []string
	add := func(format string, a ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	// bbolt's own check is only safe next to writers in a writable
	// transaction (its doc: a read-only one must not run while others
	// write); this one writes nothing and is rolled back, holding the
	// writer lock while it runs.
	err := db.checkTx(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add("bbolt: %v", err)
		}
		docs, blobs, deliveries := tx.Bucket(bDocs), tx.Bucket(bBlobs), tx.Bucket(bDeliveries)
		chunks := 0
		err := docs.ForEach(func(k, v []byte) error {
			var d Document
			if err := json.Unmarshal(v, &d); err != nil {
				add("doc %s unreadable: %v", k, err)
				return nil
			}
			raw, err := readBlob(tx, &d)
			if err != nil {
				add("doc %s: %v", k, err)
				return nil
			}
			chunks += (len(raw) + blobChunk - 1) / blobChunk
			sum := sha256.Sum256(raw)
			if DocIDFor(sum) != string(k) || fmt.Sprintf("%x", sum) != d.SHA256 {
				add("doc %s bytes do not hash to its id", k)
			}
			if !bytes.Equal(tx.Bucket(bByHash).Get(sum[:]), k) {
				add("doc %s missing from the hash index", k)
			}
			if held := tx.Bucket(bHeld).Get(k) != nil; held != (d.State == StateHeld) {
				add("doc %s is %q but its held entry is present=%v", k, d.State, held)
			}
			if d.State == StateHeld && len(d.Recipients) > 0 {
				add("doc %s is held but routed to %d recipients", k, len(d.Recipients))
			}
			for _, r := range d.Recipients {
				var dl Delivery
				if err := getJSON(deliveries, key(k, []byte(r.OrganID)), &dl); err != nil {
					add("doc %s has no delivery for %s", k, r.OrganID)
					continue
				}
				if r.Peer == "" && (dl.State == StateQueued || dl.State == StateDelivered) {
					qb := tx.Bucket(bQueues).Bucket([]byte(r.OrganID))
					if qb == nil || !bytes.Equal(qb.Get(u64(dl.QueueSeq)), k) {
						add("doc %s: unacked delivery to %s has no queue entry", k, r.OrganID)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.Bucket(bHeld).ForEach(func(k, _ []byte) error {
			if docs.Get(k) == nil {
				add("held entry %s has no document", k)
			}
			return nil
		}); err != nil {
			return err
		}
		if n := blobs.Stats().KeyN; n != chunks {
			add("%d blob chunks stored, the documents account for %d", n, chunks)
		}
		err = tx.Bucket(bQueues).ForEachBucket(func(organ []byte) error {
			return tx.Bucket(bQueues).Bucket(organ).ForEach(func(k, id []byte) error {
				var dl Delivery
				if err := getJSON(deliveries, key(id, organ), &dl); err != nil {
					add("queue %s entry %x points at %s, which has no delivery", organ, k, id)
					return nil
				}
				if dl.QueueSeq != binary.BigEndian.Uint64(k) || (dl.State != StateQueued && dl.State != StateDelivered) {
					add("queue %s entry %x: delivery is %s at seq %d", organ, k, dl.State, dl.QueueSeq)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, list := range []struct {
			name   string
			bucket []byte
		}{{"outbox", bOutboxes}, {"dead list", bDead}} {
			err = tx.Bucket(list.bucket).ForEachBucket(func(peer []byte) error {
				return tx.Bucket(list.bucket).Bucket(peer).ForEach(func(k, v []byte) error {
					var e OutboxEntry
					if err := json.Unmarshal(v, &e); err != nil || docs.Get([]byte(e.DocID)) == nil {
						add("%s %s entry %x points at a missing document", list.name, peer, k)
					}
					return nil
				})
			})
			if err != nil {
				return err
			}
		}
		var r ChainReport
		if err := verifyChain(ctx, tx, &r); err != nil {
			return err
		}
		if !r.OK() {
			add("event chain broken at %d: %s", r.BrokenAt, r.BrokenWhy)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, joinLines(problems))
	}
	return nil
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for i, l := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func (db *DB) checkTx(fn func(tx *bolt.Tx) error) error {
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
