package store_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/store/storetest"
)

// The registry keeps small named records; a prefix lists a group of them,
// a nil value deletes one, and what is returned is a copy.
func TestRegistry(t *testing.T) {
	db := storetest.Open(t)
	for name, v := range map[string]string{"vdxp/agency/A": "a1", "vdxp/agency/B": "b1", "vdxp/agencyX": "x", "other": "o"} {
		if err := db.SetRegistry(ctx, name, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetRegistry(ctx, "vdxp/agency/A", []byte("a2")); err != nil {
		t.Fatal(err)
	}
	got, err := db.Registry(ctx, "vdxp/agency/")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"vdxp/agency/A": []byte("a2"), "vdxp/agency/B": []byte("b1")}
	if !maps.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("registry %q, want %q", got, want)
	}
	got["vdxp/agency/B"][0] = 'Z'
	if again, _ := db.Registry(ctx, "vdxp/agency/B"); string(again["vdxp/agency/B"]) != "b1" {
		t.Fatalf("changing a returned value changed the store: %q", again)
	}
	if err := db.SetRegistry(ctx, "vdxp/agency/A", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Registry(ctx, "vdxp/agency/"); len(got) != 1 || string(got["vdxp/agency/B"]) != "b1" {
		t.Fatalf("after delete %q", got)
	}
	if all, _ := db.Registry(ctx, ""); len(all) != 3 {
		t.Fatalf("everything: %q", all)
	}
	checked(t, db)
}

// A registry change made by someone is an admin event on no document, in
// the same chain, naming who; a delete is one too.
func TestAdminSetRegistry(t *testing.T) {
	db := storetest.Open(t)
	if err := db.AdminSetRegistry(ctx, "vdxp:admin-dms", "register agency 000.99.35.H40", "vdxp-agency/000.99.35.H40", []byte("a"), at); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Registry(ctx, "vdxp-agency/"); string(got["vdxp-agency/000.99.35.H40"]) != "a" {
		t.Fatalf("registry %q", got)
	}
	if err := db.AdminSetRegistry(ctx, "vdxp:admin-dms", "delete agency 000.99.35.H40", "vdxp-agency/000.99.35.H40", nil, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Registry(ctx, "vdxp-agency/"); len(got) != 0 {
		t.Fatalf("registry after delete %q", got)
	}
	evs, err := db.Events(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+e.Detail+" "+e.At.Format(time.RFC3339))
	}
	want := []string{"admin vdxp:admin-dms: register agency 000.99.35.H40 " + at.Format(time.RFC3339),
		"admin vdxp:admin-dms: delete agency 000.99.35.H40 " + at.Add(time.Minute).Format(time.RFC3339)}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
	if r, err := db.VerifyChain(ctx); err != nil || !r.OK() || r.Events != 2 {
		t.Fatalf("chain %+v, %v", r, err)
	}
}
