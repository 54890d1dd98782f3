package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// The administrator's daily questions against a store of a million
// documents: make bench-million fills one with internal/cmd/genstore (the
// demo province's 258 agencies, a year of traffic) and points
// AXIS_MILLION_STORE at it. Each benchmark reports the median and p95 of
// whole HTTP round trips through the real axisd wiring.

var (
	millionOnce sync.Once
	millionMain *Main
	millionErr  error
)

// startMillion opens the big store once per process and keeps it open for
// every benchmark (and every b.N round): bbolt rebuilds its freelist by
// reading every page at open, about 15 s on 8.6 GB, which is not what is
// being measured.
func startMillion(b *testing.B) *Main {
	b.Helper()
	path := os.Getenv("AXIS_MILLION_STORE")
	if path == "" {
		b.Skip("AXIS_MILLION_STORE is not set (make bench-million)")
	}
	if filepath.Base(path) != "axis.db" {
		b.Fatalf("AXIS_MILLION_STORE must name an axis.db file, got %s", path)
	}
	// Not run(): the hub outlives this benchmark, and its store check
	// would read all 8.6 GB.
	millionOnce.Do(func() {
		m := newMain(b, demoConfig, "--listen", "127.0.0.1:0", "--data-dir", filepath.Dir(path))
		m.Config.Peers = nil
		m.Options.Now = func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }
		t0 := time.Now()
		if millionErr = m.Run(context.Background()); millionErr == nil {
			millionMain = m
			fmt.Fprintf(os.Stderr, "opened %s in %s\n", path, time.Since(t0).Round(time.Millisecond))
		}
	})
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	if millionMain == nil {
		b.Fatal("the million store did not open (see the first benchmark)")
	}
	return millionMain
}

// sample picks n documents spread over the store's year.
func sample(b *testing.B, m *Main, n int) []record.Document {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var out []record.Document
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, store.Zone)
	for len(out) < n {
		day := store.Day(start.Add(time.Duration(rng.IntN(365)) * 24 * time.Hour))
		r, err := m.Hub.Store().Search(context.Background(), store.Query{Since: day, Until: day, Limit: 50})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Docs) > 0 {
			out = append(out, r.Docs[rng.IntN(len(r.Docs))])
		}
	}
	return out
}

// roundTripsWith times one GET per iteration (paths cycled) with hc and
// reports the median and p95 in milliseconds.
func roundTripsWith(b *testing.B, m *Main, hc *http.Client, paths []string, check func(status int, body []byte) error) {
	b.Helper()
	get := func(p string) (int, []byte) {
		r := send(b, hc, newRequest(b, "GET", m.URL()+p, testgen.DemoAdminToken, nil, nil))
		return r.status, r.body
	}
	for _, p := range paths[:min(len(paths), 5)] { // warm the page cache a little, check answers
		if status, body := get(p); check(status, body) != nil {
			b.Fatalf("%s: %v", p, check(status, body))
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		status, body := get(paths[i%len(paths)])
		lat = append(lat, time.Since(t0))
		if err := check(status, body); err != nil {
			b.Fatalf("%s: %v", paths[i%len(paths)], err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "ms-p95")
}

func okAnd(contains string) func(int, []byte) error {
	return func(status int, body []byte) error {
		if status != 200 {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		if !bytes.Contains(body, []byte(contains)) {
			return fmt.Errorf("answer lacks %q: %.200s", contains, body)
		}
		return nil
	}
}

// benchDocs times the GETs path makes of 200 documents spread over the
// store's year, by the admin API or, with console, the signed-in console;
// each answer must hold want.
func benchDocs(b *testing.B, console bool, want string, path func(d record.Document) string) {
	m := startMillion(b)
	var paths []string
	for _, d := range sample(b, m, 200) {
		paths = append(paths, path(d))
	}
	hc := &http.Client{}
	if console {
		hc = consoleAdmin(b, m)
	}
	roundTripsWith(b, m, hc, paths, okAnd(want))
}

func BenchmarkMillionSearchNotation(b *testing.B) {
	benchDocs(b, false, `"documents":[{`, func(d record.Document) string {
		return "/admin/v1/search?" + url.Values{"code": {d.Code}}.Encode()
	})
}

func BenchmarkMillionSearchNotationAndSender(b *testing.B) {
	benchDocs(b, false, `"documents":[{`, func(d record.Document) string {
		return "/admin/v1/search?" + url.Values{"code": {d.Code}, "from": {d.From}}.Encode()
	})
}

func BenchmarkMillionSearchSubjectWords(b *testing.B) {
	benchDocs(b, false, `"documents":[{`, func(d record.Document) string {
		w := store.Words(d.Subject)
		return "/admin/v1/search?" + url.Values{"subject": {w[0] + " " + w[len(w)-1]}, "from": {d.From}}.Encode()
	})
}

func BenchmarkMillionSearchSubjectOnly(b *testing.B) {
	benchDocs(b, false, `"documents":[{`, func(d record.Document) string {
		w := store.Words(d.Subject)
		return "/admin/v1/search?" + url.Values{"subject": {w[0] + " " + w[1] + " " + w[len(w)-1]}}.Encode()
	})
}

func BenchmarkMillionDocumentTrace(b *testing.B) {
	benchDocs(b, false, `"events":[{`, func(d record.Document) string { return "/admin/v1/documents/" + d.ID + "/trace" })
}

// The console's document page (record, recipients, timeline), rendered.
func BenchmarkMillionConsoleDocumentPage(b *testing.B) {
	benchDocs(b, true, `id="timeline"`, func(d record.Document) string { return "/admin/documents/" + d.ID })
}

// The console's search page by notation, rendered.
func BenchmarkMillionConsoleSearchNotation(b *testing.B) {
	benchDocs(b, true, `class="result"`, func(d record.Document) string {
		return "/admin/search?" + url.Values{"code": {d.Code}}.Encode()
	})
}

// The console's other pages on the big store: the dashboard (today's
// count, queues, stuck, peers), the stuck list, the agencies list, an
// agency's page (with its overdue documents and 30-day chart), the
// statistics (a day per agency and the hub's 30-day chart; the chart's past
// days are counted once per process, so this is the warm page), the CSV
// exports and the overdue search.
func BenchmarkMillionConsolePages(b *testing.B) {
	m := startMillion(b)
	for _, c := range []struct{ name, path, want string }{
		{"dashboard", "/admin/", `id="dashboard"`},
		{"stuck", "/admin/stuck", `id="stuck"`},
		{"stuck-api", "/admin/v1/stuck", `"items"`},
		{"agencies", "/admin/agencies", "000.07.35.H40"},
		{"agency", "/admin/agencies/000.07.35.H40", `id="volume-chart"`},
		{"stats", "/admin/stats", `id="volume-chart"`},
		{"stats-csv", "/admin/stats?format=csv", "000.07.35.H40"},
		{"stuck-csv", "/admin/stuck?format=csv", "Lý do"},
		{"search-overdue", "/admin/search?state=overdue_processing&to=000.00.11.H40", `id="search-form"`},
	} {
		b.Run(c.name, func(b *testing.B) {
			roundTripsWith(b, m, consoleAdmin(b, m), []string{c.path}, okAnd(c.want))
		})
	}
}
