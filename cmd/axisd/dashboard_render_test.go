package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/browser"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/version"
	"github.com/axis-h40/axis/store"
)

// The Grafana dashboard rendered with data, without Grafana (which Debian
// does not package): a real Prometheus scrapes a real hub in the state
// TestMetricsGauges checks (startMetricsScene), reconciled, with a few
// more intakes while it watches; every panel's every query of
// deploy/grafana/axis.json, its variables substituted as Grafana would,
// goes through Prometheus's HTTP API; each panel has data, and the values
// are the ones the state implies. The panels are drawn as a plain HTML page
// and photographed by headless Chromium (go test -artifacts: dashboard.html,
// dashboard.png, dashboard-values.json, prometheus.log).

// dashboardRateInterval stands for $__rate_interval and $__interval: about
// what Grafana makes of them for this dashboard's 24 hours on a screen
// (a minute or two), and longer than Prometheus has been running, so
// rate() sees every sample it scraped.
const dashboardRateInterval = "1m"

// dashboardExempt are the panels allowed to have no series at all in this
// state, with the reason. None: every panel's data is made to exist
// (a reconciliation ran, intakes and pushes happened while Prometheus
// scraped).
var dashboardExempt = map[string]string{}

// dashPanel is one panel of the dashboard, its targets' expressions as
// dashboardExprs found them.
type dashPanel struct {
	Row, Title, Type, Unit string
	Width                  int // of 24 columns
	Targets                []dashTarget
}

type dashTarget struct {
	RefID, Legend, Expr string
	Query               string // Expr with the variables substituted
	Series              []promSeries
}

// dashboardPanels lists the dashboard's panels in order (rows included,
// and the panels nested in collapsed rows after theirs), each target's
// expression taken from exprs (dashboardExprs: where → expr), every one of
// which is a panel's.
func dashboardPanels(t *testing.T, path string, exprs map[string]string) []dashPanel {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type raw struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		GridPos struct {
			W int `json:"w"`
		} `json:"gridPos"`
		FieldConfig struct {
			Defaults struct {
				Unit string `json:"unit"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
		Targets []struct {
			RefID  string `json:"refId"`
			Legend string `json:"legendFormat"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var out []dashPanel
	row := ""
	var walk func(where string, list []json.RawMessage)
	walk = func(where string, list []json.RawMessage) {
		for _, r := range list {
			var p raw
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type == "row" && where == "" {
				row = p.Title
			}
			dp := dashPanel{Row: row, Title: p.Title, Type: p.Type, Unit: p.FieldConfig.Defaults.Unit, Width: p.GridPos.W}
			for _, tg := range p.Targets {
				key := where + p.Title + " " + tg.RefID
				expr, ok := exprs[key]
				if !ok {
					t.Fatalf("%s: dashboardExprs has no %q", path, key)
				}
				used[key] = true
				dp.Targets = append(dp.Targets, dashTarget{RefID: tg.RefID, Legend: tg.Legend, Expr: expr})
			}
			out = append(out, dp)
			walk(where+p.Title+" / ", p.Panels)
		}
	}
	walk("", d.Panels)
	for k := range exprs {
		if !used[k] && !strings.HasPrefix(k, "variable ") {
			t.Errorf("%s: expression %q is no panel's target", path, k)
		}
	}
	return out
}

// grafanaVars substitutes a dashboard expression's variables: $instance
// (one hub selected: its value escaped for a regex matcher inside a
// PromQL string, as Grafana's Prometheus data source does),
// $__rate_interval and $__interval.
func grafanaVars(expr, instance, interval string) string {
	inst := strings.ReplaceAll(regexp.QuoteMeta(instance), `\`, `\\`)
	return strings.NewReplacer(
		"${__rate_interval}", interval, "$__rate_interval", interval,
		"${__interval}", interval, "$__interval", interval,
		"${instance}", inst, "$instance", inst,
	).Replace(expr)
}

// prometheus is a Prometheus server a test started.
type prometheus struct {
	url string
	log string // its output file
}

// startPrometheus runs Prometheus scraping target (host:port) every second
// as job axis, its storage in a temporary directory, until the test ends;
// it returns once Prometheus is ready and has scraped target up.
func startPrometheus(t *testing.T, target string) *prometheus {
	t.Helper()
	bin := fixture.Tool(t, "prometheus", "prometheus")
	dir := t.TempDir() // before the process: removed after it exited
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: axis
    static_configs:
      - targets: [%q]
`, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &prometheus{url: "http://" + addr, log: filepath.Join(t.ArtifactDir(), "prometheus.log")}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=info")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		out, _ := os.ReadFile(p.log)
		t.Fatalf("prometheus: "+format+"\n%s", append(args, out)...)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			fail("exited before it was ready")
		default:
		}
		if resp, err := hc.Get(p.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			fail("not ready within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The hub's target up: one scrape stored.
	up := `up{job="axis",instance="` + target + `"}`
	p.await(t, 20*time.Second, up+" == 1", "the hub's target up")
	return p
}

// promSeries is one series of an instant query's answer.
type promSeries struct {
	Labels map[string]string
	Value  float64
}

// promAnswer is an answer of Prometheus's HTTP API.
type promAnswer struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Data      json.RawMessage `json:"data"`
}

// get asks Prometheus's API at path, failing the test unless the answer
// is a success without warnings.
func (p *prometheus) get(t *testing.T, path string, q url.Values) promAnswer {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(p.url + path + "?" + q.Encode())
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	defer resp.Body.Close()
	var a promAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("prometheus %s %v: %d: %v", path, q, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || a.Status != "success" || a.Error != "" || len(a.Warnings) > 0 {
		t.Fatalf("prometheus %s %v: %d %s %s: %s, warnings %q", path, q, resp.StatusCode, a.Status, a.ErrorType, a.Error, a.Warnings)
	}
	return a
}

// query runs an instant query at at (the zero time: Prometheus's now).
func (p *prometheus) query(t *testing.T, expr string, at time.Time) []promSeries {
	t.Helper()
	q := url.Values{"query": {expr}}
	if !at.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	a := p.get(t, "/api/v1/query", q)
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(a.Data, &d); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	value := func(v []any) float64 {
		s, _ := v[1].(string)
		f, err := strconv.ParseFloat(s, 64)
		if len(v) != 2 || err != nil {
			t.Fatalf("%s: value %v", expr, v)
		}
		return f
	}
	switch d.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &vec); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var out []promSeries
		for _, s := range vec {
			out = append(out, promSeries{Labels: s.Metric, Value: value(s.Value)})
		}
		return out
	case "scalar":
		var v []any
		if err := json.Unmarshal(d.Result, &v); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return []promSeries{{Labels: map[string]string{}, Value: value(v)}}
	}
	t.Fatalf("%s: result type %q", expr, d.ResultType)
	return nil
}

// await polls expr until it returns a series, for at most within.
func (p *prometheus) await(t *testing.T, within time.Duration, expr, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(p.query(t, expr, time.Time{})) == 0 {
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(p.log)
			t.Fatalf("prometheus: %s: %s returned nothing within %v\n%s", what, expr, within, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// legend is a series' name as Grafana draws it: the legend format with
// its {{label}}s filled in, else the label set.
var legendLabel = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

func legend(format string, s promSeries) string {
	if format == "" || format == "__auto" {
		return labelSet(s.Labels)
	}
	return legendLabel.ReplaceAllStringFunc(format, func(m string) string {
		return s.Labels[legendLabel.FindStringSubmatch(m)[1]]
	})
}

func labelSet(l map[string]string) string {
	var keys []string
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(pairs, ", ") + "}"
}

// formatValue writes v in a panel's unit, roughly as Grafana would.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	switch unit {
	case "s":
		d := time.Duration(v * float64(time.Second))
		switch a := math.Abs(v); {
		case a >= 60:
			d = d.Round(time.Second)
		case a >= 1:
			d = d.Round(time.Millisecond)
		default:
			d = d.Round(time.Microsecond)
		}
		return d.String()
	case "bytes":
		for i, u := range []string{"B", "KiB", "MiB", "GiB"} {
			if math.Abs(v) < 1024 || i == 3 {
				return strconv.FormatFloat(v, 'f', min(i, 1), 64) + " " + u
			}
			v /= 1024
		}
	case "ops":
		return strconv.FormatFloat(v, 'g', 3, 64) + " ops/s"
	case "reqps":
		return strconv.FormatFloat(v, 'g', 3, 64) + " req/s"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// dashValues are the query results by panel title, then series.
type dashValues map[string]map[string]float64

// dashSeries is the value of the single series of a panel's target whose
// labels include the pairs given, and whether there is one.
func dashSeries(t *testing.T, panels []dashPanel, title, ref string, labels ...string) (float64, bool) {
	t.Helper()
	for _, p := range panels {
		if p.Title != title {
			continue
		}
		for _, tg := range p.Targets {
			if tg.RefID != ref {
				continue
			}
			var found []promSeries
			for _, s := range tg.Series {
				ok := true
				for i := 0; i < len(labels); i += 2 {
					ok = ok && s.Labels[labels[i]] == labels[i+1]
				}
				if ok {
					found = append(found, s)
				}
			}
			if len(found) > 1 {
				t.Errorf("%s %s %v: %d series", title, ref, labels, len(found))
			}
			if len(found) == 0 {
				return 0, false
			}
			return found[0].Value, true
		}
	}
	t.Fatalf("no panel %q with target %s", title, ref)
	return 0, false
}

// TestDashboardRendersWithData: issue 15's "the dashboard rendered with
// data".
func TestDashboardRendersWithData(t *testing.T) {
	start := time.Now()
	fixture.Tool(t, "prometheus", "prometheus")
	s := startMetricsScene(t)
	rep := s.reconcile(t) // the reconciliation panels have their data
	if !rep.Totals.ChainOK || rep.Totals.Remaining < 1 {
		t.Fatalf("report totals %+v: want the chain verified and the dead relays remaining", rep.Totals)
	}
	target, ok := strings.CutPrefix(s.m.URL(), "http://")
	if !ok {
		t.Fatalf("hub at %s: want plain HTTP", s.m.URL())
	}
	prom := startPrometheus(t, target)

	// Intakes while Prometheus watches, for rate(): pushed to the
	// province (push_url answers 204), due in a month (not overdue).
	const more = 3
	for i := range more {
		d := metricsDoc(strconv.Itoa(801+i), testgen.Commune, testgen.Province)
		d.DueDate = time.Now().AddDate(0, 1, 0).In(store.Zone).Format("2006/01/02")
		id := intake(t, s.m, testgen.Commune, fixture.Sign(t, d)).DocID
		waitRecipients(t, s.m, testgen.Commune, id, 1, "pushed to the province", inState(store.StateDelivered))
	}
	window := dashboardRateInterval
	prom.await(t, 30*time.Second,
		`sum(rate(axis_intake_total{result="created"}[`+window+`])) > 0`+
			` and on () sum(rate(axis_push_attempts_total{result="delivered"}[`+window+`])) > 0`+
			` and on () sum(rate(axis_vdxp_poll_total{result="error"}[`+window+`])) > 0`,
		"rate() sees the intakes, the pushes and the failed VDXP polls")

	// The dashboard's variable: label_values(axis_build_info, instance).
	exprs := dashboardExprs(t, dashboardFile)
	varMetric, ok := exprs["variable instance"]
	if !ok {
		t.Fatalf("%s: no variable instance", dashboardFile)
	}
	var instances []string
	if err := json.Unmarshal(prom.get(t, "/api/v1/label/instance/values", url.Values{"match[]": {varMetric}}).Data, &instances); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(instances, []string{target}) {
		t.Fatalf("$instance's values %q, want [%s]", instances, target)
	}

	// Every panel's queries, at one instant.
	panels := dashboardPanels(t, dashboardFile, exprs)
	at := time.Now()
	values := dashValues{}
	for i := range panels {
		p := &panels[i]
		if p.Type == "row" {
			continue
		}
		data := false
		for j := range p.Targets {
			tg := &p.Targets[j]
			tg.Query = grafanaVars(tg.Expr, target, window)
			if strings.Contains(tg.Query, "$") {
				t.Errorf("%s %s: a variable left in %q", p.Title, tg.RefID, tg.Query)
				continue
			}
			tg.Series = prom.query(t, tg.Query, at)
			sort.Slice(tg.Series, func(a, b int) bool {
				return legend(tg.Legend, tg.Series[a]) < legend(tg.Legend, tg.Series[b])
			})
			data = data || len(tg.Series) > 0
			for _, sr := range tg.Series {
				if math.IsNaN(sr.Value) || math.IsInf(sr.Value, 0) {
					t.Errorf("%s %s: %s = %v (%s)", p.Title, tg.RefID, labelSet(sr.Labels), sr.Value, tg.Query)
				}
				if values[p.Title] == nil {
					values[p.Title] = map[string]float64{}
				}
				name := legend(tg.Legend, sr)
				if _, dup := values[p.Title][name]; dup || name == "" {
					name += " " + labelSet(sr.Labels)
				}
				values[p.Title][name] = sr.Value
			}
		}
		why, exempt := dashboardExempt[p.Title]
		switch {
		case !data && !exempt:
			t.Errorf("panel %q: no target returned a series (%v)", p.Title, p.Targets)
		case data && exempt:
			t.Errorf("panel %q is exempt (%s) but has data: drop the exemption", p.Title, why)
		}
	}
	for title := range dashboardExempt {
		if !slices.ContainsFunc(panels, func(p dashPanel) bool { return p.Title == title }) {
			t.Errorf("exempt panel %q is not on the dashboard", title)
		}
	}

	// The artifacts, before the values are judged.
	vb, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "dashboard-values.json"), vb, 0o644); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(t.ArtifactDir(), "dashboard.html")
	writeDashboardHTML(t, html, panels, target, at, window, fmt.Sprintf(
		"The hub's clock is held at t1 = %s, 25h after its first documents came in at t0 = %s (real time): "+
			"ages on its clock are in scene time, time() − a timestamp of its clock is real time − scene time "+
			"(the last reconciliation ran at t1: −25h).", s.t1.Format(time.RFC3339), s.t0.Format(time.RFC3339)))

	// What the state implies.
	hours := func(h float64) float64 { return h * 3600 }
	evalAt := float64(at.UnixMilli()) / 1000
	type want struct {
		panel, ref string
		labels     []string
		value      float64
		cmp        string // "=" (the default), ">0", "≈" (within a millisecond)
	}
	for _, w := range []want{
		{panel: "Dead relays", ref: "A", labels: []string{"peer", "national"}, value: 1},
		{panel: "Dead relays", ref: "A", labels: []string{"peer", "h41"}, value: 1},
		{panel: "Dead relays", ref: "A", labels: []string{"peer", "vdxp"}, value: 0},
		{panel: "Outbox depth and dead entries per peer", ref: "B", labels: []string{"peer", "national"}, value: 1},
		{panel: "Outbox depth and dead entries per peer", ref: "A", labels: []string{"peer", "national"}, value: 0},
		{panel: "Outbox depth per peer", ref: "A", labels: []string{"peer", "national"}, value: 0},
		{panel: "Held", ref: "A", value: 1},
		{panel: "Oldest held", ref: "A", value: hours(25)},
		{panel: "Oldest unfetched document (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Department}, value: hours(25)},
		{panel: "Oldest unacked document (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Commune}, value: hours(24)},
		{panel: "Oldest unacked document (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Province}, value: hours(25)},
		{panel: "SLAs", ref: "A", value: hours(24)},
		{panel: "SLAs", ref: "B", value: hours(72)},
		{panel: "SLAs", ref: "C", value: hours(1)},
		{panel: "Peer reachable", ref: "A", labels: []string{"peer", "national"}, value: 0},
		{panel: "Peer reachable", ref: "A", labels: []string{"peer", "h41"}, value: 1},
		{panel: "Peer reachable", ref: "A", labels: []string{"peer", "vdxp"}, value: 1},
		// h41's one relay was at t0, the scene's start (real time); the
		// hub's clock is still at t1 (25h ahead), so time() in Prometheus
		// is 25h behind the last reconciliation.
		{panel: "Since the last successful relay", ref: "A", labels: []string{"peer", "h41"}, value: evalAt - float64(s.t0.Unix()), cmp: "≈"},
		{panel: "Since the last reconciliation", ref: "A", value: evalAt - float64(s.t1.Unix()), cmp: "≈"},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "relay_dead"}, value: 2},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "held"}, value: 1},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "not_fetched"}, value: 1},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "not_acked"}, value: 0},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "relay_retrying"}, value: 0},
		{panel: "Stuck list by reason", ref: "A", labels: []string{"reason", "overdue_processing"}, value: 4},
		{panel: "Overdue for processing", ref: "A", value: 4},
		{panel: "Queue depth (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Department}, value: 1},
		{panel: "Queue depth (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Commune}, value: 1},
		{panel: "Queue depth (top 10 agencies)", ref: "A", labels: []string{"organ_id", testgen.Province}, value: 1 + more},
		{panel: "Documents stored", ref: "A", value: 7 + more},
		{panel: "Intake by result", ref: "A", labels: []string{"result", "created"}, cmp: ">0"},
		{panel: "Intake by result", ref: "A", labels: []string{"result", "held"}, value: 0}, // the held one came before Prometheus
		{panel: "Verify and commit latency", ref: "A", cmp: ">0"},
		{panel: "Verify and commit latency", ref: "B", cmp: ">0"},
		{panel: "Verify and commit latency", ref: "C", cmp: ">0"},
		{panel: "Verify and commit latency", ref: "D", cmp: ">0"},
		{panel: "HTTP answers by status", ref: "A", labels: []string{"status", "201"}, cmp: ">0"},
		{panel: "HTTP answers by status", ref: "A", labels: []string{"status", "200"}, cmp: ">0"},
		{panel: "Relay attempts", ref: "A", labels: []string{"peer", "national", "result", "dead"}, value: 0}, // dead before Prometheus
		{panel: "Relay attempts", ref: "A", labels: []string{"peer", "h41", "result", "relayed"}, value: 0},
		{panel: "Push deliveries and VDXP polls", ref: "A", labels: []string{"organ_id", testgen.Province, "result", "delivered"}, cmp: ">0"},
		{panel: "Push deliveries and VDXP polls", ref: "A", labels: []string{"organ_id", testgen.Province, "result", "failed"}, value: 0},
		{panel: "Push deliveries and VDXP polls", ref: "B", labels: []string{"peer", "vdxp", "result", "error"}, cmp: ">0"},
		{panel: "Push deliveries and VDXP polls", ref: "B", labels: []string{"peer", "vdxp", "result", "ok"}, value: 0},
		{panel: "Discrepancies not repaired", ref: "A", value: float64(rep.Totals.Remaining)},
		{panel: "Event chain", ref: "A", value: 1},
		{panel: "Discrepancies by kind", ref: "A", labels: []string{"kind", api.KindDeadRelay}, value: 2},
		{panel: "Discrepancies by kind", ref: "A", labels: []string{"kind", api.KindChainBroken}, value: 0},
		{panel: "Discrepancies by kind", ref: "A", labels: []string{"kind", api.KindHashMismatch}, value: 0},
		{panel: "Discrepancies by kind", ref: "A", labels: []string{"kind", api.KindMissingDelivery}, value: 0},
		{panel: "Discrepancies by kind", ref: "A", labels: []string{"kind", api.KindOverdueProcessing}, value: float64(countKind(rep, api.KindOverdueProcessing))},
		{panel: "Store file", ref: "A", cmp: ">0"},
		{panel: "Up for", ref: "A", labels: []string{"instance", target}, cmp: ">0"},
		{panel: "Build", ref: "A", labels: []string{"version", version.Info().Version, "revision", version.Info().Revision, "go", version.Info().Go}, value: 1},
	} {
		v, ok := dashSeries(t, panels, w.panel, w.ref, w.labels...)
		switch {
		case !ok:
			t.Errorf("%s %s %v: no series", w.panel, w.ref, w.labels)
		case w.cmp == ">0" && !(v > 0):
			t.Errorf("%s %s %v = %v, want > 0", w.panel, w.ref, w.labels, v)
		case w.cmp == "≈" && math.Abs(v-w.value) > 1e-3:
			t.Errorf("%s %s %v = %v, want %v", w.panel, w.ref, w.labels, v, w.value)
		case w.cmp == "" && v != w.value:
			t.Errorf("%s %s %v = %v, want %v", w.panel, w.ref, w.labels, v, w.value)
		}
	}
	if v, _ := dashSeries(t, panels, "Since the last successful relay", "A", "peer", "h41"); v < 0 || v > time.Since(start).Seconds()+1 {
		t.Errorf("since h41's last relay %vs: not within this test's %v", v, time.Since(start))
	}
	// Only the department has a document waiting to be fetched.
	if n := len(panels[slices.IndexFunc(panels, func(p dashPanel) bool { return p.Title == "Oldest unfetched document (top 10 agencies)" })].Targets[0].Series); n != 1 {
		t.Errorf("oldest unfetched: %d series, want the department's only", n)
	}

	// The page in a browser.
	b := browser.ForTest(t)
	pg := newPage(t, b, time.Minute)
	pg.open("file://" + html)
	drawn := 0
	for _, p := range panels {
		if p.Type != "row" {
			drawn++
		}
	}
	if n := pg.count("section.panel"); n != drawn {
		t.Errorf("the page draws %d panels, want %d", n, drawn)
	}
	if n := pg.count("section.panel.nodata"); n != len(dashboardExempt) {
		t.Errorf("the page draws %d panels without data, want %d", n, len(dashboardExempt))
	}
	pg.shot("dashboard.png")
	t.Logf("dashboard.html, dashboard.png, dashboard-values.json in %s (%v)", t.ArtifactDir(), time.Since(start).Round(time.Millisecond))
}

// writeDashboardHTML draws the panels as a page: rows as headings; each
// panel its title, its queries and a table of its series (legend, labels,
// value), stat panels as big numbers, bar gauges with a bar.
func writeDashboardHTML(t *testing.T, path string, panels []dashPanel, instance string, at time.Time, window, note string) {
	t.Helper()
	// The labels a series has besides the ones every series has.
	own := func(l map[string]string) string {
		rest := map[string]string{}
		for k, v := range l {
			if k != "__name__" && k != "instance" && k != "job" {
				rest[k] = v
			}
		}
		if len(rest) == 0 {
			return ""
		}
		return labelSet(rest)
	}
	type series struct {
		Name, Labels, Value, Raw string
		Bar                      template.CSS
	}
	type panel struct {
		Title, Type, Exempt string
		Width               int
		Queries             []string
		Series              []series
	}
	type row struct {
		Title  string
		Panels []panel
	}
	var rows []row
	for _, p := range panels {
		if p.Type == "row" {
			rows = append(rows, row{Title: p.Title})
			continue
		}
		if len(rows) == 0 {
			rows = append(rows, row{})
		}
		hp := panel{Title: p.Title, Type: p.Type, Width: max(1, min(24, p.Width)), Exempt: dashboardExempt[p.Title]}
		top := 0.0
		for _, tg := range p.Targets {
			for _, s := range tg.Series {
				top = math.Max(top, s.Value)
			}
		}
		for _, tg := range p.Targets {
			hp.Queries = append(hp.Queries, tg.RefID+": "+tg.Query)
			for _, s := range tg.Series {
				name := legend(tg.Legend, s)
				if tg.Legend == "" {
					name = s.Labels["__name__"] + own(s.Labels)
				}
				hs := series{Name: name, Labels: own(s.Labels), Value: formatValue(s.Value, p.Unit),
					Raw: strconv.FormatFloat(s.Value, 'g', -1, 64)}
				if p.Type == "bargauge" && top > 0 && s.Value > 0 {
					hs.Bar = template.CSS(fmt.Sprintf("width:%.1f%%", 100*s.Value/top))
				}
				hp.Series = append(hp.Series, hs)
			}
		}
		rows[len(rows)-1].Panels = append(rows[len(rows)-1].Panels, hp)
	}
	tmpl := template.Must(template.New("dashboard").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>axis — hub (rendered by TestDashboardRendersWithData)</title>
<style>
body { background: #111217; color: #ccccdc; font: 13px/1.35 system-ui, sans-serif; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } .meta { color: #8e8e9e; margin-bottom: 12px; }
h2 { font-size: 15px; margin: 18px 0 8px; border-bottom: 1px solid #2c3235; padding-bottom: 4px; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
section.panel { background: #181b1f; border: 1px solid #2c3235; border-radius: 3px; padding: 8px; box-sizing: border-box; overflow: hidden; }
{{range $w := .Widths}}.w{{$w}} { flex: 0 0 calc({{$w}} / 24 * 100% - 8px); }
{{end}}
section.panel h3 { font-size: 13px; margin: 0 0 4px; color: #fff; } .type { color: #8e8e9e; font-weight: normal; }
code.q { display: block; color: #6e9fff; font-size: 10px; white-space: pre-wrap; word-break: break-all; margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 2px 4px; border-top: 1px solid #2c3235; vertical-align: top; }
th { color: #8e8e9e; font-weight: normal; } td.v { text-align: right; white-space: nowrap; color: #73bf69; font-weight: 600; }
td.l { color: #8e8e9e; font-size: 10px; word-break: break-all; }
.bar { height: 6px; background: #5794f2; margin-top: 2px; }
.stats { display: flex; flex-wrap: wrap; gap: 6px; } .stat { flex: 1 1 90px; background: #22252b; padding: 6px; text-align: center; }
.stat .big { font-size: 26px; font-weight: 700; color: #73bf69; } .stat .name { color: #ccccdc; } .stat .l { color: #8e8e9e; font-size: 9px; word-break: break-all; }
.nodata .why { color: #ff9830; }
</style></head><body>
<h1>axis — hub</h1>
<div class="meta">deploy/grafana/axis.json, each target queried at {{.At}} through Prometheus; $instance = {{.Instance}}, $__rate_interval = $__interval = {{.Window}}; labels instance and job (the same on every series) and __name__ not shown.<br>{{.Note}}</div>
{{range .Rows}}{{if .Title}}<h2>{{.Title}}</h2>{{end}}<div class="grid">
{{range .Panels}}<section class="panel w{{.Width}}{{if not .Series}} nodata{{end}}" data-type="{{.Type}}"><h3>{{.Title}} <span class="type">{{.Type}}</span></h3>
{{range .Queries}}<code class="q">{{.}}</code>{{end}}
{{if not .Series}}<p class="why">No data{{if .Exempt}}: {{.Exempt}}{{end}}</p>
{{else if eq .Type "stat"}}<div class="stats">{{range .Series}}<div class="stat"><div class="big" title="{{.Raw}}">{{.Value}}</div><div class="name">{{.Name}}</div><div class="l">{{.Labels}}</div></div>{{end}}</div>
{{else}}<table><tr><th>series</th><th>labels</th><th>value</th></tr>
{{range .Series}}<tr><td>{{.Name}}{{if .Bar}}<div class="bar" style="{{.Bar}}"></div>{{end}}</td><td class="l">{{.Labels}}</td><td class="v" title="{{.Raw}}">{{.Value}}</td></tr>
{{end}}</table>{{end}}
</section>
{{end}}</div>
{{end}}</body></html>
`))
	var widths []int
	for w := 1; w <= 24; w++ {
		widths = append(widths, w)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = tmpl.Execute(f, map[string]any{
		"Rows": rows, "Widths": widths, "Instance": instance, "Window": window, "Note": note,
		"At": at.UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
