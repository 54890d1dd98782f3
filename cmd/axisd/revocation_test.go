package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testca"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// startRevocation runs the real wiring trusting the test CA only, in a
// revocation mode, on the real clock (OCSP answers are dated now).
func startRevocation(t testing.TB, ca *testca.CA, mode string, more ...func(*axis.Config)) *Main {
	t.Helper()
	return startWith(t, func(m *Main) { m.Options.Now = time.Now }, append([]func(*axis.Config){func(c *axis.Config) {
		c.Trust.Roots = []string{ca.RootFile()}
		c.Trust.Revocation = axis.RevocationConfig{Mode: mode,
			Timeout: axis.Duration{Duration: 2 * time.Second}, Retry: axis.Duration{Duration: time.Second},
			Refresh: axis.Duration{Duration: time.Hour}, HoldMax: axis.Duration{Duration: 72 * time.Hour}}
	}}, more...)...)
}

type adminDoc struct {
	Document struct {
		ID         string               `json:"id"`
		State      string               `json:"state"`
		Revocation *envelope.Revocation `json:"revocation"`
	} `json:"document"`
}

func docOf(t *testing.T, m *Main, id string) adminDoc {
	t.Helper()
	r := call(t, m, "GET", "/admin/v1/documents/"+id, testgen.DemoAdminToken, nil)
	if r.status != 200 {
		t.Fatalf("admin document %s: %d %s", id, r.status, r.body)
	}
	var d adminDoc
	r.json(t, &d)
	return d
}

func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRevocationModes: with the CA's CRL served over HTTP and an openssl
// OCSP responder, a good certificate is accepted and the evidence kept
// with its document verifies with openssl; a revoked one is refused
// (certificate_revoked) in every mode but off. With both down and nothing
// cached, require refuses (revocation_unknown), prefer accepts and records
// "unknown", hold answers 202 held.
func TestRevocationModes(t *testing.T) {
	ca := testca.New(t)
	goodCert, good := ca.Leaf(t, testgen.Commune, false)
	_, revoked := ca.Leaf(t, testgen.Commune, true)
	ca.Start(t)

	m := startRevocation(t, ca, envelope.RevocationPrefer)
	rc := intake(t, m, testgen.Commune, signedBy(t, good, "101"))
	d := docOf(t, m, rc.DocID)
	rev := d.Document.Revocation
	if rev == nil || rev.Status() != envelope.StatusGood || len(rev.Certs) != 2 || rev.Summary != envelope.StatusGood ||
		rev.Method != "ocsp" || rev.Source != ca.OCSPURL || rev.CheckedAt.IsZero() {
		t.Fatalf("revocation of the good document: %+v", rev)
	}
	leaf, inter := rev.Certs[0], rev.Certs[1]
	if leaf.Method != "ocsp" || leaf.Source != ca.OCSPURL || leaf.Status != envelope.StatusGood || leaf.CheckedAt.IsZero() || leaf.EvidenceSHA256 == "" {
		t.Errorf("signer's revocation: %+v", leaf)
	}
	if inter.Method != "crl" || inter.Source != ca.RootCRL || inter.Status != envelope.StatusGood || inter.CRLNumber == "" {
		t.Errorf("issuing CA's revocation: %+v", inter)
	}
	// The evidence, independently: openssl verifies the OCSP response
	// (signed by the delegated responder) and the root's CRL.
	ev := call(t, m, "GET", "/admin/v1/documents/"+rc.DocID+"/revocation-evidence", testgen.DemoAdminToken, nil)
	if ev.status != 200 || ev.header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("evidence: %d %s", ev.status, ev.header.Get("Content-Type"))
	}
	dir := t.TempDir()
	respFile, leafFile := filepath.Join(dir, "resp.der"), filepath.Join(dir, "leaf.pem")
	os.WriteFile(respFile, ev.body, 0o644)
	os.WriteFile(leafFile, demopki.CertPEM(goodCert.Cert), 0o644)
	out := runOpenSSL(t, "ocsp", "-respin", respFile, "-issuer", ca.IssuingFile(), "-cert", leafFile,
		"-CAfile", ca.RootFile(), "-verify_other", ca.IssuingFile())
	if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, leafFile+": good") {
		t.Errorf("openssl ocsp on the evidence:\n%s", out)
	}
	ev1 := call(t, m, "GET", "/admin/v1/documents/"+rc.DocID+"/revocation-evidence?cert=1", testgen.DemoAdminToken, nil)
	if ev1.status != 200 || ev1.header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("CRL evidence: %d %s", ev1.status, ev1.header.Get("Content-Type"))
	}
	crlFile := filepath.Join(dir, "root.crl")
	os.WriteFile(crlFile, ev1.body, 0o644)
	out = runOpenSSL(t, "crl", "-inform", "DER", "-in", crlFile, "-CAfile", ca.RootFile(), "-noout")
	if !strings.Contains(out, "verify OK") {
		t.Errorf("openssl crl on the evidence:\n%s", out)
	}
	if sum := sha256Hex(ev.body); sum != leaf.EvidenceSHA256 {
		t.Errorf("evidence sha256 %s, record says %s", sum, leaf.EvidenceSHA256)
	}
	// The verified event carries the evidence's digest: the chain covers it.
	tr := call(t, m, "GET", "/admin/v1/documents/"+rc.DocID, testgen.DemoAdminToken, nil)
	if !bytes.Contains(tr.body, []byte("evidence="+leaf.EvidenceSHA256)) {
		t.Errorf("the verified event does not name the evidence: %s", tr.body)
	}

	// A revoked certificate: refused in every mode but off.
	for _, mode := range []string{envelope.RevocationPrefer, envelope.RevocationRequire, envelope.RevocationHold, envelope.RevocationOff} {
		m := startRevocation(t, ca, mode)
		before := storeBytes(t, m)
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), signedBy(t, revoked, "102"))
		if mode == envelope.RevocationOff {
			if r.status != 201 {
				t.Errorf("mode off, revoked certificate: %d %s", r.status, r.body)
			}
			continue
		}
		if r.status != 422 || r.code(t) != "certificate_revoked" {
			t.Errorf("mode %s, revoked certificate: %d %s", mode, r.status, r.body)
		}
		if !bytes.Equal(before, storeBytes(t, m)) {
			t.Errorf("mode %s: the refused envelope changed the store", mode)
		}
	}

	// Responders down, nothing cached.
	ca.Stop()
	for _, mode := range []string{envelope.RevocationRequire, envelope.RevocationPrefer, envelope.RevocationHold} {
		m := startRevocation(t, ca, mode)
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), signedBy(t, good, "103"))
		switch mode {
		case envelope.RevocationRequire:
			if r.status != 422 || r.code(t) != "revocation_unknown" {
				t.Errorf("require, responders down: %d %s", r.status, r.body)
			}
		case envelope.RevocationPrefer:
			var rc api.Receipt
			r.json(t, &rc)
			if r.status != 201 {
				t.Fatalf("prefer, responders down: %d %s", r.status, r.body)
			}
			if rev := docOf(t, m, rc.DocID).Document.Revocation; rev.Status() != envelope.StatusUnknown || rev.Certs[0].Reason == "" {
				t.Errorf("prefer records %+v, want unknown with a reason", rev)
			}
		case envelope.RevocationHold:
			var held struct {
				DocID  string `json:"doc_id"`
				State  string `json:"state"`
				Reason string `json:"reason"`
			}
			r.json(t, &held)
			if r.status != 202 || held.State != "held" || held.Reason != "revocation_unknown" || held.DocID == "" {
				t.Errorf("hold, responders down: %d %s", r.status, r.body)
			}
			if d := docOf(t, m, held.DocID); d.Document.State != store.StateHeld {
				t.Errorf("held document's state %q", d.Document.State)
			}
			if in := inbox(t, m, testgen.Department); len(in.Items) != 0 {
				t.Errorf("a held document was delivered: %+v", in.Items)
			}
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDemoRevoke: the demo hub (mode hold, the demo PKI's CRL files)
// accepts the commune's envelope; axisctl demo-revoke rewrites the issuing
// CA's CRL; within seconds the running hub refuses the commune's next one
// with certificate_revoked, and the department's still goes through.
func TestDemoRevoke(t *testing.T) {
	dir := t.TempDir()
	crl := filepath.Join(dir, testgen.IssuingCRL)
	b, err := os.ReadFile(filepath.Join(fixture.PKIDir, testgen.IssuingCRL))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(crl, b, 0o644)
	m := startWith(t, func(m *Main) { m.Options.Now = time.Now }, func(c *axis.Config) {
		if c.Trust.Revocation.Mode != envelope.RevocationHold || len(c.Trust.Revocation.CRLFiles) != 2 {
			t.Fatalf("the demo config's revocation: %+v", c.Trust.Revocation)
		}
		c.Trust.Revocation.CRLFiles = []string{filepath.Join(fixture.PKIDir, testgen.RootCRL), crl}
	})
	doc := func(n string) []byte { return fixture.Sign(t, fixture.Numbered(n)) }
	rc := intake(t, m, testgen.Commune, doc("301"))
	if rev := docOf(t, m, rc.DocID).Document.Revocation; rev.Status() != envelope.StatusGood || rev.Certs[0].Method != "crl" || rev.Certs[0].CRLNumber != "1" {
		t.Fatalf("the demo CRL did not prove the commune good: %+v", rev)
	}
	code, out, errOut := axisctl(t, "demo-revoke", "--organ", testgen.Commune, "--crl", crl, "--ca", filepath.Join(fixture.PKIDir, testgen.IssuingCA))
	if code != 0 || !strings.Contains(out, "CRL number 2 with 1 entries") {
		t.Fatalf("demo-revoke: %d %s %s", code, out, errOut)
	}
	n := 302 // accepted until the hub has re-read the CRL, then refused
	eventually(t, 15*time.Second, "the commune's envelopes refused after demo-revoke", func() bool {
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), doc(fmt.Sprint(n)))
		n++
		if r.status == 422 && r.code(t) == "certificate_revoked" {
			return true
		}
		if r.status != 201 {
			t.Fatalf("after demo-revoke: %d %s", r.status, r.body)
		}
		return false
	})
	fromDept := testgen.NewDocument()
	fromDept.From, fromDept.To = testgen.Organ(testgen.Department), []envelope.Organization{testgen.Organ(testgen.Commune)}
	fromDept.DocumentID = testgen.Department + ",2026/05/28,15/STTTT-VP"
	intake(t, m, testgen.Department, fixture.Sign(t, fromDept)) // still accepted after the commune's revocation
}

// TestRelayToHoldingPeer: a peer hub in mode hold that cannot establish
// the signer's status answers 202 held; the relaying hub takes that as
// relayed (the peer holds it durably), not as a refusal that kills the
// relay.
func TestRelayToHoldingPeer(t *testing.T) {
	ca := testca.New(t)
	_, good := ca.Leaf(t, testgen.Commune, false) // the responders stay down
	peerToken := testgen.PeerToken("nam-dinh")
	national := startRevocation(t, ca, envelope.RevocationHold, func(c *axis.Config) {
		c.Agencies = append(c.Agencies, axis.Agency{OrganID: vpcp, Name: "Văn phòng Chính phủ", TokenSHA256: axis.TokenHash(tok(vpcp))})
		c.Peers = []axis.Peer{{Name: "nam-dinh", Kind: "axis", URL: "http://127.0.0.1:1", Routes: []string{"*.H40"}, TokenSHA256: axis.TokenHash(peerToken)}}
	})
	h40 := startRevocation(t, ca, envelope.RevocationOff, func(c *axis.Config) {
		c.Peers = []axis.Peer{{Name: "national", Kind: "axis", URL: national.URL(), Routes: []string{"*"}, Token: peerToken}}
		c.Relay.RetryMin.Duration, c.Relay.RetryMax.Duration = 20*time.Millisecond, 200*time.Millisecond
	})
	rc := intake(t, h40, testgen.Commune, fixture.SignWith(t, good, docTo(vpcpOrgan)))
	waitRecipients(t, h40, testgen.Commune, rc.DocID, 1, "relayed", inState(store.StateRelayed))
	if st := status(t, h40, testgen.Commune, rc.DocID); st.Recipients[0].PeerDocID != rc.DocID {
		t.Errorf("peer doc id %q, want %s", st.Recipients[0].PeerDocID, rc.DocID)
	}
	if d := docOf(t, national, rc.DocID); d.Document.State != store.StateHeld {
		t.Errorf("at the national hub the document is %q, want held", d.Document.State)
	}
}
