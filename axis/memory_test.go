package axis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "512MiB": 512 << 20, "64 KiB": 64 << 10, "1gb": 1 << 30, "4096": 4096, "10B": 10} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1GiB", "1.5GiB", "lots", "1TiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
	if s := Size(1 << 30).String(); s != "1GiB" {
		t.Errorf("Size(1<<30) = %s", s)
	}
	if s := Size(1536 << 20).String(); s != "1536MiB" {
		t.Errorf("Size(1536MiB) = %s", s)
	}
}

// TestMemBudget: reservations past the budget wait, in order of arrival;
// one larger than the budget waits for everything else and then runs
// alone; a waiter whose context ends leaves the line without holding
// anything.
func TestMemBudget(t *testing.T) {
	ctx := context.Background()
	b := newMemBudget(100)
	a, _ := b.acquire(ctx, 60)
	got := make(chan string, 3)
	go func() { n, _ := b.acquire(ctx, 50); got <- "fifty"; b.release(n) }()
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters.Len() == 1 })
	// A small one behind the waiting fifty waits too (no overtaking).
	go func() { n, _ := b.acquire(ctx, 10); got <- "ten"; b.release(n) }()
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters.Len() == 2 })
	select {
	case s := <-got:
		t.Fatalf("%s was granted while 60 of 100 were held", s)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(a)
	if first, second := <-got, <-got; first != "fifty" && second != "fifty" {
		t.Fatalf("grants %s, %s", first, second)
	}
	waitFor(t, func() bool { return b.held() == 0 })

	// Larger than the whole budget: capped, so it runs when alone.
	n, err := b.acquire(ctx, 1000)
	if err != nil || n != 100 || b.held() != 100 {
		t.Fatalf("oversized acquire: %d, %v, held %d", n, err, b.held())
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(cctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire past a full budget: %v", err)
	}
	b.release(n)
	if h := b.held(); h != 0 {
		t.Fatalf("held %d after the timed-out waiter left", h)
	}
	if n, err := b.acquire(ctx, 100); err != nil || n != 100 {
		t.Fatalf("after release: %d, %v", n, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMemoryConfig: limits.memory reads sizes with units, defaults to
// 1 GiB, refuses what is not a size with its line, and ApplyMemory hands
// it to the runtime with the GC target (GOMEMLIMIT and GOGC unset here).
func TestMemoryConfig(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	base, err := os.ReadFile("../testdata/demo/axis-h40.yaml")
	if err != nil {
		t.Fatal(err)
	}
	load := func(extra string) (*Config, error) {
		p := filepath.Join(t.TempDir(), "axis.yaml")
		// limits: is a top-level key of the demo config, or not there yet.
		text := string(base)
		if strings.Contains(text, "\nlimits:\n") {
			text = strings.Replace(text, "\nlimits:\n", "\nlimits:\n"+extra, 1)
		} else {
			text += "\nlimits:\n" + extra
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		// Relative paths of the demo config stay relative to testdata/demo.
		return LoadConfig(p)
	}
	c, err := LoadConfig("../testdata/demo/axis-h40.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(base), "\nlimits:\n") {
		t.Fatal("the demo config has no limits: block (the line number below assumes it at line 17)")
	}
	if c.Limits.Memory != DefaultMemory {
		t.Fatalf("default limits.memory %d", c.Limits.Memory)
	}
	if _, err := load("  memory: lots\n"); err == nil || !strings.Contains(err.Error(), `"lots" is not a size`) || !strings.Contains(err.Error(), "axis.yaml:18:") {
		t.Fatalf("memory: lots: %v", err)
	}
	c.Limits.Memory = 768 << 20
	old := debug.SetMemoryLimit(-1)
	oldGC := debug.SetGCPercent(100)
	defer func() { debug.SetMemoryLimit(old); debug.SetGCPercent(oldGC) }()
	s := ApplyMemory(c.Limits)
	if got := debug.SetMemoryLimit(-1); got != (768<<20)/100*80 || s.Limit != (768<<20)/100*80 || s.From != "limits.memory" {
		t.Fatalf("runtime memory limit %d, settings %+v", got, s)
	}
	if got := debug.SetGCPercent(gcPercentWithBudget); got != gcPercentWithBudget {
		t.Fatalf("GOGC %d, want %d", got, gcPercentWithBudget)
	}
}

// The budget's metrics: its size (half of limits.memory) and what the
// envelopes in flight hold of it at the scrape.
func TestMemoryMetrics(t *testing.T) {
	c, err := LoadConfig("../testdata/demo/axis-h40.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Limits.Memory = 512 << 20
	h := NewHub(c, Options{})
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := h.metrics.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	if b, r := gauge("axis_intake_memory_budget_bytes"), gauge("axis_intake_memory_reserved_bytes"); b != 256<<20 || r != 0 {
		t.Fatalf("budget %v reserved %v, want %d and 0", b, r, 256<<20)
	}
	n, err := h.verifyMem.acquire(context.Background(), verifyMemoryFactor*3_000_000)
	if err != nil || gauge("axis_intake_memory_reserved_bytes") != 12_000_000 {
		t.Fatalf("after reserving for a 3 MB envelope: %v, %v", gauge("axis_intake_memory_reserved_bytes"), err)
	}
	h.verifyMem.release(n)
	if r := gauge("axis_intake_memory_reserved_bytes"); r != 0 {
		t.Fatalf("reserved %v after release", r)
	}
}
