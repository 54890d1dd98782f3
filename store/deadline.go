package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Processing deadlines (hạn xử lý): a document's edXML DueDate, indexed at
// intake (by_due), against the statuses its recipients reported. The stuck
// list and the hub's metric read them here; the reconciliation reads the
// day's documents itself.

// OverdueWindow is how far back the stuck list looks for processing
// deadlines passed: a document due longer ago than this is the
// reconciliation's (and the search's) business, not today's list.
const OverdueWindow = 90 * 24 * time.Hour

// OverdueProcessing lists, up to limit, the recipients whose document's
// DueDate has passed without their status 06 (done), oldest deadline
// first: what overdueProcessing says, in its own read transaction.
func (db *DB) OverdueProcessing(ctx context.Context, now time.Time, limit int) ([]record.StuckItem, error) {
	var out []record.StuckItem
	err := db.kv.View(func(tx kv.Tx) error {
		var err error
		out, err = overdueProcessing(tx, now, limit)
		return err
	})
	return out, err
}

// overdueProcessing lists, oldest deadline first and at most limit, each
// recipient of a document whose edXML DueDate has passed (the due day is
// over in Asia/Ho_Chi_Minh) that has not reported status 06 (done): reason
// overdue_processing, since the end of the due day. A recipient that
// refused the document (acked fail) or that a relay never reached (dead,
// listed as such) is not waited for. It reads the due-date index from
// OverdueWindow ago up to yesterday.
func overdueProcessing(tx kv.Tx, now time.Time, limit int) ([]record.StuckItem, error) {
	var out []record.StuckItem
	if limit <= 0 {
		return nil, nil
	}
	from, today := []byte(Day(now.Add(-OverdueWindow))), []byte(Day(now))
	docs, dls := tx.Bucket(bDocs), tx.Bucket(bDeliveries)
	c := tx.Bucket(bByDue).Cursor()
	for k, id := c.Seek(from); k != nil && bytes.Compare(k, today) < 0 && len(out) < limit; k, id = c.Next() {
		var d record.Document
		if err := getJSON(docs, id, &d); err != nil {
			return nil, fmt.Errorf("%w: by_due %s: %v", ErrCorrupt, id, err)
		}
		if d.State != "" { // held or refused: routed to no one yet
			continue
		}
		end, ok := dueEnd(d.DueDate)
		if !ok {
			continue
		}
		for _, r := range d.Recipients {
			var dl record.Delivery
			if err := getJSON(dls, key([]byte(d.ID), []byte(r.OrganID)), &dl); err != nil {
				return nil, fmt.Errorf("%w: by_due %s: delivery %s: %v", ErrCorrupt, d.ID, r.OrganID, err)
			}
			if !OverdueFor(&d, &dl, now) {
				continue
			}
			out = append(out, record.StuckItem{DocID: d.ID, OrganID: r.OrganID, Peer: r.Peer, Reason: ReasonOverdueProcessing,
				Since: end.UTC(), State: dl.State, From: d.From, Code: d.Code, Subject: d.Subject, DueDate: d.DueDate, StatusCode: dl.StatusCode})
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// dueDate is a document's edXML DueDate (YYYY/MM/DD) as a day
// (YYYY-MM-DD); "" for a status message, or without a valid one.
func dueDate(m *envelope.Message) string {
	due, err := time.Parse("2006/01/02", m.DueDate) // the parser trims it
	if err != nil || m.Kind != envelope.KindDocument {
		return ""
	}
	return due.Format("2006-01-02")
}

// dueEnd is when a due day (YYYY-MM-DD) is over in Asia/Ho_Chi_Minh.
func dueEnd(due string) (time.Time, bool) {
	d, err := time.ParseInLocation("2006-01-02", due, Zone)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

// OverdueFor reports whether the recipient of dl is overdue for processing
// d at now: d's due day is over, and the recipient has not reported status
// 06 (done), nor refused d (acked fail, here or where it was delivered),
// nor is it one a relay never reached (dead). The stuck list and the
// reconciliation both ask this.
func OverdueFor(d *record.Document, dl *record.Delivery, now time.Time) bool {
	end, ok := dueEnd(d.DueDate)
	if !ok || now.Before(end) {
		return false
	}
	return dl.StatusCode != StatusDone && dl.State != StateAckedFail && dl.State != StateDead && dl.RemoteState != StateAckedFail
}
