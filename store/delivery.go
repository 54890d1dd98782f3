package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Local delivery: an agency's queue (Inbox), its fetch or the hub's push to
// it, its ack, and the per-recipient delivery records every route shares.

// Deliveries returns every recipient's delivery of a document, in route order.
func (db *DB) Deliveries(ctx context.Context, id string) ([]record.Delivery, error) {
	var out []record.Delivery
	err := db.kv.View(func(tx kv.Tx) error {
		var d record.Document
		if err := getJSON(tx.Bucket(bDocs), []byte(id), &d); err != nil {
			return err
		}
		var err error
		out, err = deliveriesOf(tx, id, d.Recipients)
		return err
	})
	return out, err
}

// DeliveriesOfDocs returns the deliveries of each of docs (records the
// caller already holds, a search page), by doc id, from one read.
func (db *DB) DeliveriesOfDocs(ctx context.Context, docs []record.Document) (map[string][]record.Delivery, error) {
	out := make(map[string][]record.Delivery, len(docs))
	err := db.kv.View(func(tx kv.Tx) error {
		for _, d := range docs {
			dls, err := deliveriesOf(tx, d.ID, d.Recipients)
			if err != nil {
				return err
			}
			out[d.ID] = dls
		}
		return nil
	})
	return out, err
}

// deliveriesOf reads the delivery of document id to each of recipients,
// in their order, inside tx.
func deliveriesOf(tx kv.Tx, id string, recipients []record.Route) ([]record.Delivery, error) {
	var out []record.Delivery
	for _, r := range recipients {
		var dl record.Delivery
		if err := getJSON(tx.Bucket(bDeliveries), key([]byte(id), []byte(r.OrganID)), &dl); err != nil {
			return out, fmt.Errorf("%w: delivery %s/%s: %v", ErrCorrupt, id, r.OrganID, err)
		}
		out = append(out, dl)
	}
	return out, nil
}

// Delivery returns one recipient's delivery.
func (db *DB) Delivery(ctx context.Context, id, organ string) (*record.Delivery, error) {
	var dl record.Delivery
	err := db.kv.View(func(tx kv.Tx) error {
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
	Doc record.Document
}

// Inbox lists up to limit entries of organ's queue after the cursor, oldest
// first, and whether more follow.
func (db *DB) Inbox(ctx context.Context, organ string, after uint64, limit int) ([]InboxItem, bool, error) {
	var out []InboxItem
	more := false
	err := db.kv.View(func(tx kv.Tx) error {
		return eachAfter(tx.Bucket(bQueues).Bucket([]byte(organ)), after, func(k, v []byte) (bool, error) {
			if len(out) == limit {
				more = true
				return false, nil
			}
			var d record.Document
			if err := getJSON(tx.Bucket(bDocs), v, &d); err != nil {
				return false, fmt.Errorf("%w: queue %s entry %x: %v", ErrCorrupt, organ, k, err)
			}
			out = append(out, InboxItem{Seq: binary.BigEndian.Uint64(k), Doc: d})
			return true, nil
		})
	})
	return out, more, err
}

// MarkFetched moves a local delivery from queued to delivered (once; later
// fetches change nothing) and returns it.
func (db *DB) MarkFetched(ctx context.Context, id, organ string, at time.Time) (*record.Delivery, error) {
	var out record.Delivery
	err := db.batch(ctx, func(tx kv.Tx) error {
		out = record.Delivery{}
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
		if err := db.reportLocal(tx, &out, at); err != nil {
			return err
		}
		return appendEvent(tx, record.Event{At: at, DocID: id, OrganID: organ, Type: EventFetched, Detail: "pull"})
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
func (db *DB) Ack(ctx context.Context, id, organ string, done bool, reason string, at time.Time) (*record.Delivery, error) {
	want := StateAckedFail
	if done {
		want = StateAckedDone
	}
	var out record.Delivery
	var failure error
	err := db.batch(ctx, func(tx kv.Tx) error {
		out, failure = record.Delivery{}, nil
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
		if err := db.reportLocal(tx, &out, at); err != nil {
			return err
		}
		detail := want
		if reason != "" {
			detail += ": " + reason
		}
		return appendEvent(tx, record.Event{At: at, DocID: id, OrganID: organ, Type: EventAcked, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return &out, nil
}

// updateDeliveries applies change to the delivery of each organ of e.
func updateDeliveries(tx kv.Tx, docID string, organs []string, change func(*record.Delivery)) error {
	b := tx.Bucket(bDeliveries)
	for _, o := range organs {
		k := key([]byte(docID), []byte(o))
		var dl record.Delivery
		if err := getJSON(b, k, &dl); err != nil {
			return fmt.Errorf("%w: delivery %s/%s: %v", ErrCorrupt, docID, o, err)
		}
		change(&dl)
		if err := putJSON(b, k, &dl); err != nil {
			return err
		}
	}
	return nil
}

// Push: the hub delivers queued documents to an agency's endpoint instead
// of waiting for it to pull them; the delivery records each attempt.

// PushResult records one push attempt to a local agency's endpoint: ok moves
// the delivery from queued to delivered; a failure counts the attempt.
func (db *DB) PushResult(ctx context.Context, docID, organ string, ok bool, why string, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
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
		if ok {
			if err := db.reportLocal(tx, &dl, at); err != nil {
				return err
			}
		}
		return appendEvent(tx, ev)
	})
}

// Queued lists up to limit entries of organ's queue after the cursor whose
// delivery is still queued (not yet fetched or pushed), for push workers.
func (db *DB) Queued(ctx context.Context, organ string, after uint64, limit int) ([]InboxItem, error) {
	var out []InboxItem
	err := db.kv.View(func(tx kv.Tx) error {
		return eachAfter(tx.Bucket(bQueues).Bucket([]byte(organ)), after, func(k, v []byte) (bool, error) {
			if len(out) >= limit {
				return false, nil
			}
			var dl record.Delivery
			if err := getJSON(tx.Bucket(bDeliveries), key(v, []byte(organ)), &dl); err != nil || dl.State != StateQueued {
				return true, nil
			}
			var d record.Document
			if err := getJSON(tx.Bucket(bDocs), v, &d); err != nil {
				return false, err
			}
			out = append(out, InboxItem{Seq: binary.BigEndian.Uint64(k), Doc: d})
			return true, nil
		})
	})
	return out, err
}
