package axis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/store"
)

// A peer that never answers does not hold the reconciliation: the call
// gives up after relay.timeout and the report says the peer was not asked.
func TestReconcileHungPeerIsReportedNotAsked(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	h := testhub.Open(t, testhub.Options{KeepPeers: true, Configure: func(c *axis.Config) {
		c.Peers = c.Peers[:1] // national, kind axis
		c.Peers[0].URL = hung.URL
		c.Relay.Timeout.Duration = 300 * time.Millisecond
	}})
	r, err := h.Reconcile(context.Background(), store.Day(fixture.Now()), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Peers) != 1 {
		t.Fatalf("peers %+v", r.Peers)
	}
	p := r.Peers[0]
	if p.Peer != "national" || p.Checked || !strings.HasPrefix(p.Note, "could not ask the peer: ") || !strings.Contains(p.Note, "Client.Timeout exceeded") {
		t.Fatalf("peer totals %+v: want national not checked, timed out", p)
	}
}
