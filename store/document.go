package store

import (
	"context"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Reading documents: a record by id or by its sender's DocumentId, and a
// consistent snapshot of a record with its deliveries and trace.

// Document returns a document's record.
func (db *DB) Document(ctx context.Context, id string) (*record.Document, error) {
	var d record.Document
	err := db.kv.View(func(tx kv.Tx) error { return getJSON(tx.Bucket(bDocs), []byte(id), &d) })
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// DocumentFor returns the document an organ sent under an edXML DocumentId
// (the one a status or a revoke names), or ErrNotFound.
func (db *DB) DocumentFor(ctx context.Context, organ, documentID string) (*record.Document, error) {
	var d record.Document
	err := db.kv.View(func(tx kv.Tx) error {
		id := tx.Bucket(bByDocID).Get(key([]byte(organ), []byte(documentID)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bDocs), id, &d)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Snapshot returns, from one read transaction, a document's record, every
// recipient's delivery in route order (as Deliveries) and its trace oldest
// first (as Events): what a trace, a status or an ack reads, consistent
// with each other (no commit lands between the three reads).
func (db *DB) Snapshot(ctx context.Context, id string) (*record.Document, []record.Delivery, []record.Event, error) {
	var d record.Document
	var dls []record.Delivery
	var evs []record.Event
	err := db.kv.View(func(tx kv.Tx) error {
		if err := getJSON(tx.Bucket(bDocs), []byte(id), &d); err != nil {
			return err
		}
		var err error
		if dls, err = deliveriesOf(tx, id, d.Recipients); err != nil {
			return err
		}
		evs, err = eventsOf(tx, id)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return &d, dls, evs, nil
}
