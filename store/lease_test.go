package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/axis-h40/axis/store/storetest"
)

// A lease is one node's until it expires or is released; renewing keeps
// its start; another node takes it only then.
func TestLeaseOneOwnerUntilExpiry(t *testing.T) {
	db := storetest.Open(t)
	ttl := 15 * time.Second
	l, err := db.AcquireLease(ctx, "peer:national", "node-a", at, ttl)
	if err != nil || l.Owner != "node-a" || !l.Expires.Equal(at.Add(ttl)) || !l.Since.Equal(at) {
		t.Fatalf("first acquire: %+v %v", l, err)
	}
	// node-b is refused while it lasts, and told who holds it.
	if l, err = db.AcquireLease(ctx, "peer:national", "node-b", at.Add(ttl-time.Millisecond), ttl); err != nil || l.Owner != "node-a" {
		t.Fatalf("node-b before expiry: %+v %v", l, err)
	}
	// node-a renews: same start, later expiry.
	if l, err = db.AcquireLease(ctx, "peer:national", "node-a", at.Add(5*time.Second), ttl); err != nil || l.Owner != "node-a" || !l.Since.Equal(at) || !l.Expires.Equal(at.Add(20*time.Second)) {
		t.Fatalf("renewal: %+v %v", l, err)
	}
	// Past the renewed expiry node-b takes it, from then.
	late := at.Add(20 * time.Second)
	if l, err = db.AcquireLease(ctx, "peer:national", "node-b", late, ttl); err != nil || l.Owner != "node-b" || !l.Since.Equal(late) {
		t.Fatalf("node-b after expiry: %+v %v", l, err)
	}
	// node-a is refused now; its release of a lease it lost changes nothing.
	if l, _ = db.AcquireLease(ctx, "peer:national", "node-a", late.Add(time.Second), ttl); l.Owner != "node-b" {
		t.Fatalf("node-a after losing it: %+v", l)
	}
	if err := db.ReleaseLease(ctx, "peer:national", "node-a"); err != nil {
		t.Fatal(err)
	}
	ls, err := db.Leases(ctx)
	if err != nil || len(ls) != 1 || ls[0].Owner != "node-b" || ls[0].Name != "peer:national" {
		t.Fatalf("leases %+v %v", ls, err)
	}
	// node-b releases: node-a takes it at once, long before the expiry.
	if err := db.ReleaseLease(ctx, "peer:national", "node-b"); err != nil {
		t.Fatal(err)
	}
	if l, _ = db.AcquireLease(ctx, "peer:national", "node-a", late.Add(2*time.Second), ttl); l.Owner != "node-a" {
		t.Fatalf("after release: %+v", l)
	}
	// Leases are by name.
	if l, _ = db.AcquireLease(ctx, "hold", "node-b", late, ttl); l.Owner != "node-b" {
		t.Fatalf("another lease: %+v", l)
	}
}

// A session is readable until it expires, gone when deleted, and expired
// ones are swept when another is put.
func TestSessions(t *testing.T) {
	db := storetest.Open(t)
	if err := db.PutSession(ctx, "k1", []byte(`{"a":1}`), at.Add(time.Hour), at); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSession(ctx, "k2", []byte(`{"b":2}`), at.Add(time.Minute), at); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Session(ctx, "k1", at.Add(59*time.Minute)); err != nil || !bytes.Equal(v, []byte(`{"a":1}`)) {
		t.Fatalf("k1: %q %v", v, err)
	}
	if v, _ := db.Session(ctx, "k2", at.Add(time.Minute)); v != nil {
		t.Fatalf("k2 expired, got %q", v)
	}
	if v, _ := db.Session(ctx, "nope", at); v != nil {
		t.Fatalf("unknown: %q", v)
	}
	// k3 put after k2 expired sweeps k2 (not k1): k2 is gone even for a reader with an earlier clock.
	if err := db.PutSession(ctx, "k3", []byte("x"), at.Add(time.Hour), at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Session(ctx, "k2", at); v != nil {
		t.Fatalf("k2 not swept: %q", v)
	}
	if v, _ := db.Session(ctx, "k1", at); v == nil {
		t.Fatal("k1 swept")
	}
	if err := db.DeleteSession(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Session(ctx, "k1", at); v != nil {
		t.Fatalf("k1 after delete: %q", v)
	}
}
