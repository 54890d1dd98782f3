package store

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
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

// checkAnchor verifies an anchored event met at seq in verifyChain: its
// token covers the hash the event it names has in this chain, and the
// token's signature holds (against roots when not nil). hashOf gives an
// earlier event's hash as stored ("" when the store no longer holds it:
// archived, below the base).
func checkAnchor(e *record.Event, roots *x509.CertPool, hashOf func(uint64) (string, bool)) (*record.AnchorSummary, string) {
	var a record.Anchor
	if err := json.Unmarshal([]byte(e.Detail), &a); err != nil {
		return nil, "anchor unreadable: " + err.Error()
	}
	if a.Seq >= e.Seq {
		return nil, fmt.Sprintf("anchor names event %d, not an earlier one", a.Seq)
	}
	digest, err := hex.DecodeString(a.Hash)
	if err != nil || len(digest) != 32 {
		return nil, fmt.Sprintf("anchor's hash %q is not a SHA-256", a.Hash)
	}
	tok, err := tsa.Verify(a.TSR, digest, roots)
	if err != nil {
		return nil, fmt.Sprintf("anchor of event %d: %v", a.Seq, err)
	}
	if h, ok := hashOf(a.Seq); ok && h != a.Hash {
		return nil, fmt.Sprintf("anchor no longer matches: the token of %s fixes event %d's hash as %s, the chain now has %s (an event up to %d was changed after it was anchored)",
			tok.Time.Format(time.RFC3339), a.Seq, a.Hash, h, a.Seq)
	}
	return &record.AnchorSummary{EventSeq: e.Seq, Seq: a.Seq, Hash: a.Hash, Time: tok.Time, Signer: tok.Signer}, ""
}
