package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/axis-h40/axis/envelope"
	bolt "go.etcd.io/bbolt"
)

// Synthetic is a document for LoadSynthetic: the records intake would have
// written for an envelope, without an envelope ever being verified.
type Synthetic struct {
	Raw        []byte
	From       string
	Routes     []Route
	Code       string
	Subject    string
	DocumentID string
	At         time.Time
	// Acked moves every local delivery through fetched to acked_done at
	// At plus a few minutes, as a day's finished work looks.
	Acked bool
}

// LoadSynthetic writes docs in one transaction through the same code as
// intake (records, indexes, queues, events). It exists for the load
// generator and benchmarks that need a store of a million documents in
// minutes (verifying and signing a million envelopes takes an hour); the
// hub never calls it, and nothing it writes claims a signature: the
// verified event says "synthetic".
func (db *DB) LoadSynthetic(ctx context.Context, docs []Synthetic) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range docs {
			s := &docs[i]
			sum := sha256.Sum256(s.Raw)
			d := &Document{ID: DocIDFor(sum), SHA256: fmt.Sprintf("%x", sum), Size: len(s.Raw), Kind: string(envelope.KindDocument),
				From: s.From, DocumentID: s.DocumentID, Code: s.Code, Subject: s.Subject, Recipients: s.Routes,
				ReceivedAt: s.At.UTC(), Signer: "synthetic (never verified)"}
			for _, r := range s.Routes {
				d.To = append(d.To, r.OrganID)
			}
			out, created, err := putDoc(tx, d, sum, s.Raw, "synthetic", nil, s.Routes, s.At, "")
			if err != nil {
				return err
			}
			if !created || !s.Acked {
				continue
			}
			for j, r := range s.Routes {
				if r.Peer != "" {
					continue
				}
				fetched, acked := s.At.Add(time.Duration(3+j)*time.Minute), s.At.Add(time.Duration(20+j)*time.Minute)
				dk := key([]byte(out.ID), []byte(r.OrganID))
				var dl Delivery
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
				if err := appendEvent(tx, Event{At: fetched, DocID: out.ID, OrganID: r.OrganID, Type: EventFetched, Detail: "pull"}); err != nil {
					return err
				}
				if err := appendEvent(tx, Event{At: acked, DocID: out.ID, OrganID: r.OrganID, Type: EventAcked, Detail: StateAckedDone}); err != nil {
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
