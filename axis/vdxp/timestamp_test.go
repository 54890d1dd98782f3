package vdxp

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	at := time.Date(2026, 11, 25, 20, 30, 6, 109_000_000, Zone)
	for _, s := range []string{Timestamp(at), "25112026T203006+0109", "25112026T203006+109", " 25112026T203006+0109 "} {
		got, err := ParseTimestamp(s, Zone)
		if err != nil || !got.Equal(at) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", s, got, err, at)
		}
	}
	if got, err := ParseTimestamp("25112026T203006", Zone); err != nil || !got.Equal(at.Truncate(time.Second)) {
		t.Errorf("without milliseconds: %v %v", got, err)
	}
	// Read in the zone given: the same text in UTC is 7 hours later.
	if got, _ := ParseTimestamp("25112026T203006+0109", time.UTC); got.Sub(at) != 7*time.Hour {
		t.Errorf("in UTC: %v", got)
	}
	for _, bad := range []string{"", "2026-11-25T20:30:06Z", "25112026T203006+", "25112026T203006-0109", "25112026T203006+01090",
		"25112026T203006+x109", "32112026T203006+0109", "25112026T203006+1000"} {
		if _, err := ParseTimestamp(bad, Zone); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// The hub's client writes Vietnamese time whatever its clock's zone.
	if got := Timestamp(time.Date(2026, 11, 25, 13, 30, 6, 109_000_000, time.UTC).In(Zone)); got != "25112026T203006+0109" {
		t.Errorf("Timestamp in Zone = %s", got)
	}
}
