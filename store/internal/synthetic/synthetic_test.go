package synthetic_test

import (
	"testing"

	"github.com/axis-h40/axis/store/internal/synthetic"
	"github.com/axis-h40/axis/store/record"
)

// A Route crosses from storetest to store by conversion, both ways, with
// nothing lost: the two types must keep the same fields.
func TestRouteConvertsToStoreRoute(t *testing.T) {
	for _, r := range []synthetic.Route{{OrganID: "000.00.11.H40"}, {OrganID: "000.00.00.G22", Peer: "national"}} {
		s := record.Route(r)
		if s.OrganID != r.OrganID || s.Peer != r.Peer || synthetic.Route(s) != r {
			t.Errorf("%+v became %+v", r, s)
		}
	}
}
