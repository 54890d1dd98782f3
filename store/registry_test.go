package store_test

import (
	"maps"
	"testing"

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
