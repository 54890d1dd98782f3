package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Awaiting states: a peer that sends no delivery reports (the national
// axis, over VDXP) is asked instead, and the hub must know what to ask
// about without scanning every delivery. A delivery relayed to such a peer
// (Options.PollStates) gets an entry in the peer's awaiting index in the
// same transaction as the relay; the entry goes when a report gives the
// delivery a final state (acked_done, acked_fail, dead) and when the
// delivery leaves relayed (Requeue: the peer lost it; relayed again, it
// comes back under the new peer doc id).

// Awaiting is a delivery relayed to a peer whose state there this hub
// polls for; PeerDocID is the peer's id of the copy (what to ask about).
type Awaiting struct {
	DocID, OrganID, PeerDocID string
}

// await adds the deliveries of docID to organs, relayed to peer as
// peerDocID, to peer's awaiting index, when this store polls that peer
// for states.
func (db *DB) await(tx kv.Tx, peer, docID string, organs []string, peerDocID string) error {
	if db.pollStates == nil || !db.pollStates(peer) {
		return nil
	}
	b, err := tx.Bucket(bAwaiting).CreateBucketIfNotExists([]byte(peer))
	if err != nil {
		return err
	}
	for _, o := range organs {
		var dl record.Delivery
		if err := getJSON(tx.Bucket(bDeliveries), key([]byte(docID), []byte(o)), &dl); err == nil && rank(dl.RemoteState) == 2 {
			continue // already known final there (an earlier copy): nothing to ask
		}
		if err := b.Put(key([]byte(docID), []byte(o)), []byte(peerDocID)); err != nil {
			return err
		}
	}
	return nil
}

// unawait removes deliveries of docID from peer's awaiting index (absent
// ones are fine).
func unawait(tx kv.Tx, peer, docID string, organs ...string) error {
	b := tx.Bucket(bAwaiting).Bucket([]byte(peer))
	if b == nil {
		return nil
	}
	for _, o := range organs {
		if err := b.Delete(key([]byte(docID), []byte(o))); err != nil {
			return err
		}
	}
	return nil
}

// AwaitingStates returns up to limit of peer's awaiting deliveries that
// come after the one after names (the zero Awaiting: from the first), in
// doc id and organ order, so that a poller goes round a large set a batch
// at a time.
func (db *DB) AwaitingStates(ctx context.Context, peer string, after Awaiting, limit int) ([]Awaiting, error) {
	var out []Awaiting
	err := db.kv.View(func(tx kv.Tx) error {
		b := tx.Bucket(bAwaiting).Bucket([]byte(peer))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if after.DocID != "" {
			from := key([]byte(after.DocID), []byte(after.OrganID))
			if k, v = c.Seek(from); bytes.Equal(k, from) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			doc, organ, ok := bytes.Cut(k, []byte{0})
			if !ok {
				return fmt.Errorf("%w: awaiting %s key %q", ErrCorrupt, peer, k)
			}
			out = append(out, Awaiting{DocID: string(doc), OrganID: string(organ), PeerDocID: string(v)})
		}
		return nil
	})
	return out, err
}

// checkAwaiting is DB.Check's part for the awaiting index: every entry is
// a delivery relayed to that peer under that peer doc id, not yet final
// there.
func checkAwaiting(tx kv.Tx, add func(format string, a ...any)) error {
	return tx.Bucket(bAwaiting).ForEachBucket(func(peer []byte) error {
		return tx.Bucket(bAwaiting).Bucket(peer).ForEach(func(k, v []byte) error {
			var dl record.Delivery
			if err := getJSON(tx.Bucket(bDeliveries), k, &dl); err != nil {
				add("awaiting %s entry %q has no delivery", peer, k)
				return nil
			}
			if dl.Route != string(peer) || dl.State != StateRelayed || dl.PeerDocID != string(v) || rank(dl.RemoteState) == 2 {
				add("awaiting %s entry %q (peer doc id %s): delivery is %s to %q as %q, remote %q", peer, k, v, dl.State, dl.Route, dl.PeerDocID, dl.RemoteState)
			}
			return nil
		})
	})
}
