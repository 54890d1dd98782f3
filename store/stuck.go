package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// The stuck list: what has waited longer than its SLA, most actionable
// first.

// SLA is how long a delivery or relay may wait before it is stuck.
type SLA struct {
	Fetch time.Duration // queued, not fetched
	Ack   time.Duration // fetched (or pushed), not acked
	Relay time.Duration // waiting in an outbox
}

// Stuck lists, up to limit, every dead relay, then every held envelope
// (oldest first: it reaches no recipient until its signer's revocation
// status is decided), then the outbox entries
// waiting longer than the relay SLA, then (oldest first per queue) the
// local deliveries not fetched or not acked within the SLA: the most
// actionable first, so a cap never hides a dead relay behind a slow reader. Queues and outboxes are
// FIFO by arrival, so each is read from its head only as far as entries are
// old enough: the cost is the stuck items plus one per queue.
func (db *DB) Stuck(ctx context.Context, now time.Time, sla SLA, limit int) ([]record.StuckItem, error) {
	out := []record.StuckItem{}
	err := db.kv.View(func(tx kv.Tx) error {
		docs, dls := tx.Bucket(bDocs), tx.Bucket(bDeliveries)
		item := func(d *record.Document, organ, peer, reason string, since time.Time) record.StuckItem {
			it := record.StuckItem{DocID: d.ID, OrganID: organ, Peer: peer, Reason: reason, Since: since, From: d.From, Code: d.Code, Subject: d.Subject}
			var dl record.Delivery
			if getJSON(dls, key([]byte(d.ID), []byte(organ)), &dl) == nil {
				it.State, it.Attempts, it.LastError = dl.State, dl.Attempts, dl.LastError
			}
			return it
		}
		for _, list := range []struct {
			bucket []byte
			reason string
		}{{bDead, "relay_dead"}, {bHeld, "held"}, {bOutboxes, "relay_retrying"}} {
			if list.reason == "held" {
				held, err := stuckHeld(tx, limit-len(out))
				if err != nil {
					return err
				}
				out = append(out, held...)
				continue
			}
			err := tx.Bucket(list.bucket).ForEachBucket(func(peer []byte) error {
				c := tx.Bucket(list.bucket).Bucket(peer).Cursor()
				for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
					var e record.OutboxEntry
					if err := json.Unmarshal(v, &e); err != nil {
						return fmt.Errorf("%w: %s %s: %v", ErrCorrupt, list.bucket, peer, err)
					}
					if list.reason == "relay_retrying" && now.Sub(e.Created) <= sla.Relay {
						break
					}
					var d record.Document
					if err := getJSON(docs, []byte(e.DocID), &d); err != nil {
						return fmt.Errorf("%w: %s %s: %v", ErrCorrupt, list.bucket, peer, err)
					}
					for _, o := range e.Organs {
						out = append(out, item(&d, o, string(peer), list.reason, e.Created))
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		oldest := now.Add(-min(sla.Fetch, sla.Ack))
		err := tx.Bucket(bQueues).ForEachBucket(func(organ []byte) error {
			c := tx.Bucket(bQueues).Bucket(organ).Cursor()
			for k, id := c.First(); k != nil && len(out) < limit; k, id = c.Next() {
				var d record.Document
				if err := getJSON(docs, id, &d); err != nil {
					return fmt.Errorf("%w: queue %s: %v", ErrCorrupt, organ, err)
				}
				if d.ReceivedAt.After(oldest) {
					break
				}
				it := item(&d, string(organ), "", "", d.ReceivedAt)
				switch {
				case it.State == StateQueued && now.Sub(d.ReceivedAt) > sla.Fetch:
					it.Reason = "not_fetched"
				case it.State == StateDelivered && now.Sub(d.ReceivedAt) > sla.Ack:
					it.Reason = "not_acked"
				default:
					continue
				}
				out = append(out, it)
			}
			return nil
		})
		if err != nil {
			return err
		}
		overdue, err := overdueProcessing(tx, now, limit-len(out))
		out = append(out, overdue...)
		return err
	})
	return out, err
}

// stuckHeld lists, oldest first and at most limit, the held envelopes,
// one item each (reason held) since they were held, with the certificate
// whose revocation status is unknown and why. The held index is keyed by
// doc id: its entries (a time each) are read and sorted, and only the
// items kept read their document.
func stuckHeld(tx kv.Tx, limit int) ([]record.StuckItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	type entry struct {
		id    string
		since time.Time
	}
	var held []entry
	err := tx.Bucket(bHeld).ForEach(func(k, v []byte) error {
		since, _ := time.Parse(time.RFC3339Nano, string(v))
		held = append(held, entry{string(k), since})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(held, func(a, b entry) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := []record.StuckItem{}
	docs := tx.Bucket(bDocs)
	for _, e := range held[:min(limit, len(held))] {
		var d record.Document
		if err := getJSON(docs, []byte(e.id), &d); err != nil {
			return nil, fmt.Errorf("%w: held %s: %v", ErrCorrupt, e.id, err)
		}
		it := record.StuckItem{DocID: d.ID, Reason: "held", Since: e.since, State: d.State, From: d.From, Code: d.Code, Subject: d.Subject}
		for _, r := range d.Pending {
			if !slices.Contains(it.Pending, r.OrganID) {
				it.Pending = append(it.Pending, r.OrganID)
			}
		}
		if d.Revocation != nil {
			for _, c := range d.Revocation.Certs {
				if c.Status == envelope.StatusUnknown {
					it.Cert, it.CertSerial, it.LastError = c.Subject, c.Serial, c.Reason
					break
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}
