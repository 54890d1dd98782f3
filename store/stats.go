package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Counts and statistics: documents stored, queue and outbox depths, each
// agency's last fetch and ack, and a day's traffic per agency.

// Count returns the number of stored documents.
func (db *DB) Count(ctx context.Context) (int, error) {
	n := 0
	err := db.kv.View(func(tx kv.Tx) error {
		// Every stored document took one sequence number and none is ever
		// deleted: O(1), where Stats().KeyN reads every page (a scrape of
		// /metrics on a million documents).
		n = int(tx.Bucket(bDocs).Sequence())
		return nil
	})
	return n, err
}

// DayCount is the number of documents stored on day.
func (db *DB) DayCount(ctx context.Context, day string) (int, error) {
	v, err := db.Volume(ctx, "", []string{day})
	if err != nil {
		return 0, err
	}
	return v[0].Documents, nil
}

// QueueDepths returns the number of not-yet-acked entries per agency queue.
func (db *DB) QueueDepths(ctx context.Context) (map[string]int, error) {
	return db.depths(bQueues)
}

// OutboxDepths returns the number of entries waiting per peer.
func (db *DB) OutboxDepths(ctx context.Context) (map[string]int, error) {
	return db.depths(bOutboxes)
}

// depths counts the entries of each bucket in parent (one per agency queue,
// or one per peer outbox).
func (db *DB) depths(parent []byte) (map[string]int, error) {
	out := map[string]int{}
	err := db.kv.View(func(tx kv.Tx) error {
		return tx.Bucket(parent).ForEachBucket(func(k []byte) error {
			out[string(k)] = tx.Bucket(parent).Bucket(k).KeyN()
			return nil
		})
	})
	return out, err
}

func touchActivity(tx kv.Tx, organ string, fetch, ack time.Time) error {
	b := tx.Bucket(bActivity)
	var a record.Activity
	_ = getJSON(b, []byte(organ), &a)
	if !fetch.IsZero() {
		a.LastFetch = fetch.UTC()
	}
	if !ack.IsZero() {
		a.LastAck = ack.UTC()
	}
	return putJSON(b, []byte(organ), &a)
}

// ActivityOf returns an agency's last fetch and ack (zero times when never).
func (db *DB) ActivityOf(ctx context.Context, organ string) (record.Activity, error) {
	var a record.Activity
	err := db.kv.View(func(tx kv.Tx) error {
		if err := getJSON(tx.Bucket(bActivity), []byte(organ), &a); err != nil && err != ErrNotFound {
			return err
		}
		return nil
	})
	return a, err
}

// Stats counts, for day, what each organ (or only those named) sent and
// what was addressed to it here (local deliveries and relays), from the
// sender and recipient day indexes.
func (db *DB) Stats(ctx context.Context, day string, only ...string) (map[string]*record.DayStats, error) {
	out := map[string]*record.DayStats{}
	get := func(o string) *record.DayStats {
		s := out[o]
		if s == nil {
			s = &record.DayStats{OrganID: o}
			out[o] = s
		}
		return s
	}
	err := db.kv.View(func(tx kv.Tx) error {
		dls := tx.Bucket(bDeliveries)
		for _, b := range [][]byte{bBySender, bByRecip} {
			each := func(organ []byte) error {
				prefix := key(organ, []byte(day), nil)
				c := tx.Bucket(b).Cursor()
				for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
					s := get(string(organ))
					if s.Name == "" { // from the first document of the day that names it
						var d record.Document
						if err := getJSON(tx.Bucket(bDocs), id, &d); err == nil {
							s.Name = d.Names[s.OrganID]
						}
					}
					if bytes.Equal(b, bBySender) {
						s.Sent++
						if err := countSentRelays(dls, id, s); err != nil {
							return err
						}
						continue
					}
					s.Received++
					var dl record.Delivery
					if err := getJSON(dls, key(id, organ), &dl); err != nil {
						continue
					}
					switch dl.State {
					case StateQueued:
						s.Pending++
					case StateDelivered:
						s.Fetched++
						s.Pending++
					case StateAckedDone:
						s.Fetched++
						s.AckedDone++
					case StateAckedFail:
						s.Fetched++
						s.AckedFail++
					case StateRelayed:
						s.Relayed++
					case StateRelaying:
						s.Relaying++
					case StateDead:
						s.Dead++
					}
				}
				return ctx.Err()
			}
			var err error
			if len(only) == 0 {
				err = forEachOrgan(tx.Bucket(b), each)
			}
			for _, o := range only {
				if err = each([]byte(o)); err != nil {
					break
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// countSentRelays adds to s the copies of document id that went through a
// peer, by their relay state.
func countSentRelays(dls kv.Bucket, id []byte, s *record.DayStats) error {
	prefix := key(id, nil)
	c := dls.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var dl record.Delivery
		if err := json.Unmarshal(v, &dl); err != nil {
			return fmt.Errorf("%w: delivery %q: %v", ErrCorrupt, k, err)
		}
		switch dl.State {
		case StateRelayed:
			s.SentRelayed++
		case StateRelaying:
			s.SentRelaying++
		case StateDead:
			s.SentDead++
		}
	}
	return nil
}

// forEachOrgan calls fn once per distinct organ prefix of an organ-first
// index, skipping over each organ's keys with one seek.
func forEachOrgan(b kv.Bucket, fn func(organ []byte) error) error {
	c := b.Cursor()
	for k, _ := c.First(); k != nil; {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			k, _ = c.Next()
			continue
		}
		organ := bytes.Clone(k[:i])
		if err := fn(organ); err != nil {
			return err
		}
		k, _ = c.Seek(append(bytes.Clone(organ), 1))
	}
	return nil
}
