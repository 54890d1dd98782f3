package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

func TestRouteName(t *testing.T) {
	for _, tc := range []struct {
		r    Route
		want string
	}{
		{Route{OrganID: "000.00.01.H40"}, "local"},
		{Route{OrganID: "000.00.00.G22", Peer: "national"}, "national"},
	} {
		if got := tc.r.Name(); got != tc.want {
			t.Errorf("%+v.Name() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// The chain link is the documented line format, recomputed here by hand:
// an auditor with the JSON of two events can check them without axis.
func TestChainHash(t *testing.T) {
	e := Event{Seq: 7, At: time.Date(2026, 12, 1, 2, 3, 4, 5, time.UTC), DocID: "d1", OrganID: "o1", Type: "queued", Detail: "x", Prev: "p"}
	sum := sha256.Sum256([]byte("p\n7\n2026-12-01T02:03:04.000000005Z\nd1\no1\nqueued\nx"))
	if got, want := e.ChainHash(), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ChainHash = %s, want %s", got, want)
	}
	// Any field changes the link.
	f := e
	f.Detail = "y"
	if f.ChainHash() == e.ChainHash() {
		t.Fatal("Detail is not covered by the hash")
	}
	// A time in another zone is the same instant: the same link.
	g := e
	g.At = e.At.In(Zone)
	if g.ChainHash() != e.ChainHash() {
		t.Fatal("the hash depends on the time's zone")
	}
}

func TestDayIsHoChiMinh(t *testing.T) {
	// 17:30 UTC is 00:30 the next day in Asia/Ho_Chi_Minh (UTC+7).
	if got := Day(time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)); got != "2026-12-02" {
		t.Fatalf("Day = %s, want 2026-12-02", got)
	}
	if got := Day(time.Date(2026, 12, 1, 16, 59, 0, 0, time.UTC)); got != "2026-12-01" {
		t.Fatalf("Day = %s, want 2026-12-01", got)
	}
}

func TestChainReportOK(t *testing.T) {
	if !(&ChainReport{Events: 3}).OK() || (&ChainReport{Events: 3, BrokenAt: 2}).OK() {
		t.Fatal("OK is BrokenAt == 0")
	}
}

// The JSON names are the hub's API: a renamed field would break every
// client, so the wire form of a document is pinned here.
func TestDocumentJSON(t *testing.T) {
	d := Document{ID: "ab", Kind: "document", From: "A", Recipients: []Route{{OrganID: "B"}}, ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"ab","seq":0,"sha256":"","size":0,"kind":"document","from":"A","business_type":0,"recipients":[{"organ_id":"B"}],"received_at":"2026-01-02T03:04:05Z","signer":"","signer_sha256":""}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
}
