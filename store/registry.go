package store

import (
	"bytes"
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// SetRegistry stores (or, with a nil value, deletes) a small record of the
// hub's own, such as an agency registered over VDXP.
func (db *DB) SetRegistry(ctx context.Context, name string, value []byte) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bRegistry)
		if value == nil {
			return b.Delete([]byte(name))
		}
		return b.Put([]byte(name), value)
	})
}

// Registry returns the records whose names start with prefix, by name.
func (db *DB) Registry(ctx context.Context, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRegistry).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			out[string(k)] = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}

// OutboxEntryOf finds docID's entry in peer's outbox, looking at no more
// than the first limit entries (a peer that collects its envelopes confirms
// them roughly in order, so the entry is near the head). ErrNotFound when
// it is not there.
func (db *DB) OutboxEntryOf(ctx context.Context, peer, docID string, limit int) (*OutboxEntry, error) {
	var out *OutboxEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
			var e OutboxEntry
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

// SentOn lists the ids of the documents organ sent on day (YYYY-MM-DD,
// Asia/Ho_Chi_Minh), oldest first, at most limit.
func (db *DB) SentOn(ctx context.Context, organ, day string, limit int) ([]string, error) {
	var out []string
	prefix := key([]byte(organ), []byte(day), nil)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bBySender).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			out = append(out, string(v))
		}
		return nil
	})
	return out, err
}
