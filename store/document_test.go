package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

// Snapshot answers with what Document, Deliveries and Events answer, from
// one read.
func TestSnapshot(t *testing.T) {
	db := storetest.Open(t)
	doc, _ := putRoutes(t, db, 700, at, append(local(testgen.Department), viaNational(remote1)...)...)
	st := testgen.Status("03", "accepted")
	st.ResponseFor[0].DocumentID = numbered(700).DocumentID
	put(t, db, st, at.Add(time.Hour), local(testgen.Commune)...)
	if err := db.MarkRelayed(ctx, "national", outboxOf(t, db, doc.ID), "p700", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	d, dls, evs, err := db.Snapshot(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := db.Document(ctx, doc.ID)
	wdls, _ := db.Deliveries(ctx, doc.ID)
	wevs, _ := db.Events(ctx, doc.ID)
	if !reflect.DeepEqual(d, wd) || !reflect.DeepEqual(dls, wdls) || !reflect.DeepEqual(evs, wevs) {
		t.Fatalf("snapshot differs from the three reads:\n%+v\n%+v\n%+v", d, dls, evs)
	}
	// What it holds: the status on the department's delivery, the relay,
	// and the trace through both.
	if len(dls) != 2 || dls[0].OrganID != testgen.Department || dls[0].StatusCode != "03" ||
		dls[1].OrganID != remote1 || dls[1].State != store.StateRelayed || dls[1].PeerDocID != "p700" {
		t.Fatalf("deliveries %+v", dls)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if fmt.Sprint(types) != "[received verified queued outboxed status relayed]" {
		t.Fatalf("events %v", types)
	}

	if d, dls, evs, err := db.Snapshot(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, store.ErrNotFound) || d != nil || dls != nil || evs != nil {
		t.Fatalf("unknown id: %v %v %v %v", d, dls, evs, err)
	}
}

// A snapshot taken while recipients ack is consistent: each acked delivery
// in it has its acked event in it, and no other.
func TestSnapshotIsOneView(t *testing.T) {
	db := storetest.Open(t)
	organs := agencies(40)
	doc, _ := putFromProvince(t, db, 710, organs)
	done := concurrently(t, len(organs), func(i int) error {
		_, err := db.Ack(ctx, doc.ID, organs[i], true, "", at.Add(time.Minute))
		return err
	})
	for snapshots := 0; ; snapshots++ {
		_, dls, evs, err := db.Snapshot(ctx, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		acked, ackEvents := 0, 0
		for _, dl := range dls {
			if dl.State == store.StateAckedDone {
				acked++
			}
		}
		for _, e := range evs {
			if e.Type == store.EventAcked {
				ackEvents++
			}
		}
		if acked != ackEvents {
			t.Fatalf("snapshot %d: %d deliveries acked, %d acked events", snapshots, acked, ackEvents)
		}
		select {
		case <-done:
			if acked == len(organs) {
				return
			} // else the last acks landed after this snapshot: one more
		default:
		}
	}
}
