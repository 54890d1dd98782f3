package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Anchors: time-stamp tokens over the chain, kept in the chain (the hub's
// anchor loop, axis/anchor.go, asks the authority; this file stores and
// checks). The hash chain alone shows that no event was edited without
// recomputing what follows; an anchor shows that what an RFC 3161
// authority saw at its time has not been recomputed since.

// EventAnchored is an anchor's event type; its Detail is a record.Anchor as
// JSON.
const EventAnchored = "anchored"

// kLastAnchor (meta) is the latest anchor's record.AnchorSummary, JSON: the
// metrics and the console read it without walking the chain.
var kLastAnchor = []byte("last_anchor")

// ChainHead is the last event's seq and hash (0, "" on an empty chain).
func (db *DB) ChainHead(ctx context.Context) (uint64, string, error) {
	var seq uint64
	var hash string
	err := db.kv.View(func(tx kv.Tx) error {
		if k, _ := tx.Bucket(bEvents).Cursor().Last(); k != nil {
			seq = binary.BigEndian.Uint64(k)
		}
		hash = string(tx.Bucket(bMeta).Get(kChainHead))
		return nil
	})
	return seq, hash, err
}

// AppendAnchor adds a token over event a.Seq's hash to the chain. It
// refuses one that does not name an event of the chain with that hash.
func (db *DB) AppendAnchor(ctx context.Context, a record.Anchor, signer string, at time.Time) (*record.AnchorSummary, error) {
	detail, err := json.Marshal(&a)
	if err != nil {
		return nil, err
	}
	var sum *record.AnchorSummary
	err = db.batch(ctx, func(tx kv.Tx) error {
		var e record.Event
		if err := getJSON(tx.Bucket(bEvents), u64(a.Seq), &e); err != nil {
			return fmt.Errorf("store: anchor of event %d: %w", a.Seq, err)
		}
		if e.Hash != a.Hash {
			return fmt.Errorf("store: anchor of event %d over %s, but the event's hash is %s", a.Seq, a.Hash, e.Hash)
		}
		if err := appendEvent(tx, record.Event{At: at, Type: EventAnchored, Detail: string(detail)}); err != nil {
			return err
		}
		k, _ := tx.Bucket(bEvents).Cursor().Last()
		sum = &record.AnchorSummary{EventSeq: binary.BigEndian.Uint64(k), Seq: a.Seq, Hash: a.Hash, Time: a.Time, Signer: signer}
		return putJSON(tx.Bucket(bMeta), kLastAnchor, sum)
	})
	return sum, err
}

// LastAnchor is the latest anchor, nil when there is none.
func (db *DB) LastAnchor(ctx context.Context) (*record.AnchorSummary, error) {
	var sum *record.AnchorSummary
	err := db.kv.View(func(tx kv.Tx) error {
		v := tx.Bucket(bMeta).Get(kLastAnchor)
		if v == nil {
			return nil
		}
		sum = new(record.AnchorSummary)
		return json.Unmarshal(v, sum)
	})
	return sum, err
}
