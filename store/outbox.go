package store

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Outboxes: per peer, the envelopes waiting to be relayed, oldest first
// (relay.go records what became of them).

// Outbox lists up to limit entries waiting for peer after sequence after,
// oldest first.
func (db *DB) Outbox(ctx context.Context, peer string, after uint64, limit int) ([]record.OutboxEntry, error) {
	return db.entriesAfter(bOutboxes, peer, after, limit)
}

// entriesAfter lists up to limit entries of peer's bucket in parent (its
// outbox, or its dead list) after sequence after, oldest first.
func (db *DB) entriesAfter(parent []byte, peer string, after uint64, limit int) ([]record.OutboxEntry, error) {
	var out []record.OutboxEntry
	err := db.kv.View(func(tx kv.Tx) error {
		return eachAfter(tx.Bucket(parent).Bucket([]byte(peer)), after, func(_, v []byte) (bool, error) {
			if len(out) >= limit {
				return false, nil
			}
			var e record.OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, err
			}
			out = append(out, e)
			return true, nil
		})
	})
	return out, err
}

// OutboxEntryOf finds docID's entry in peer's outbox, looking at no more
// than the first limit entries (a peer that collects its envelopes confirms
// them roughly in order, so the entry is near the head). ErrNotFound when
// it is not there.
func (db *DB) OutboxEntryOf(ctx context.Context, peer, docID string, limit int) (*record.OutboxEntry, error) {
	var out *record.OutboxEntry
	err := db.kv.View(func(tx kv.Tx) error {
		ob := tx.Bucket(bOutboxes).Bucket([]byte(peer))
		if ob == nil {
			return nil
		}
		c := ob.Cursor()
		n := 0
		for k, v := c.First(); k != nil && n < limit; k, v = c.Next() {
			n++
			if !bytes.Contains(v, []byte(docID)) {
				continue
			}
			var e record.OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.DocID == docID {
				out = &e
				return nil
			}
		}
		return nil
	})
	if err == nil && out == nil {
		err = ErrNotFound
	}
	return out, err
}
