package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Cheap reads for the hub's metrics, made at every scrape of /metrics: the
// heads of the agencies' queues, the held index, the dead lists and the
// file's space. Each says what it costs; none reads every document.

// QueueAge is, for one agency's queue, when the oldest document not yet
// fetched and the oldest fetched (or pushed) but not acked were received
// (the document's ReceivedAt, as the stuck list measures its SLAs). A zero
// time: there is none, as far as QueueAges reads.
type QueueAge struct {
	Unfetched time.Time
	Unacked   time.Time
}

// How far QueueAges reads a queue. A queue is FIFO by arrival and holds
// each entry until it is acked, so its head is the oldest waiting entry and
// the first entry in state queued is the oldest not fetched. Agencies fetch
// their inbox oldest first (and pushes go oldest first), so what was
// fetched and not acked is ahead of what was not fetched, or close behind
// it: past the first unfetched entry QueueAges reads at most
// QueueUnackedLookahead more looking for an unacked one, and it reads at
// most QueueHeadScan in all. So an agency that fetched more than
// QueueHeadScan documents without acking them shows no unfetched age (its
// unacked age is old then), and one whose only unacked documents sit more
// than QueueUnackedLookahead behind its oldest unfetched shows no unacked
// age.
const (
	QueueHeadScan         = 64
	QueueUnackedLookahead = 8
)

// QueueAges returns, for every agency whose queue holds a document waiting
// to be fetched or to be acked, the age of the oldest of each (QueueAge).
// Cost: per queue, its head entries up to the first of each state (the
// state read from the delivery record; usually one to nine entries, at
// most QueueHeadScan), and the record of at most two documents. Measured
// on the million-document store (258 queues, 30,000 entries never
// fetched): about 13 ms.
func (db *DB) QueueAges(ctx context.Context) (map[string]QueueAge, error) {
	out := map[string]QueueAge{}
	err := db.kv.View(func(tx kv.Tx) error {
		docs, dls, queues := tx.Bucket(bDocs), tx.Bucket(bDeliveries), tx.Bucket(bQueues)
		received := func(id []byte) (time.Time, error) {
			var d record.Document
			if err := getJSON(docs, id, &d); err != nil {
				return time.Time{}, fmt.Errorf("%w: queue entry %s: %v", ErrCorrupt, id, err)
			}
			return d.ReceivedAt, nil
		}
		return queues.ForEachBucket(func(organ []byte) error {
			var a QueueAge
			c := queues.Bucket(organ).Cursor()
			left := QueueHeadScan // entries still to read
			for k, id := c.First(); k != nil && left > 0 && (a.Unfetched.IsZero() || a.Unacked.IsZero()); k, id = c.Next() {
				left--
				v := dls.Get(key(id, organ))
				if v == nil {
					continue // the consistency check reports it
				}
				state, err := deliveryState(v)
				if err != nil {
					return fmt.Errorf("%w: delivery %s %s: %v", ErrCorrupt, id, organ, err)
				}
				switch {
				case state == StateQueued && a.Unfetched.IsZero():
					a.Unfetched, err = received(id)
					left = min(left, QueueUnackedLookahead)
				case state == StateDelivered && a.Unacked.IsZero():
					a.Unacked, err = received(id)
				}
				if err != nil {
					return err
				}
			}
			if !a.Unfetched.IsZero() || !a.Unacked.IsZero() {
				out[string(organ)] = a
			}
			return ctx.Err()
		})
	})
	return out, err
}

// stateField starts the state in a record.Delivery's JSON. Its fields
// before it (doc_id, organ_id, route) are ids and names, in which a quote
// is escaped, so its first occurrence is the field.
var stateField = []byte(`"state":"`)

// deliveryState reads the state of a record.Delivery's JSON without
// decoding the rest (QueueAges reads one per queue entry it passes).
func deliveryState(v []byte) (string, error) {
	if i := bytes.Index(v, stateField); i >= 0 {
		rest := v[i+len(stateField):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			return string(rest[:j]), nil
		}
	}
	var dl struct {
		State string `json:"state"`
	}
	err := json.Unmarshal(v, &dl)
	return dl.State, err
}

// HeldOldest returns since when the oldest held document is held (zero when
// none is). Cost: the held index, one time per held document (the held
// index is keyed by doc id, not time; hold_max bounds how many there are).
func (db *DB) HeldOldest(ctx context.Context) (time.Time, error) {
	var oldest time.Time
	err := db.kv.View(func(tx kv.Tx) error {
		return tx.Bucket(bHeld).ForEach(func(_, v []byte) error {
			since, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("%w: held since %q: %v", ErrCorrupt, v, err)
			}
			if oldest.IsZero() || since.Before(oldest) {
				oldest = since
			}
			return nil
		})
	})
	return oldest, err
}

// DeadDepths returns the number of entries given up on per peer (one per
// envelope, whatever its recipients at that peer). Cost: the pages of the
// dead lists (bbolt's KeyN), as OutboxDepths does for the outboxes.
func (db *DB) DeadDepths(ctx context.Context) (map[string]int, error) {
	return db.depths(bDead)
}

// Space is how much room the store file takes and how much of it bbolt
// could reuse.
type Space struct {
	FileBytes int64 // the file's size on disk (bbolt grows it in steps, never shrinks it)
	FreePages int   // pages free for reuse: bbolt's FreePageN + PendingPageN
}

// Space returns the store file's size and free pages. Cost: one stat of
// the file and a copy of bbolt's counters (kept at each commit). It is
// safe on a closed store (the counters stay).
//
// On PostgreSQL FileBytes is the size of the store's tables (one query)
// and FreePages 0: the server reclaims space itself (autovacuum).
func (db *DB) Space() (Space, error) {
	if db.bolt == nil {
		s, ok := db.kv.(interface {
			Size(context.Context) (int64, error)
		})
		if !ok {
			return Space{}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := s.Size(ctx)
		return Space{FileBytes: n}, err
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		return Space{}, err
	}
	st := db.bolt.Stats()
	return Space{FileBytes: fi.Size(), FreePages: st.FreePageN + st.PendingPageN}, nil
}
