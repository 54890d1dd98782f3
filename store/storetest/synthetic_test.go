package storetest_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

// LoadSynthetic writes what intake writes (records, deliveries, queues,
// outboxes, indexes, events), says on the trace that nothing was verified,
// and with Acked takes each local delivery through fetched to acked_done;
// the store passes its check (at cleanup).
func TestLoadSynthetic(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	at := time.Date(2026, 6, 1, 2, 30, 0, 0, time.UTC)
	const from, to1, to2, remote = "000.07.35.H40", "000.00.11.H40", "000.00.35.H40", "000.00.00.G22"
	docs := []storetest.Synthetic{
		{Raw: []byte("<synthetic>one</synthetic>"), From: from, Routes: []record.Route{{OrganID: to1}, {OrganID: remote, Peer: "national"}},
			Code: "15/UBND-VP", Subject: "Công văn về việc báo cáo", DocumentID: from + ",2026/06/01,15/UBND-VP", At: at},
		{Raw: []byte("<synthetic>two</synthetic>"), From: from, Routes: []record.Route{{OrganID: to1}, {OrganID: to2}},
			Code: "16/UBND-VP", Subject: "Kế hoạch", DocumentID: from + ",2026/06/01,16/UBND-VP", At: at.Add(time.Minute), Acked: true},
	}
	if err := storetest.LoadSynthetic(ctx, db, docs); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx); n != 2 {
		t.Fatalf("%d documents", n)
	}
	ids := make([]string, len(docs))
	for i, s := range docs {
		ids[i] = store.DocIDFor(sha256.Sum256(s.Raw))
		d, err := db.Document(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != "document" || d.From != from || d.Code != s.Code || d.Subject != s.Subject || d.DocumentID != s.DocumentID ||
			!slices.Equal(d.Recipients, s.Routes) || !d.ReceivedAt.Equal(s.At) || d.Signer != "synthetic (never verified)" {
			t.Errorf("doc %d: %+v", i, d)
		}
		raw, err := db.Blob(ctx, ids[i])
		if err != nil || string(raw) != string(s.Raw) {
			t.Errorf("doc %d bytes %q %v", i, raw, err)
		}
	}
	if r, err := db.Search(ctx, store.Query{Code: "16/ubnd-vp"}); err != nil || len(r.Docs) != 1 || r.Docs[0].ID != ids[1] {
		t.Fatalf("search %+v %v", r, err)
	}
	if e, err := db.OutboxEntryOf(ctx, "national", ids[0], 10); err != nil || !slices.Equal(e.Organs, []string{remote}) {
		t.Fatalf("outbox %+v %v", e, err)
	}
	items, _, err := db.Inbox(ctx, to1, 0, 10)
	if err != nil || len(items) != 1 || items[0].Doc.ID != ids[0] {
		t.Fatalf("inbox of %s: %+v %v (the acked one is not in it)", to1, items, err)
	}
	for _, o := range []string{to1, to2} {
		dl, err := db.Delivery(ctx, ids[1], o)
		if err != nil || dl.State != store.StateAckedDone {
			t.Errorf("acked delivery to %s: %+v %v", o, dl, err)
		}
	}
	evs, err := db.Events(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range evs {
		lines = append(lines, fmt.Sprintf("%s %s", e.Type, e.OrganID))
	}
	if want := []string{"received " + from, "verified " + from, "queued " + to1, "queued " + to2,
		"fetched " + to1, "acked " + to1, "fetched " + to2, "acked " + to2}; !slices.Equal(lines, want) {
		t.Fatalf("events %q, want %q", lines, want)
	}
	if evs[1].Detail != `signer="synthetic (never verified)" alg=synthetic revocation=off` {
		t.Errorf("verified event %q", evs[1].Detail)
	}
	if a, err := db.ActivityOf(ctx, to2); err != nil || !a.LastFetch.Equal(at.Add(time.Minute+4*time.Minute)) || !a.LastAck.Equal(at.Add(time.Minute+21*time.Minute)) {
		t.Errorf("activity of %s: %+v %v", to2, a, err)
	}
}
