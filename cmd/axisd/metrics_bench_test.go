package main

import (
	"net/http"
	"testing"
)

// A scrape of /metrics on the million-document store (make bench-million):
// every collector, as Prometheus reads them, as a whole HTTP round trip.
// The store has about 30,000 documents never fetched, spread over the
// 258 agencies' queues and older than sla_fetch: the stuck list the scrape
// counts is full (1,000 items).
func BenchmarkMillionMetrics(b *testing.B) {
	m := startMillion(b)
	roundTripsWith(b, m, &http.Client{}, []string{"/metrics"}, okAnd(`axis_stuck{reason="not_fetched"} 1000`))
}
