package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
)

func TestStuckAndStats(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db)
	now := at.Add(time.Hour)
	// a (day1) fetched, not acked; b (day1) not fetched; c (day2) acked.
	if _, err := db.MarkFetched(ctx, x["a"], testgen.Department, at.Add(-47*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ack(ctx, x["c"], testgen.Department, true, "", at.Add(-23*time.Hour)); err != nil {
		t.Fatal(err)
	}
	stuck, err := db.Stuck(ctx, now, store.SLA{Fetch: 36 * time.Hour, Ack: 36 * time.Hour, Relay: time.Hour}, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range stuck {
		got[s.DocID+" "+s.OrganID] = s.Reason
	}
	want := map[string]string{x["a"] + " " + testgen.Department: "not_acked", x["b"] + " " + testgen.District: "not_fetched"}
	if len(got) != len(want) || got[x["a"]+" "+testgen.Department] != "not_acked" || got[x["b"]+" "+testgen.District] != "not_fetched" {
		t.Fatalf("stuck = %v, want %v", got, want)
	}
	// A dead relay comes before the slow readers, so a cap never hides it.
	rd := deadRelay(t, db)
	first, err := db.Stuck(ctx, now, store.SLA{Fetch: 36 * time.Hour, Ack: 36 * time.Hour, Relay: time.Hour}, 1)
	if err != nil || len(first) != 1 || first[0].Reason != "relay_dead" || first[0].DocID != rd.ID || first[0].Peer != "national" || first[0].LastError != "refused" {
		t.Fatalf("capped at 1: %+v %v", first, err)
	}
	if _, err := db.Redrive(ctx, rd.ID, "", "", at); err != nil {
		t.Fatal(err)
	}
	// With a longer SLA nothing is stuck (the re-driven relay is younger
	// than its SLA).
	if stuck, _ := db.Stuck(ctx, now, store.SLA{Fetch: 72 * time.Hour, Ack: 72 * time.Hour, Relay: time.Hour}, 100); len(stuck) != 0 {
		t.Fatalf("stuck with 72h SLA: %+v", stuck)
	}

	st, err := db.Stats(ctx, store.Day(day1))
	if err != nil {
		t.Fatal(err)
	}
	if s := st[testgen.Commune]; s == nil || s.Sent != 2 || s.Received != 0 {
		t.Fatalf("commune on day1: %+v", s)
	}
	if s := st[testgen.Department]; s == nil || s.Received != 1 || s.Fetched != 1 || s.Pending != 1 || s.AckedDone != 0 {
		t.Fatalf("department on day1: %+v", s)
	}
	if s := st[testgen.District]; s == nil || s.Received != 1 || s.Pending != 1 || s.Fetched != 0 {
		t.Fatalf("district on day1: %+v", s)
	}
	act, err := db.ActivityOf(ctx, testgen.Department)
	if err != nil || !act.LastFetch.Equal(at.Add(-47*time.Hour)) || !act.LastAck.Equal(at.Add(-23*time.Hour)) {
		t.Fatalf("activity %+v %v", act, err)
	}
	if n, _ := db.DayCount(ctx, store.Day(at)); n != 3 { // e, f and the relayed one
		t.Fatalf("DayCount today = %d, want 3", n)
	}
}

// Held envelopes are in the stuck list (reason held, one item each, oldest
// first, with the certificate whose status is unknown and why) right after
// the dead relays and before the slow readers, so a cap hides neither; they
// leave it when released or refused.
func TestStuckHeld(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db) // a and b (day1) are never fetched: not_fetched
	now := at.Add(time.Hour)
	sla := store.SLA{Fetch: 36 * time.Hour, Ack: 36 * time.Hour, Relay: time.Hour}

	// A dead relay.
	dead := deadRelay(t, db)

	// Two held envelopes, the second held first.
	h1 := putHeldNumbered(t, db, 41, at.Add(-time.Minute), append(local(testgen.Department), viaNational(remote1)...)...)
	h2 := putHeldNumbered(t, db, 40, at.Add(-2*time.Minute), local(testgen.District)...)
	if n, err := db.HeldCount(ctx); err != nil || n != 2 {
		t.Fatalf("HeldCount %d %v", n, err)
	}

	stuck, err := db.Stuck(ctx, now, sla, 100)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, it := range stuck {
		order = append(order, it.Reason+" "+it.DocID)
	}
	// a and b (day1) are in different queues: either order.
	want := []string{"relay_dead " + dead.ID, "held " + h2.ID, "held " + h1.ID, "not_fetched " + x["a"], "not_fetched " + x["b"]}
	if len(order) != len(want) || !slices.Equal(order[:3], want[:3]) || !slices.Contains(order[3:], want[3]) || !slices.Contains(order[3:], want[4]) {
		t.Fatalf("stuck %v, want %v", order, want)
	}
	it := stuck[2]
	leaf := h1.Revocation.Certs[0]
	if it.OrganID != "" || it.Peer != "" || it.State != store.StateHeld || !it.Since.Equal(at.Add(-time.Minute)) ||
		it.From != testgen.Commune || it.Code != h1.Code || it.Subject != h1.Subject ||
		len(it.Pending) != 2 || it.Pending[0] != testgen.Department || it.Pending[1] != remote1 ||
		it.Cert != leaf.Subject || it.CertSerial != leaf.Serial || it.LastError != leaf.Reason || it.LastError == "" {
		t.Errorf("held item %+v (leaf %+v)", it, leaf)
	}
	// Capped: the dead relay first, then the oldest held.
	for limit, want := range map[int][]string{1: {"relay_dead"}, 2: {"relay_dead", "held " + h2.ID}, 3: {"relay_dead", "held " + h2.ID, "held " + h1.ID}} {
		got, err := db.Stuck(ctx, now, sla, limit)
		if err != nil || len(got) != len(want) {
			t.Fatalf("limit %d: %+v %v", limit, got, err)
		}
		for i, w := range want {
			if g := got[i].Reason + " " + got[i].DocID; g != w && got[i].Reason != w {
				t.Errorf("limit %d: item %d is %s, want %s", limit, i, g, w)
			}
		}
	}

	// Released: routed, out of the list (its delivery is younger than the SLA).
	if _, err := db.Release(ctx, h1.ID, nil, at); err != nil {
		t.Fatal(err)
	}
	// Refused: kept, never routed, out of the list.
	if _, err := db.Refuse(ctx, h2.ID, "revocation_unknown", "still unknown", nil, at, nil); err != nil {
		t.Fatal(err)
	}
	stuck, err = db.Stuck(ctx, now, sla, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range stuck {
		if it.Reason == "held" || it.DocID == h1.ID || it.DocID == h2.ID {
			t.Errorf("still in the stuck list: %+v", it)
		}
	}
	if len(stuck) != 3 {
		t.Errorf("stuck %+v, want the dead relay and the two unfetched ones", stuck)
	}
	if n, _ := db.HeldCount(ctx); n != 0 {
		t.Errorf("HeldCount %d after release and refusal", n)
	}
}

// deadRelay stores a document for the central body G22 (remote1), routed
// to peer national, whose relay was refused for good ("refused"): a dead
// relay.
func deadRelay(t *testing.T, db *store.DB) *record.Document {
	t.Helper()
	d, _ := putRoutes(t, db, 99, at, viaNational(remote1)...)
	ob, err := db.Outbox(ctx, "national", 0, 10)
	if err != nil || len(ob) != 1 {
		t.Fatal(ob, err)
	}
	if err := db.RelayFailed(ctx, "national", ob[0], "refused", true, at); err != nil {
		t.Fatal(err)
	}
	return d
}
