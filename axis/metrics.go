package axis

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/version"
	"github.com/axis-h40/axis/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The hub's metrics (README "Operations"; the alerts in
// deploy/prometheus/axis-rules.yml and the dashboard deploy/grafana/axis.json
// read them). Names are a contract: axis_ and base units (seconds, bytes),
// added, never renamed.
//
// Counters count since axisd started and start again from 0 at a restart
// (rate() and increase() allow for that; process_start_time_seconds, from
// the process collector, says when it started). Gauges read from the
// store are computed at scrape time, each from an index or a bucket's
// head (the comments at each say what one costs), never by reading every
// document: a scrape stays cheap on a store of a million documents
// (BenchmarkMillionMetrics, make bench-million: 34 ms median, 45 ms p95, on
// 2 vCPUs with the file in the page cache; most of it the full stuck list,
// about 25 ms, and the queue ages, about 13 ms).

// counterHelp ends the HELP of every counter.
const counterHelp = " Counted since axisd started (0 again after a restart; process_start_time_seconds)."

// metrics live in a registry per hub, so several hubs can run in one process
// (tests).
type metrics struct {
	reg           *prometheus.Registry
	intakeOnly    *prometheus.Registry // axis_intake_total alone (intakeErrors)
	intake        *prometheus.CounterVec
	verifySeconds prometheus.Histogram
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	relayed       *prometheus.CounterVec
	holdDecisions *prometheus.CounterVec
	push          *prometheus.CounterVec
	vdxpPoll      *prometheus.CounterVec
	leaseHeld     *prometheus.GaugeVec

	reconcileAt          prometheus.Gauge
	reconcileDuration    prometheus.Gauge
	reconcileDate        *prometheus.GaugeVec
	reconcileDiscrepancy *prometheus.GaugeVec
	reconcileRemaining   prometheus.Gauge
	reconcileAccepted    prometheus.Gauge

	// The last reconciliation's chain check (axis_event_chain_ok), known
	// once a run finished here or its kept report was read at the first
	// scrape (seedReconcile).
	recMu      sync.Mutex
	recKnown   bool
	recChainOK bool
	seedOnce   sync.Once

	peers peerHealth
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		intake: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axis_intake_total", Help: "Envelopes posted, by result code (created, duplicate, held, or the error code)." + counterHelp,
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
			Name: "axis_http_requests_total", Help: "HTTP requests by route and status." + counterHelp,
		}, []string{"route", "status"}),
	}
	m.relayed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_relay_attempts_total", Help: "Relay attempts to peers, by result (relayed, retry, dead)." + counterHelp,
	}, []string{"peer", "result"})
	// One series per agency with a push_url (the directory bounds them) and
	// result: which agency's endpoint fails is the first question.
	m.push = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_push_attempts_total", Help: "Push deliveries to agencies' push_url, by agency and result (delivered, failed)." + counterHelp,
	}, []string{"organ_id", "result"})
	m.vdxpPoll = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_vdxp_poll_total", Help: "Polls of a VDXP peer for what waits for this hub (list, fetch, intake, confirm), by result (ok, error)." + counterHelp,
	}, []string{"peer", "result"})
	m.reconcileAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_last_run_timestamp_seconds", Help: "When the last reconciliation finished (Unix time; after a restart, from its kept report; 0: none kept)."})
	m.reconcileDuration = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_last_duration_seconds", Help: "How long the last reconciliation took."})
	m.reconcileDate = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "axis_reconcile_last_date_info", Help: "The day the last reconciliation covered (value 1)."}, []string{"date"})
	m.reconcileDiscrepancy = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "axis_reconcile_discrepancies", Help: "Discrepancies found by the last reconciliation, by kind."}, []string{"kind"})
	m.reconcileRemaining = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_remaining", Help: "Discrepancies of the last reconciliation not repaired."})
	m.reconcileAccepted = prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_reconcile_accepted", Help: "Envelopes accepted on the day the last reconciliation covered."})
	m.holdDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_hold_decisions_total", Help: "Held envelopes decided, by result (released, refused)." + counterHelp,
	}, []string{"result"})
	b := version.Info()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "axis_build_info",
		Help:        "Which build of axisd this is (value 1): the module version, the commit (unknown when the build recorded none), the Go version; axisd --version prints the same.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "go": b.Go}})
	buildInfo.Set(1)
	// One series per loop that a node may run (peers, pushing agencies,
	// hold, reconcile): which node runs what, on a shared store.
	m.leaseHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "axis_lease_held", Help: "1 while this node holds the lease of a loop that runs on one node of a shared store (cluster), 0 after it stopped holding it.",
	}, []string{"lease"})
	m.reg.MustRegister(m.holdDecisions, m.push, m.vdxpPoll, m.leaseHeld, buildInfo)
	m.intakeOnly = prometheus.NewRegistry()
	m.intakeOnly.MustRegister(m.intake)
	m.reg.MustRegister(m.reconcileAt, m.reconcileDuration, m.reconcileDate, m.reconcileDiscrepancy, m.reconcileRemaining, m.reconcileAccepted)
	// The process collector exports process_start_time_seconds (and the
	// process's CPU, memory and file descriptors).
	m.reg.MustRegister(m.relayed, m.intake, m.verifySeconds, m.commitSeconds, m.batchSize, m.httpRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Counter series are made at 0 when their loop starts, so that rate() and
// increase() see the first failure.

// watchRelay makes a relay loop's series for peer.
func (m *metrics) watchRelay(peer string) {
	for _, r := range []string{"relayed", "retry", "dead"} {
		m.relayed.WithLabelValues(peer, r)
	}
}

// outcomes is a counter of attempts by who and result, one result for
// success and one for failure.
type outcomes struct {
	vec      *prometheus.CounterVec
	ok, fail string
}

// watch makes who's two series at 0.
func (o outcomes) watch(who string) {
	o.vec.WithLabelValues(who, o.ok)
	o.vec.WithLabelValues(who, o.fail)
}

// count counts one attempt of who.
func (o outcomes) count(who string, ok bool) {
	r := o.fail
	if ok {
		r = o.ok
	}
	o.vec.WithLabelValues(who, r).Inc()
}

// push: deliveries to an agency's push_url; vdxpPolls: polls of a VDXP peer.
func (m *metrics) pushes() outcomes    { return outcomes{m.push, "delivered", "failed"} }
func (m *metrics) vdxpPolls() outcomes { return outcomes{m.vdxpPoll, "ok", "error"} }

// peerHealth is, per peer, when a relay last succeeded and last failed
// (in memory: since the hub started).
type peerHealth struct {
	mu sync.Mutex
	by map[string]*peerTimes
}

type peerTimes struct {
	success, failure time.Time
	lastOK           bool // the last attempt recorded succeeded
}

// up: the last attempt succeeded, or none failed (since the start).
func (t peerTimes) up() bool { return t.lastOK || t.failure.IsZero() }

// relayAttempt records one attempt to relay to peer at the hub's time at.
// A refusal that retrying cannot change (a PermanentError: the entry goes
// dead) is not recorded: the peer answered, and axis_relay_dead shows it.
func (m *metrics) relayAttempt(peer string, at time.Time, ok bool) {
	m.peers.mu.Lock()
	defer m.peers.mu.Unlock()
	if m.peers.by == nil {
		m.peers.by = map[string]*peerTimes{}
	}
	t := m.peers.by[peer]
	if t == nil {
		t = &peerTimes{}
		m.peers.by[peer] = t
	}
	if ok {
		t.success = at
	} else {
		t.failure = at
	}
	t.lastOK = ok
}

func (m *metrics) peerTimes(peer string) peerTimes {
	m.peers.mu.Lock()
	defer m.peers.mu.Unlock()
	if t := m.peers.by[peer]; t != nil {
		return *t
	}
	return peerTimes{}
}

// storeCollector reports queue and outbox depths at scrape time.
type storeCollector struct {
	db     *store.DB
	queue  *prometheus.Desc
	outbox *prometheus.Desc
	docs   *prometheus.Desc
}

// watchStore registers, at Open, what is read from the store at each
// scrape: the depths (storeCollector) and the hub's own (hubCollector).
func (m *metrics) watchStore(h *Hub) {
	m.reg.MustRegister(newHubCollector(h))
	db := h.db
	m.reg.MustRegister(&storeCollector{
		db:     db,
		queue:  prometheus.NewDesc("axis_queue_depth", "Documents and status messages waiting for an agency to ack.", []string{"organ_id"}, nil),
		outbox: prometheus.NewDesc("axis_outbox_depth", "Envelopes waiting to be relayed to a peer.", []string{"peer"}, nil),
		docs:   prometheus.NewDesc("axis_documents", "Envelopes stored.", nil, nil),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queue
	ch <- c.outbox
	ch <- c.docs
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Cost: the pages of each queue and outbox bucket (bbolt's KeyN): what
	// waits, not what was delivered.
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
	// Cost: O(1), the docs bucket's sequence.
	if n, err := c.db.Count(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.docs, prometheus.GaugeValue, float64(n))
	}
}

// overdueMetricCap bounds the processing-deadline count of one scrape.
const overdueMetricCap = 100_000

// stuckReasons are the stuck list's reasons, in its order (most actionable
// first): axis_stuck has one series for each, 0 included.
var stuckReasons = []string{"relay_dead", "held", "relay_retrying", "not_fetched", "not_acked", store.ReasonOverdueProcessing}

// hubCollector reports what needs the hub besides its store: its peers,
// its SLAs, the stuck list and the last reconciliation.
type hubCollector struct {
	h                                  *Hub
	relayDead, stuck, overdue          *prometheus.Desc
	unfetched, unacked, heldOldest     *prometheus.Desc
	slaFetch, slaAck, slaRelay         *prometheus.Desc
	peerUp, peerSuccess, peerFailure   *prometheus.Desc
	storeSize, storeFree, eventChainOK *prometheus.Desc
}

func newHubCollector(h *Hub) *hubCollector {
	d := prometheus.NewDesc
	return &hubCollector{h: h,
		relayDead: d("axis_relay_dead", "Relay entries given up on (dead) per peer, waiting for a re-drive (axisctl redrive); one per envelope.", []string{"peer"}, nil),
		stuck: d("axis_stuck", "The stuck list (axisctl stuck) counted by reason; the list stops at 1000 items, most actionable first "+
			"(relay_dead, held, relay_retrying, not_fetched, not_acked, overdue_processing), so past the cap the last reasons are undercounted.", []string{"reason"}, nil),
		overdue:    d("axis_overdue_processing", "Recipients that have not reported status 06 (done) by their document's DueDate, over the last 90 days of due dates (at most 100000 counted).", nil, nil),
		unfetched:  d("axis_oldest_unfetched_seconds", "Age of the oldest document waiting in an agency's queue not yet fetched (since the hub received it); only agencies that have one.", []string{"organ_id"}, nil),
		unacked:    d("axis_oldest_unacked_seconds", "Age of the oldest document an agency fetched (or was pushed) and has not acked (since the hub received it); only agencies that have one.", []string{"organ_id"}, nil),
		heldOldest: d("axis_held_oldest_seconds", "How long the oldest held envelope (revocation status unknown, trust.revocation.mode hold) has been held; absent when none is.", nil, nil),
		slaFetch:   d("axis_sla_fetch_seconds", "admin.sla_fetch: a local delivery not fetched after this is stuck (not_fetched).", nil, nil),
		slaAck:     d("axis_sla_ack_seconds", "admin.sla_ack: a delivery not acked after this is stuck (not_acked).", nil, nil),
		slaRelay:   d("axis_sla_relay_seconds", "admin.sla_relay: an outbox entry waiting longer is stuck (relay_retrying).", nil, nil),
		peerUp: d("axis_peer_up", "1 when the last relay attempt to the peer succeeded or none failed since axisd started, else 0 (a refusal for good, which makes a dead entry, does not count as down); peers this hub relays to (kinds axis and vdxp); on a shared store, from the node that runs the peer's relay.",
			[]string{"peer"}, nil),
		peerSuccess:  d("axis_peer_last_success_timestamp_seconds", "When a relay to the peer last succeeded (Unix time, hub clock); absent until one has since axisd started.", []string{"peer"}, nil),
		peerFailure:  d("axis_peer_last_failure_timestamp_seconds", "When a relay to the peer last failed (Unix time, hub clock); absent until one has since axisd started.", []string{"peer"}, nil),
		storeSize:    d("axis_store_size_bytes", "Size of the store file (DATA_DIR/axis.db) on disk; bbolt grows it and never shrinks it.", nil, nil),
		storeFree:    d("axis_store_free_pages", "Pages of the store file free for reuse (bbolt FreePageN + PendingPageN).", nil, nil),
		eventChainOK: d("axis_event_chain_ok", "1 when the last reconciliation verified the event log's hash chain, 0 when it found it broken; absent until a reconciliation ran (or its report is kept).", nil, nil),
	}
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.relayDead, c.stuck, c.overdue, c.unfetched, c.unacked, c.heldOldest, c.slaFetch, c.slaAck, c.slaRelay,
		c.peerUp, c.peerSuccess, c.peerFailure, c.storeSize, c.storeFree, c.eventChainOK} {
		ch <- d
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.h
	if h.Ready() != nil {
		return // not open yet, or closed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	now := h.now()

	// Configuration and memory: no store read.
	adm := h.Config().Admin
	gauge(c.slaFetch, adm.SLAFetch.Seconds())
	gauge(c.slaAck, adm.SLAAck.Seconds())
	gauge(c.slaRelay, adm.SLARelay.Seconds())
	peers := h.Directory().Peers()
	for _, p := range peers {
		if p.Kind == PeerPull {
			continue // no relay loop: it collects over VDXP
		}
		if !h.runsHere("peer:" + p.Name) {
			continue // another node of the store runs its relay: its answer, not ours (lease.go)
		}
		t := h.metrics.peerTimes(p.Name)
		up := 0.0
		if t.up() {
			up = 1
		}
		gauge(c.peerUp, up, p.Name)
		if !t.success.IsZero() {
			gauge(c.peerSuccess, float64(t.success.Unix()), p.Name)
		}
		if !t.failure.IsZero() {
			gauge(c.peerFailure, float64(t.failure.Unix()), p.Name)
		}
	}
	if known, ok := h.metrics.chainOK(); known {
		v := 0.0
		if ok {
			v = 1
		}
		gauge(c.eventChainOK, v)
	}

	// Cost: a stat of the file and bbolt's counters.
	if sp, err := h.db.Space(); err == nil {
		gauge(c.storeSize, float64(sp.FileBytes))
		gauge(c.storeFree, float64(sp.FreePages))
	}
	// Cost: the pages of the dead lists; every configured peer has a series.
	if dead, err := h.db.DeadDepths(ctx); err == nil {
		for _, p := range peers {
			if _, ok := dead[p.Name]; !ok {
				dead[p.Name] = 0
			}
		}
		for peer, n := range dead {
			gauge(c.relayDead, float64(n), peer)
		}
	}
	// Cost: per queue, its head (store.QueueAges: one or two entries, at
	// most store.QueueHeadScan).
	if ages, err := h.db.QueueAges(ctx); err == nil {
		for organ, a := range ages {
			if !a.Unfetched.IsZero() {
				gauge(c.unfetched, now.Sub(a.Unfetched).Seconds(), organ)
			}
			if !a.Unacked.IsZero() {
				gauge(c.unacked, now.Sub(a.Unacked).Seconds(), organ)
			}
		}
	}
	// Cost: the held index (one time per held envelope).
	if since, err := h.db.HeldOldest(ctx); err == nil && !since.IsZero() {
		gauge(c.heldOldest, now.Sub(since).Seconds())
	}
	// Cost: the stuck list as the console's dashboard reads it
	// (store.DB.Stuck: its items, at most StuckCap, each with its document's
	// record, plus one entry per queue and outbox, the held index and the
	// due-date index of the last 90 days; about 25 ms for a full list on the
	// million-document store). Its overdue items are the processing-deadline
	// count too when the list is not capped; only a capped list makes a
	// second, longer read of the due dates (what axis_overdue_processing
	// cost before, at every scrape).
	if items, err := h.Stuck(ctx, StuckCap); err == nil {
		n := map[string]int{}
		for _, it := range items {
			n[it.Reason]++
		}
		for _, r := range stuckReasons {
			gauge(c.stuck, float64(n[r]), r)
		}
		overdue := n[store.ReasonOverdueProcessing]
		if len(items) >= StuckCap {
			if all, err := h.db.OverdueProcessing(ctx, now, overdueMetricCap); err == nil {
				overdue = len(all)
			}
		}
		gauge(c.overdue, float64(overdue))
	}
}

// intakeErrors sums axis_intake_total over every result but created,
// duplicate and held (accepted, routed once decided): refusals since the
// hub started. It gathers the one counter (intakeOnly), not the whole
// registry, whose collectors read the store.
func (m *metrics) intakeErrors() int {
	fams, err := m.intakeOnly.Gather()
	if err != nil {
		return 0
	}
	n := 0.0
	for _, f := range fams {
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
	m.recMu.Lock()
	defer m.recMu.Unlock()
	m.publishReconcile(r, took)
}

// publishReconcile sets the reconciliation's gauges from r; recMu held.
func (m *metrics) publishReconcile(r *api.Report, took time.Duration) {
	m.recKnown, m.recChainOK = true, r.Totals.ChainOK
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

func (m *metrics) chainOK() (known, ok bool) {
	m.recMu.Lock()
	defer m.recMu.Unlock()
	return m.recKnown, m.recChainOK
}

// seedReconcile publishes, once, the run that finished last among the
// reports the hub kept (ReportsDir), unless a run finished since the
// start: the last run's time survives a restart, so AxisReconcileNotRun
// does not fire because axisd restarted. Cost, once: the newest reports'
// summaries and one report.json.
func (m *metrics) seedReconcile(h *Hub) {
	m.seedOnce.Do(func() {
		m.recMu.Lock()
		defer m.recMu.Unlock()
		if m.recKnown {
			return
		}
		runs, err := h.ReportRuns(7)
		if err != nil || len(runs) == 0 {
			return
		}
		last := runs[0]
		for _, r := range runs[1:] {
			if r.FinishedAt.After(last.FinishedAt) {
				last = r
			}
		}
		if last.FinishedAt.IsZero() {
			return // a report without a readable summary
		}
		if f, err := h.ReportFile(last.Date, "report.json"); err == nil {
			var full api.Report
			if json.NewDecoder(f).Decode(&full) == nil && full.Date == last.Date {
				last = full
			}
			f.Close()
		}
		m.publishReconcile(&last, last.FinishedAt.Sub(last.StartedAt))
	})
}

// MetricsHandler serves the hub's metrics in the Prometheus text format.
// The first scrape reads the last kept reconciliation report before it
// gathers (collectors are gathered concurrently).
func (h *Hub) MetricsHandler() http.Handler {
	gather := promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.metrics.seedReconcile(h)
		gather.ServeHTTP(w, r)
	})
}

// CountRequest counts one HTTP answer in axis_http_requests_total by route
// pattern and status.
func (h *Hub) CountRequest(route string, status int) {
	h.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// archiveCollector reports the archives at scrape time: the last anchor
// (one meta key), the seals (the archives bucket: one key a day) and the
// documents waiting to settle (as the archive loop last counted them).
type archiveCollector struct {
	h                                     *Hub
	lastAnchor, anchorEvery               *prometheus.Desc
	lastSealed, sealedDays, bytes, unsett *prometheus.Desc
}

func (m *metrics) watchArchive(h *Hub) {
	if h.anchor == nil && h.archive == nil {
		return
	}
	d := prometheus.NewDesc
	m.reg.MustRegister(&archiveCollector{h: h,
		lastAnchor:  d("axis_archive_last_anchor_timestamp_seconds", "When the event chain was last anchored: the time in the last time-stamp token (Unix time); absent until the first.", nil, nil),
		anchorEvery: d("axis_archive_anchor_every_seconds", "archive.anchor_every: how often the chain is anchored (AxisAnchorLate compares with it).", nil, nil),
		lastSealed:  d("axis_archive_last_sealed_day_timestamp_seconds", "The start (Asia/Ho_Chi_Minh) of the latest day whose archive is sealed (Unix time); absent until the first.", nil, nil),
		sealedDays:  d("axis_archive_sealed_days", "Days whose archive is sealed.", nil, nil),
		bytes:       d("axis_archive_bytes", "Bytes of the sealed archive files, as sealed.", nil, nil),
		unsett:      d("axis_archive_unsettled_documents", "Documents of closed days not sealed yet that wait to settle (a recipient to ack, a relay to confirm), as the archive loop last counted them.", nil, nil),
	})
}

func (c *archiveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lastAnchor, c.anchorEvery, c.lastSealed, c.sealedDays, c.bytes, c.unsett} {
		ch <- d
	}
}

func (c *archiveCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.h
	if h.Ready() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	if h.anchor != nil {
		gauge(c.anchorEvery, h.cfg.Archive.AnchorEvery.Seconds())
		if a, err := h.db.LastAnchor(ctx); err == nil && a != nil {
			gauge(c.lastAnchor, float64(a.Time.UnixNano())/1e9)
		}
	}
	if h.archive == nil {
		return
	}
	gauge(c.unsett, float64(h.archive.unsettled.Load()))
	seals, err := h.db.Seals(ctx)
	if err != nil {
		return
	}
	var total int64
	for _, s := range seals {
		total += s.Bytes
	}
	gauge(c.sealedDays, float64(len(seals)))
	gauge(c.bytes, float64(total))
	if n := len(seals); n > 0 {
		if t, err := time.ParseInLocation("2006-01-02", seals[n-1].Day, store.Zone); err == nil {
			gauge(c.lastSealed, float64(t.Unix()))
		}
	}
}
