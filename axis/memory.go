package axis

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/prometheus/client_golang/prometheus"
)

// The memory budget (limits.memory, default 1 GiB).
//
// axisd's memory is the heap the garbage collector lets grow, plus what
// verifications hold at once. Go's default pace (GOGC=100: collect when the
// heap doubles the live heap) spends a tenth of a busy hub's CPU in the
// collector while the heap stays far below what the machine gives axisd.
// With a budget the runtime knows both: ApplyMemory sets its memory limit to
// 80% of the budget (a collection is forced as the heap nears it, whatever
// GOGC says; the rest is for what the runtime does not count: bbolt's
// mapped pages, the PKCS#11 module, thread stacks) and GOGC to
// gcPercentWithBudget, so between the two the collector runs a quarter as
// often and the process stays within the budget. GOMEMLIMIT and GOGC in the
// environment win over both.
//
// A verification holds its envelope and the tree parsed from it: at most
// verifyMemoryFactor times the envelope's size (envelope's
// BenchmarkVerify2MB and scripts/bench.sh's 64 MB scenario measure it), and
// until its commit the verified bytes and the attachments' text. Half the
// budget is for that: an intake reserves factor × size of it before it
// reads a spooled body back and holds it until it is committed, so that
// eight 64 MB uploads at once do not hold eight envelopes' memory (they
// wait, their bodies in spool files). One
// verification is always admitted, however large, so a budget smaller than
// one envelope slows intake but never stops it.
const (
	DefaultMemory       = 1 << 30
	gcPercentWithBudget = 400
	verifyMemoryFactor  = 4
	runtimeShare        = 80 // percent of the budget that is the runtime's memory limit
)

// Size is a byte count in the configuration: 1073741824, or with a binary
// unit, 1GiB, 512MiB, 64KiB (KB, MB, GB read as the binary ones too).
type Size int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*s = Size(v)
	return nil
}

// ParseSize reads a Size.
func ParseSize(str string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(str))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size (write 1GiB, 512MiB or a number of bytes)", str)
	}
	return v * mult, nil
}

// String is the size in the largest binary unit that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(s)%u.mult == 0 {
			return fmt.Sprintf("%d%s", int64(s)/u.mult, u.name)
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MemorySettings is what ApplyMemory set, for the log and checkconfig.
type MemorySettings struct {
	Limit     int64  // the runtime's memory limit, bytes
	GCPercent int    // GOGC
	From      string // "limits.memory", or "GOMEMLIMIT" / "GOGC" when the environment set them
}

// ApplyMemory sets the Go runtime's memory limit and GC target from
// limits.memory (process-wide: axisd calls it once the configuration is
// read, and again on reload).
func ApplyMemory(l LimitsConfig) MemorySettings {
	s := MemorySettings{Limit: int64(l.Memory) / 100 * runtimeShare, GCPercent: gcPercentWithBudget, From: "limits.memory"}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(s.Limit)
	} else {
		s.Limit, s.From = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(s.GCPercent)
	} else {
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent)
		s.From += ", GOGC"
	}
	return s
}

// memBudget is a weighted semaphore over bytes: acquire waits, in order of
// arrival, until n bytes are free (n larger than the whole budget waits
// until nothing else is held).
type memBudget struct {
	mu      sync.Mutex
	size    int64
	cur     int64
	waiters list.List // of *memWaiter
}

type memWaiter struct {
	n     int64
	ready chan struct{}
}

func newMemBudget(size int64) *memBudget { return &memBudget{size: max(size, 1)} }

// acquire reserves n bytes (capped at the budget) and returns how much to
// release, or ctx's error.
func (b *memBudget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(max(n, 0), b.size)
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.cur+n <= b.size {
		b.cur += n
		b.mu.Unlock()
		return n, nil
	}
	w := &memWaiter{n: n, ready: make(chan struct{})}
	el := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.cur -= n
			b.wake()
		default:
			b.waiters.Remove(el)
			b.wake() // the head may have changed
		}
		b.mu.Unlock()
		return 0, ctx.Err()
	}
}

// release gives back n bytes.
func (b *memBudget) release(n int64) {
	b.mu.Lock()
	b.cur -= n
	b.wake()
	b.mu.Unlock()
}

// wake grants waiters in order while they fit. b.mu is held.
func (b *memBudget) wake() {
	for {
		front := b.waiters.Front()
		if front == nil {
			return
		}
		w := front.Value.(*memWaiter)
		if b.cur+w.n > b.size {
			return
		}
		b.cur += w.n
		b.waiters.Remove(front)
		close(w.ready)
	}
}

// watchMemory exports the intake memory budget: its size and what the
// envelopes in flight have reserved of it, read at each scrape. Reserved
// close to the budget for long means big uploads wait in their spool files.
func (m *metrics) watchMemory(b *memBudget) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "axis_intake_memory_budget_bytes",
			Help: "The memory the envelopes in flight may reserve for verification: half of limits.memory."},
			func() float64 { return float64(b.size) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "axis_intake_memory_reserved_bytes",
			Help: "The memory the envelopes in flight have reserved now (4 times each one's size, until its commit)."},
			func() float64 { return float64(b.held()) }))
}

// held is what is reserved now (for the metric).
func (b *memBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}
