package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testca"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/tsatest"
	"github.com/axis-h40/axis/internal/version"
	"github.com/axis-h40/axis/store"
	"go.yaml.in/yaml/v3"
)

// The hub's metrics as Prometheus scrapes them, on the real axisd wiring:
// the gauges' exact values in a known state (TestMetricsGauges), every
// metric the dashboard and the alerting rules read is one the hub exports
// and the rules fire on what it exports (TestMetricsDashboardAndRules), the
// last reconciliation survives a restart (TestMetricsReconcileAfterRestart).

// exposition is one scrape of /metrics in the text format: each family's
// type (from its # TYPE line) and each sample's value by its series as
// exposed (name{label="value",...}, labels sorted by name).
type exposition struct {
	types   map[string]string
	samples map[string]float64
}

func scrapeMetrics(t testing.TB, m *Main) exposition {
	t.Helper()
	r := call(t, m, "GET", "/metrics", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", r.status, r.body)
	}
	return parseExposition(t, string(r.body))
}

func parseExposition(t testing.TB, text string) exposition {
	t.Helper()
	e := exposition{types: map[string]string{}, samples: map[string]float64{}}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			e.types[f[0]] = f[1]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		e.samples[line[:i]] = v
	}
	return e
}

// metricSeries is a sample's name with its labels (name, value pairs) as /metrics
// writes it.
func metricSeries(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var pairs []string
	for i := 0; i < len(labels); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// want checks that each series has exactly its value.
func (e exposition) want(t testing.TB, want map[string]float64) {
	t.Helper()
	for s, v := range want {
		got, ok := e.samples[s]
		switch {
		case !ok:
			t.Errorf("/metrics has no %s (want %v)", s, v)
		case got != v:
			t.Errorf("%s = %v, want %v", s, got, v)
		}
	}
}

// absent checks that no sample has any of these series.
func (e exposition) absent(t testing.TB, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if v, ok := e.samples[s]; ok {
			t.Errorf("/metrics has %s %v, want none", s, v)
		}
	}
}

// family is the metric family a name read by PromQL belongs to: itself, or
// for a histogram's or summary's _bucket, _sum and _count series the
// family they belong to; "" when the hub exports none.
func (e exposition) family(name string) string {
	if _, ok := e.types[name]; ok {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := strings.CutSuffix(name, suffix); ok && (e.types[f] == "histogram" || e.types[f] == "summary") {
			return f
		}
	}
	return ""
}

// closedURL is the URL of a port nothing listens on (a peer that is down).
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// metricsDoc is the sample document number n from one demo organ to
// others, with its own notation and DocumentId, due ten days ago (within
// the stuck list's 90 days of due dates).
func metricsDoc(n, from string, to ...string) *envelope.Message {
	m := testgen.NewDocument()
	m.DueDate = time.Now().AddDate(0, 0, -10).In(store.Zone).Format("2006/01/02")
	m.From = testgen.Organ(from)
	m.To = organs(to...)
	m.Code.CodeNumber = n
	m.DocumentID = from + ",2026/05/28," + n + "/UBND-VP"
	m.TraceHeaders = []envelope.TraceHeader{{OrganID: from, Timestamp: "2026/05/28 08:30:00"}}
	return m
}

// unknownH41 is an organ h41 refuses for good.
const unknownH41 = "000.00.99.H41"

// metricsScene is a real hub in a known state, 25 hours (t1) after its
// first documents came in (t0), on a clock the test holds still:
//   - national (kind axis, routes *) is down: doc "dead" to the Văn phòng
//     Chính phủ failed at t0 and went dead at t1 (relay.dead_after 1h);
//   - h41 (kind axis, routes *.H41) is up: doc "relayed" went there at t0;
//     it refuses doc "refused" for good (422 unknown_recipient): dead at once,
//     and h41 is still up (it answered);
//   - vdxp (kind vdxp) is down: its polls fail;
//   - the department has doc "unfetched" waiting since t0 (admin.sla_fetch
//     24h: stuck, not_fetched);
//   - the commune fetched doc "unacked" (received at t0+1h) and did not ack;
//   - the province pushed doc "pushed" (its push_url answered 204) at t0;
//   - doc "held" is held since t0 (signed under a CA whose OCSP responder and
//     CRL do not answer; trust.revocation.mode hold).
//
// Every document was due ten days ago: those a recipient can still process
// (not dead, not held) are overdue for processing.
type metricsScene struct {
	m        *Main
	clock    *fixture.Clock
	t0, t1   time.Time
	docs     map[string]string
	h41, psh *httptest.Server
}

func startMetricsScene(t *testing.T) *metricsScene {
	t.Helper()
	ca := testca.New(t) // its responders never start: the held envelope's status stays unknown
	_, heldSigner := ca.Leaf(t, testgen.Commune, false)
	s := &metricsScene{docs: map[string]string{}}
	s.h41 = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/envelopes" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get(api.RecipientsHeader) == unknownH41 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(api.Problem{Code: "unknown_recipient", Detail: unknownH41 + " is not an agency here"})
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(api.Receipt{DocID: hex.EncodeToString(sum[:16]), SHA256: hex.EncodeToString(sum[:])})
	}))
	t.Cleanup(s.h41.Close)
	s.psh = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.psh.Close)
	national, vdxpDown := closedURL(t), closedURL(t)
	s.t0 = time.Now().UTC().Truncate(time.Second)
	s.t1 = s.t0.Add(25 * time.Hour)
	s.clock = fixture.NewClock(s.t0)
	s.m = startWith(t, func(m *Main) {
		m.Options.Now = s.clock.Now
		m.Options.Getenv = func(k string) string {
			if k == "AXIS_TEST_VDXP_SECRET" {
				return "test-secret"
			}
			return os.Getenv(k)
		}
	}, archived(tsatest.Start(t), t.TempDir(), time.Hour), func(c *axis.Config) {
		c.Trust.Roots = append(c.Trust.Roots, ca.RootFile())
		c.Trust.Revocation.Timeout.Duration = time.Second
		c.Trust.Revocation.Retry.Duration = time.Second
		c.Relay.RetryMin.Duration, c.Relay.RetryMax.Duration = 20*time.Millisecond, 200*time.Millisecond
		c.Relay.DeadAfter.Duration = time.Hour
		c.Peers = []axis.Peer{
			{Name: "h41", Kind: axis.PeerAxis, URL: s.h41.URL, Routes: []string{"*.H41"}, Token: "test-peer-token"},
			{Name: "vdxp", Kind: axis.PeerVDXP, URL: vdxpDown, Routes: []string{"*.G99"}, SystemID: "axis-h40", SecretEnv: "AXIS_TEST_VDXP_SECRET",
				PollInterval: axis.Duration{Duration: time.Second}, PollBatch: 10},
			{Name: "national", Kind: axis.PeerAxis, URL: national, Routes: []string{"*"}, Token: "test-peer-token"},
		}
		for i := range c.Agencies {
			if c.Agencies[i].OrganID == testgen.Province {
				c.Agencies[i].PushURL = s.psh.URL
			}
		}
	})
	m := s.m
	s.docs["dead"] = intake(t, m, testgen.Commune, fixture.Sign(t, metricsDoc("701", testgen.Commune, vpcp))).DocID
	s.docs["unfetched"] = intake(t, m, testgen.Commune, fixture.Sign(t, metricsDoc("702", testgen.Commune, testgen.Department))).DocID
	s.docs["relayed"] = intake(t, m, testgen.Commune, fixture.Sign(t, metricsDoc("703", testgen.Commune, deptH41))).DocID
	s.docs["pushed"] = intake(t, m, testgen.Commune, fixture.Sign(t, metricsDoc("704", testgen.Commune, testgen.Province))).DocID
	s.docs["refused"] = intake(t, m, testgen.Commune, fixture.Sign(t, metricsDoc("707", testgen.Commune, unknownH41))).DocID
	s.docs["held"] = held(t, m, testgen.Commune, fixture.SignWith(t, heldSigner, metricsDoc("705", testgen.Commune, testgen.Department)))
	waitRecipients(t, m, testgen.Commune, s.docs["relayed"], 1, "relayed to h41", inState(store.StateRelayed))
	waitRecipients(t, m, testgen.Commune, s.docs["pushed"], 1, "pushed to the province", inState(store.StateDelivered))
	waitRecipients(t, m, testgen.Commune, s.docs["refused"], 1, "refused for good by h41", inState(store.StateDead))
	waitRecipients(t, m, testgen.Commune, s.docs["dead"], 1, "a relay to national failed", func(r api.RecipientStatus) bool {
		return r.State == store.StateRelaying && r.Attempts > 0
	})

	s.clock.Set(s.t0.Add(time.Hour))
	s.docs["unacked"] = intake(t, m, testgen.Department, fixture.Sign(t, metricsDoc("706", testgen.Department, testgen.Commune))).DocID
	if r := call(t, m, "GET", "/api/v1/envelopes/"+s.docs["unacked"], tok(testgen.Commune), nil); r.status != http.StatusOK {
		t.Fatalf("fetch: %d %s", r.status, r.body)
	}

	s.clock.Set(s.t1)
	waitRecipients(t, m, testgen.Commune, s.docs["dead"], 1, "the relay to national goes dead", inState(store.StateDead))
	eventually(t, 10*time.Second, "a failed VDXP poll", func() bool {
		return scrapeMetrics(t, m).samples[metricSeries("axis_vdxp_poll_total", "peer", "vdxp", "result", "error")] > 0
	})
	if _, _, err := m.Hub.Anchor(t.Context(), "the scene"); err != nil { // axis_archive_last_anchor_timestamp_seconds
		t.Fatal(err)
	}
	return s
}

// reconcile runs the reconciliation of t0's day as the admin and returns
// its report.
func (s *metricsScene) reconcile(t *testing.T) api.Report {
	t.Helper()
	r := call(t, s.m, "POST", "/admin/v1/reconcile?date="+store.Day(s.t0), testgen.DemoAdminToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("reconcile: %d %s", r.status, r.body)
	}
	var rep api.Report
	r.json(t, &rep)
	return rep
}

// Done means 4: each gauge's exact value on a real hub with a dead relay,
// a held envelope and an unfetched document older than the SLA.
func TestMetricsGauges(t *testing.T) {
	s := startMetricsScene(t)
	e := scrapeMetrics(t, s.m)
	day := 24 * time.Hour
	age := func(d time.Duration) float64 { return d.Seconds() }
	e.want(t, map[string]float64{
		// needs a person
		metricSeries("axis_relay_dead", "peer", "national"):        1,
		metricSeries("axis_relay_dead", "peer", "h41"):             1, // refused for good: dead, and h41 is up
		metricSeries("axis_relay_dead", "peer", "vdxp"):            0,
		"axis_held_documents":                                      1,
		"axis_held_oldest_seconds":                                 age(25 * time.Hour),
		metricSeries("axis_stuck", "reason", "relay_dead"):         2,
		metricSeries("axis_stuck", "reason", "held"):               1,
		metricSeries("axis_stuck", "reason", "relay_retrying"):     0,
		metricSeries("axis_stuck", "reason", "not_fetched"):        1, // 25h > sla_fetch
		metricSeries("axis_stuck", "reason", "not_acked"):          0, // 24h and 25h < sla_ack
		metricSeries("axis_stuck", "reason", "overdue_processing"): 4, // unfetched, unacked, relayed, pushed
		"axis_overdue_processing":                                  4,
		// SLA ages, per agency that has one
		metricSeries("axis_oldest_unfetched_seconds", "organ_id", testgen.Department): age(25 * time.Hour),
		metricSeries("axis_oldest_unacked_seconds", "organ_id", testgen.Commune):      age(24 * time.Hour),
		metricSeries("axis_oldest_unacked_seconds", "organ_id", testgen.Province):     age(25 * time.Hour),
		"axis_sla_fetch_seconds": age(day),
		"axis_sla_ack_seconds":   age(3 * day),
		"axis_sla_relay_seconds": age(time.Hour),
		// queues
		metricSeries("axis_queue_depth", "organ_id", testgen.Department): 1,
		metricSeries("axis_queue_depth", "organ_id", testgen.Commune):    1,
		metricSeries("axis_queue_depth", "organ_id", testgen.Province):   1,
		metricSeries("axis_outbox_depth", "peer", "national"):            0,
		"axis_documents": 7,
		// peers
		metricSeries("axis_peer_up", "peer", "national"):                                   0,
		metricSeries("axis_peer_up", "peer", "h41"):                                        1,
		metricSeries("axis_peer_up", "peer", "vdxp"):                                       1, // nothing relayed to it: no failure
		metricSeries("axis_peer_last_failure_timestamp_seconds", "peer", "national"):       float64(s.t1.Unix()),
		metricSeries("axis_peer_last_success_timestamp_seconds", "peer", "h41"):            float64(s.t0.Unix()),
		metricSeries("axis_relay_attempts_total", "peer", "national", "result", "dead"):    1,
		metricSeries("axis_relay_attempts_total", "peer", "national", "result", "relayed"): 0,
		metricSeries("axis_relay_attempts_total", "peer", "h41", "result", "relayed"):      1,
		metricSeries("axis_relay_attempts_total", "peer", "h41", "result", "retry"):        0,
		metricSeries("axis_relay_attempts_total", "peer", "h41", "result", "dead"):         1,
		// push and VDXP polls
		metricSeries("axis_push_attempts_total", "organ_id", testgen.Province, "result", "delivered"): 1,
		metricSeries("axis_push_attempts_total", "organ_id", testgen.Province, "result", "failed"):    0,
		metricSeries("axis_vdxp_poll_total", "peer", "vdxp", "result", "ok"):                          0,
		// intake
		metricSeries("axis_intake_total", "result", "created"): 6,
		metricSeries("axis_intake_total", "result", "held"):    1,
		// no reconciliation yet
		"axis_reconcile_last_run_timestamp_seconds": 0,
		"axis_reconcile_remaining":                  0,
	})
	e.absent(t,
		metricSeries("axis_oldest_unfetched_seconds", "organ_id", testgen.Commune),
		metricSeries("axis_oldest_unfetched_seconds", "organ_id", testgen.Province),
		metricSeries("axis_oldest_unacked_seconds", "organ_id", testgen.Department),
		metricSeries("axis_peer_last_success_timestamp_seconds", "peer", "national"),
		metricSeries("axis_peer_last_failure_timestamp_seconds", "peer", "h41"),
		metricSeries("axis_peer_last_success_timestamp_seconds", "peer", "vdxp"),
		metricSeries("axis_peer_last_failure_timestamp_seconds", "peer", "vdxp"),
		"axis_event_chain_ok", // until a reconciliation
	)
	if v := e.samples[metricSeries("axis_relay_attempts_total", "peer", "national", "result", "retry")]; v < 1 {
		t.Errorf("national retries %v, want at least one before it went dead", v)
	}
	if v := e.samples[metricSeries("axis_vdxp_poll_total", "peer", "vdxp", "result", "error")]; v < 1 {
		t.Errorf("vdxp poll errors %v, want at least one", v)
	}

	// The build and the process.
	b := version.Info()
	if b.Go != runtime.Version() || b.Version == "" || b.Revision == "" {
		t.Errorf("build info %+v", b)
	}
	e.want(t, map[string]float64{metricSeries("axis_build_info", "version", b.Version, "revision", b.Revision, "go", b.Go): 1})
	if v := e.samples["process_start_time_seconds"]; v <= 0 || v > float64(time.Now().UnixNano())/1e9 {
		t.Errorf("process_start_time_seconds = %v", v)
	}

	// The store file: its size as the file system says, free pages as
	// bbolt counts them (nothing writes between the scrape and here: the
	// hub's loops are idle).
	sp, err := s.m.Hub.Store().Space()
	if err != nil {
		t.Fatal(err)
	}
	size := sp.FileBytes // on PostgreSQL: the tables' size, as the server says
	if s.m.Hub.Store().Engine() != axis.EnginePostgres {
		fi, err := os.Stat(filepath.Join(s.m.Config.DataDir, "axis.db"))
		if err != nil {
			t.Fatal(err)
		}
		size = fi.Size()
	}
	e.want(t, map[string]float64{"axis_store_size_bytes": float64(size), "axis_store_free_pages": float64(sp.FreePages)})

	// HELP says counters start again at a restart.
	r := call(t, s.m, "GET", "/metrics", "", nil)
	for _, c := range []string{"axis_intake_total", "axis_relay_attempts_total", "axis_push_attempts_total", "axis_vdxp_poll_total"} {
		if !strings.Contains(string(r.body), "# HELP "+c+" ") || !regexp.MustCompile(`# HELP `+c+` .*0 again after a restart; process_start_time_seconds`).Match(r.body) {
			t.Errorf("%s: HELP does not say it restarts from 0", c)
		}
	}

	// The reconciliation of t0's day: its verdict on /metrics.
	rep := s.reconcile(t)
	if !rep.Totals.ChainOK || rep.Totals.Remaining < 1 {
		t.Fatalf("report totals %+v: want the chain verified and the dead relay remaining", rep.Totals)
	}
	e = scrapeMetrics(t, s.m)
	e.want(t, map[string]float64{
		"axis_event_chain_ok":                       1,
		"axis_reconcile_last_run_timestamp_seconds": float64(s.t1.Unix()),
		"axis_reconcile_remaining":                  float64(rep.Totals.Remaining),
		"axis_reconcile_accepted":                   float64(rep.Totals.Accepted),
		metricSeries("axis_reconcile_last_date_info", "date", store.Day(s.t0)):          1,
		metricSeries("axis_reconcile_discrepancies", "kind", api.KindDeadRelay):         2,
		metricSeries("axis_reconcile_discrepancies", "kind", api.KindChainBroken):       0,
		metricSeries("axis_reconcile_discrepancies", "kind", api.KindMissingDelivery):   0,
		metricSeries("axis_reconcile_discrepancies", "kind", api.KindHashMismatch):      0,
		metricSeries("axis_reconcile_discrepancies", "kind", api.KindOverdueProcessing): float64(countKind(rep, api.KindOverdueProcessing)),
	})
}

func countKind(r api.Report, kind string) int {
	n := 0
	for _, d := range r.Discrepancies {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

// After a restart the last reconciliation's time and verdict come from
// its kept report, so AxisReconcileNotRun does not fire because axisd
// restarted.
func TestMetricsReconcileAfterRestart(t *testing.T) {
	m := start(t)
	intake(t, m, testgen.Commune, fixture.Sign(t, testgen.NewDocument()))
	day := store.Day(fixture.Now())
	r := call(t, m, "POST", "/admin/v1/reconcile?date="+day, testgen.DemoAdminToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("reconcile: %d %s", r.status, r.body)
	}
	var rep api.Report
	r.json(t, &rep)
	before := scrapeMetrics(t, m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	again := newMain(t, demoConfig, "--listen", "127.0.0.1:0", "--data-dir", m.Config.DataDir)
	again.Config.Peers = nil
	again.Options.Now = fixture.Now
	run(t, again)
	after := scrapeMetrics(t, again)
	want := map[string]float64{
		"axis_event_chain_ok":                                      1,
		"axis_reconcile_last_run_timestamp_seconds":                float64(rep.FinishedAt.Unix()),
		"axis_reconcile_last_duration_seconds":                     rep.FinishedAt.Sub(rep.StartedAt).Seconds(),
		"axis_reconcile_remaining":                                 float64(rep.Totals.Remaining),
		"axis_reconcile_accepted":                                  1,
		metricSeries("axis_reconcile_last_date_info", "date", day): 1,
	}
	for _, k := range api.DiscrepancyKinds {
		s := metricSeries("axis_reconcile_discrepancies", "kind", k)
		want[s] = before.samples[s]
	}
	after.want(t, want)
	if before.samples["axis_reconcile_last_run_timestamp_seconds"] != float64(rep.FinishedAt.Unix()) {
		t.Errorf("before the restart: last run %v, want %v", before.samples["axis_reconcile_last_run_timestamp_seconds"], rep.FinishedAt.Unix())
	}
}

// PromQL the dashboard and the rules hold: the names of the metrics an
// expression reads.

// promqlKeywords are PromQL's operators, modifiers and aggregations (which
// may come before their parenthesis, as in sum by (x) (...)); a function is
// any name followed by "(".
var promqlKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "bool": true,
	"offset": true, "and": true, "or": true, "unless": true, "atan2": true, "inf": true, "nan": true, "start": true, "end": true,
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "stddev": true, "stdvar": true, "topk": true, "bottomk": true,
	"quantile": true, "count_values": true, "group": true, "limitk": true, "limit_ratio": true,
}

var (
	// label lists: by (a, b), on (), group_left (c)
	promqlLabelList = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// a number or duration (0.95, 1e9, 0x1f, 5m), a Grafana variable, or a name
	promqlToken = regexp.MustCompile(`[0-9][0-9a-zA-Z_.]*|\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?|[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// promqlMetricNames returns the metric names expr reads, in order, once
// each: strings, label matchers ({...}), ranges ([...]) and label lists
// are dropped first, then every name that is not a keyword, a function
// (followed by "("), a number or a Grafana variable is a metric.
func promqlMetricNames(expr string) []string {
	var b strings.Builder
	var closer rune
	quote := rune(0)
	for _, r := range expr {
		switch {
		case quote != 0: // inside a string
			if r == quote {
				quote = 0
			}
			continue
		case closer != 0: // inside {...} or [...] (strings there are skipped above first)
			if r == '"' || r == '\'' || r == '`' {
				quote = r
			} else if r == closer {
				closer = 0
				b.WriteRune(' ')
			}
			continue
		case r == '"' || r == '\'' || r == '`':
			quote = r
			b.WriteString(` "" `)
			continue
		case r == '{':
			closer = '}'
			continue
		case r == '[':
			closer = ']'
			continue
		}
		b.WriteRune(r)
	}
	s := promqlLabelList.ReplaceAllString(b.String(), " ")
	var out []string
	for _, loc := range promqlToken.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if tok[0] >= '0' && tok[0] <= '9' || tok[0] == '$' || promqlKeywords[strings.ToLower(tok)] {
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

func TestMetricsPromQLNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`sum by (result) (rate(axis_intake_total{instance=~"$instance"}[$__rate_interval]))`, []string{"axis_intake_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(axis_verify_seconds_bucket{instance=~"$instance",le!="+Inf"}[5m])))`, []string{"axis_verify_seconds_bucket"}},
		{`axis_oldest_unfetched_seconds > on (instance, job) group_left () axis_sla_fetch_seconds`, []string{"axis_oldest_unfetched_seconds", "axis_sla_fetch_seconds"}},
		{"(time() - axis_reconcile_last_run_timestamp_seconds > 26 * 3600)\nunless on (instance, job)\n(axis_reconcile_last_run_timestamp_seconds == 0 and on (instance, job) (time() - process_start_time_seconds < 26 * 3600))",
			[]string{"axis_reconcile_last_run_timestamp_seconds", "process_start_time_seconds"}},
		{`node_filesystem_avail_bytes{mountpoint=~"/|/var", fstype!~"tmpfs"} / node_filesystem_size_bytes{mountpoint=~"/"} < 0.10 or predict_linear(node_filesystem_avail_bytes[6h], 24 * 3600) < 0`,
			[]string{"node_filesystem_avail_bytes", "node_filesystem_size_bytes"}},
		{`rate(a_total[5m] offset 1h) * 1e3 + b @ 1609746000 - c[1h:5m]`, []string{"a_total", "b", "c"}},
		{`sum without (instance) (a) / ignoring (peer) group_right (job) b`, []string{"a", "b"}},
		{`topk(10, axis_queue_depth{organ_id=~"000.*|x{y}"})`, []string{"axis_queue_depth"}},
		{`label_replace(up, "dst", "$1 by (x) rate(y)", "src", "(.*)") or vector(0)`, []string{"up"}},
		{`count(ALERTS{alertstate="firing"}) or sum (x) bool > 1`, []string{"ALERTS", "x"}},
		{`max ( axis_sla_fetch_seconds ) * ${factor} + 0x1F`, []string{"axis_sla_fetch_seconds"}},
	} {
		if got := promqlMetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("promqlMetricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// dashboardExprs walks a Grafana dashboard's panels (and the panels nested
// in collapsed rows) and returns each target's expression by where it is,
// with the templating variables' queries (label_values(METRIC, LABEL)).
func dashboardExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		SchemaVersion int               `json:"schemaVersion"`
		Panels        []json.RawMessage `json:"panels"`
		Templating    struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	var walk func(where string, raw []json.RawMessage)
	walk = func(where string, raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: panel: %v", path, err)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("%s: panel %q target %s has no expr", path, p.Title, tg.RefID)
				}
				out[where+p.Title+" "+tg.RefID] = tg.Expr
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no target", path, p.Title)
			}
			walk(where+p.Title+" / ", p.Panels)
		}
	}
	walk("", d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_]+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(v.Query, &q) != nil {
			json.Unmarshal(v.Query, &q.Query) // a plain string
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(METRIC, LABEL)", path, v.Name, q.Query)
			continue
		}
		out["variable "+v.Name] = m[1]
	}
	return out
}

// rulesExprs returns each alerting rule's expression by alert name.
func rulesExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out[r.Alert] = r.Expr
		}
	}
	return out
}

const (
	dashboardFile = "../../deploy/grafana/axis.json"
	rulesFile     = "../../deploy/prometheus/axis-rules.yml"
)

// Every metric the dashboard and the alerting rules read is a family a
// real hub exports (node_exporter's only in the rules' AxisDiskFilling);
// and on the series that hub exports, promtool fires exactly the alerts
// its state calls for.
func TestMetricsDashboardAndRules(t *testing.T) {
	s := startMetricsScene(t)
	rep := s.reconcile(t) // axis_event_chain_ok is there once one ran
	e := scrapeMetrics(t, s.m)

	check := func(file, where, expr string, nodeOK bool) []string {
		t.Helper()
		names := promqlMetricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %s: no metric in %q", file, where, expr)
		}
		for _, n := range names {
			if strings.HasPrefix(n, "node_") && nodeOK {
				continue
			}
			if e.family(n) == "" {
				t.Errorf("%s: %s reads %s, which the hub does not export (%q)", file, where, n, expr)
			}
		}
		return names
	}
	dash := dashboardExprs(t, dashboardFile)
	if len(dash) < 20 {
		t.Fatalf("%s: %d expressions", dashboardFile, len(dash))
	}
	read := map[string]bool{}
	for where, expr := range dash {
		for _, n := range check(dashboardFile, where, expr, false) {
			read[e.family(n)] = true
		}
	}
	// The panels the issue asks for read these.
	for _, f := range []string{"axis_intake_total", "axis_verify_seconds", "axis_commit_seconds", "axis_queue_depth", "axis_outbox_depth",
		"axis_oldest_unfetched_seconds", "axis_oldest_unacked_seconds", "axis_peer_up", "axis_peer_last_success_timestamp_seconds",
		"axis_relay_dead", "axis_held_documents", "axis_stuck", "axis_reconcile_last_run_timestamp_seconds", "axis_reconcile_remaining",
		"axis_event_chain_ok"} {
		if !read[f] {
			t.Errorf("%s: no panel reads %s", dashboardFile, f)
		}
	}
	rules := rulesExprs(t, rulesFile)
	var ruleNames []string
	for alert, expr := range rules {
		for _, n := range check(rulesFile, alert, expr, alert == "AxisDiskFilling") {
			if !strings.HasPrefix(n, "node_") && !slices.Contains(ruleNames, n) {
				ruleNames = append(ruleNames, n)
			}
		}
	}
	if len(rules) != 10 {
		t.Errorf("%s: %d alerts, want 10", rulesFile, len(rules))
	}

	// promtool on this scrape: the series the rules read, as this hub
	// exported them, for an hour.
	promtool := fixture.Tool(t, "promtool", "prometheus")
	var in strings.Builder
	var keys []string
	for k := range e.samples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, labels, _ := strings.Cut(k, "{")
		if !slices.Contains(ruleNames, name) {
			continue
		}
		labels = strings.TrimSuffix(labels, "}")
		if labels != "" {
			labels = "," + labels
		}
		fmt.Fprintf(&in, "      - series: '%s{instance=\"h40:8080\",job=\"axis\"%s}'\n        values: '%sx60'\n",
			name, strings.ReplaceAll(labels, "'", "''"), strconv.FormatFloat(e.samples[k], 'f', -1, 64))
	}
	// national and h41 have a dead relay each; the department's document
	// is past sla_fetch; one envelope held; national down.
	want := map[string]int{"AxisAgencyNotFetching": 1, "AxisDeadRelays": 2, "AxisHeldTooLong": 1, "AxisPeerUnreachable": 1}
	if rep.Totals.Remaining > 0 {
		want["AxisReconcileDiscrepancies"] = 1
	}
	var exp strings.Builder
	for a, n := range want {
		fmt.Fprintf(&exp, "          - {labels: '{alertname=\"%s\"}', value: %d}\n", a, n)
	}
	abs, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	test := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: count by (alertname) (ALERTS{alertstate="firing"})
        eval_time: 30m
        exp_samples:
%s`, abs, in.String(), exp.String())
	file := filepath.Join(t.TempDir(), "scrape.test.yml")
	if err := os.WriteFile(file, []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules on the scrape: %v\n%s\n%s", err, out, test)
	}
}
