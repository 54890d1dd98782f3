package axis

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics live in a registry per hub, so several hubs can run in one process
// (tests).
type metrics struct {
	reg           *prometheus.Registry
	intake        *prometheus.CounterVec
	verifySeconds prometheus.Histogram
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	relayed       *prometheus.CounterVec
	holdDecisions *prometheus.CounterVec

	reconcileAt          prometheus.Gauge
	reconcileDuration    prometheus.Gauge
	reconcileDate        *prometheus.GaugeVec
	reconcileDiscrepancy *prometheus.GaugeVec
	reconcileRemaining   prometheus.Gauge
	reconcileAccepted    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		intake: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axis_intake_total", Help: "Envelopes posted, by result code (created, duplicate, or the error code).",
		}, []string{"result"}),
		verifySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "axis_verify_seconds", Help: "Time to verify one envelope.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "axis_commit_seconds", Help: "Time from handing an intake to the store until its transaction is on disk.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "axis_commit_batch_size", Help: "Intakes and acks sharing one store commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axis_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
	}
	m.relayed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_relay_attempts_total", Help: "Relay attempts to peers, by result (relayed, retry, dead).",
	}, []string{"peer", "result"})
	m.reconcileAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_last_run_timestamp_seconds", Help: "When the last reconciliation finished (Unix time)."})
	m.reconcileDuration = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_last_duration_seconds", Help: "How long the last reconciliation took."})
	m.reconcileDate = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "axis_reconcile_last_date_info", Help: "The day the last reconciliation covered (value 1)."}, []string{"date"})
	m.reconcileDiscrepancy = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "axis_reconcile_discrepancies", Help: "Discrepancies found by the last reconciliation, by kind."}, []string{"kind"})
	m.reconcileRemaining = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_remaining", Help: "Discrepancies of the last reconciliation not repaired."})
	m.reconcileAccepted = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_accepted", Help: "Envelopes accepted on the day the last reconciliation covered."})
	m.holdDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_hold_decisions_total", Help: "Held envelopes decided, by result (released, refused).",
	}, []string{"result"})
	m.reg.MustRegister(m.holdDecisions)
	m.reg.MustRegister(m.reconcileAt, m.reconcileDuration, m.reconcileDate, m.reconcileDiscrepancy, m.reconcileRemaining, m.reconcileAccepted)
	m.reg.MustRegister(m.relayed, m.intake, m.verifySeconds, m.commitSeconds, m.batchSize, m.httpRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// storeCollector reports queue and outbox depths at scrape time.
type storeCollector struct {
	db      *store.DB
	now     func() time.Time
	queue   *prometheus.Desc
	outbox  *prometheus.Desc
	docs    *prometheus.Desc
	overdue *prometheus.Desc
}

// overdueMetricCap bounds the processing-deadline count of one scrape.
const overdueMetricCap = 100_000

func (m *metrics) watchStore(db *store.DB, now func() time.Time) {
	m.reg.MustRegister(&storeCollector{
		db:      db,
		now:     now,
		overdue: prometheus.NewDesc("axis_overdue_processing", "Recipients that have not reported status 06 (done) by their document's DueDate, over the last 90 days of due dates (at most 100000 counted).", nil, nil),
		queue:   prometheus.NewDesc("axis_queue_depth", "Documents and status messages waiting for an agency to ack.", []string{"organ_id"}, nil),
		outbox:  prometheus.NewDesc("axis_outbox_depth", "Envelopes waiting to be relayed to a peer.", []string{"peer"}, nil),
		docs:    prometheus.NewDesc("axis_documents", "Envelopes stored.", nil, nil),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queue
	ch <- c.outbox
	ch <- c.docs
	ch <- c.overdue
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if q, err := c.db.QueueDepths(ctx); err == nil {
		for organ, n := range q {
			ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(n), organ)
		}
	}
	if o, err := c.db.OutboxDepths(ctx); err == nil {
		for peer, n := range o {
			ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(n), peer)
		}
	}
	if n, err := c.db.Count(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.docs, prometheus.GaugeValue, float64(n))
	}
	if items, err := c.db.OverdueProcessing(ctx, c.now(), overdueMetricCap); err == nil {
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(len(items)))
	}
}

// intakeErrors sums axis_intake_total over every result but created,
// duplicate and held (accepted, routed once decided): refusals since the
// hub started.
func (m *metrics) intakeErrors() int {
	fams, err := m.reg.Gather()
	if err != nil {
		return 0
	}
	n := 0.0
	for _, f := range fams {
		if f.GetName() != "axis_intake_total" {
			continue
		}
		for _, x := range f.GetMetric() {
			ok := false
			for _, l := range x.GetLabel() {
				if l.GetName() == "result" && (l.GetValue() == "created" || l.GetValue() == "duplicate" || l.GetValue() == "held") {
					ok = true
				}
			}
			if !ok {
				n += x.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

// reconciled publishes the last reconciliation's outcome.
func (m *metrics) reconciled(r *api.Report, took time.Duration) {
	m.reconcileAt.Set(float64(r.FinishedAt.Unix()))
	m.reconcileDuration.Set(took.Seconds())
	m.reconcileDate.Reset()
	m.reconcileDate.WithLabelValues(r.Date).Set(1)
	for _, k := range api.DiscrepancyKinds {
		n := 0
		for _, d := range r.Discrepancies {
			if d.Kind == k {
				n++
			}
		}
		m.reconcileDiscrepancy.WithLabelValues(k).Set(float64(n))
	}
	m.reconcileRemaining.Set(float64(r.Totals.Remaining))
	m.reconcileAccepted.Set(float64(r.Totals.Accepted))
}

// MetricsHandler serves the hub's metrics in the Prometheus text format.
func (h *Hub) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})
}

// CountRequest counts one HTTP answer in axis_http_requests_total by route
// pattern and status.
func (h *Hub) CountRequest(route string, status int) {
	h.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}
