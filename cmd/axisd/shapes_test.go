package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
)

// procStatus reads one "Vm..." line of /proc/PID/status in KiB.
func procStatus(t testing.TB, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestHugeShapesRefusedFast: 30 MB envelopes made of namespace declarations
// or attributes (1,000,000 declarations once held a verification slot for
// ~40 s; 2,000,000 attributes took ~1 GB) are refused with too_large within
// a second, and axisd's peak RSS grows by less than 100 MB. axisd runs as
// its own process, built without the race detector (whose shadow memory
// would be what is measured), so its RSS is the product's.
func TestHugeShapesRefusedFast(t *testing.T) {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs on Linux: /proc/self/clear_refs is required")
		}
		t.Skip("needs Linux /proc (peak RSS)")
	}
	cmd, base := startProcess(t, buildAxisdRace(t, false), t.TempDir())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid

	const size = 30 << 20
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<edXML xmlns="` + envelope.Namespace + `"`
	build := func(unit func(b *bytes.Buffer, i int)) []byte {
		var b bytes.Buffer
		b.Grow(size + 64)
		b.WriteString(head)
		for i := 0; b.Len() < size; i++ {
			unit(&b, i)
		}
		b.WriteString("/>")
		return b.Bytes()
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"namespace declarations on the root", build(func(b *bytes.Buffer, i int) { fmt.Fprintf(b, ` xmlns:n%d="u"`, i) })},
		{"attributes on the root", build(func(b *bytes.Buffer, i int) { fmt.Fprintf(b, ` a%d=""`, i) })},
		{"64 attributes on each of many elements", build(func(b *bytes.Buffer, i int) {
			if i == 0 {
				b.WriteString(">")
			}
			b.WriteString("<e")
			for j := 0; j < envelope.DefaultMaxAttributesPerElement; j++ {
				fmt.Fprintf(b, ` a%d=""`, j)
			}
			b.WriteString("/>")
		})},
	}
	// One ordinary request first, so the baseline is a hub that has served.
	if r := callURL(t, base, "GET", "/api/v1/inbox", tok(testgen.Department), nil); r.status != 200 {
		t.Fatalf("inbox: %d", r.status)
	}
	for _, c := range cases {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			t.Fatalf("reset peak RSS: %v", err)
		}
		rss := procStatus(t, pid, "VmRSS")
		t0 := time.Now()
		r := callURL(t, base, "POST", "/api/v1/envelopes", tok(testgen.Commune), c.raw)
		took := time.Since(t0)
		peak := procStatus(t, pid, "VmHWM")
		t.Logf("%s (%d MB): %d %s in %v; RSS %d MB before, peak %d MB (+%d MB)", c.name, len(c.raw)>>20, r.status, r.code(t), took.Round(time.Millisecond), rss>>10, peak>>10, (peak-rss)>>10)
		if r.status != 413 || r.code(t) != "too_large" {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
		if took > time.Second {
			t.Errorf("%s: refused after %v, want under 1 s", c.name, took)
		}
		if grew := (peak - rss) << 10; grew >= 100<<20 {
			t.Errorf("%s: axisd's RSS grew by %d MB, want under 100 MB", c.name, grew>>20)
		}
	}
}
