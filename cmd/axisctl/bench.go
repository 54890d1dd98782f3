package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
)

// Bench limits and defaults.
const (
	maxVerifyOnly   = 10 * time.Second
	benchSizeSmall  = 100 << 10 // ≤ this: default pool 2000
	benchSizeLarge  = 1 << 20   // > this: default pool 100 (memory)
	poolWarnBytes   = 512 << 20
	benchDateFormat = "2006/01/02"
)

// defaultPool is the pool size when --pool is not given: enough distinct
// envelopes for a 10 s run at small sizes, and a bounded amount of memory at
// large ones (100 × 2 MiB is 200 MiB of pool).
func defaultPool(size int) int {
	switch {
	case size <= benchSizeSmall:
		return 2000
	case size <= benchSizeLarge:
		return 200
	default:
		return 100
	}
}

// memoryLimit is bench's soft memory limit (unless GOMEMLIMIT is set): the
// pool plus room for the envelopes being signed or verified (a parse and
// canonicalization take about ten times the envelope). Without it the
// garbage collector lets the heap grow to twice the pool and more: about
// 850 MiB for 100 × 2 MiB envelopes, 470 MiB with it.
func memoryLimit(pool, size, conc int) int64 {
	return int64(pool)*int64(size) + max(256<<20, int64(conc)*int64(size)*12)
}

// parseSize reads "20KB", "2MB", "1.5MiB", "4096" or "4096B". KB and MB are
// binary (1024 and 1024²), like KiB and MiB.
func parseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return 0, fmt.Errorf("--size %q: want a size such as 20KB, 2MB or 4096", s)
	}
	n := f * mult
	if n > envelope.DefaultMaxBytes {
		return 0, fmt.Errorf("--size %q: more than the envelope limit of %d bytes", s, envelope.DefaultMaxBytes)
	}
	return int(math.Round(n)), nil
}

// formatBytes is a size for people, binary units.
func formatBytes(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

// demoOffices is the --to-demo-offices list: the demo province's district
// committees, then its communes, then its departments, without the sender,
// the first n of them.
func demoOffices(n int, from string) ([]envelope.Organization, error) {
	prov := testgen.DemoProvince()
	parents := map[string]bool{}
	for _, a := range prov {
		if a.Parent != "" && a.Parent != testgen.Province {
			parents[a.Parent] = true // a district committee: communes hang under it
		}
	}
	var districts, communes, departments []envelope.Organization
	for _, a := range prov {
		o := envelope.Organization{OrganID: a.OrganID, OrganName: a.Name}
		switch {
		case a.OrganID == from || a.Parent == "":
		case parents[a.OrganID]:
			districts = append(districts, o)
		case a.Parent == testgen.Province:
			departments = append(departments, o)
		default:
			communes = append(communes, o)
		}
	}
	all := slices.Concat(districts, communes, departments)
	if n < 1 || n > len(all) {
		return nil, fmt.Errorf("--to-demo-offices %d: want 1..%d (district committees, communes, then departments, the sender left out)", n, len(all))
	}
	return all[:n], nil
}

// parseRecipients reads --to values (each may hold a comma-separated list).
func parseRecipients(values []string) ([]envelope.Organization, error) {
	names := map[string]string{}
	for _, a := range testgen.DemoProvince() {
		names[a.OrganID] = a.Name
	}
	var out []envelope.Organization
	seen := map[string]bool{}
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			id, err := envelope.ParseOrganID(s)
			if err != nil {
				return nil, fmt.Errorf("--to %q: %v", s, err)
			}
			if !seen[id.String()] {
				seen[id.String()] = true
				out = append(out, envelope.Organization{OrganID: id.String(), OrganName: names[id.String()]})
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--to: no recipient")
	}
	return out, nil
}

// benchReport is what bench prints (as text, or as JSON with --json).
type benchReport struct {
	Scenario         string         `json:"scenario"`
	Hub              string         `json:"hub"`
	From             string         `json:"from"`
	Recipients       int            `json:"recipients"`
	Concurrency      int            `json:"concurrency"`
	Duration         string         `json:"duration"`
	TargetBytes      int            `json:"target_bytes"`
	EnvelopeBytes    int            `json:"envelope_bytes"` // mean signed size
	Pool             int            `json:"pool"`
	PoolBytes        int64          `json:"pool_bytes"`
	SignSeconds      float64        `json:"sign_seconds"`
	Sent             int            `json:"sent"`
	Created          int            `json:"created"`
	ElapsedSeconds   float64        `json:"elapsed_seconds"`
	IntakePerSec     float64        `json:"intake_per_sec"`
	LatencyMs        latencySummary `json:"latency_ms"`
	Errors           int            `json:"errors"`
	ErrorsBy         map[string]int `json:"errors_by"`
	PoolExhausted    bool           `json:"pool_exhausted"`
	Interrupted      bool           `json:"interrupted"`
	VerifyOnlyPerSec float64        `json:"verify_only_per_sec"`
	VerifyOnlyCount  int            `json:"verify_only_count"`
	VerifySeconds    float64        `json:"verify_only_seconds"`
	Ratio            float64        `json:"ratio_intake_verify_only"`
	// CPU this process spent (user+system, getrusage): per verification
	// in the verify-only run, per post during the load. With the client on
	// the hub's cores, the ratio cannot pass the ceiling they set:
	// verify / (verify + client), even for a hub that costs nothing beside
	// verifying.
	VerifyCPUms float64 `json:"verify_cpu_ms_per_verify"`
	ClientCPUms float64 `json:"client_cpu_ms_per_post"`
	Ceiling     float64 `json:"ratio_ceiling_same_cores"`
	// The hub's CPU per envelope created during the load, from its /metrics
	// (process_cpu_seconds_total; absent when that did not answer).
	HubCPUms *float64 `json:"hub_cpu_ms_per_intake,omitempty"`
}

type latencySummary struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentile is the nearest-rank percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

func summarizeLatency(l []time.Duration) latencySummary {
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	if len(l) == 0 {
		return latencySummary{}
	}
	return latencySummary{P50: percentile(l, 50), P95: percentile(l, 95), P99: percentile(l, 99), Max: percentile(l, 100)}
}

// runBench: axisctl bench (see the usage line).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if isNetworkBench(args) {
		return runBenchNetwork(ctx, args, stdout, stderr) // benchnet.go
	}
	fs := newFlagSet("bench", "--hub URL --token T --key K.pem --cert CHAIN.pem --roots ROOT.pem --from ORGAN "+
		"(--to ORGAN[,ORGAN...] | --to-demo-offices N) [--size 20KB] [--pool N] [--concurrency 8] [--duration 10s] [--json]", stderr)
	hf := addHubFlags(fs)
	keyFile := fs.String("key", "", "PEM private key of the sender")
	certFile := fs.String("cert", "", "PEM certificate chain of the sender, leaf first")
	var roots, to listFlag
	fs.Var(&roots, "roots", "PEM trusted roots for the verify-only baseline (repeatable)")
	from := fs.String("from", "", "sender organ code (the token's agency)")
	fs.Var(&to, "to", "recipient organ codes, comma-separated (repeatable)")
	toDemo := fs.Int("to-demo-offices", 0, "send to the first N of the demo province's district committees, communes, then departments (sender left out)")
	sizeFlag := fs.String("size", "20KB", "signed envelope size, about (KB and MB are 1024-based)")
	poolN := fs.Int("pool", 0, "distinct envelopes to sign before the run; each is sent at most once, the run stops early "+
		"if they run out (default 2000 up to 100KB, 200 up to 1MB, 100 above: the pool is held in memory, 200 MiB at 2MB; unless GOMEMLIMIT is set, bench sets a soft memory limit of the pool plus 256 MiB or more)")
	conc := fs.Int("concurrency", 8, "parallel senders (and verify-only goroutines)")
	duration := fs.Duration("duration", 10*time.Second, "load duration (verify-only runs min(duration, 10s))")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout (the text report goes to stderr)")
	fs.Bool("network", false, "the load model of the whole country posting to one national hub: see axisctl bench --network -h")
	if code, done := parseNoArgs(fs, args, stderr); done {
		return code
	}
	switch {
	case *keyFile == "" || *certFile == "":
		return usageError(stderr, "bench: --key and --cert are required")
	case len(roots) == 0:
		return usageError(stderr, "bench: --roots is required (for the verify-only baseline)")
	case *from == "":
		return usageError(stderr, "bench: --from is required")
	case (len(to) == 0) == (*toDemo == 0):
		return usageError(stderr, "bench: give exactly one of --to and --to-demo-offices")
	case *conc < 1 || *conc > 10000:
		return usageError(stderr, "bench: --concurrency must be 1..10000")
	case *duration <= 0:
		return usageError(stderr, "bench: --duration must be positive")
	case *poolN < 0:
		return usageError(stderr, "bench: --pool must be positive")
	}
	fromID, err := envelope.ParseOrganID(*from)
	if err != nil {
		return usageError(stderr, "bench: --from: %v", err)
	}
	var recipients []envelope.Organization
	if *toDemo != 0 {
		recipients, err = demoOffices(*toDemo, fromID.String())
	} else {
		recipients, err = parseRecipients(to)
	}
	if err != nil {
		return usageError(stderr, "bench: %v", err)
	}
	size, err := parseSize(*sizeFlag)
	if err != nil {
		return usageError(stderr, "bench: %v", err)
	}
	pool := *poolN
	if pool == 0 {
		pool = defaultPool(size)
	}
	if int64(pool)*int64(size) > poolWarnBytes {
		fmt.Fprintf(stderr, "bench: warning: the pool takes about %s of memory\n", formatBytes(float64(pool)*float64(size)))
	}
	c, err := hf.client()
	if err != nil {
		return usageError(stderr, "bench: %v", err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit(pool, size, *conc)))
	}
	signer, err := envelope.LoadSigner(*keyFile, *certFile)
	if err != nil {
		return usageError(stderr, "bench: %v", err)
	}
	rootPool, err := envelope.LoadRoots(roots...)
	if err != nil {
		return usageError(stderr, "bench: --roots: %v", err)
	}
	verifier, err := envelope.NewVerifier(envelope.Policy{Roots: rootPool})
	if err != nil {
		return usageError(stderr, "bench: %v", err)
	}

	// Fail fast, before minutes of signing, if the hub is down or the token wrong.
	if _, _, err := c.call(ctx, http.MethodGet, "/readyz", nil, ""); err != nil {
		return failHub(stderr, err)
	}
	if _, _, err := c.call(ctx, http.MethodGet, "/api/v1/inbox?limit=1", nil, ""); err != nil {
		return failHub(stderr, err)
	}

	r := &benchReport{
		Hub: c.base, From: fromID.String(), Recipients: len(recipients), Concurrency: *conc,
		Duration: duration.String(), TargetBytes: size, ErrorsBy: map[string]int{},
	}
	r.Scenario = fmt.Sprintf("%s → %s, ~%s envelopes, concurrency %d, %s", r.From, describeRecipients(recipients),
		formatBytes(float64(size)), *conc, duration)

	workers := runtime.GOMAXPROCS(0)
	fmt.Fprintf(stderr, "bench: signing %d distinct envelopes of ~%s on %d cores (not timed)\n", pool, formatBytes(float64(size)), workers)
	t0 := time.Now()
	envs, err := buildPool(ctx, signer, fromID.String(), recipients, size, pool, workers)
	if err != nil {
		return fail(stderr, fmt.Errorf("bench: signing the pool: %w", err))
	}
	r.SignSeconds = time.Since(t0).Seconds()
	r.Pool = len(envs)
	for _, e := range envs {
		r.PoolBytes += int64(len(e))
	}
	r.EnvelopeBytes = int(r.PoolBytes / int64(len(envs)))
	if _, err := verifier.Verify(envs[0]); err != nil {
		return fail(stderr, fmt.Errorf("bench: the signed pool does not verify against --roots: %w", err))
	}
	runtime.GC() // drop the signing garbage before the timed runs

	vd := min(*duration, maxVerifyOnly)
	fmt.Fprintf(stderr, "bench: verify-only baseline for %s\n", vd)
	cpu0 := processCPU()
	n, elapsed, err := verifyOnly(ctx, verifier, envs, *conc, vd)
	if n > 0 {
		r.VerifyCPUms = float64(processCPU()-cpu0) / float64(time.Millisecond) / float64(n)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("bench: verify-only: %w", err))
	}
	r.VerifyOnlyCount, r.VerifySeconds = n, elapsed.Seconds()
	if elapsed > 0 {
		r.VerifyOnlyPerSec = float64(n) / elapsed.Seconds()
	}

	if ctx.Err() == nil {
		fmt.Fprintf(stderr, "bench: load for %s against %s\n", *duration, c.base)
		hub0, hubErr := hubCPU(ctx, c)
		cpu0 := processCPU()
		load(ctx, c, envs, *conc, *duration, r)
		if r.Sent > 0 {
			r.ClientCPUms = float64(processCPU()-cpu0) / float64(time.Millisecond) / float64(r.Sent)
		}
		if hub1, err := hubCPU(ctx, c); hubErr == nil && err == nil && r.Created > 0 {
			ms := (hub1 - hub0) * 1000 / float64(r.Created)
			r.HubCPUms = &ms
		}
	}
	if r.VerifyCPUms > 0 && r.ClientCPUms > 0 {
		r.Ceiling = r.VerifyCPUms / (r.VerifyCPUms + r.ClientCPUms)
	}
	r.Interrupted = ctx.Err() != nil
	if r.ElapsedSeconds > 0 {
		r.IntakePerSec = float64(r.Created) / r.ElapsedSeconds
	}
	if r.VerifyOnlyPerSec > 0 {
		r.Ratio = r.IntakePerSec / r.VerifyOnlyPerSec
	}

	text := stdout
	if *asJSON {
		text = stderr
		if err := writeJSON(stdout, r); err != nil {
			return fail(stderr, err)
		}
	}
	printBenchReport(text, r)
	switch {
	case r.Interrupted:
		return fail(stderr, errors.New("bench: interrupted; the numbers cover a partial run"))
	case r.Errors > 0:
		return fail(stderr, fmt.Errorf("bench: %d of %d intakes failed (%s)", r.Errors, r.Sent, formatErrors(r.ErrorsBy)))
	case r.Created == 0:
		return fail(stderr, errors.New("bench: no envelope was created"))
	}
	return exitOK
}

func describeRecipients(rs []envelope.Organization) string {
	if len(rs) == 1 {
		return "1 recipient (" + rs[0].OrganID + ")"
	}
	return fmt.Sprintf("%d recipients (%s … %s)", len(rs), rs[0].OrganID, rs[len(rs)-1].OrganID)
}

func formatErrors(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func printBenchReport(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "scenario: %s, hub %s\n", r.Scenario, r.Hub)
	fmt.Fprintf(w, "pool: %d distinct envelopes, %s each on average (%d bytes; target %s), %s in all, signed in %.1fs (not timed)\n",
		r.Pool, formatBytes(float64(r.EnvelopeBytes)), r.EnvelopeBytes, formatBytes(float64(r.TargetBytes)), formatBytes(float64(r.PoolBytes)), r.SignSeconds)
	fmt.Fprintf(w, "intake: %d created of %d sent in %.2fs = %.1f envelopes/s\n", r.Created, r.Sent, r.ElapsedSeconds, r.IntakePerSec)
	fmt.Fprintf(w, "latency (created): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.LatencyMs.P50, r.LatencyMs.P95, r.LatencyMs.P99, r.LatencyMs.Max)
	if r.Errors == 0 {
		fmt.Fprintf(w, "errors: 0\n")
	} else {
		fmt.Fprintf(w, "errors: %d (%s)\n", r.Errors, formatErrors(r.ErrorsBy))
	}
	if r.PoolExhausted {
		fmt.Fprintf(w, "note: the pool of %d ran out after %.2fs, so the run stopped early; use a larger --pool for the full duration\n", r.Pool, r.ElapsedSeconds)
	}
	fmt.Fprintf(w, "verify-only: %.1f envelopes/s (%d verifies, %d goroutines, %.1fs, in this process)\n",
		r.VerifyOnlyPerSec, r.VerifyOnlyCount, r.Concurrency, r.VerifySeconds)
	fmt.Fprintf(w, "ratio intake/verify-only: %.2f\n", r.Ratio)
	if r.Ceiling > 0 {
		fmt.Fprintf(w, "client CPU: %.3f ms per post beside %.3f ms per verification; on the hub's cores the ratio cannot pass %.2f\n",
			r.ClientCPUms, r.VerifyCPUms, r.Ceiling)
	}
	if r.HubCPUms != nil && r.VerifyCPUms > 0 {
		fmt.Fprintf(w, "hub CPU: %.3f ms per intake (%.2f verifications; its /metrics process_cpu_seconds_total)\n", *r.HubCPUms, *r.HubCPUms/r.VerifyCPUms)
	}
}

// hubCPU is the hub's process_cpu_seconds_total.
func hubCPU(ctx context.Context, c *hubClient) (float64, error) {
	m, err := scrapeMetrics(ctx, c.hc, c.base+"/metrics")
	if err != nil {
		return 0, err
	}
	v, ok := m["process_cpu_seconds_total"]
	if !ok {
		return 0, errors.New("no process_cpu_seconds_total")
	}
	return v, nil
}

// processCPU is the user and system CPU time this process has used so far
// (0 where getrusage is not available).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildPool signs n distinct envelopes of about size bytes on workers
// goroutines. Each has a run-unique code number and its own pseudo-random
// attachment, so the hub never sees the same bytes twice.
func buildPool(ctx context.Context, signer *envelope.Signer, from string, to []envelope.Organization, size, n, workers int) ([][]byte, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	now := time.Now()
	run := strings.ToUpper(strconv.FormatInt(now.UnixNano(), 36))
	fromName, _ := demoAgencyName(from)
	mk := func(i, attach int) ([]byte, error) {
		m := testgen.NewDocument()
		m.From = envelope.Organization{OrganID: from, OrganName: fromName}
		m.To = to
		m.Code.CodeNumber = fmt.Sprintf("B%s-%d", run, i)
		m.DocumentID = from + "," + now.Format(benchDateFormat) + "," + m.Code.String()
		m.PromulgationInfo.PromulgationDate = now.Format(benchDateFormat)
		m.Subject = fmt.Sprintf("axisctl bench %s, envelope %d", run, i)
		m.TraceHeaders = []envelope.TraceHeader{{OrganID: from, Timestamp: now.Format("2006/01/02 15:04:05")}}
		s := seed
		binary.LittleEndian.PutUint64(s[:8], binary.LittleEndian.Uint64(s[:8])^uint64(i))
		content := make([]byte, attach)
		_, _ = rand.NewChaCha8(s).Read(content)
		m.Attachments = []*envelope.Attachment{envelope.NewAttachment("cid:1", fmt.Sprintf("bench-%d.bin", i), "application/octet-stream", content)}
		raw, err := envelope.Encode(m)
		if err != nil {
			return nil, err
		}
		return signer.Sign(raw)
	}

	// Size the attachment: base64 takes 4 bytes per 3. Two probes, as the
	// empty attachment's element is written slightly differently.
	attach := 0
	for range 2 {
		probe, err := mk(-1, attach)
		if err != nil {
			return nil, err
		}
		attach = max(0, attach+(size-len(probe))*3/4)
	}

	pool := make([][]byte, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				b, err := mk(i, attach)
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				pool[i] = b
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pool, nil
}

// verifyOnly verifies the pool round-robin on conc goroutines for d and
// returns how many verifications completed and the time they took.
func verifyOnly(ctx context.Context, v *envelope.Verifier, pool [][]byte, conc int, d time.Duration) (int, time.Duration, error) {
	var next, count atomic.Int64
	var firstErr error
	var once sync.Once
	var stop atomic.Bool
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
				i := int((next.Add(1) - 1) % int64(len(pool)))
				if _, err := v.Verify(pool[i]); err != nil {
					once.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(count.Load()), time.Since(start), firstErr
}

// load posts the pool, each envelope at most once, from conc workers until
// d has passed or the pool runs out, and fills r's intake fields. Requests
// in flight at the deadline finish and count; an interrupt drops them.
func load(ctx context.Context, c *hubClient, pool [][]byte, conc int, d time.Duration, r *benchReport) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conc
	tr.MaxIdleConnsPerHost = conc
	hc := &http.Client{Transport: tr, Timeout: c.hc.Timeout}
	defer tr.CloseIdleConnections()

	type worker struct {
		lat    []time.Duration
		errs   map[string]int
		sent   int
		create int
	}
	ws := make([]worker, conc)
	var next atomic.Int64
	var exhausted atomic.Bool
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for k := range ws {
		w := &ws[k]
		w.errs = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(pool)) {
					exhausted.Store(true)
					return
				}
				t0 := time.Now()
				status, code, err := postOne(ctx, hc, c, pool[i])
				lat := time.Since(t0)
				if ctx.Err() != nil {
					return // interrupted: neither a result nor an error
				}
				w.sent++
				switch {
				case err != nil:
					w.errs["network"]++
				case status == http.StatusCreated:
					w.create++
					w.lat = append(w.lat, lat)
				case status == http.StatusOK:
					w.errs["200 duplicate"]++
				default:
					w.errs[fmt.Sprintf("%d %s", status, code)]++
				}
			}
		}()
	}
	wg.Wait()
	r.ElapsedSeconds = time.Since(start).Seconds()
	r.PoolExhausted = exhausted.Load()
	var lat []time.Duration
	for _, w := range ws {
		r.Sent += w.sent
		r.Created += w.create
		lat = append(lat, w.lat...)
		for k, v := range w.errs {
			r.ErrorsBy[k] += v
			r.Errors += v
		}
	}
	r.LatencyMs = summarizeLatency(lat)
}

// postOne posts one envelope and reads the whole answer (so the connection
// is reused). It returns the status and, for an error answer, its code.
func postOne(ctx context.Context, hc *http.Client, c *hubClient, raw []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/envelopes", bytes.NewReader(raw))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/xml")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		code := problemFrom(http.MethodPost, "/api/v1/envelopes", resp).Code
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, code, nil
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, "", err
}
