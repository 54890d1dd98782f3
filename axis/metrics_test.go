package axis

import (
	"testing"
	"time"
)

// axis_peer_up: the last attempt succeeded, or none failed since the start.
func TestMetricsPeerUp(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		attempts []bool // in order, a second apart
		up       bool
	}{
		{"never tried", nil, true},
		{"succeeded", []bool{true}, true},
		{"failed", []bool{false}, false},
		{"failed, then succeeded", []bool{false, true}, true},
		{"succeeded, then failed", []bool{true, false}, false},
		{"failed twice, succeeded, failed", []bool{false, false, true, false}, false},
	} {
		m := newMetrics()
		for i, ok := range c.attempts {
			m.relayAttempt("national", t0.Add(time.Duration(i)*time.Second), ok)
		}
		pt := m.peerTimes("national")
		if pt.up() != c.up {
			t.Errorf("%s: up %v, want %v", c.name, pt.up(), c.up)
		}
		var lastOK, lastFail time.Time
		for i, ok := range c.attempts {
			if ok {
				lastOK = t0.Add(time.Duration(i) * time.Second)
			} else {
				lastFail = t0.Add(time.Duration(i) * time.Second)
			}
		}
		if !pt.success.Equal(lastOK) || !pt.failure.Equal(lastFail) {
			t.Errorf("%s: success %v failure %v, want %v %v", c.name, pt.success, pt.failure, lastOK, lastFail)
		}
		if other := m.peerTimes("h41"); !other.up() || !other.success.IsZero() || !other.failure.IsZero() {
			t.Errorf("%s: another peer %+v", c.name, other)
		}
	}
}

// The console's refusal count reads the intake counter alone: refusals,
// not what was accepted (created, duplicate, held).
func TestMetricsIntakeErrors(t *testing.T) {
	m := newMetrics()
	for r, n := range map[string]int{"created": 5, "duplicate": 2, "held": 1, "signature_invalid": 3, "too_large": 1} {
		for range n {
			m.intake.WithLabelValues(r).Inc()
		}
	}
	if got := m.intakeErrors(); got != 4 {
		t.Fatalf("intakeErrors = %d, want 4", got)
	}
}
