package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// TestBenchNetwork writes a demo network of 3 provinces, starts the
// national hub on the config it wrote, and posts a tiny peak hour: every
// envelope accepted, and the hub holds each with the recipients its
// province named in X-Axis-Recipients, routed to their province peers or
// to the central bodies.
func TestBenchNetwork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := axisctl(t, "bench", "--network", "--init", dir, "--provinces", "3", "--organs", "2")
	if code != 0 {
		t.Fatalf("--init: exit %d\n%s", code, stderr)
	}
	cfg := filepath.Join(dir, testgen.NetworkConfig)
	if !strings.Contains(stdout, cfg) || !strings.Contains(stderr, "DEMO ONLY") {
		t.Errorf("--init stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	nw, err := testgen.LoadNetwork(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(nw.Provinces) != 3 || len(nw.Provinces[2].Organs) != 2 || nw.Provinces[2].Organs[1].OrganID != "000.00.01.H03" {
		t.Fatalf("manifest %+v", nw.Provinces)
	}
	if st, err := os.Stat(filepath.Join(dir, testgen.NetworkManifest)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode %v, %v", st.Mode(), err)
	}
	// A second --init into the same folder is refused.
	if code, _, stderr := axisctl(t, "bench", "--network", "--init", dir, "--provinces", "1"); code != 1 || !strings.Contains(stderr, "already holds a network") {
		t.Errorf("second --init: exit %d\n%s", code, stderr)
	}

	h := testhub.Open(t, testhub.Options{Config: cfg, KeepPeers: true})
	if len(h.Config().Peers) != 3 {
		t.Fatalf("peers %+v", h.Config().Peers)
	}
	url := testhub.Serve(t, h)
	code, stdout, stderr = axisctl(t, "bench", "--network", "--dir", dir, "--hub", url, "--docs", "12",
		"--size-scale", "0.01", "--seed", "7", "--target", "0", "--json")
	if code != 0 {
		t.Fatalf("load: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// The JSON report: its fields, then its numbers.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &fields); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	for _, k := range []string{"hub", "provinces", "concurrency", "assumption", "docs", "pool_bytes", "posted", "accepted",
		"created", "held", "errors", "errors_by", "elapsed_seconds", "intake_per_sec", "intake_mib_per_sec", "latency_ms",
		"classes", "hub_rss_peak_bytes", "rss_samples", "hub_cpu_seconds", "hub_documents", "within_target", "results_file"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("report has no %q", k)
		}
	}
	var r netReport
	decodeStrict(t, "report", stdout, &r)
	if r.Docs != 12 || r.Posted != 12 || r.Accepted != 12 || r.Created != 12 || r.Held != 0 || r.Errors != 0 || len(r.ErrorsBy) != 0 ||
		r.Provinces != 3 || r.Concurrency != 3 || r.ManyRecipients != 1 || r.HubDocuments != 12 || !r.WithinTarget || r.Interrupted {
		t.Errorf("report %+v", r)
	}
	if !strings.HasPrefix(r.Assumption, "the country's peak hour") || r.PoolBytes <= 0 || r.IntakePerSec <= 0 ||
		r.LatencyMs.P50 <= 0 || r.HubRSSPeakBytes <= 0 || r.RSSSamples < 2 {
		t.Errorf("report %+v", r)
	}
	// Exact shares: 5% large, 25% medium, the rest small (rounded).
	if len(r.Classes) != 3 || r.Classes[0].Envelopes != 8 || r.Classes[1].Envelopes != 3 || r.Classes[2].Envelopes != 1 ||
		r.Classes[0].Accepted != 8 || r.Classes[2].Accepted != 1 {
		t.Errorf("classes %+v", r.Classes)
	}
	for _, want := range []string{"intake: 12 accepted of 12 posted", "errors: 0", "peak hour: 12 envelopes absorbed in"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("text report lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, netPoolDir)); !os.IsNotExist(err) {
		t.Errorf("the pool is still there: %v", err)
	}

	// The hub's store: each envelope once, with this hop's recipients,
	// each routed to its province's peer or, for a central body, local.
	if n, err := h.Store().Count(context.Background()); err != nil || n != 12 {
		t.Errorf("store count %d, %v", n, err)
	}
	items := readResults(t, r.Results)
	if len(items) != 12 {
		t.Fatalf("%d results", len(items))
	}
	senders := map[string]bool{}
	for _, it := range items {
		senders[it.Province] = true
		var st api.DocStatus
		getJSON(t, url+"/api/v1/envelopes/"+it.DocID+"/status", nw.AdminToken, &st)
		var got, want []string
		for _, rs := range st.Recipients {
			got = append(got, rs.OrganID+"="+rs.Route)
		}
		for _, o := range it.Recipients {
			route := "local"
			if strings.Contains(o, ".H") {
				route = strings.ToLower(o[strings.LastIndex(o, ".")+1:])
			}
			if route == it.Province {
				t.Errorf("%s: recipient %s is in the sender's own province", it.File, o)
			}
			want = append(want, o+"="+route)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || st.State != "" {
			t.Errorf("%s (%s): hub has %v (state %q), posted for %v", it.File, it.DocID, got, st.State, want)
		}
		for _, o := range it.Recipients {
			if !slices.Contains(it.To, o) {
				t.Errorf("%s: %s is this hop's but not in To %v", it.File, o, it.To)
			}
		}
		if it.Many {
			// Every other province's committee and the 5 central bodies;
			// the sender's own district is in To, not this hop.
			if it.From != "000.00.00."+strings.ToUpper(it.Province) || len(it.Recipients) != 2+5 || len(it.To) != 8 {
				t.Errorf("many-recipient envelope %+v", it)
			}
		}
	}
	if len(senders) != 3 {
		t.Errorf("senders %v", senders)
	}

	// Again against the same hub: new envelopes, every one created.
	code, stdout, stderr = axisctl(t, "bench", "--network", "--dir", dir, "--hub", url, "--docs", "3",
		"--provinces", "1", "--size-scale", "0.01", "--seed", "7", "--target", "0", "--json")
	if code != 0 {
		t.Fatalf("second load: exit %d\n%s", code, stderr)
	}
	decodeStrict(t, "report", stdout, &r)
	if r.Created != 3 || r.Provinces != 1 || r.HubDocuments != 15 {
		t.Errorf("second report %+v", r)
	}
}

func readResults(t *testing.T, file string) []netItem {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []netItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var it netItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, b := testhub.Do(t, http.DefaultClient, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestBenchNetworkUsage: the flags of one phase with the other's, or
// out of range, are usage errors (exit 2) before anything is written or
// posted.
func TestBenchNetworkUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--network"}, "give --init DIR, or --dir DIR and --hub URL"},
		{[]string{"--network", "--dir", dir}, "give --init DIR, or --dir DIR and --hub URL"},
		{[]string{"--network", "--init", dir, "--hub", "http://127.0.0.1:1"}, "--hub belongs to the load"},
		{[]string{"--network", "--init", dir, "--docs", "10"}, "--docs belongs to the load"},
		{[]string{"--network", "--init", dir, "--provinces", "100"}, "--provinces must be 1..99"},
		{[]string{"--network", "--init", dir, "--organs", "20"}, "--organs must be 1..19"},
		{[]string{"--network", "--dir", dir, "--hub", "http://127.0.0.1:1", "--organs", "2"}, "--organs belongs to --init"},
		{[]string{"--network", "--dir", dir, "--hub", "http://127.0.0.1:1", "--docs", "0"}, "--docs must be"},
		{[]string{"--network", "--dir", dir, "--hub", "http://127.0.0.1:1", "--size-scale", "0"}, "--size-scale"},
		{[]string{"--network", "--dir", dir, "--hub", "http://127.0.0.1:1", "--rate", "fast"}, `--rate "fast"`},
		{[]string{"--network", "--dir", dir, "--hub", "ftp://x"}, "--hub"},
		{[]string{"--network", "--dir", empty, "--hub", "http://127.0.0.1:1"}, "make one with --init DIR"},
		{[]string{"--network", "--init", dir, "extra"}, "takes no arguments"},
	} {
		code, stdout, stderr := axisctl(t, append([]string{"bench"}, c.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a usage error wrote %v", entries)
	}
	// -h describes the model and its volume, exit 0.
	code, _, stderr := axisctl(t, "bench", "--network", "-h")
	if code != 0 || !strings.Contains(stderr, "~3,200 envelopes") || !strings.Contains(stderr, "-size-scale") {
		t.Errorf("-h: exit %d\n%s", code, stderr)
	}
	// --network=false is the ordinary bench.
	if code, _, stderr := axisctl(t, "bench", "--network=false"); code != 2 || !strings.Contains(stderr, "--key and --cert are required") {
		t.Errorf("--network=false: exit %d\n%s", code, stderr)
	}
}

// TestPlanNetwork: the model of the peak hour, on the country's 63
// provinces: exact shares, every recipient of a hop outside the sender's
// province, and the same seed the same pool.
func TestPlanNetwork(t *testing.T) {
	t.Parallel()
	nw := &testgen.Network{}
	for _, a := range testgen.CentralBodies {
		nw.Central = append(nw.Central, testgen.NetworkAgency{OrganID: a.OrganID, Name: a.Name})
	}
	for i := range 63 {
		p := testgen.NetworkProvince{Code: testgen.ProvinceCode(i), Peer: strings.ToLower(testgen.ProvinceCode(i)), Name: "x"}
		p.Organs = []testgen.NetworkOrgan{{OrganID: p.Committee()}, {OrganID: "000.00.01." + p.Code}}
		nw.Provinces = append(nw.Provinces, p)
	}
	items := planNetwork(nw, 63, netDefaultDocs, 1, 1)
	classes := map[string]int{}
	many, perProvince := 0, map[string]int{}
	var bytes int64
	for _, it := range items {
		classes[it.Class]++
		perProvince[it.Province]++
		bytes += int64(it.Target)
		cl := netClasses[it.classIndex]
		if it.Target < cl.Lo || it.Target >= cl.Hi {
			t.Errorf("%d: %d bytes outside %s", it.Index, it.Target, cl.Range)
		}
		if it.Many {
			many++
			if len(it.Recipients) != 62+5 {
				t.Errorf("%d: many, %d recipients", it.Index, len(it.Recipients))
			}
		} else if n := len(it.Recipients); n < 1 || n > 3 {
			t.Errorf("%d: %d recipients", it.Index, n)
		}
		for _, o := range it.Recipients {
			if strings.HasSuffix(o, "."+strings.ToUpper(it.Province)) {
				t.Errorf("%d: %s is in the sender's province", it.Index, o)
			}
		}
	}
	if classes["small"] != 2240 || classes["medium"] != 800 || classes["large"] != 160 || many != 320 {
		t.Errorf("classes %v, many %d", classes, many)
	}
	if len(perProvince) != 63 || perProvince["h01"] != 51 || perProvince["h63"] != 50 {
		t.Errorf("per province %v", perProvince)
	}
	// About 1.1 MiB on average (log-uniform in each class): 3.5 GiB in the hour.
	if mean := bytes / int64(len(items)); mean < 900<<10 || mean > 1400<<10 {
		t.Errorf("mean %d bytes", mean)
	}
	again := planNetwork(nw, 63, netDefaultDocs, 1, 1)
	other := planNetwork(nw, 63, netDefaultDocs, 2, 1)
	same, differ := true, false
	for i := range items {
		same = same && items[i].Target == again[i].Target && slices.Equal(items[i].To, again[i].To) && items[i].From == again[i].From
		differ = differ || items[i].Target != other[i].Target
	}
	if !same || !differ {
		t.Errorf("seeded: same %v, another seed differs %v", same, differ)
	}
}
