package axis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// peerStub is a peer hub's intake on 127.0.0.1: it answers each POST with
// the next status of answers (the last one from then on) and records when
// each came.
type peerStub struct {
	mu      sync.Mutex
	answers []int
	hits    []time.Time
}

func (p *peerStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	status := p.answers[min(len(p.hits), len(p.answers)-1)]
	p.hits = append(p.hits, time.Now())
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusCreated {
		w.Write([]byte(`{"doc_id":"0123456789abcdef0123456789abcdef"}`))
		return
	}
	w.Write([]byte(`{"code":"test","detail":"answered ` + http.StatusText(status) + `"}`))
}

func (p *peerStub) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hits)
}

// relayHub is a hub whose national peer is stub, retrying after 50 ms at
// first and 200 ms at most, holding one document for the Government
// Office (routed "*" to national).
func relayHub(t *testing.T, stub *peerStub) (*axis.Hub, string) {
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	h := testhub.Open(t, testhub.Options{KeepPeers: true, Configure: func(c *axis.Config) {
		c.Peers = c.Peers[:1] // national
		c.Peers[0].URL = srv.URL
		c.Relay.RetryMin.Duration, c.Relay.RetryMax.Duration = 50*time.Millisecond, 200*time.Millisecond
	}})
	m := testgen.NewDocument()
	m.To = []envelope.Organization{{OrganID: "000.00.00.G22"}}
	rc, created, err := h.Intake(context.Background(), axis.Caller{Agency: testgen.Commune}, fixture.Sign(t, m))
	if err != nil || !created || rc.Recipients[0].Route != "national" {
		t.Fatalf("intake: %v %v %+v", err, created, rc)
	}
	return h, rc.DocID
}

func delivery(t *testing.T, h *axis.Hub, id string) record.Delivery {
	t.Helper()
	dls, err := h.Store().Deliveries(context.Background(), id)
	if err != nil || len(dls) != 1 {
		t.Fatalf("deliveries: %v %v", err, dls)
	}
	return dls[0]
}

// A peer that is unavailable twice is retried with growing waits (capped
// exponential backoff: the wait after the n-th failure is between half and
// all of min·2ⁿ⁻¹), and the document is relayed on the third try with the
// peer's id recorded.
func TestRelayRetriesWithBackoff(t *testing.T) {
	stub := &peerStub{answers: []int{503, 503, 201}}
	h, id := relayHub(t, stub)
	fixture.Eventually(t, 10*time.Second, "relayed", func() bool { return delivery(t, h, id).State == store.StateRelayed })
	dl := delivery(t, h, id)
	if dl.PeerDocID != "0123456789abcdef0123456789abcdef" || dl.Attempts != 3 || dl.LastError != "" {
		t.Fatalf("delivery %+v: want the peer's id after 3 attempts, no error left", dl)
	}
	stub.mu.Lock()
	hits := append([]time.Time(nil), stub.hits...)
	stub.mu.Unlock()
	if len(hits) != 3 {
		t.Fatalf("%d sends, want 3", len(hits))
	}
	// First wait in [25 ms, 50 ms], second in [50 ms, 100 ms]: each at least
	// half its step (the fixed half of the jitter).
	if w := hits[1].Sub(hits[0]); w < 25*time.Millisecond {
		t.Errorf("first retry after %v, want at least 25ms", w)
	}
	if w := hits[2].Sub(hits[1]); w < 50*time.Millisecond {
		t.Errorf("second retry after %v, want at least 50ms", w)
	}
	var types []string
	tr, err := h.Trace(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tr.Events {
		if e.Event == store.EventRelayFailed || e.Event == store.EventRelayed {
			types = append(types, e.Event)
		}
	}
	if want := []string{"relay_failed", "relay_failed", "relayed"}; !slices.Equal(types, want) {
		t.Fatalf("relay events %v, want %v", types, want)
	}
}

// A refusal retrying cannot fix (a 4xx other than 401, 408 and 429) makes
// the relay dead at once: in the peer's dead list and the stuck list, and
// never sent again.
func TestRelayDeadOnPermanentRefusal(t *testing.T) {
	stub := &peerStub{answers: []int{422}}
	h, id := relayHub(t, stub)
	ctx := context.Background()
	fixture.Eventually(t, 10*time.Second, "dead", func() bool { return delivery(t, h, id).State == store.StateDead })
	dl := delivery(t, h, id)
	if dl.Attempts != 1 || dl.LastError == "" {
		t.Fatalf("delivery %+v: want one attempt and its error", dl)
	}
	dead, err := h.Store().Dead(ctx, "national")
	if err != nil || len(dead) != 1 || dead[0].DocID != id {
		t.Fatalf("dead list %v %v", dead, err)
	}
	st, err := h.Stuck(ctx, 10)
	if err != nil || len(st) != 1 || st[0].Reason != "relay_dead" || st[0].DocID != id {
		t.Fatalf("stuck %+v %v", st, err)
	}
	fixture.Consistently(t, 300*time.Millisecond, "a dead relay is not sent again", func() bool { return stub.count() == 1 })
}
