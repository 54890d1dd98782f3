package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// Day is a working day of synthetic traffic on the day of start (its
// date in Asia/Ho_Chi_Minh): perDay documents between 08:00 and 16:00,
// each of size bytes (an <edXMLEnvelope> start tag naming the day and the
// number, then base64 text), from and to as route(j) says (nil: none, for a caller that wants only
// the bytes), acked. The same
// day always gets the same documents.
func Day(start time.Time, perDay, size int, route func(j int) (from, to string)) []Synthetic {
	t := start.In(store.Zone)
	day := time.Date(t.Year(), t.Month(), t.Day(), 8, 0, 0, 0, store.Zone)
	rng := rand.New(rand.NewPCG(uint64(day.Unix()), 18))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	docs := make([]Synthetic, 0, perDay)
	for j := range perDay {
		raw := make([]byte, size)
		for k := range raw {
			raw[k] = alphabet[rng.IntN(len(alphabet))]
		}
		copy(raw, fmt.Sprintf("<edXMLEnvelope day=%q n=\"%d\">", day.Format("2006-01-02"), j))
		from, to := "", ""
		if route != nil {
			from, to = route(j)
		}
		code := fmt.Sprintf("%d/%s/UBND-VP", j+1, day.Format("0102"))
		docs = append(docs, Synthetic{Raw: raw, From: from, Routes: []record.Route{{OrganID: to}}, Code: code,
			Subject: "Báo cáo tình hình kinh tế xã hội " + day.Format("2006-01-02"), DocumentID: from + "," + day.Format("2006/01/02") + "," + code,
			At: day.Add(time.Duration(j) * 8 * time.Hour / time.Duration(perDay)), Acked: true})
	}
	return docs
}
