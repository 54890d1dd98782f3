package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/internal/synthetic"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Test-only writer: records for a load generator and benchmarks, written
// without a verified envelope.
//
// Decision (issue 13): LoadSynthetic is not part of the API a package
// outside store/ can use. It needs the store's internals (putDoc, the
// buckets, appendEvent), so it cannot move to store/storetest without
// exporting them; it stays here, and its argument's type lives in
// store/internal/synthetic, which only store and store/storetest may
// import. Tools and benchmarks call storetest.LoadSynthetic with
// storetest.Synthetic documents.

// LoadSynthetic writes docs in one transaction through the same code as
// intake (records, indexes, queues, events). It exists for the load
// generator and benchmarks that need a store of a million documents in
// minutes (verifying and signing a million envelopes takes an hour); the
// hub never calls it, and nothing it writes claims a signature: the
// verified event says "synthetic".
//
// Call it as storetest.LoadSynthetic: its argument's type is internal to
// store/, so no package outside store/ can build one.
func (db *DB) LoadSynthetic(ctx context.Context, docs []synthetic.Doc) error {
	return db.kv.Update(func(tx kv.Tx) error {
		for i := range docs {
			s := &docs[i]
			var routes []record.Route
			for _, r := range s.Routes {
				routes = append(routes, record.Route(r))
			}
			sum := sha256.Sum256(s.Raw)
			d := &record.Document{ID: DocIDFor(sum), SHA256: fmt.Sprintf("%x", sum), Size: len(s.Raw), Kind: string(envelope.KindDocument),
				From: s.From, DocumentID: s.DocumentID, Code: s.Code, Subject: s.Subject, Recipients: routes,
				ReceivedAt: s.At.UTC(), Signer: "synthetic (never verified)"}
			for _, r := range routes {
				d.To = append(d.To, r.OrganID)
			}
			out, created, err := putDoc(tx, d, sum, s.Raw, "synthetic", nil, routes, s.At, "")
			if err != nil {
				return err
			}
			if !created || !s.Acked {
				continue
			}
			for j, r := range routes {
				if r.Peer != "" {
					continue
				}
				fetched, acked := s.At.Add(time.Duration(3+j)*time.Minute), s.At.Add(time.Duration(20+j)*time.Minute)
				dk := key([]byte(out.ID), []byte(r.OrganID))
				var dl record.Delivery
				if err := getJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil {
					return err
				}
				if err := tx.Bucket(bQueues).Bucket([]byte(r.OrganID)).Delete(u64(dl.QueueSeq)); err != nil {
					return err
				}
				dl.State, dl.UpdatedAt = StateAckedDone, acked.UTC()
				if err := putJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil {
					return err
				}
				if err := appendEvent(tx, record.Event{At: fetched, DocID: out.ID, OrganID: r.OrganID, Type: EventFetched, Detail: "pull"}); err != nil {
					return err
				}
				if err := appendEvent(tx, record.Event{At: acked, DocID: out.ID, OrganID: r.OrganID, Type: EventAcked, Detail: StateAckedDone}); err != nil {
					return err
				}
				if err := touchActivity(tx, r.OrganID, fetched, acked); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	})
}
