package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// The consistency check: bbolt's pages and axis's invariants.

// Check runs bbolt's own page check and axis's invariants: every document has
// its bytes, which hash to its id and recorded SHA-256; the hash index points
// back; every recipient has a delivery; every queue entry points at a stored
// document whose delivery to that organ is not yet acked, and every unacked
// local delivery has its queue entry; outbox entries point at stored
// documents, and so do dead-list entries; every awaiting entry is a
// delivery relayed to that peer, not final there; the event chain holds.
// It returns nil or an error wrapping ErrCorrupt listing the first
// problems found.
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
	err := db.checkTx(func(tx kv.Tx) error {
		if btx := kv.BoltTx(tx); btx != nil {
			for err := range btx.Check() {
				add("bbolt: %v", err)
			}
		}
		docs, blobs, deliveries := tx.Bucket(bDocs), tx.Bucket(bBlobs), tx.Bucket(bDeliveries)
		chunks := 0
		err := docs.ForEach(func(k, v []byte) error {
			var d record.Document
			if err := json.Unmarshal(v, &d); err != nil {
				add("doc %s unreadable: %v", k, err)
				return nil
			}
			if d.Archive != "" && !hasBlob(blobs, d.Seq) {
				// Retired: its bytes are in its archive (checked there by the
				// reconciliation); the record, indexes and deliveries are here.
				if sum, err := hex.DecodeString(d.SHA256); err != nil || !bytes.Equal(tx.Bucket(bByHash).Get(sum), k) {
					add("retired doc %s missing from the hash index", k)
				}
			} else {
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
			}
			if held := tx.Bucket(bHeld).Get(k) != nil; held != (d.State == StateHeld) {
				add("doc %s is %q but its held entry is present=%v", k, d.State, held)
			}
			if d.State == StateHeld && len(d.Recipients) > 0 {
				add("doc %s is held but routed to %d recipients", k, len(d.Recipients))
			}
			for _, r := range d.Recipients {
				var dl record.Delivery
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
		if n := blobs.KeyN(); n != chunks {
			add("%d blob chunks stored, the documents account for %d", n, chunks)
		}
		err = tx.Bucket(bQueues).ForEachBucket(func(organ []byte) error {
			return tx.Bucket(bQueues).Bucket(organ).ForEach(func(k, id []byte) error {
				var dl record.Delivery
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
					var e record.OutboxEntry
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
		if err := checkAwaiting(tx, add); err != nil {
			return err
		}
		var r record.ChainReport
		if err := db.verifyChain(ctx, tx, &r); err != nil {
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
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

func (db *DB) checkTx(fn func(tx kv.Tx) error) error {
	if db.bolt == nil {
		return db.kv.View(fn) // one snapshot, next to writers
	}
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return kv.NewBolt(nil).Wrap(tx, fn)
}
