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

// Delivery reports: a recipient's state travels back along the path its
// document came, hop by hop. The hub that delivers to the recipient queues
// a report for the peer the document came through (Document.Via) in the
// same transaction as the state change; the hub that receives the report
// records it on its own delivery of that recipient (Delivery.RemoteState,
// AtHub, RemoteAt) and, when it too got the document from a peer, queues it
// on for that one. Reports wait in a queue per peer until sent (the hub's
// report loop, with retry), so a peer that is down gets them later.
//
// Applying is idempotent and ordered by rank: delivered, then a final state
// (acked_done, acked_fail, dead); a report that does not move a delivery
// forward (a duplicate, a late "delivered" after "acked_done") changes
// nothing and is not passed on.

// rank orders the states a report may carry.
func rank(state string) int {
	switch state {
	case StateDelivered:
		return 1
	case StateAckedDone, StateAckedFail, StateDead:
		return 2
	}
	return 0
}

// ReportableState reports whether a delivery report may carry state.
func ReportableState(state string) bool { return rank(state) > 0 }

// queueReport queues a report for the peer d came through, if it came
// through one this store reports to (Options.ReportTo).
func (db *DB) queueReport(tx kv.Tx, d *record.Document, r record.DeliveryReport) error {
	if d.Via == "" || db.reportTo == nil || !db.reportTo(d.Via) {
		return nil
	}
	b, seq, err := nextIn(tx.Bucket(bReports), []byte(d.Via))
	if err != nil {
		return err
	}
	return putJSON(b, u64(seq), &r)
}

// reportLocal queues the report of a local delivery's new state.
func (db *DB) reportLocal(tx kv.Tx, dl *record.Delivery, at time.Time) error {
	var d record.Document
	if err := getJSON(tx.Bucket(bDocs), []byte(dl.DocID), &d); err != nil {
		return fmt.Errorf("%w: delivery of a missing document %s: %v", ErrCorrupt, dl.DocID, err)
	}
	return db.queueReport(tx, &d, record.DeliveryReport{DocID: dl.DocID, OrganID: dl.OrganID, State: dl.State, Reason: dl.Reason, At: at.UTC()})
}

// QueuedReport is a delivery report waiting for its peer, with its place
// in that peer's queue.
type QueuedReport struct {
	Seq    uint64
	Report record.DeliveryReport
}

// Reports returns up to limit reports waiting for peer, oldest first.
func (db *DB) Reports(ctx context.Context, peer string, limit int) ([]QueuedReport, error) {
	var out []QueuedReport
	err := db.kv.View(func(tx kv.Tx) error {
		return eachAfter(tx.Bucket(bReports).Bucket([]byte(peer)), 0, func(k, v []byte) (bool, error) {
			var r record.DeliveryReport
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("%w: report %x: %v", ErrCorrupt, k, err)
			}
			out = append(out, QueuedReport{Seq: binary.BigEndian.Uint64(k), Report: r})
			return len(out) < limit, nil
		})
	})
	return out, err
}

// ReportsSent removes reports the peer took.
func (db *DB) ReportsSent(ctx context.Context, peer string, seqs []uint64) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		b := tx.Bucket(bReports).Bucket([]byte(peer))
		if b == nil {
			return nil
		}
		for _, s := range seqs {
			if err := b.Delete(u64(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ApplyReports records reports that came from peer about recipients this
// hub relayed to it, and queues each that moved a delivery forward for the
// peer the document came through, if any. A report about a document or
// recipient this hub did not relay to that peer is ignored: only the hub a
// copy went to reports on it. applied counts the reports that changed a
// delivery.
func (db *DB) ApplyReports(ctx context.Context, peer string, reports []record.DeliveryReport, at time.Time) (applied int, err error) {
	err = db.batch(ctx, func(tx kv.Tx) error {
		applied = 0
		for _, r := range reports {
			ok, err := db.applyReport(tx, peer, r, at)
			if err != nil {
				return err
			}
			if ok {
				applied++
			}
		}
		return nil
	})
	return applied, err
}

func (db *DB) applyReport(tx kv.Tx, peer string, r record.DeliveryReport, at time.Time) (bool, error) {
	if !ReportableState(r.State) || r.AtHub == "" {
		return false, nil
	}
	var d record.Document
	if err := getJSON(tx.Bucket(bDocs), []byte(r.DocID), &d); err != nil {
		return false, nil // not a document of ours
	}
	dk := key([]byte(r.DocID), []byte(r.OrganID))
	var dl record.Delivery
	if err := getJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil || dl.Route != peer {
		return false, nil // not a copy this hub sent to that peer
	}
	// Forward only, except that a hop given up on and then re-driven by
	// an administrator can still be delivered after its "dead".
	redriven := dl.RemoteState == StateDead && r.State != StateDead && r.At.After(dl.RemoteAt)
	if rank(r.State) <= rank(dl.RemoteState) && !redriven {
		return false, nil // a duplicate, or late
	}
	dl.RemoteState, dl.AtHub, dl.RemoteAt = r.State, r.AtHub, r.At.UTC()
	if err := putJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil {
		return false, err
	}
	if rank(r.State) == 2 { // final: nothing more to poll the peer for (awaiting.go)
		if err := unawait(tx, peer, r.DocID, r.OrganID); err != nil {
			return false, err
		}
	}
	detail := r.State + " at " + r.AtHub
	if r.Reason != "" {
		detail += ": " + r.Reason
	}
	if err := appendEvent(tx, record.Event{At: at, DocID: r.DocID, OrganID: r.OrganID, Type: EventReported, Detail: detail}); err != nil {
		return false, err
	}
	return true, db.queueReport(tx, &d, r)
}
