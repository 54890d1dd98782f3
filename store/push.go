package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

// Push: the hub delivers queued documents to an agency's endpoint instead
// of waiting for it to pull them; the delivery records each attempt.

// PushResult records one push attempt to a local agency's endpoint: ok moves
// the delivery from queued to delivered; a failure counts the attempt.
func (db *DB) PushResult(ctx context.Context, docID, organ string, ok bool, why string, at time.Time) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		k := key([]byte(docID), []byte(organ))
		var dl record.Delivery
		if err := getJSON(tx.Bucket(bDeliveries), k, &dl); err != nil {
			return nil
		}
		if dl.State != StateQueued {
			return nil // fetched by pull meanwhile, or already pushed
		}
		dl.Attempts++
		dl.UpdatedAt = at.UTC()
		ev := record.Event{At: at, DocID: docID, OrganID: organ, Type: EventPushFailed, Detail: fmt.Sprintf("attempt %d: %s", dl.Attempts, why)}
		if ok {
			dl.State, dl.LastError = StateDelivered, ""
			ev.Type, ev.Detail = EventPushed, fmt.Sprintf("attempt %d", dl.Attempts)
		} else {
			dl.LastError = why
		}
		if err := putJSON(tx.Bucket(bDeliveries), k, &dl); err != nil {
			return err
		}
		return appendEvent(tx, ev)
	})
}

// Queued lists up to limit entries of organ's queue after the cursor whose
// delivery is still queued (not yet fetched or pushed), for push workers.
func (db *DB) Queued(ctx context.Context, organ string, after uint64, limit int) ([]InboxItem, error) {
	var out []InboxItem
	err := db.bolt.View(func(tx *bolt.Tx) error {
		qb := tx.Bucket(bQueues).Bucket([]byte(organ))
		if qb == nil {
			return nil
		}
		c := qb.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var dl record.Delivery
			if err := getJSON(tx.Bucket(bDeliveries), key(v, []byte(organ)), &dl); err != nil || dl.State != StateQueued {
				continue
			}
			var d record.Document
			if err := getJSON(tx.Bucket(bDocs), v, &d); err != nil {
				return err
			}
			out = append(out, InboxItem{Seq: binary.BigEndian.Uint64(k), Doc: d})
		}
		return nil
	})
	return out, err
}
