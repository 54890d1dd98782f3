package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

// benchVerified is a pool of n distinct verified envelopes with a 14 KB
// attachment (about 20 KB on the wire, as axis's intake benchmarks).
func benchVerified(b *testing.B, n int) []*envelope.Verified {
	b.Helper()
	pool := make([]*envelope.Verified, n)
	for i := range pool {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("B%d", i)
		m.Attachments = append(m.Attachments, envelope.NewAttachment("cid:9", "a.bin", "application/zip", make([]byte, 14000)))
		pool[i] = fixture.Verified(b, m)
	}
	return pool
}

// BenchmarkPutEnvelope is one intake after another, each its own commit
// and fsync.
func BenchmarkPutEnvelope(b *testing.B) {
	pool := benchVerified(b, b.N)
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
	pool := benchVerified(b, b.N)
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
	day := store.Day(at.Add(-24 * time.Hour))
	for _, q := range []struct {
		name string
		q    store.Query
	}{
		{"Search/notation", store.Query{Code: "15/UBND-VP"}},
		{"Search/subject", store.Query{Subject: "báo cáo chuyển đổi"}},
		{"Search/sender-day", store.Query{From: "000.01.31.H40", Since: day, Until: day}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.Search(ctx, q.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Blob", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Blob(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Trace/three-reads", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Document(ctx, id); err != nil {
				b.Fatal(err)
			}
			if _, err := db.Deliveries(ctx, id); err != nil {
				b.Fatal(err)
			}
			if _, err := db.Events(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	benchSnapshot(b, db, id)
	b.Run("Stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Stats(ctx, day); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AuditDay", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.AuditDay(ctx, day); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type synthetic = storetest.Synthetic

func loadSynthetic(db *store.DB, docs []synthetic) error {
	return storetest.LoadSynthetic(ctx, db, docs)
}

// benchSnapshot is Trace/three-reads in one read transaction.
func benchSnapshot(b *testing.B, db *store.DB, id string) {
	b.Run("Trace/snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := db.Snapshot(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
