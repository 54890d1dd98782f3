package axis

import (
	"testing"
	"time"

	"github.com/axis-h40/axis/store"
)

// A getSentEdocList receiveStatus becomes a delivery report's state: axis's
// own states pass through, the national SDK's words are mapped, and what
// says "not received yet" is no report.
func TestVDXPReportState(t *testing.T) {
	for in, want := range map[string]string{
		"delivered": store.StateDelivered, "acked_done": store.StateAckedDone, "acked_fail": store.StateAckedFail, "dead": store.StateDead,
		"done": store.StateAckedDone, "fail": store.StateAckedFail, "processing": store.StateDelivered, " Done ": store.StateAckedDone,
		"queued": "", "relaying": "", "relayed": "", "initial": "", "": "", "06": "",
	} {
		if got := vdxpReportState(in); got != want {
			t.Errorf("receiveStatus %q: %q, want %q", in, got, want)
		}
	}
}

// receivedTime is read in Vietnamese time, as vdxpTime writes it; empty or
// unreadable, the poll's own time stands.
func TestParseVDXPTime(t *testing.T) {
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	when := time.Date(2026, 6, 1, 2, 15, 30, 0, time.UTC)
	if got := parseVDXPTime(vdxpTime(when), now); !got.Equal(when) {
		t.Errorf("round trip: %v, want %v", got, when)
	}
	if got := parseVDXPTime("01/06/2026 09:15:30", now); !got.Equal(when) {
		t.Errorf("09:15:30 in Hà Nội: %v, want %v", got, when)
	}
	for _, s := range []string{"", "2026-06-01T09:15:30Z", "32/13/2026 25:00:00"} {
		if got := parseVDXPTime(s, now); !got.Equal(now) {
			t.Errorf("%q: %v, want the poll's time", s, got)
		}
	}
}
