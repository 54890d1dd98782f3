package main

// axisctl bench --network: a load model of the whole country posting to one
// national hub (issue 17).
//
// The volume: a peak hour of envelopes CROSSING the national axis. A
// province moves about 30,000 documents a month (DESIGN: "tens of
// thousands"); most stay on its own axis, and about 10% leave it through the
// national one, to ministries and other provinces: 3,000 a month. Over 22
// working days of 8 hours that is 17 an hour; the peak hour carries three
// times the average hour, 51; 63 provinces × 51 ≈ 3,200 envelopes in the
// country's peak hour (--docs, that default). Their sizes (issue 17): 70%
// under 200 KB, 25% 0.2–5 MB, 5% 5–30 MB, log-uniform inside each class
// (sizes skew small), about 1.1 MiB on average, 3.5 GiB in the hour; 10% go
// to many recipients (every other province's People's Committee and every
// central body, a circular), the others to 1–3 organs of other provinces or
// central bodies.
//
// The hour is compressed: every province posts its share as fast as the hub
// takes it, one connection each, and the report says how long the hub took
// to absorb the hour. Signing is not timed: the whole pool is signed first,
// into files under DIR/pool, and posted from there.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
)

// The network model's defaults.
const (
	netDefaultProvinces = 63
	netDefaultOrgans    = 4
	netDefaultDocs      = 3200
	netDefaultTarget    = 6 * time.Minute
	netManyShare        = 0.10
	netSampleEvery      = 500 * time.Millisecond
	netResults          = "results.jsonl"
	netPoolDir          = "pool"
)

// netAssumption is the volume's reasoning, printed by --help and kept in
// the JSON report.
const netAssumption = "the country's peak hour of envelopes crossing the national axis: a province moves ~30,000 documents " +
	"a month, ~10% leave it through the national axis (3,000), 22 working days x 8 h = 17 an hour, the peak hour 3x the " +
	"average = 51, x 63 provinces = ~3,200 envelopes"

// netClass is a size class of the model: its share of the envelopes and
// the range its sizes are drawn from (log-uniform).
type netClass struct {
	Name, Range string
	Share       float64
	Lo, Hi      int
}

var netClasses = []netClass{
	{"small", "< 200 KiB", 0.70, 20 << 10, 200 << 10},
	{"medium", "0.2-5 MiB", 0.25, 200 << 10, 5 << 20},
	{"large", "5-30 MiB", 0.05, 5 << 20, 30 << 20},
}

// netItem is one envelope of the pool, and then what became of it.
type netItem struct {
	Index      int      `json:"index"`
	File       string   `json:"file"`
	Province   string   `json:"province"` // the posting province's peer name
	From       string   `json:"from"`
	Class      string   `json:"class"`
	Target     int      `json:"target_bytes"`
	Bytes      int64    `json:"bytes"`
	Many       bool     `json:"many"`
	To         []string `json:"to"`         // the signed To (with the province's own recipients)
	Recipients []string `json:"recipients"` // X-Axis-Recipients: what this hop is for

	Status     int                 `json:"status,omitempty"`
	DocID      string              `json:"doc_id,omitempty"`
	Routes     []api.RecipientInfo `json:"routes,omitempty"`
	LatencyMs  float64             `json:"latency_ms,omitempty"`
	Error      string              `json:"error,omitempty"`
	province   int
	to         []envelope.Organization
	organ      int
	classIndex int
}

// netClassReport is one size class's part of the run.
type netClassReport struct {
	Class     string         `json:"class"`
	Range     string         `json:"range"`
	Envelopes int            `json:"envelopes"`
	Bytes     int64          `json:"bytes"`
	Accepted  int            `json:"accepted"`
	LatencyMs latencySummary `json:"latency_ms"`
}

// netReport is what bench --network prints (as text, or JSON with --json).
type netReport struct {
	Hub              string           `json:"hub"`
	Dir              string           `json:"dir"`
	Provinces        int              `json:"provinces"`
	NetworkProvinces int              `json:"network_provinces"`
	Concurrency      int              `json:"concurrency"`
	RatePerSec       float64          `json:"rate_per_sec"` // 0: as fast as the hub takes
	Seed             uint64           `json:"seed"`
	SizeScale        float64          `json:"size_scale"`
	Assumption       string           `json:"assumption"`
	Docs             int              `json:"docs"`
	PoolBytes        int64            `json:"pool_bytes"`
	SignSeconds      float64          `json:"sign_seconds"`
	ManyRecipients   int              `json:"many_recipient_envelopes"`
	Recipients       int              `json:"recipients"` // X-Axis-Recipients entries, all envelopes
	Posted           int              `json:"posted"`
	Accepted         int              `json:"accepted"` // 201 created and 202 held
	Created          int              `json:"created"`
	Held             int              `json:"held"`
	Errors           int              `json:"errors"`
	ErrorsBy         map[string]int   `json:"errors_by"`
	ElapsedSeconds   float64          `json:"elapsed_seconds"`
	IntakePerSec     float64          `json:"intake_per_sec"`
	IntakeMiBPerSec  float64          `json:"intake_mib_per_sec"`
	LatencyMs        latencySummary   `json:"latency_ms"`
	Classes          []netClassReport `json:"classes"`
	HubRSSPeakBytes  int64            `json:"hub_rss_peak_bytes"` // the max of the samples
	RSSSource        string           `json:"rss_source"`
	RSSSamples       int              `json:"rss_samples"`
	HubVmHWMBytes    int64            `json:"hub_vmhwm_bytes,omitempty"` // --pid: /proc/PID/status VmHWM at the end
	// --pid: the largest RssAnon sampled: the resident set without the
	// pages of files the hub maps (bbolt's), which the kernel takes back
	// when it needs them.
	HubAnonPeakBytes int64   `json:"hub_rss_anon_peak_bytes,omitempty"`
	HubCPUSeconds    float64 `json:"hub_cpu_seconds"` // process_cpu_seconds_total over the run
	HubDocuments     int64   `json:"hub_documents"`   // axis_documents at the end
	TargetSeconds    float64 `json:"target_seconds"`
	WithinTarget     bool    `json:"within_target"`
	Interrupted      bool    `json:"interrupted"`
	Results          string  `json:"results_file"`
	PoolKept         string  `json:"pool_kept,omitempty"`
}

// isNetworkBench reports whether bench's arguments ask for --network.
func isNetworkBench(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		switch strings.TrimLeft(a, "-") {
		case "network", "network=true", "network=1":
			return strings.HasPrefix(a, "-")
		}
	}
	return false
}

// runBenchNetwork: axisctl bench --network (see the usage).
func runBenchNetwork(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("network", false, "the load model of the whole country (this mode)")
	initDir := fs.String("init", "", "write a demo network into DIR (PKI, national hub config, manifest) and exit")
	provinces := fs.Int("provinces", 0, "--init: provinces to configure (default 63); load: how many of DIR's provinces post (default all)")
	organs := fs.Int("organs", netDefaultOrgans, fmt.Sprintf("--init: signing organs per province with a certificate: the committee, then departments (1..%d)", testgen.MaxNetworkOrgans))
	listen := fs.String("listen", "127.0.0.1:0", "--init: the national hub's listen address")
	dir := fs.String("dir", "", "load: the folder --init wrote (the pool is signed into DIR/pool, results in DIR/"+netResults+")")
	hubURL := fs.String("hub", "", "load: the national hub's base URL")
	docs := fs.Int("docs", netDefaultDocs, "load: envelopes in the peak hour (see above for why 3,200)")
	rateFlag := fs.String("rate", "0", "load: envelopes per second in all; 0: as fast as the hub takes them (the hour compressed); hour: --docs spread over 3600 s")
	conc := fs.Int("concurrency", 0, "load: posts in flight at once (default: one per province, each province one connection)")
	seed := fs.Uint64("seed", 1, "load: the model's seed (senders, recipients, sizes): the same seed, the same pool")
	scale := fs.Float64("size-scale", 1, "load: multiply every size by this (0 < F <= 2; tests use 0.01)")
	target := fs.Duration("target", netDefaultTarget, "load: the hour must be absorbed within this, else exit 1 (0: no target)")
	pid := fs.Int("pid", 0, "load: the hub's process id: its VmHWM (/proc/PID/status) is reported too")
	asJSON := fs.Bool("json", false, "load: print the report as JSON on stdout (the text report goes to stderr)")
	keepPool := fs.Bool("keep-pool", false, "load: keep DIR/pool (GBs) after the run")
	timeout := fs.Duration("timeout", 10*time.Minute, "load: give up on one post after this long")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: axisctl bench --network --init DIR [--provinces 63] [--organs 4] [--listen 127.0.0.1:0]
       axisctl bench --network --dir DIR --hub URL [--provinces N] [--docs 3200] [--rate 0|R|hour]
                     [--concurrency N] [--seed 1] [--size-scale 1] [--target 6m] [--pid PID] [--json]

A load model of the whole country posting to ONE national hub. --init writes a
throwaway DEMO network into DIR: a demo PKI (pki/demo-network-*), the national
hub's config (axis-national.yaml: the central bodies as agencies, one kind axis
peer per province with route *.Hxx and its token, data in DIR/data) and
network.json (the tokens; keep it private). Start axisd on that config, then
the load: every province posts its share of the hour with its peer token and
X-Axis-Recipients (as its hub relaying would), one connection each, as fast as
the hub takes them; the report gives how long the hour took, the intake rate,
latency percentiles per size class, errors by HTTP status and the hub's peak
RSS (its /metrics sampled every 500 ms; --pid adds VmHWM). Any answer but 201
or 202 is an error (exit 1).

Volume (--docs): the country's peak hour of envelopes CROSSING the national
axis. A province moves ~30,000 documents a month; ~10%% leave it through the
national axis (3,000); over 22 working days x 8 h that is 17 an hour; the peak
hour carries 3x the average hour, 51; x 63 provinces = ~3,200 envelopes.
Sizes: 70%% under 200 KiB, 25%% 0.2-5 MiB, 5%% 5-30 MiB (log-uniform in each);
10%% go to many recipients (every other province's committee and every central
body), the others to 1-3 organs of other provinces or central bodies. The pool
is signed before the clock starts, into DIR/pool (removed after the run).

flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseNoArgs(fs, args, stderr); done {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	loadOnly := []string{"dir", "hub", "docs", "rate", "concurrency", "seed", "size-scale", "target", "pid", "json", "keep-pool", "timeout"}
	if *initDir != "" {
		for _, n := range loadOnly {
			if set[n] {
				return usageError(stderr, "bench --network: --init DIR writes a network; --%s belongs to the load (--dir DIR --hub URL)", n)
			}
		}
		return netInit(*initDir, *provinces, *organs, *listen, stdout, stderr)
	}
	for _, n := range []string{"organs", "listen"} {
		if set[n] {
			return usageError(stderr, "bench --network: --%s belongs to --init DIR", n)
		}
	}
	switch {
	case *dir == "" || *hubURL == "":
		return usageError(stderr, "bench --network: give --init DIR, or --dir DIR and --hub URL for the load")
	case *docs < 1 || *docs > 1_000_000:
		return usageError(stderr, "bench --network: --docs must be 1..1000000")
	case *conc < 0 || *conc > 10000:
		return usageError(stderr, "bench --network: --concurrency must be 1..10000")
	case !(*scale > 0 && *scale <= 2):
		return usageError(stderr, "bench --network: --size-scale must be in (0, 2]")
	case *target < 0:
		return usageError(stderr, "bench --network: --target must not be negative")
	case *timeout <= 0:
		return usageError(stderr, "bench --network: --timeout must be positive")
	case *pid < 0:
		return usageError(stderr, "bench --network: --pid must be a process id")
	case *provinces < 0:
		return usageError(stderr, "bench --network: --provinces must be positive")
	}
	rate, err := parseNetRate(*rateFlag, *docs)
	if err != nil {
		return usageError(stderr, "bench --network: %v", err)
	}
	u, err := url.Parse(*hubURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usageError(stderr, "bench --network: --hub %q: want a base URL such as http://127.0.0.1:9090", *hubURL)
	}
	nw, err := testgen.LoadNetwork(*dir)
	if err != nil {
		return usageError(stderr, "bench --network: --dir: %v (make one with --init DIR)", err)
	}
	np := *provinces
	if np == 0 {
		np = len(nw.Provinces)
	}
	if np > len(nw.Provinces) {
		return usageError(stderr, "bench --network: --provinces %d: %s has %d", np, *dir, len(nw.Provinces))
	}
	c := *conc
	if c == 0 {
		c = np
	}
	r := &netReport{
		Hub: strings.TrimRight(u.String(), "/"), Dir: *dir, Provinces: np, NetworkProvinces: len(nw.Provinces),
		Concurrency: c, RatePerSec: rate, Seed: *seed, SizeScale: *scale, Assumption: netAssumption, Docs: *docs,
		ErrorsBy: map[string]int{}, TargetSeconds: target.Seconds(), Results: filepath.Join(*dir, netResults),
	}
	return benchNetwork(ctx, nw, r, *timeout, *pid, *keepPool, *asJSON, stdout, stderr)
}

// parseNetRate reads --rate: a number of envelopes per second (0: no
// pacing) or "hour" (docs over an hour).
func parseNetRate(s string, docs int) (float64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "hour") {
		return float64(docs) / 3600, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("--rate %q: want envelopes per second (0: as fast as the hub takes) or hour", s)
	}
	return f, nil
}

// netInit is --init DIR.
func netInit(dir string, provinces, organs int, listen string, stdout, stderr io.Writer) int {
	if provinces == 0 {
		provinces = netDefaultProvinces
	}
	if provinces < 1 || provinces > 99 {
		return usageError(stderr, "bench --network: --provinces must be 1..99")
	}
	if organs < 1 || organs > testgen.MaxNetworkOrgans {
		return usageError(stderr, "bench --network: --organs must be 1..%d", testgen.MaxNetworkOrgans)
	}
	if _, err := os.Stat(filepath.Join(dir, testgen.NetworkManifest)); err == nil {
		return fail(stderr, fmt.Errorf("bench --network: %s already holds a network; use an empty folder", dir))
	}
	t0 := time.Now()
	fmt.Fprintf(stderr, "bench: writing a DEMO network into %s: %d provinces, %d signing organs each (%d RSA keys)\n",
		dir, provinces, organs, provinces*organs+3)
	nw, err := testgen.WriteNetwork(dir, testgen.NetworkOptions{Provinces: provinces, Organs: organs, Listen: listen})
	if err != nil {
		return fail(stderr, fmt.Errorf("bench --network: %w", err))
	}
	cfg := filepath.Join(dir, nw.Config)
	fmt.Fprintf(stdout, "config   %s\nmanifest %s\npki      %s\n", cfg, filepath.Join(dir, testgen.NetworkManifest), filepath.Join(dir, "pki"))
	fmt.Fprintf(stderr, "bench: done in %.1fs. DEMO ONLY (throwaway PKI and tokens). Next:\n"+
		"  axisd --config %s        # note the address it listens on\n"+
		"  axisctl bench --network --dir %s --hub http://ADDR\n", time.Since(t0).Seconds(), cfg, dir)
	return exitOK
}

// planNetwork draws the pool: docs envelopes from the first provinces of
// nw (round robin), recipients among all of nw's provinces and its
// central bodies. The class shares and the many-recipient share are exact
// (rounded), their places and everything else drawn from seed.
func planNetwork(nw *testgen.Network, provinces, docs int, seed uint64, scale float64) []*netItem {
	rng := rand.New(rand.NewPCG(seed, 0x6e6574776f726b))
	classes := make([]int, 0, docs)
	left := docs
	for ci := len(netClasses) - 1; ci > 0; ci-- { // the rare classes first: rounding never loses them
		n := min(left, int(math.Round(float64(docs)*netClasses[ci].Share)))
		for range n {
			classes = append(classes, ci)
		}
		left -= n
	}
	for range left {
		classes = append(classes, 0)
	}
	rng.Shuffle(len(classes), func(i, j int) { classes[i], classes[j] = classes[j], classes[i] })
	many := make([]bool, docs)
	for i := range int(math.Round(float64(docs) * netManyShare)) {
		many[i] = true
	}
	rng.Shuffle(len(many), func(i, j int) { many[i], many[j] = many[j], many[i] })

	all := len(nw.Provinces)
	items := make([]*netItem, docs)
	for i := range docs {
		p := i % provinces
		prov := nw.Provinces[p]
		cl := netClasses[classes[i]]
		size := float64(cl.Lo) * math.Exp(rng.Float64()*math.Log(float64(cl.Hi)/float64(cl.Lo)))
		it := &netItem{
			Index: i, File: fmt.Sprintf("%06d.xml", i), Province: prov.Peer, Class: cl.Name, Many: many[i],
			Target: int(size * scale), province: p, classIndex: classes[i],
		}
		seen := map[string]bool{}
		add := func(o envelope.Organization, thisHop bool) {
			if seen[o.OrganID] {
				return
			}
			seen[o.OrganID] = true
			it.to = append(it.to, o)
			if thisHop {
				it.Recipients = append(it.Recipients, o.OrganID)
			}
		}
		own := envelope.Organization{OrganID: "000.00.31." + prov.Code, OrganName: "UBND một huyện của tỉnh " + prov.Name}
		if it.Many {
			// A circular of the provincial committee: its own district
			// (delivered by its own hub, so in To but not this hop), every
			// other province's committee, every central body.
			it.organ = 0
			add(own, false)
			for q, other := range nw.Provinces {
				if q != p {
					add(envelope.Organization{OrganID: other.Committee(), OrganName: "UBND tỉnh " + other.Name}, true)
				}
			}
			for _, a := range nw.Central {
				add(envelope.Organization{OrganID: a.OrganID, OrganName: a.Name}, true)
			}
		} else {
			it.organ = rng.IntN(len(prov.Organs))
			k := 1
			switch u := rng.Float64(); {
			case u >= 0.9:
				k = 3
			case u >= 0.7:
				k = 2
			}
			for len(it.Recipients) < k {
				if all == 1 || rng.Float64() < 0.5 {
					a := nw.Central[rng.IntN(len(nw.Central))]
					add(envelope.Organization{OrganID: a.OrganID, OrganName: a.Name}, true)
					continue
				}
				q := rng.IntN(all - 1)
				if q >= p {
					q++
				}
				other := nw.Provinces[q]
				d := rng.IntN(testgen.MaxNetworkOrgans)
				o := envelope.Organization{OrganID: fmt.Sprintf("000.00.%02d.%s", d, other.Code), OrganName: "UBND tỉnh " + other.Name}
				if d > 0 {
					o.OrganName = fmt.Sprintf("Cơ quan %02d tỉnh %s", d, other.Name)
				}
				add(o, true)
			}
			if rng.Float64() < 0.2 {
				add(own, false) // a copy inside the province too
			}
		}
		it.From = prov.Organs[it.organ].OrganID
		for _, o := range it.to {
			it.To = append(it.To, o.OrganID)
		}
		items[i] = it
	}
	return items
}

// signPool signs every item into dir (one file each) on every core and
// fills in their sizes. Each envelope has a run-unique code number and its
// own pseudo-random attachment (incompressible, as the ZIPs in the field),
// so the hub never sees the same bytes twice.
func signPool(ctx context.Context, nw *testgen.Network, root, dir string, items []*netItem, seed uint64, stderr io.Writer) error {
	signers := map[string]*envelope.Signer{}
	for _, it := range items {
		o := nw.Provinces[it.province].Organs[it.organ]
		if signers[o.OrganID] != nil {
			continue
		}
		s, err := envelope.LoadSigner(filepath.Join(root, o.Key), filepath.Join(root, o.Chain))
		if err != nil {
			return err
		}
		signers[o.OrganID] = s
	}
	now := time.Now()
	run := strings.ToUpper(strconv.FormatInt(now.UnixNano(), 36))
	date := now.Format(benchDateFormat)
	mk := func(it *netItem, attach int) ([]byte, error) {
		prov := nw.Provinces[it.province]
		org := prov.Organs[it.organ]
		m := testgen.NewDocument()
		m.From = envelope.Organization{OrganID: org.OrganID, OrganName: org.Name}
		m.To = it.to
		m.Code = envelope.Code{CodeNumber: fmt.Sprintf("N%s-%d", run, it.Index), CodeNotation: "UBND-VP"}
		m.DocumentID = org.OrganID + "," + date + "," + m.Code.String()
		m.PromulgationInfo = envelope.PromulgationInfo{Place: prov.Name, PromulgationDate: date}
		m.Subject = fmt.Sprintf("axisctl bench --network %s: văn bản %d của %s", run, it.Index, org.Name)
		m.Content = "Văn bản thử tải trục liên thông quốc gia (DEMO)."
		m.DueDate = ""
		m.TraceHeaders = []envelope.TraceHeader{{OrganID: org.OrganID, Timestamp: now.Format("2006/01/02 15:04:05")}}
		m.Business.StaffInfo = &envelope.StaffInfo{Department: "Văn thư", Staff: "Văn thư (DEMO)"}
		var s [32]byte
		binary.LittleEndian.PutUint64(s[:8], seed)
		binary.LittleEndian.PutUint64(s[8:16], uint64(it.Index))
		content := make([]byte, attach)
		_, _ = rand.NewChaCha8(s).Read(content)
		m.Attachments = []*envelope.Attachment{envelope.NewAttachment("cid:1", fmt.Sprintf("van-ban-%d.zip", it.Index), "application/zip", content)}
		raw, err := envelope.Encode(m)
		if err != nil {
			return nil, err
		}
		return signers[org.OrganID].Sign(raw)
	}
	one := func(it *netItem) error {
		probe, err := mk(it, 0) // the envelope around the attachment; base64 takes 4 bytes per 3
		if err != nil {
			return err
		}
		b, err := mk(it, max(0, (it.Target-len(probe))*3/4))
		if err != nil {
			return err
		}
		it.Bytes = int64(len(b))
		return os.WriteFile(filepath.Join(dir, it.File), b, 0o644)
	}

	// The big ones first, so that the last worker does not sign a 30 MB
	// envelope alone.
	order := slices.Clone(items)
	slices.SortStableFunc(order, func(a, b *netItem) int { return b.Target - a.Target })
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	var progress sync.Mutex // stderr
	var wg sync.WaitGroup
	step := max(1, len(items)/10)
	for range min(runtime.GOMAXPROCS(0), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(order) {
					return
				}
				if err := one(order[i]); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("envelope %d: %w", order[i].Index, err) })
					next.Store(int64(len(order)))
					return
				}
				if n := done.Add(1); n%int64(step) == 0 {
					progress.Lock()
					fmt.Fprintf(stderr, "bench: signed %d of %d\n", n, len(items))
					progress.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// benchNetwork signs the pool, posts it and reports.
func benchNetwork(ctx context.Context, nw *testgen.Network, r *netReport, timeout time.Duration, pid int, keepPool, asJSON bool, stdout, stderr io.Writer) int {
	// A hub started just before (axisd ... & then this) gets 10 s to listen.
	probe := &http.Client{Timeout: 30 * time.Second}
	err := netGet(ctx, probe, r.Hub+"/readyz")
	for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
		if !sleepUntil(ctx, time.Now().Add(250*time.Millisecond)) {
			break
		}
		err = netGet(ctx, probe, r.Hub+"/readyz")
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("bench --network: the hub is not ready: %w", err))
	}
	items := planNetwork(nw, r.Provinces, r.Docs, r.Seed, r.SizeScale)
	pool := filepath.Join(r.Dir, netPoolDir)
	if err := os.RemoveAll(pool); err != nil {
		return fail(stderr, err)
	}
	if err := os.MkdirAll(pool, 0o755); err != nil {
		return fail(stderr, err)
	}
	if keepPool {
		r.PoolKept = pool
	} else {
		defer os.RemoveAll(pool)
	}
	var target int64
	for _, it := range items {
		target += int64(it.Target)
	}
	fmt.Fprintf(stderr, "bench: signing %d envelopes, about %s, into %s on %d cores (not timed)\n",
		len(items), formatBytes(float64(target)), pool, runtime.GOMAXPROCS(0))
	t0 := time.Now()
	if err := signPool(ctx, nw, r.Dir, pool, items, r.Seed, stderr); err != nil {
		return fail(stderr, fmt.Errorf("bench --network: signing the pool: %w", err))
	}
	r.SignSeconds = time.Since(t0).Seconds()
	for _, it := range items {
		r.PoolBytes += it.Bytes
		r.Recipients += len(it.Recipients)
		if it.Many {
			r.ManyRecipients++
		}
	}
	debug.FreeOSMemory() // the signing garbage: the hub, not this process, is measured

	fmt.Fprintf(stderr, "bench: %d provinces posting %d envelopes (%s) to %s, %d at once\n",
		r.Provinces, len(items), formatBytes(float64(r.PoolBytes)), r.Hub, r.Concurrency)
	netLoad(ctx, nw, r, items, pool, timeout, pid)
	r.Interrupted = ctx.Err() != nil

	if err := writeNetResults(r.Results, items); err != nil {
		fmt.Fprintf(stderr, "bench: warning: %v\n", err)
	}
	text := stdout
	if asJSON {
		text = stderr
		if err := writeJSON(stdout, r); err != nil {
			return fail(stderr, err)
		}
	}
	printNetReport(text, r)
	switch {
	case r.Interrupted:
		return fail(stderr, errors.New("bench --network: interrupted; the numbers cover a partial run"))
	case r.Errors > 0:
		return fail(stderr, fmt.Errorf("bench --network: %d of %d posts failed (%s)", r.Errors, r.Posted, formatErrors(r.ErrorsBy)))
	case r.Accepted != len(items):
		return fail(stderr, fmt.Errorf("bench --network: %d of %d envelopes accepted", r.Accepted, len(items)))
	case r.TargetSeconds > 0 && !r.WithinTarget:
		return fail(stderr, fmt.Errorf("bench --network: the hour took %.1fs, more than the target %s", r.ElapsedSeconds, time.Duration(r.TargetSeconds*float64(time.Second))))
	}
	return exitOK
}

// netLoad posts the pool: one client per province, each with one
// connection and its peer token, posting its envelopes in order; at most
// r.Concurrency posts in flight in all, paced at r.RatePerSec when set.
// It samples the hub's RSS meanwhile and fills in r.
func netLoad(ctx context.Context, nw *testgen.Network, r *netReport, items []*netItem, pool string, timeout time.Duration, pid int) {
	perProvince := make([][]*netItem, r.Provinces)
	for _, it := range items {
		perProvince[it.province] = append(perProvince[it.province], it)
	}
	sem := make(chan struct{}, r.Concurrency)

	sampler := &rssSampler{hub: r.Hub, pid: pid, hc: &http.Client{Timeout: 5 * time.Second}}
	sampler.sample(ctx, true)
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(netSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				sampler.sample(sctx, false)
			}
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	for p, mine := range perProvince {
		if len(mine) == 0 {
			continue
		}
		prov := nw.Provinces[p]
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, tr.DisableCompression = 1, 1, true
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: timeout}
			for _, it := range mine {
				if r.RatePerSec > 0 {
					at := start.Add(time.Duration(float64(it.Index) / r.RatePerSec * float64(time.Second)))
					if !sleepUntil(ctx, at) {
						return
					}
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				netPost(ctx, hc, r.Hub, prov.Token, filepath.Join(pool, it.File), it)
				<-sem
				if ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	r.ElapsedSeconds = time.Since(start).Seconds()
	stopSampling()
	<-sampled
	sampler.sample(context.WithoutCancel(ctx), true)

	var all []time.Duration
	byClass := make([][]time.Duration, len(netClasses))
	r.Classes = make([]netClassReport, len(netClasses))
	for ci, c := range netClasses {
		r.Classes[ci] = netClassReport{Class: c.Name, Range: c.Range}
	}
	var acceptedBytes int64
	for _, it := range items {
		cr := &r.Classes[it.classIndex]
		cr.Envelopes++
		cr.Bytes += it.Bytes
		if it.Status == 0 && it.Error == "" {
			continue // never posted (interrupted)
		}
		r.Posted++
		switch {
		case it.Status == http.StatusCreated || it.Status == http.StatusAccepted:
			r.Accepted++
			cr.Accepted++
			acceptedBytes += it.Bytes
			if it.Status == http.StatusCreated {
				r.Created++
			} else {
				r.Held++
			}
			d := time.Duration(it.LatencyMs * float64(time.Millisecond))
			all = append(all, d)
			byClass[it.classIndex] = append(byClass[it.classIndex], d)
		default:
			r.Errors++
			r.ErrorsBy[it.Error]++
		}
	}
	r.LatencyMs = summarizeLatency(all)
	for ci := range r.Classes {
		r.Classes[ci].LatencyMs = summarizeLatency(byClass[ci])
	}
	if r.ElapsedSeconds > 0 {
		r.IntakePerSec = float64(r.Accepted) / r.ElapsedSeconds
		r.IntakeMiBPerSec = float64(acceptedBytes) / (1 << 20) / r.ElapsedSeconds
	}
	r.WithinTarget = r.TargetSeconds == 0 || r.ElapsedSeconds < r.TargetSeconds
	r.HubRSSPeakBytes, r.RSSSamples, r.RSSSource = sampler.peak, sampler.samples, sampler.source()
	r.HubCPUSeconds = sampler.cpuEnd - sampler.cpuStart
	r.HubDocuments = sampler.documents
	if pid > 0 {
		r.HubVmHWMBytes = procStatusBytes(pid, "VmHWM")
		r.HubAnonPeakBytes = sampler.peakAnon
	}
}

// netPost posts one envelope file as a province hub relays it and records
// the outcome in it: the status, the doc id and routes of a 2xx, else the
// error ("STATUS code", "200 duplicate" or "network").
func netPost(ctx context.Context, hc *http.Client, hub, token, file string, it *netItem) {
	t0 := time.Now()
	status, rc, code, err := postEnvelopeFile(ctx, hc, hub, token, file, it.Recipients)
	it.LatencyMs = float64(time.Since(t0).Microseconds()) / 1000
	if ctx.Err() != nil {
		it.Status, it.Error = 0, "" // interrupted: neither a result nor an error
		return
	}
	it.Status = status
	switch {
	case err != nil:
		it.Error = "network"
		if status != 0 {
			it.Error = fmt.Sprintf("%d reading the answer", status)
		}
	case status == http.StatusOK:
		it.Error = "200 duplicate"
	case status == http.StatusCreated || status == http.StatusAccepted:
		it.DocID, it.Routes = rc.DocID, rc.Recipients
	default:
		it.Error = fmt.Sprintf("%d %s", status, code)
	}
}

// postEnvelopeFile posts file with a peer token and X-Axis-Recipients and
// reads the whole answer: the status, the receipt of a 2xx, or the error's
// code.
func postEnvelopeFile(ctx context.Context, hc *http.Client, hub, token, file string, recipients []string) (int, *api.Receipt, string, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub+"/api/v1/envelopes", f)
	if err != nil {
		return 0, nil, "", err
	}
	req.ContentLength = st.Size()
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(api.RecipientsHeader, strings.Join(recipients, ","))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		code := problemFrom(http.MethodPost, "/api/v1/envelopes", resp).Code
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, nil, code, nil
	}
	var rc api.Receipt
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(&rc); err != nil {
		return resp.StatusCode, nil, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, &rc, "", nil
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rssSampler keeps the hub's largest resident set seen: from its /metrics
// (process_resident_memory_bytes), and from /proc/PID/status VmRSS when the
// pid is known; and the hub's CPU time and document count at the edges.
type rssSampler struct {
	hub              string
	pid              int
	hc               *http.Client
	peak             int64
	peakAnon         int64 // RssAnon, with the pid
	samples          int
	fromMetrics      bool
	fromProc         bool
	cpuStart, cpuEnd float64
	started          bool
	documents        int64
}

func (s *rssSampler) source() string {
	switch {
	case s.fromMetrics && s.fromProc:
		return "/metrics process_resident_memory_bytes and /proc/PID/status VmRSS, every 500 ms"
	case s.fromProc:
		return "/proc/PID/status VmRSS, every 500 ms"
	case s.fromMetrics:
		return "/metrics process_resident_memory_bytes, every 500 ms"
	}
	return "none (the hub's /metrics did not answer)"
}

// sample reads the hub's metrics (and /proc); edge: the first or last
// sample, which also reads the CPU time and the document count.
func (s *rssSampler) sample(ctx context.Context, edge bool) {
	counted := false
	if m, err := scrapeMetrics(ctx, s.hc, s.hub+"/metrics"); err == nil {
		if v, ok := m["process_resident_memory_bytes"]; ok {
			s.peak, s.fromMetrics, counted = max(s.peak, int64(v)), true, true
		}
		if edge {
			if cpu, ok := m["process_cpu_seconds_total"]; ok {
				if !s.started {
					s.cpuStart, s.started = cpu, true
				}
				s.cpuEnd = cpu
			}
			if d, ok := m["axis_documents"]; ok {
				s.documents = int64(d)
			}
		}
	}
	if s.pid > 0 {
		if v := procStatusBytes(s.pid, "VmRSS"); v > 0 {
			s.peak, s.fromProc, counted = max(s.peak, v), true, true
		}
		s.peakAnon = max(s.peakAnon, procStatusBytes(s.pid, "RssAnon"))
	}
	if counted {
		s.samples++
	}
}

// scrapeMetrics reads the unlabelled samples of a Prometheus text page.
func scrapeMetrics(ctx context.Context, hc *http.Client, u string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.Fields(val)[0], 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// procStatusBytes is a kB field of /proc/PID/status in bytes (0 if
// unreadable).
func procStatusBytes(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n << 10
		}
	}
	return 0
}

func netGet(ctx context.Context, hc *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

// writeNetResults writes one JSON line per envelope: what was posted and
// what the hub answered.
func writeNetResults(file string, items []*netItem) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printNetReport(w io.Writer, r *netReport) {
	pace := "as fast as the hub takes them"
	if r.RatePerSec > 0 {
		pace = fmt.Sprintf("paced at %.2f envelopes/s", r.RatePerSec)
	}
	fmt.Fprintf(w, "network: %d of %d provinces posting to %s, %d posts at once, %s\n", r.Provinces, r.NetworkProvinces, r.Hub, r.Concurrency, pace)
	if r.Docs == netDefaultDocs {
		fmt.Fprintf(w, "volume: %d envelopes (%s)\n", r.Docs, r.Assumption)
	} else {
		fmt.Fprintf(w, "volume: %d envelopes (--docs; the default, %d, is %s)\n", r.Docs, netDefaultDocs, r.Assumption)
	}
	fmt.Fprintf(w, "pool: %s in all, %d to many recipients, %d recipients for this hop in all; signed in %.1fs (not timed); seed %d, size scale %g\n",
		formatBytes(float64(r.PoolBytes)), r.ManyRecipients, r.Recipients, r.SignSeconds, r.Seed, r.SizeScale)
	fmt.Fprintf(w, "intake: %d accepted of %d posted (%d created, %d held) in %.1fs = %.1f envelopes/s, %.1f MiB/s\n",
		r.Accepted, r.Posted, r.Created, r.Held, r.ElapsedSeconds, r.IntakePerSec, r.IntakeMiBPerSec)
	fmt.Fprintf(w, "latency (accepted), ms:\n  %-7s %-10s %6s %10s %9s %9s %9s %9s\n", "class", "range", "count", "bytes", "p50", "p95", "p99", "max")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "  %-7s %-10s %6d %10s %9.1f %9.1f %9.1f %9.1f\n", c.Class, c.Range, c.Envelopes, formatBytes(float64(c.Bytes)),
			c.LatencyMs.P50, c.LatencyMs.P95, c.LatencyMs.P99, c.LatencyMs.Max)
	}
	fmt.Fprintf(w, "  %-7s %-10s %6d %10s %9.1f %9.1f %9.1f %9.1f\n", "all", "", r.Docs, formatBytes(float64(r.PoolBytes)),
		r.LatencyMs.P50, r.LatencyMs.P95, r.LatencyMs.P99, r.LatencyMs.Max)
	if r.Errors == 0 {
		fmt.Fprintf(w, "errors: 0\n")
	} else {
		fmt.Fprintf(w, "errors: %d (%s)\n", r.Errors, formatErrors(r.ErrorsBy))
	}
	hwm := ""
	if r.HubVmHWMBytes > 0 {
		hwm = fmt.Sprintf("; VmHWM %s", formatBytes(float64(r.HubVmHWMBytes)))
	}
	if r.HubAnonPeakBytes > 0 {
		hwm += fmt.Sprintf("; without mapped files (peak RssAnon) %s", formatBytes(float64(r.HubAnonPeakBytes)))
	}
	fmt.Fprintf(w, "hub: peak RSS %s (%d samples of %s)%s; %.1f s of CPU during the run; %d documents in its store\n",
		formatBytes(float64(r.HubRSSPeakBytes)), r.RSSSamples, r.RSSSource, hwm, r.HubCPUSeconds, r.HubDocuments)
	verdict := "no target"
	if r.TargetSeconds > 0 {
		verdict = fmt.Sprintf("within the %s target", time.Duration(r.TargetSeconds*float64(time.Second)))
		if !r.WithinTarget {
			verdict = fmt.Sprintf("OVER the %s target", time.Duration(r.TargetSeconds*float64(time.Second)))
		}
	}
	fmt.Fprintf(w, "peak hour: %d envelopes absorbed in %s: %s\n", r.Accepted, time.Duration(r.ElapsedSeconds*float64(time.Second)).Round(100*time.Millisecond), verdict)
	fmt.Fprintf(w, "results: %s (one line per envelope)\n", r.Results)
}
