package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

// benchAttachment is the size of the attachment of each envelope the
// intake benchmarks store (about 20 KB on the wire, as axis's intake
// benchmarks).
const benchAttachment = 14000

// BenchmarkPutEnvelope is one intake after another, each its own commit
// and fsync.
func BenchmarkPutEnvelope(b *testing.B) {
	pool := verifiedPool(b, 1, b.N, benchAttachment)
	db := storetest.Open(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := db.PutEnvelope(ctx, pool[i], local(testgen.Department), at, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutEnvelopeParallel is concurrent intake sharing commits.
func BenchmarkPutEnvelopeParallel(b *testing.B) {
	pool := verifiedPool(b, 1, b.N, benchAttachment)
	db := storetest.Open(b)
	var next atomic.Int64
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v := pool[next.Add(1)-1]
			if _, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchDocs is the size of the synthetic store the read benchmarks ask.
const benchDocs = 20_000

// benchStore fills a store with benchDocs synthetic documents among 60
// agencies over 30 days (most of them acked), as genstore does on a larger
// scale, and returns one document id of the last day.
func benchStore(b *testing.B) (*store.DB, string) {
	b.Helper()
	db := storetest.Open(b)
	organs := make([]string, 60)
	for i := range organs {
		organs[i] = fmt.Sprintf("000.%02d.%02d.H40", i%30, 31+i/30)
	}
	subjects := []string{"Công văn về việc báo cáo kết quả chuyển đổi số", "Kế hoạch phòng chống lụt bão năm",
		"Giấy mời họp giao ban", "Quyết định phê duyệt dự toán ngân sách", "Thông báo kết luận của Chủ tịch"}
	start := at.Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / benchDocs
	var docs []synthetic
	for i := range benchDocs {
		from, to := organs[i%len(organs)], organs[(i*7+1)%len(organs)]
		code := fmt.Sprintf("%d/UBND-VP", i/len(organs)+1)
		when := start.Add(time.Duration(i) * step)
		raw := fmt.Appendf(nil, `<edXMLEnvelope><From>%s</From><Code>%s</Code><Seq>%d</Seq><Body>%0900d</Body></edXMLEnvelope>`, from, code, i, i)
		docs = append(docs, synthetic{Raw: raw, From: from, Routes: local(to), Code: code,
			Subject: subjects[i%len(subjects)] + fmt.Sprintf(" đợt %d", i%12), DocumentID: fmt.Sprintf("%s,%s", from, code),
			At: when, Acked: i%10 != 0})
	}
	// In transactions of 1000, as genstore does in thousands: bbolt keeps a
	// transaction's dirty nodes unsplit until commit, so one transaction of
	// 20 000 documents spends minutes moving index entries around in memory.
	for len(docs) > 0 {
		n := min(1000, len(docs))
		if err := loadSynthetic(db, docs[:n]); err != nil {
			b.Fatal(err)
		}
		docs = docs[n:]
	}
	last, err := db.SentOn(ctx, organs[(benchDocs-1)%len(organs)], store.Day(start.Add((benchDocs-1)*step)), 1)
	if err != nil || len(last) != 1 {
		b.Fatal(last, err)
	}
	return db, last[0]
}

// BenchmarkReads asks a store of benchDocs documents the questions the hub
// and its console ask most.
func BenchmarkReads(b *testing.B) {
	db, id := benchStore(b)
	day := store.Day(day2)
	search := func(q store.Query) func() error {
		return func() error { _, err := db.Search(ctx, q); return err }
	}
	for _, r := range []struct {
		name string
		read func() error
	}{
		{"Search/notation", search(store.Query{Code: "15/UBND-VP"})},
		{"Search/subject", search(store.Query{Subject: "báo cáo chuyển đổi"})},
		{"Search/sender-day", search(store.Query{From: "000.01.31.H40", Since: day, Until: day})},
		{"Blob", func() error { _, err := db.Blob(ctx, id); return err }},
		{"Trace/three-reads", func() error {
			if _, err := db.Document(ctx, id); err != nil {
				return err
			}
			if _, err := db.Deliveries(ctx, id); err != nil {
				return err
			}
			_, err := db.Events(ctx, id)
			return err
		}},
		// Trace/three-reads in one read transaction.
		{"Trace/snapshot", func() error { _, _, _, err := db.Snapshot(ctx, id); return err }},
		{"Stats", func() error { _, err := db.Stats(ctx, day); return err }},
		{"AuditDay", func() error { _, err := db.AuditDay(ctx, day); return err }},
	} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type synthetic = storetest.Synthetic

func loadSynthetic(db *store.DB, docs []synthetic) error {
	return storetest.LoadSynthetic(ctx, db, docs)
}
