package main

import (
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"20KB": 20 << 10, "20kb": 20 << 10, "2MB": 2 << 20, "2 MiB": 2 << 20, "1.5M": 3 << 19,
		"4096": 4096, "4096B": 4096, "100K": 100 << 10, "64MB": 64 << 20,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "KB", "-1KB", "0", "20GB", "65MB", "NaN", "Inf", "1e400"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestDefaultPool(t *testing.T) {
	t.Parallel()
	for size, want := range map[int]int{20 << 10: 2000, 100 << 10: 2000, 100<<10 + 1: 200, 1 << 20: 200, 2 << 20: 100} {
		if got := defaultPool(size); got != want {
			t.Errorf("defaultPool(%d) = %d, want %d", size, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var l []time.Duration
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	s := summarizeLatency(l)
	if s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Max != 100 {
		t.Errorf("summary %+v", s)
	}
	if s := summarizeLatency(nil); s != (latencySummary{}) {
		t.Errorf("empty summary %+v", s)
	}
	if got := percentile([]time.Duration{7 * time.Millisecond}, 99); got != 7 {
		t.Errorf("one sample p99 = %v", got)
	}
}

func TestDemoOffices(t *testing.T) {
	t.Parallel()
	// From a department: 10 district committees, 229 communes, then the
	// departments; N=240 is 239 district and commune offices and 1 department.
	got, err := demoOffices(240, testgen.Department)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 240 || got[0].OrganID != "000.00.31.H40" || got[9].OrganID != "000.00.40.H40" ||
		got[10].OrganID != "000.01.31.H40" || got[238].OrganID != "000.22.40.H40" || got[239].OrganID != "000.00.01.H40" {
		t.Fatalf("first %s, 10th %s, 11th %s, 239th %s, 240th %s", got[0].OrganID, got[9].OrganID, got[10].OrganID, got[238].OrganID, got[239].OrganID)
	}
	if got[0].OrganName != "UBND Thành phố Nam Định" {
		t.Errorf("name %q", got[0].OrganName)
	}
	// The sender is left out: from the commune, there is no 000.07.35.H40.
	all, err := demoOffices(256, testgen.Commune)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range all {
		if o.OrganID == testgen.Commune || o.OrganID == testgen.Province || seen[o.OrganID] {
			t.Fatalf("unexpected or repeated %s", o.OrganID)
		}
		seen[o.OrganID] = true
	}
	if all[255].OrganID != "000.00.18.H40" {
		t.Errorf("last %s", all[255].OrganID)
	}
	for _, n := range []int{0, -1, 257} {
		if _, err := demoOffices(n, testgen.Commune); err == nil || !strings.Contains(err.Error(), "1..256") {
			t.Errorf("demoOffices(%d): %v", n, err)
		}
	}
}

func TestParseRecipients(t *testing.T) {
	t.Parallel()
	got, err := parseRecipients([]string{"000.00.11.H40, 000.00.35.H40", "000.00.11.H40", "000.99.99.H40"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].OrganID != "000.00.11.H40" || got[1].OrganID != "000.00.35.H40" || got[2].OrganID != "000.99.99.H40" ||
		got[1].OrganName != "UBND huyện Hải Hậu" || got[2].OrganName != "" {
		t.Errorf("recipients %+v", got)
	}
	for _, bad := range [][]string{{""}, {","}, {"000.00.11.h40"}} {
		if _, err := parseRecipients(bad); err == nil {
			t.Errorf("parseRecipients(%q) accepted", bad)
		}
	}
}
