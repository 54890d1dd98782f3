package storetest

import (
	"context"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/internal/synthetic"
	"github.com/axis-h40/axis/store/record"
)

// Synthetic is a document for LoadSynthetic: the records intake would have
// written for an envelope, without an envelope ever being verified.
type Synthetic struct {
	Raw        []byte
	From       string
	Routes     []record.Route
	Code       string
	Subject    string
	DocumentID string
	At         time.Time
	// Acked moves every local delivery through fetched to acked_done at
	// At plus a few minutes, as a day's finished work looks.
	Acked bool
}

// LoadSynthetic writes docs into db in one transaction through the same
// code as intake (records, indexes, queues, events), for the load generator
// (internal/cmd/genstore) and benchmarks that need a large store in
// minutes; nothing it writes claims a signature (the verified event says
// "synthetic"). Keep a call to thousands of documents: bbolt leaves a
// transaction's dirty nodes unsplit until commit, so every index entry
// inserted in the middle of one moves the entries after it, and one call
// of 20 000 documents takes minutes where twenty of 1000 take seconds.
func LoadSynthetic(ctx context.Context, db *store.DB, docs []Synthetic) error {
	in := make([]synthetic.Doc, len(docs))
	for i, s := range docs {
		var routes []synthetic.Route
		for _, r := range s.Routes {
			routes = append(routes, synthetic.Route(r))
		}
		in[i] = synthetic.Doc{Raw: s.Raw, From: s.From, Routes: routes, Code: s.Code, Subject: s.Subject,
			DocumentID: s.DocumentID, At: s.At, Acked: s.Acked}
	}
	return db.LoadSynthetic(ctx, in)
}
