package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// vdxpNetwork is the three-hub network with Nam Định connected to the
// national hub over VDXP, as a province would connect to the real national
// axis: H40's peer "national" is kind vdxp (sendEdoc out, polling in), and
// the national hub serves VDXP to H40's system id, holding what is routed
// to *.H40 for it to collect (peer kind pull).
func vdxpNetwork(t *testing.T) *network {
	const secretEnv = "AXIS_TEST_VDXP_NAM_DINH"
	t.Setenv(secretEnv, "test-secret-nam-dinh")
	var nationalURL string
	return startNetwork(t, func(cfg string, c *axis.Config) {
		switch cfg {
		case cfgNational:
			for i := range c.Peers {
				if c.Peers[i].Name == "nam-dinh" {
					c.Peers[i].Kind, c.Peers[i].URL = "pull", ""
				}
			}
			c.VDXP.Systems = append(c.VDXP.Systems, axis.VDXPSystem{ID: "nam-dinh-hub", SecretEnv: secretEnv, Peer: "nam-dinh"})
		case cfgH40:
			for i := range c.Peers {
				if c.Peers[i].Name == "national" {
					nationalURL = c.Peers[i].URL
					p := &c.Peers[i]
					p.Kind, p.URL, p.SystemID, p.SecretEnv = "vdxp", nationalURL+"/vdxp/", "nam-dinh-hub", secretEnv
					p.PollInterval.Duration, p.PollBatch = 50*time.Millisecond, 3
				}
			}
		}
	})
}

func TestVDXPPeerBothWays(t *testing.T) {
	n := vdxpNetwork(t)
	// Out: a commune of H40 to a department of H41 and to a central body,
	// relayed over VDXP with the national DocId; both ack, and H40 learns
	// it by asking the national hub (getSentEdocList: VDXP has no
	// delivery reports), which knows the department's from H41's report.
	// Back: statuses 03 and 06 from both recipients reach the commune,
	// which H40 collects from the national hub by polling.
	sDept, sVPCP := signerFor(t, deptH41), signerFor(t, vpcp)
	_, id := sendOutAndAckAtBoth(t, n, deptH41, vpcp)
	waitRecipients(t, n.h40, testgen.Commune, id, 2, "H40 shows both acked at the national hub, asked over VDXP",
		ackedAt("national", id, map[string]string{deptH41: "national", vpcp: "national"}))
	statusesComeBack(t, n, id, deptH41, vpcp, sDept, sVPCP)

	// Back: documents from a central body and from H41 to agencies of H40;
	// more than one poll batch (3) of them.
	var inbound []string
	for i := range 4 {
		d := testgen.NewDocument()
		d.From = vpcpOrgan
		d.To = []envelope.Organization{{OrganID: testgen.Department}}
		d.Code.CodeNumber = string(rune('1'+i)) + "0"
		d.DocumentID = "G22-VDXP-" + d.Code.CodeNumber
		inbound = append(inbound, intake(t, n.national, vpcp, fixture.SignWith(t, sVPCP, d)).DocID) // national → H40
	}
	d := testgen.NewDocument()
	d.From = envelope.Organization{OrganID: deptH41}
	d.To = []envelope.Organization{{OrganID: testgen.Department}, {OrganID: testgen.Commune}}
	d.DocumentID = "H41-VDXP-1"
	fromH41 := intake(t, n.h41, deptH41, fixture.SignWith(t, sDept, d))
	inbound = append(inbound, fromH41.DocID)
	eventually(t, 20*time.Second, "H40's department receives all five", func() bool {
		got := map[string]bool{}
		for _, it := range inbox(t, n.h40, testgen.Department).Items {
			got[it.DocID] = true
		}
		for _, id := range inbound {
			if !got[id] {
				return false
			}
		}
		return len(got) == 5
	})
	eventually(t, 10*time.Second, "the commune receives H41's document too", func() bool {
		for _, it := range inbox(t, n.h40, testgen.Commune).Items {
			if it.DocID == fromH41.DocID {
				return true
			}
		}
		return false
	})
	// The national hub shows each collected by H40 (confirmed with
	// updateStatus done), and nothing is left for H40 to collect.
	eventually(t, 10*time.Second, "the national hub's outbox for nam-dinh is empty", func() bool {
		s := status(t, n.national, vpcp, inbound[0])
		depths, err := n.national.Hub.Store().OutboxDepths(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(s.Recipients) == 1 && s.Recipients[0].State == "relayed" && s.Recipients[0].PeerDocID == inbound[0] && depths["nam-dinh"] == 0
	})

	// Each document exists once on each side: H40 holds its own document,
	// the four statuses, the five inbound documents; the national hub the
	// same ten. No copies from retries or re-polls.
	count := func(m *Main) int {
		c, err := m.Hub.Store().Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	fixture.Consistently(t, 300*time.Millisecond, "a few more polls added documents", func() bool {
		return count(n.h40) == 10 && count(n.national) == 10
	})
	for name, m := range map[string]*Main{"H40": n.h40, "national": n.national} {
		c, err := m.Hub.Store().Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c != 10 {
			t.Errorf("%s holds %d documents, want 10", name, c)
		}
		if err := m.Hub.Store().Check(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// An envelope the province refuses is confirmed as failed at the national
// hub, with the reason, and not collected again.
func TestVDXPPeerRefusalIsConfirmedAsFail(t *testing.T) {
	n := vdxpNetwork(t)
	// 000.99.99.H40 matches the national hub's *.H40 route but is not in
	// H40's directory.
	d := testgen.NewDocument()
	d.From = envelope.Organization{OrganID: vpcp}
	d.To = []envelope.Organization{{OrganID: "000.99.99.H40"}}
	rc := intake(t, n.national, vpcp, fixture.SignWith(t, signerFor(t, vpcp), d))
	eventually(t, 20*time.Second, "the national hub records H40's refusal", func() bool {
		s := status(t, n.national, vpcp, rc.DocID)
		return len(s.Recipients) == 1 && s.Recipients[0].State == "dead" &&
			len(s.Recipients[0].LastError) > 0 && strings.Contains(s.Recipients[0].LastError, "unknown_recipient")
	})
	if c, _ := n.h40.Hub.Store().Count(context.Background()); c != 0 {
		t.Fatalf("H40 stored %d documents, want 0", c)
	}
}

// A recipient's state at the national axis comes back to the sender's hub
// by asking (the awaiting index, getSentEdocList): fetched there, H40
// shows it delivered at "national"; acked there, acked_done at the time
// the national hub acked it. Each step is one "reported" event however
// often H40 asks, and a final state ends the asking.
func TestVDXPPeerDeliveryStates(t *testing.T) {
	n := vdxpNetwork(t)
	ctx := context.Background()
	rc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, docTo(vpcpOrgan)))
	id := rc.DocID
	awaiting := func() []store.Awaiting {
		got, err := n.h40.Hub.Store().AwaitingStates(ctx, "national", store.Awaiting{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	reported := func() []string {
		var tr api.Trace
		call(t, n.h40, "GET", "/admin/v1/documents/"+id+"/trace", testgen.DemoAdminToken, nil).json(t, &tr)
		var out []string
		for _, e := range tr.Events {
			if e.Event == "reported" {
				out = append(out, e.OrganID+" "+e.Detail)
			}
		}
		return out
	}
	eventually(t, 20*time.Second, "the central body receives the document at the national hub", func() bool {
		p := inbox(t, n.national, vpcp)
		return len(p.Items) == 1 && p.Items[0].DocID == id
	})
	// Queued at national is no state to report: H40 keeps "relayed" and
	// keeps asking.
	waitRecipients(t, n.h40, testgen.Commune, id, 1, "H40 shows it relayed", relayedAs("national", id))
	if got, want := awaiting(), []store.Awaiting{{DocID: id, OrganID: vpcp, PeerDocID: id}}; !slices.Equal(got, want) {
		t.Fatalf("H40 awaits %+v, want %+v", got, want)
	}

	if r := call(t, n.national, "GET", "/api/v1/envelopes/"+id, tok(vpcp), nil); r.status != 200 {
		t.Fatalf("fetch at national: %d", r.status)
	}
	waitRecipients(t, n.h40, testgen.Commune, id, 1, "H40 shows it delivered at national", func(r api.RecipientStatus) bool {
		return r.State == "delivered" && r.AtHub == "national" && r.Route == "national" && r.PeerDocID == id
	})
	// Asked again and again (every 50 ms), "delivered" is recorded once,
	// and it is still awaited: delivered is not final.
	one := []string{vpcp + " delivered at national"}
	fixture.Consistently(t, 300*time.Millisecond, "asking again added a reported event", func() bool {
		return slices.Equal(reported(), one)
	})
	if got := awaiting(); len(got) != 1 {
		t.Fatalf("H40 no longer awaits the delivered copy: %+v", got)
	}

	if r := call(t, n.national, "POST", "/api/v1/envelopes/"+id+"/ack", tok(vpcp), []byte(`{"status":"done"}`)); r.status != 200 {
		t.Fatalf("ack at national: %d %s", r.status, r.body)
	}
	waitRecipients(t, n.h40, testgen.Commune, id, 1, "H40 shows it acked_done at national", ackedAt("national", id, map[string]string{vpcp: "national"}))
	// The time is the national hub's (receivedTime, to the second).
	there := statusAs(t, n.national, testgen.DemoAdminToken, id).Recipients[0]
	if here := status(t, n.h40, testgen.Commune, id).Recipients[0]; there.State != "acked_done" || !here.UpdatedAt.Equal(there.UpdatedAt.Truncate(time.Second)) {
		t.Errorf("H40 shows %s at %v; national acked it (%s) at %v", here.State, here.UpdatedAt, there.State, there.UpdatedAt)
	}
	two := []string{vpcp + " delivered at national", vpcp + " acked_done at national"}
	fixture.Consistently(t, 300*time.Millisecond, "a reported event after the final state", func() bool {
		return slices.Equal(reported(), two)
	})
	if got := awaiting(); len(got) != 0 {
		t.Fatalf("H40 still awaits %+v after acked_done", got)
	}
	if v := call(t, n.h40, "GET", "/admin/v1/audit/verify", testgen.DemoAdminToken, nil); v.status != 200 || !strings.Contains(string(v.body), `"ok":true`) {
		t.Fatalf("H40 audit verify: %d %s", v.status, v.body)
	}
}
