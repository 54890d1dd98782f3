package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

// threeDays loads 2026-05-29..31, n documents a day from the commune to the
// department at 09:00 + i minutes, acked unless unacked says so.
func threeDays(t *testing.T, db *store.DB, n int, unacked map[string]bool) map[string][]string {
	t.Helper()
	ids := map[string][]string{}
	for _, day := range []string{"2026-05-29", "2026-05-30", "2026-05-31"} {
		d0, _ := time.ParseInLocation("2006-01-02", day, store.Zone)
		var docs []storetest.Synthetic
		for i := range n {
			code := fmt.Sprintf("%d/%s/UBND-VP", i+1, day)
			docs = append(docs, storetest.Synthetic{Raw: []byte(fmt.Sprintf("<envelope day=%q n=%d/>", day, i)), From: testgen.Commune,
				Routes: []record.Route{{OrganID: testgen.Department}}, Code: code, Subject: "Báo cáo " + day, DocumentID: code,
				At: d0.Add(9*time.Hour + time.Duration(i)*time.Minute), Acked: !unacked[day]})
		}
		if err := storetest.LoadSynthetic(context.Background(), db, docs); err != nil {
			t.Fatal(err)
		}
		got, err := db.DayDocs(context.Background(), day)
		if err != nil || len(got) != n {
			t.Fatalf("DayDocs(%s): %d, %v", day, len(got), err)
		}
		for _, d := range got {
			ids[day] = append(ids[day], d.ID)
		}
	}
	return ids
}

// A day's chain segment is the events recorded that day: SegmentEnd of a
// day's end is the last event before it, and the next event is the next
// day's first.
func TestSegmentEnd(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	threeDays(t, db, 4, nil)
	// Each synthetic, acked document is 5 events: received, verified,
	// queued, fetched, acked.
	for i, day := range []string{"2026-05-29", "2026-05-30", "2026-05-31"} {
		d0, _ := time.ParseInLocation("2006-01-02", day, store.Zone)
		start, _, err := db.SegmentEnd(ctx, d0)
		if err != nil {
			t.Fatal(err)
		}
		end, hash, err := db.SegmentEnd(ctx, d0.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if start != uint64(20*i) || end != uint64(20*(i+1)) || len(hash) != 64 {
			t.Errorf("%s: events %d..%d (%s), want %d..%d", day, start+1, end, hash, 20*i+1, 20*(i+1))
		}
	}
	if end, hash, _ := db.SegmentEnd(ctx, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); end != 0 || hash != "" {
		t.Errorf("before the first event: %d %q", end, hash)
	}
}

// Retire takes the settled documents' bytes and the day's chain segment
// (as sealed) out of the hot store and marks the day's documents with
// their archive; records and deliveries stay. The chain then verifies from
// its base, the consistency check holds, and a document not settled keeps
// its bytes until a later Retire finds it settled.
func TestRetire(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	ids := threeDays(t, db, 3, map[string]bool{"2026-05-30": true})
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := db.Retire(ctx, "2026-05-29", at); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Fatalf("retire of a day not sealed: %v", err)
	}
	seal := func(day string, start, end uint64) {
		t.Helper()
		var sh, eh string
		db.EventRange(ctx, start, end, func(e *record.Event) error {
			if e.Seq == start {
				sh = e.Hash
			}
			if e.Seq == end {
				eh = e.Hash
			}
			return nil
		})
		if start == 0 {
			sh = ""
		}
		if err := db.RecordSeal(ctx, record.Sealed{Day: day, File: day + ".zip", Documents: 3, Start: start, StartHash: sh, End: end, EndHash: eh, SealedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	seal("2026-05-29", 0, 15)  // 3 acked documents, 5 events each
	seal("2026-05-30", 15, 24) // 3 documents not acked, 3 events each
	seal("2026-05-31", 24, 39)
	// Out of order: the 31st's segment does not follow the chain's start.
	if _, _, err := db.Retire(ctx, "2026-05-31", at); err == nil || !strings.Contains(err.Error(), "retire the days before it first") {
		t.Fatalf("retire out of order: %v", err)
	}
	retired, kept, err := db.Retire(ctx, "2026-05-29", at)
	if err != nil || retired != 3 || kept != 0 {
		t.Fatalf("retire: %d retired, %d kept, %v", retired, kept, err)
	}
	id := ids["2026-05-29"][0]
	d, err := db.Document(ctx, id)
	if err != nil || d.Archive != "2026-05-29.zip" || d.Code != "1/2026-05-29/UBND-VP" {
		t.Fatalf("retired record: %+v %v", d, err)
	}
	if _, err := db.Blob(ctx, id); !errors.Is(err, store.ErrArchived) {
		t.Errorf("a retired document's bytes: %v, want ErrArchived", err)
	}
	if dls, err := db.Deliveries(ctx, id); err != nil || len(dls) != 1 || dls[0].State != store.StateAckedDone {
		t.Errorf("deliveries of a retired document: %v %v", dls, err)
	}
	if evs, _ := db.Events(ctx, id); len(evs) != 0 {
		t.Errorf("events of a retired document still in the store: %d", len(evs))
	}
	rep, err := db.VerifyChain(ctx)
	if err != nil || !rep.OK() || rep.BaseSeq != 15 {
		t.Fatalf("chain after retiring: %+v %v", rep, err)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	// Again: nothing changes, no new event.
	head, _, _ := db.ChainHead(ctx)
	if r, k, err := db.Retire(ctx, "2026-05-29", at); err != nil || r != 3 || k != 0 {
		t.Fatalf("again: %d %d %v", r, k, err)
	}
	if h2, _, _ := db.ChainHead(ctx); h2 != head {
		t.Errorf("retiring again appended events %d..%d", head+1, h2)
	}

	// The 30th: nothing acked; its documents keep their bytes, its segment goes.
	retired, kept, err = db.Retire(ctx, "2026-05-30", at)
	if err != nil || retired != 0 || kept != 3 {
		t.Fatalf("retire of an unsettled day: %d retired, %d kept, %v", retired, kept, err)
	}
	id30 := ids["2026-05-30"][0]
	if raw, err := db.Blob(ctx, id30); err != nil || len(raw) == 0 {
		t.Errorf("an unsettled document lost its bytes: %v", err)
	}
	if s, _ := db.Seal(ctx, "2026-05-30"); s == nil || s.Retired.IsZero() || s.Kept != 3 {
		t.Errorf("seal: %+v", s)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	// Acked later: the next Retire takes its bytes.
	if _, err := db.MarkFetched(ctx, id30, testgen.Department, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ack(ctx, id30, testgen.Department, true, "", at); err != nil {
		t.Fatal(err)
	}
	if r, k, err := db.Retire(ctx, "2026-05-30", at.Add(time.Hour)); err != nil || r != 1 || k != 2 {
		t.Fatalf("retire after an ack: %d retired, %d kept, %v", r, k, err)
	}
	if _, err := db.Blob(ctx, id30); !errors.Is(err, store.ErrArchived) {
		t.Errorf("acked since: %v", err)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	if s, _ := db.Search(ctx, store.Query{Code: "2/2026-05-29/UBND-VP"}); len(s.Docs) != 1 || s.Docs[0].Archive == "" {
		t.Errorf("search of a retired document: %+v", s.Docs)
	}
}

// An anchor must name an event of the chain with its hash.
func TestAppendAnchorRefusesAnotherHash(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	threeDays(t, db, 1, nil)
	seq, head, _ := db.ChainHead(ctx)
	_, err := db.AppendAnchor(ctx, record.Anchor{Seq: seq, Hash: strings.Repeat("0", 64), Time: time.Now()}, "x", time.Now())
	if err == nil || !strings.Contains(err.Error(), "but the event's hash is "+head) {
		t.Fatalf("anchor over another hash: %v", err)
	}
	if _, err := db.AppendAnchor(ctx, record.Anchor{Seq: seq + 5, Hash: head}, "x", time.Now()); err == nil || errors.Is(err, nil) {
		t.Fatalf("anchor of an event not there: %v", err)
	}
	if a, _ := db.LastAnchor(ctx); a != nil {
		t.Fatalf("a refused anchor was kept: %+v", a)
	}
}
