package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Intake: a verified envelope becomes a document — its bytes, record,
// indexes and trace events, then one delivery per recipient with its queue
// or outbox entry (routeDoc), and the link to the document it answers — in
// one transaction of the commit loop.

// PutEnvelope stores a verified envelope with one delivery per route, in one
// transaction, and returns its record. created is false when the same bytes
// were stored before: then nothing is written but a "duplicate" event.
// via names the peer hub it came from ("" for an agency).
func (db *DB) PutEnvelope(ctx context.Context, v *envelope.Verified, routes []record.Route, at time.Time, via string) (*record.Document, bool, error) {
	return db.putEnvelope(ctx, v, routes, at, via, false)
}

// PutHeld stores a verified envelope whose chain's revocation status is
// not known yet: its bytes, record, indexes and evidence, and routes as
// the document's Pending, but no delivery, queue or outbox entry until
// Release. A later Refuse ends it instead.
func (db *DB) PutHeld(ctx context.Context, v *envelope.Verified, routes []record.Route, at time.Time, via string) (*record.Document, bool, error) {
	return db.putEnvelope(ctx, v, routes, at, via, true)
}

func (db *DB) putEnvelope(ctx context.Context, v *envelope.Verified, routes []record.Route, at time.Time, via string, hold bool) (*record.Document, bool, error) {
	m := v.Message()
	sum := v.SHA256()
	id := DocIDFor(sum)
	doc := &record.Document{
		ID: id, SHA256: v.SHA256Hex(), Size: len(v.Raw()), Kind: string(m.Kind), From: m.From.OrganID,
		DocumentID: m.DocumentID, Code: m.Code.String(), Subject: m.Subject, BusinessType: m.BusinessDocType(),
		StatusCode: m.StatusCode, Recipients: routes, ReceivedAt: at.UTC(), Via: via,
		Signer: v.Signer().Subject.String(), SignerSHA256: v.SignerFingerprint(),
	}
	for _, t := range m.To {
		doc.To = append(doc.To, t.OrganID)
	}
	for _, o := range append([]envelope.Organization{m.From}, m.To...) {
		if o.OrganName != "" {
			if doc.Names == nil {
				doc.Names = map[string]string{}
			}
			doc.Names[o.OrganID] = o.OrganName
		}
	}
	doc.DueDate = dueDate(m)
	target := m.Target()
	doc.Revocation = v.Revocation()
	var out *record.Document
	var created bool
	err := db.batch(ctx, func(tx kv.Tx) error {
		var err error
		out, created, err = putDocHeld(tx, doc, sum, v.Raw(), v.Algorithms().Signature, target, routes, at, via, hold)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if !created {
		// Outside the intake batch: a duplicate must not slow the others.
		_ = db.kv.Update(func(tx kv.Tx) error {
			return appendEvent(tx, record.Event{At: at, DocID: out.ID, OrganID: doc.From, Type: EventDuplicate, Detail: "same bytes posted again; nothing stored"})
		})
	}
	return out, created, nil
}

// putDoc writes a new document's records inside tx: bytes, record, indexes,
// one delivery per route, queue and outbox entries, events, and the link to
// the document it answers. It returns the stored record, or the earlier
// one (created false) when the same bytes are already there.
func putDoc(tx kv.Tx, doc *record.Document, sum [32]byte, raw []byte, sigAlg string, target *envelope.ResponseFor, routes []record.Route, at time.Time, via string) (out *record.Document, created bool, err error) {
	return putDocHeld(tx, doc, sum, raw, sigAlg, target, routes, at, via, false)
}

// putDocHeld is putDoc; with hold, the routes become the document's Pending
// and nothing is routed (routeDoc does that at release).
func putDocHeld(tx kv.Tx, doc *record.Document, sum [32]byte, raw []byte, sigAlg string, target *envelope.ResponseFor, routes []record.Route, at time.Time, via string, hold bool) (out *record.Document, created bool, err error) {
	id := doc.ID
	if old := tx.Bucket(bByHash).Get(sum[:]); old != nil {
		var d record.Document
		if err := getJSON(tx.Bucket(bDocs), old, &d); err != nil {
			return nil, false, err
		}
		out = &d
		return out, created, nil
	}
	d := *doc
	docs := tx.Bucket(bDocs)
	seq, err := docs.NextSequence()
	if err != nil {
		return nil, false, err
	}
	d.Seq = seq
	if target != nil {
		if t := tx.Bucket(bByDocID).Get(key([]byte(target.OrganID), []byte(target.DocumentID))); t != nil {
			var td record.Document
			if err := getJSON(docs, t, &td); err != nil {
				return nil, false, err
			}
			if sameParties(&d, &td) {
				d.RespondsTo = td.ID
			}
		}
	}
	idb := []byte(id)
	day := []byte(Day(at))
	if err := putBlob(tx, seq, raw); err != nil {
		return nil, false, err
	}
	if err := putJSON(docs, idb, &d); err != nil {
		return nil, false, err
	}
	if err := indexDoc(tx, &d); err != nil {
		return nil, false, err
	}
	if err := tx.Bucket(bByHash).Put(sum[:], idb); err != nil {
		return nil, false, err
	}
	if d.Kind == string(envelope.KindDocument) && d.DocumentID != "" {
		k := key([]byte(d.From), []byte(d.DocumentID))
		if tx.Bucket(bByDocID).Get(k) == nil {
			if err := tx.Bucket(bByDocID).Put(k, idb); err != nil {
				return nil, false, err
			}
		}
	}
	if err := tx.Bucket(bBySender).Put(key([]byte(d.From), day, u64(seq)), idb); err != nil {
		return nil, false, err
	}
	detail := fmt.Sprintf("sha256=%s size=%d", d.SHA256, d.Size)
	if via != "" {
		detail += " via=" + via
	}
	if err := appendEvent(tx, record.Event{At: at, DocID: id, OrganID: d.From, Type: EventReceived, Detail: detail}); err != nil {
		return nil, false, err
	}
	if err := putEvidence(tx, d.Revocation); err != nil {
		return nil, false, err
	}
	if err := appendEvent(tx, record.Event{At: at, DocID: id, OrganID: d.From, Type: EventVerified,
		Detail: fmt.Sprintf("signer=%q alg=%s", d.Signer, sigAlg) + revocationDetail(d.Revocation)}); err != nil {
		return nil, false, err
	}
	if hold {
		d.State, d.Pending, d.Recipients = StateHeld, routes, nil
		if err := putJSON(docs, idb, &d); err != nil {
			return nil, false, err
		}
		if err := tx.Bucket(bHeld).Put(idb, []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
			return nil, false, err
		}
		if err := appendEvent(tx, record.Event{At: at, DocID: id, OrganID: d.From, Type: EventHeld,
			Detail: "revocation status unknown: " + revocationReason(d.Revocation)}); err != nil {
			return nil, false, err
		}
		return &d, true, nil
	}
	if err := routeDoc(tx, &d, routes, at); err != nil {
		return nil, false, err
	}
	return &d, true, nil
}

// routeDoc writes, for a stored document, one delivery per route with its
// queue or outbox entry and events, and the link to the document it
// answers: at intake, or when a held document is released.
func routeDoc(tx kv.Tx, dp *record.Document, routes []record.Route, at time.Time) error {
	d := *dp
	id, idb, seq, day := d.ID, []byte(d.ID), d.Seq, []byte(Day(d.ReceivedAt))
	outboxes := map[string]*record.OutboxEntry{}
	var peers []string
	var queued []record.Event
	seen := map[string]bool{}
	for _, r := range routes {
		if seen[r.OrganID] {
			continue // one delivery per recipient, however often it is named
		}
		seen[r.OrganID] = true
		dl := record.Delivery{DocID: id, OrganID: r.OrganID, Route: r.Name(), UpdatedAt: at.UTC()}
		if r.Peer == "" {
			qb, qs, err := nextIn(tx.Bucket(bQueues), []byte(r.OrganID))
			if err != nil {
				return err
			}
			if err := qb.Put(u64(qs), idb); err != nil {
				return err
			}
			dl.State, dl.QueueSeq = StateQueued, qs
			queued = append(queued, record.Event{At: at, DocID: id, OrganID: r.OrganID, Type: EventQueued, Detail: "local"})
		} else {
			dl.State = StateRelaying
			e := outboxes[r.Peer]
			if e == nil {
				e = &record.OutboxEntry{DocID: id, Created: at.UTC()}
				outboxes[r.Peer] = e
				peers = append(peers, r.Peer)
			}
			e.Organs = append(e.Organs, r.OrganID)
		}
		if err := putJSON(tx.Bucket(bDeliveries), key(idb, []byte(r.OrganID)), &dl); err != nil {
			return err
		}
		if err := tx.Bucket(bByRecip).Put(key([]byte(r.OrganID), day, u64(seq)), idb); err != nil {
			return err
		}
	}
	if err := appendEvents(tx, queued); err != nil {
		return err
	}
	for _, p := range peers {
		e := outboxes[p]
		ob, seq, err := nextIn(tx.Bucket(bOutboxes), []byte(p))
		if err != nil {
			return err
		}
		e.Seq = seq
		if err := putJSON(ob, u64(e.Seq), e); err != nil {
			return err
		}
		outboxed := make([]record.Event, 0, len(e.Organs))
		for _, o := range e.Organs {
			outboxed = append(outboxed, record.Event{At: at, DocID: id, OrganID: o, Type: EventOutboxed, Detail: "peer=" + p})
		}
		if err := appendEvents(tx, outboxed); err != nil {
			return err
		}
	}
	if d.RespondsTo != "" {
		if err := linkToTarget(tx, &d, at); err != nil {
			return err
		}
	}
	return nil
}

// linkToTarget records a status message (or a revoke, update or replace) on
// the document it answers.
func linkToTarget(tx kv.Tx, d *record.Document, at time.Time) error {
	if d.Kind == string(envelope.KindStatus) {
		dk := key([]byte(d.RespondsTo), []byte(d.From))
		var dl record.Delivery
		if err := getJSON(tx.Bucket(bDeliveries), dk, &dl); err == nil {
			dl.StatusCode, dl.StatusAt, dl.UpdatedAt = d.StatusCode, at.UTC(), at.UTC()
			if err := putJSON(tx.Bucket(bDeliveries), dk, &dl); err != nil {
				return err
			}
		}
		return appendEvent(tx, record.Event{At: at, DocID: d.RespondsTo, OrganID: d.From, Type: EventStatus,
			Detail: fmt.Sprintf("status=%s (%s) message=%s", d.StatusCode, envelope.StatusCodes[d.StatusCode], d.ID)})
	}
	var t record.Document
	if err := getJSON(tx.Bucket(bDocs), []byte(d.RespondsTo), &t); err != nil {
		return err
	}
	t.Related = append(t.Related, record.Relation{DocID: d.ID, BusinessType: d.BusinessType, From: d.From, At: at.UTC()})
	if err := putJSON(tx.Bucket(bDocs), []byte(t.ID), &t); err != nil {
		return err
	}
	return appendEvent(tx, record.Event{At: at, DocID: d.RespondsTo, OrganID: d.From, Type: EventRelated,
		Detail: fmt.Sprintf("business_type=%d by=%s", d.BusinessType, d.ID)})
}

// sameParties reports whether d may be linked to the earlier document t
// (d.RespondsTo, t.Related): a link shows t's id to d's recipients and d on
// t's trace, so it is made only between documents of the same parties. A
// status must come from one of t's recipients; a revoke, update or replace
// from t's sender; a reply from one of t's recipients; and everyone d goes
// to must already be a party of t.
func sameParties(d, t *record.Document) bool {
	party := func(o string) bool { return o == t.From || slices.Contains(t.To, o) }
	if d.Kind == string(envelope.KindStatus) {
		return slices.Contains(t.To, d.From)
	}
	if d.BusinessType != envelope.BusinessNew && d.From != t.From {
		return false
	}
	if !party(d.From) {
		return false
	}
	for _, o := range d.To {
		if !party(o) {
			return false
		}
	}
	return true
}
