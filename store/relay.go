package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Relay: what became of an outbox entry — accepted by the peer (relayed),
// failed and retried, or given up on (the peer's dead list) until an
// administrator redrives it.

// Relayed is one outbox entry a peer accepted, under its id there.
type Relayed struct {
	Entry     record.OutboxEntry
	PeerDocID string
	At        time.Time
}

// MarkRelayed records that a peer accepted an outbox entry under peerDocID:
// the entry leaves the outbox and its deliveries become relayed.
func (db *DB) MarkRelayed(ctx context.Context, peer string, e record.OutboxEntry, peerDocID string, at time.Time) error {
	return db.MarkRelayedMany(ctx, peer, []Relayed{{Entry: e, PeerDocID: peerDocID, At: at}})
}

// MarkRelayedMany is MarkRelayed for many entries in one commit.
func (db *DB) MarkRelayedMany(ctx context.Context, peer string, rs []Relayed) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		for _, r := range rs {
			if err := db.markRelayed(tx, peer, r.Entry, r.PeerDocID, r.At); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) markRelayed(tx kv.Tx, peer string, e record.OutboxEntry, peerDocID string, at time.Time) error {
	{
		ob := tx.Bucket(bOutboxes).Bucket([]byte(peer))
		if ob == nil || ob.Get(u64(e.Seq)) == nil {
			return nil // already done (a retried commit)
		}
		if err := ob.Delete(u64(e.Seq)); err != nil {
			return err
		}
		err := updateDeliveries(tx, e.DocID, e.Organs, func(dl *record.Delivery) {
			dl.State, dl.PeerDocID, dl.LastError, dl.UpdatedAt = StateRelayed, peerDocID, "", at.UTC()
			dl.Attempts++
		})
		if err != nil {
			return err
		}
		for _, o := range e.Organs {
			if err := appendEvent(tx, record.Event{At: at, DocID: e.DocID, OrganID: o, Type: EventRelayed,
				Detail: fmt.Sprintf("peer=%s peer_doc_id=%s", peer, peerDocID)}); err != nil {
				return err
			}
		}
		return db.await(tx, peer, e.DocID, e.Organs, peerDocID) // a peer asked for states (awaiting.go)
	}
}

// RelayFailed records a failed attempt. With dead set, the entry moves from
// the outbox to the peer's dead list and its deliveries become dead.
func (db *DB) RelayFailed(ctx context.Context, peer string, e record.OutboxEntry, why string, dead bool, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		ob := tx.Bucket(bOutboxes).Bucket([]byte(peer))
		if ob == nil || ob.Get(u64(e.Seq)) == nil {
			return nil
		}
		state := StateRelaying
		if dead {
			db, err := tx.Bucket(bDead).CreateBucketIfNotExists([]byte(peer))
			if err != nil {
				return err
			}
			if err := db.Put(u64(e.Seq), ob.Get(u64(e.Seq))); err != nil {
				return err
			}
			if err := ob.Delete(u64(e.Seq)); err != nil {
				return err
			}
			state = StateDead
		}
		err := updateDeliveries(tx, e.DocID, e.Organs, func(dl *record.Delivery) {
			dl.State, dl.LastError, dl.UpdatedAt = state, why, at.UTC()
			dl.Attempts++
		})
		if err != nil {
			return err
		}
		typ, detail := EventRelayFailed, fmt.Sprintf("peer=%s: %s", peer, why)
		if dead {
			typ, detail = EventDead, fmt.Sprintf("peer=%s: gave up: %s", peer, why)
		}
		var d record.Document
		if dead {
			if err := getJSON(tx.Bucket(bDocs), []byte(e.DocID), &d); err != nil {
				return fmt.Errorf("%w: outbox entry of a missing document %s: %v", ErrCorrupt, e.DocID, err)
			}
		}
		for _, o := range e.Organs {
			if err := appendEvent(tx, record.Event{At: at, DocID: e.DocID, OrganID: o, Type: typ, Detail: detail}); err != nil {
				return err
			}
			if dead { // the sender's hub hears that this hop gave up
				if err := db.queueReport(tx, &d, record.DeliveryReport{DocID: e.DocID, OrganID: o, State: StateDead, Reason: why, At: at.UTC()}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Dead lists the entries given up on for a peer, oldest first.
func (db *DB) Dead(ctx context.Context, peer string) ([]record.OutboxEntry, error) {
	return db.entriesAfter(bDead, peer, 0, math.MaxInt)
}

// Redrive puts a document's dead relay entries (those for recipient, when
// it is not "") back at the end of their peers' outboxes, with fresh ages.
// It returns how many entries moved.
func (db *DB) Redrive(ctx context.Context, docID, recipient, by string, at time.Time) (int, error) {
	n := 0
	err := db.batch(ctx, func(tx kv.Tx) error {
		n = 0
		return tx.Bucket(bDead).ForEachBucket(func(peer []byte) error {
			b := tx.Bucket(bDead).Bucket(peer)
			var moved [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var e record.OutboxEntry
				if err := json.Unmarshal(v, &e); err != nil || e.DocID != docID {
					return err
				}
				if recipient != "" && !slices.Contains(e.Organs, recipient) {
					return nil
				}
				ob, seq, err := nextIn(tx.Bucket(bOutboxes), peer)
				if err != nil {
					return err
				}
				e.Seq = seq
				e.Created = at.UTC()
				if err := putJSON(ob, u64(e.Seq), &e); err != nil {
					return err
				}
				moved = append(moved, k)
				n++
				if err := updateDeliveries(tx, e.DocID, e.Organs, func(dl *record.Delivery) {
					dl.State, dl.UpdatedAt = StateRelaying, at.UTC()
				}); err != nil {
					return err
				}
				for _, o := range e.Organs {
					if err := appendEvent(tx, record.Event{At: at, DocID: e.DocID, OrganID: o, Type: EventRedriven, Detail: "peer=" + string(peer) + byWhom(by)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range moved {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return n, err
}
