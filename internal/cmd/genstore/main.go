// Command genstore fills a store with synthetic documents for benchmarks:
// the demo province's 258 agencies sending each other a year of mail, with
// realistic notations (the same "15/UBND-VP" issued by many communes) and
// Vietnamese subjects. It writes through storetest.LoadSynthetic (the same code
// as intake, without signatures), in transactions of -batch documents.
//
//	go run ./internal/cmd/genstore -n 1000000 -out var/bench-1m/axis.db
//	go run ./internal/cmd/genstore -n 100000 -start 2026-06-01T00:00:00Z -span 16h -out var/day-100k/axis.db
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

var subjects = []string{
	"Công văn về việc báo cáo kết quả chuyển đổi số", "Kế hoạch phòng chống lụt bão năm", "Giấy mời họp giao ban",
	"Quyết định phê duyệt dự toán ngân sách", "Thông báo kết luận của Chủ tịch", "Báo cáo tình hình kinh tế xã hội",
	"Tờ trình về việc điều chỉnh quy hoạch", "Công văn đôn đốc nộp báo cáo thống kê", "Kế hoạch tổ chức lễ kỷ niệm",
	"Hướng dẫn thực hiện cải cách hành chính", "Quyết định thành lập tổ công tác", "Thông báo lịch tiếp công dân",
	"Báo cáo công tác phòng chống dịch bệnh", "Công văn về việc rà soát hộ nghèo", "Kế hoạch kiểm tra an toàn thực phẩm",
}
var notations = []string{"UBND-VP", "UBND-KT", "QĐ-UBND", "KH-UBND", "TB-UBND", "BC-UBND", "TTr-UBND", "CV-STTTT"}
var topics = []string{"quý I", "quý II", "quý III", "quý IV", "tháng 6", "đợt 2", "năm 2026", "trên địa bàn xã", "của huyện Hải Hậu", "giai đoạn 2026-2030"}

func main() {
	n := flag.Int("n", 1_000_000, "documents")
	out := flag.String("out", "var/bench-1m/axis.db", "store file (created; must not exist)")
	batch := flag.Int("batch", 5000, "documents per transaction")
	cfgPath := flag.String("config", "testdata/demo/axis-h40.yaml", "the directory to take agencies from")
	startAt := flag.String("start", "2025-12-01T01:00:00Z", "the first document's time (RFC 3339)")
	span := flag.Duration("span", 365*24*time.Hour, "the documents are spread evenly over this long")
	flag.Parse()
	cfg, err := axis.LoadConfig(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(*out); err == nil {
		log.Fatalf("%s exists", *out)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	db, err := store.Open(*out, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var organs []string
	for _, a := range cfg.Agencies {
		organs = append(organs, a.OrganID)
	}
	rng := rand.New(rand.NewPCG(2026, uint64(*n)))
	start, err := time.Parse(time.RFC3339, *startAt)
	if err != nil {
		log.Fatalf("-start: %v", err)
	}
	step := *span / time.Duration(*n)
	numbers := map[string]int{}
	t0 := time.Now()
	docs := make([]storetest.Synthetic, 0, *batch)
	for i := range *n {
		from := organs[rng.IntN(len(organs))]
		numbers[from]++
		code := fmt.Sprintf("%d/%s", numbers[from], notations[rng.IntN(len(notations))])
		var routes []record.Route
		for range 1 + rng.IntN(3) {
			to := organs[rng.IntN(len(organs))]
			if to != from && !slices.ContainsFunc(routes, func(r record.Route) bool { return r.OrganID == to }) {
				routes = append(routes, record.Route{OrganID: to})
			}
		}
		if len(routes) == 0 {
			routes = []record.Route{{OrganID: organs[(i+1)%len(organs)]}}
			if routes[0].OrganID == from {
				routes[0].OrganID = organs[(i+2)%len(organs)]
			}
		}
		at := start.Add(time.Duration(i) * step)
		subject := subjects[rng.IntN(len(subjects))] + " " + topics[rng.IntN(len(topics))]
		raw := fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?><edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLHeader><MessageHeader><From><OrganId>%s</OrganId></From><Code><CodeNumber>%s</CodeNumber></Code><Subject>%s</Subject><SyntheticSeq>%d</SyntheticSeq></MessageHeader></edXMLHeader><edXMLBody>%0800d</edXMLBody></edXMLEnvelope>`,
			from, code, subject, i, i)
		docs = append(docs, storetest.Synthetic{Raw: raw, From: from, Routes: routes, Code: code, Subject: subject,
			DocumentID: fmt.Sprintf("%s,%s,%s", from, at.Format("2006/01/02"), code), At: at, Acked: rng.IntN(100) < 97})
		if len(docs) == *batch || i == *n-1 {
			if err := storetest.LoadSynthetic(context.Background(), db, docs); err != nil {
				log.Fatal(err)
			}
			docs = docs[:0]
			if (i+1)%100_000 == 0 || i == *n-1 {
				log.Printf("%d documents, %s", i+1, time.Since(t0).Round(time.Second))
			}
		}
	}
	st, _ := os.Stat(*out)
	log.Printf("done: %d documents in %s, %d MB", *n, time.Since(t0).Round(time.Second), st.Size()>>20)
}
