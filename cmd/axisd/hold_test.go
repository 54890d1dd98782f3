package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testca"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// holdConfig is the demo province's config trusting the test CA only, in
// revocation mode hold, re-checking every retry.
func holdConfig(t *testing.T, ca *testca.CA, retry time.Duration) string {
	t.Helper()
	return processConfig(t, cfgH40, func(s string) string {
		start := strings.Index(s, "trust:\n")
		end := strings.Index(s, "limits:\n")
		if start < 0 || end < start {
			t.Fatal("demo config has no trust: block before limits:")
		}
		return s[:start] + fmt.Sprintf("trust:\n  roots: [%s]\n  revocation: {mode: hold, retry: %s, timeout: 1s, hold_max: 72h}\n", ca.RootFile(), retry) + s[end:]
	})
}

// TestHoldSurvivesKillAndDecides: with the CA's responders down, a good
// and a revoked envelope are held (202); axisd is SIGKILLed and restarted;
// the responders come back; within retry the good one reaches its
// recipient, exactly once, and the revoked one is refused: the sender's
// status says certificate_revoked and a status 02 from the hub waits in
// its inbox. Nothing is lost, nothing delivered twice.
func TestHoldSurvivesKillAndDecides(t *testing.T) {
	ca := testca.New(t)
	_, good := ca.Leaf(t, testgen.Commune, false)
	_, revoked := ca.Leaf(t, testgen.Commune, true)
	// The responders are not started: down, nothing cached.
	const retry = 2 * time.Second
	cfg := holdConfig(t, ca, retry)
	bin := buildAxisd(t)
	dataDir := t.TempDir()
	cmd, base := startProcessWith(t, bin, cfg, dataDir)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	post := func(raw []byte) api.Receipt {
		t.Helper()
		rc := intakeWant(t, base, testgen.Commune, raw, http.StatusAccepted)
		if rc.State != "held" || rc.Reason != "revocation_unknown" {
			t.Fatalf("want held for revocation_unknown: %+v", rc)
		}
		return rc
	}
	g := post(signedBy(t, good, "201"))
	rv := post(signedBy(t, revoked, "202"))

	// Held survives SIGKILL: restart on the same data.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	cmd, base = startProcessWith(t, bin, cfg, dataDir)
	for _, id := range []string{g.DocID, rv.DocID} {
		var st api.DocStatus
		r := callURL(t, base, "GET", "/api/v1/envelopes/"+id+"/status", tok(testgen.Commune), nil)
		r.json(t, &st)
		if r.status != 200 || st.State != "held" {
			t.Fatalf("after the restart, %s: %d %s", id, r.status, r.body)
		}
	}
	if r := callURL(t, base, "GET", "/api/v1/inbox", tok(testgen.Department), nil); strings.Contains(string(r.body), g.DocID) {
		t.Fatalf("delivered while held: %s", r.body)
	}

	// The responders come back; within retry both are decided: the next
	// round of the hold worker comes at most retry later, and its work (two
	// verifications and two commits in a race-detector build) is given 2 s.
	ca.Start(t)
	back := time.Now()
	var dept api.InboxPage
	var st api.DocStatus
	if !fixture.Poll(retry+2*time.Second, func() bool {
		callURL(t, base, "GET", "/api/v1/inbox", tok(testgen.Department), nil).json(t, &dept)
		st = api.DocStatus{}
		callURL(t, base, "GET", "/api/v1/envelopes/"+rv.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
		return len(dept.Items) > 0 && st.State == "refused"
	}) {
		t.Fatalf("not decided %s after the responders came back: department inbox %+v, revoked %+v", time.Since(back), dept.Items, st)
	}
	if st.Code != "certificate_revoked" || !strings.Contains(st.Detail, "revoked") {
		t.Errorf("the revoked one's status: %+v", st)
	}
	t.Logf("decided %s after the responders came back (retry %s)", time.Since(back).Round(10*time.Millisecond), retry)
	if len(dept.Items) != 1 || dept.Items[0].DocID != g.DocID {
		t.Fatalf("department inbox: %+v, want exactly the good one", dept.Items)
	}
	st = api.DocStatus{}
	callURL(t, base, "GET", "/api/v1/envelopes/"+g.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
	if st.State != "" || len(st.Recipients) != 1 || st.Recipients[0].State != store.StateQueued {
		t.Errorf("the released one's status: %+v", st)
	}
	// The sender hears of the refusal: a status 02 from the hub.
	var in api.InboxPage
	callURL(t, base, "GET", "/api/v1/inbox", tok(testgen.Commune), nil).json(t, &in)
	if len(in.Items) != 1 || in.Items[0].Kind != "status" || in.Items[0].StatusCode != "02" || in.Items[0].RespondsTo != rv.DocID {
		t.Errorf("the sender's inbox: %+v", in.Items)
	}
	// A few more rounds change nothing: delivered once.
	fixture.Consistently(t, 2*retry, "the good one delivered again", func() bool {
		callURL(t, base, "GET", "/api/v1/inbox", tok(testgen.Department), nil).json(t, &dept)
		return len(dept.Items) == 1
	})

	// Nothing lost: both documents and their traces are in the store, which
	// is consistent.
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	db := processStore(t, dataDir)
	ctx := context.Background()
	for id, want := range map[string]string{g.DocID: "released", rv.DocID: "refused"} {
		evs, err := db.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		if !strings.Contains(strings.Join(types, ","), "held,"+want) {
			t.Errorf("%s events %v, want held then %s", id, types, want)
		}
	}
	// The refusal keeps the proof: the OCSP answer that says revoked.
	rd, err := db.Document(ctx, rv.DocID)
	if err != nil {
		t.Fatal(err)
	}
	if l := rd.Revocation.Leaf(); rd.Revocation.Status() != "revoked" || (l.Method != "ocsp" && l.Method != "crl") || l.Status != "revoked" || l.EvidenceSHA256 == "" {
		t.Errorf("the refused document's revocation: %+v", rd.Revocation)
	} else if ev, err := db.Evidence(ctx, l.EvidenceSHA256); err != nil || len(ev) == 0 {
		t.Errorf("the evidence of the revocation is not stored: %v", err)
	}
	if n, _ := db.HeldCount(ctx); n != 0 {
		t.Errorf("%d still held", n)
	}
}
