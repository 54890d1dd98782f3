package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
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
	// relayed over VDXP with the national DocId. Back: statuses 03 and 06
	// from both recipients reach the commune, which H40 collects from the
	// national hub by polling.
	_, _, sDept, sVPCP := outAndBack(t, n, false)

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
