package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/browser"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testca"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// consoleAs is a browser-like client signed in to m's console with the
// admin token: it GETs a path.
func consoleAs(t *testing.T, m *Main) func(path string) response {
	t.Helper()
	hc := consoleAdmin(t, m)
	return func(path string) response {
		t.Helper()
		return send(t, hc, newRequest(t, "GET", m.URL()+path, "", nil, nil))
	}
}

// held posts raw as from, which the hub must hold (202), and returns its id.
func held(t *testing.T, m *Main, from string, raw []byte) string {
	t.Helper()
	rc := intakeWant(t, m.URL(), from, raw, http.StatusAccepted)
	if rc.State != store.StateHeld {
		t.Fatalf("want held: %+v", rc)
	}
	return rc.DocID
}

func pageHas(t *testing.T, what string, r response, wants ...string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: %d\n%s", what, r.status, r.body)
	}
	for _, w := range wants {
		if !strings.Contains(string(r.body), w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
	if t.Failed() {
		t.Fatalf("%s:\n%s", what, r.body)
	}
}

// TestConsoleHeldAndDecided: the real wiring in mode hold with the test
// CA's OCSP responder and CRLs down. A good and a revoked envelope are held:
// the console's dashboard counts them, its stuck list has their rows and
// their pages say why (the responders that did not answer). The CA comes
// back: the good one is released and its page shows the OCSP answer and
// the root's CRL with links whose downloads are the very DER the API and
// the store hold (openssl verifies the OCSP response); the revoked one is
// refused with certificate_revoked.
func TestConsoleHeldAndDecided(t *testing.T) {
	ca := testca.New(t)
	goodCert, good := ca.Leaf(t, testgen.Commune, false)
	_, revoked := ca.Leaf(t, testgen.Commune, true)
	m := startRevocation(t, ca, envelope.RevocationHold)
	g := held(t, m, testgen.Commune, signedBy(t, good, "401"))
	rv := held(t, m, testgen.Commune, signedBy(t, revoked, "402"))
	get := consoleAs(t, m)

	// Held is not refused: the refusals card stays at 0.
	pageHas(t, "dashboard", get("/admin/"), `<a class="stat stat-bad" id="stat-held" href="/admin/stuck?reason=held">`,
		`<span class="value">2</span></a>`, `<div class="stat" id="stat-refusals"><span class="label">Từ chối tiếp nhận (từ khi khởi động)</span><span class="value">0</span>`)
	pageHas(t, "stuck", get("/admin/stuck?reason=held"),
		`<tr class="stuck" data-reason="held" data-doc="`+g+`" data-organ="">`,
		`<tr class="stuck" data-reason="held" data-doc="`+rv+`" data-organ="">`,
		`data-reason="held">Chờ kiểm tra thu hồi chứng thư (2)</a>`, "OCSP "+ca.OCSPURL, testgen.Department)
	held := get("/admin/documents/" + g)
	pageHas(t, "held document", held, `data-state="held"`, "Tạm giữ: chưa xác định được tình trạng thu hồi chứng thư số",
		`<article class="rev-cert" data-cert="0" data-status="unknown">`, `<article class="rev-cert" data-cert="1" data-status="unknown">`,
		"OCSP "+ca.OCSPURL, "CRL "+ca.CACRL, "CRL "+ca.RootCRL, goodCert.Cert.Subject.String())
	if strings.Contains(string(held.body), "revocation-evidence") {
		t.Errorf("a link to evidence that does not exist")
	}

	ca.Start(t)
	eventually(t, 20*time.Second, "both decided", func() bool {
		return docOf(t, m, g).Document.State == "" && docOf(t, m, rv).Document.State == store.StateRefused
	})
	d := docOf(t, m, g).Document
	leaf, issuing := d.Revocation.Certs[0], d.Revocation.Certs[1]
	released := get("/admin/documents/" + g)
	pageHas(t, "released document", released, `<p class="note" id="doc-released">`, `<section id="revocation" data-status="good">`,
		`<article class="rev-cert" data-cert="0" data-status="good">`, "<dd>OCSP</dd>", ca.OCSPURL,
		`<article class="rev-cert" data-cert="1" data-status="good">`, ca.RootCRL, "<dt>Số CRL</dt><dd>"+issuing.CRLNumber,
		`href="/admin/documents/`+g+`/revocation-evidence?cert=0" download>Tải về phản hồi OCSP (.der)</a>`,
		`href="/admin/documents/`+g+`/revocation-evidence?cert=1" download>Tải về CRL (.crl)</a>`,
		leaf.EvidenceSHA256, issuing.EvidenceSHA256, `data-event="released"`)

	// The downloads: the API's bytes, the store's, and openssl reads them.
	dir := t.TempDir()
	for i, c := range []envelope.CertRevocation{leaf, issuing} {
		ev := get(fmt.Sprintf("/admin/documents/%s/revocation-evidence?cert=%d", g, i))
		api := call(t, m, "GET", fmt.Sprintf("/admin/v1/documents/%s/revocation-evidence?cert=%d", g, i), testgen.DemoAdminToken, nil)
		der, err := m.Hub.Store().Evidence(context.Background(), c.EvidenceSHA256)
		if err != nil || ev.status != 200 || string(ev.body) != string(api.body) || string(ev.body) != string(der) || sha256Hex(ev.body) != c.EvidenceSHA256 {
			t.Fatalf("cert %d: console %d (%d bytes), API %d bytes, store %d bytes %v", i, ev.status, len(ev.body), len(api.body), len(der), err)
		}
		wantType, wantName := "application/ocsp-response", g+"-cert0-ocsp.der"
		if i == 1 {
			wantType, wantName = "application/pkix-crl", g+"-cert1-crl"+c.CRLNumber+".crl"
		}
		if ev.header.Get("Content-Type") != wantType || ev.header.Get("Content-Disposition") != `attachment; filename="`+wantName+`"` {
			t.Errorf("cert %d: %q %q", i, ev.header.Get("Content-Type"), ev.header.Get("Content-Disposition"))
		}
		file := filepath.Join(dir, wantName)
		if err := os.WriteFile(file, ev.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			leafFile := filepath.Join(dir, "leaf.pem")
			os.WriteFile(leafFile, demopki.CertPEM(goodCert.Cert), 0o644)
			out := runOpenSSL(t, "ocsp", "-respin", file, "-issuer", ca.IssuingFile(), "-cert", leafFile,
				"-CAfile", ca.RootFile(), "-verify_other", ca.IssuingFile())
			if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, leafFile+": good") {
				t.Errorf("openssl ocsp on the console's download:\n%s", out)
			}
		} else if out := runOpenSSL(t, "crl", "-inform", "DER", "-in", file, "-CAfile", ca.RootFile(), "-noout"); !strings.Contains(out, "verify OK") {
			t.Errorf("openssl crl on the console's download:\n%s", out)
		}
	}

	pageHas(t, "refused document", get("/admin/documents/"+rv), `<section id="doc-state" class="state-box state-box-refused" data-state="refused">`,
		`<span class="code" id="refused-code">certificate_revoked</span>`, "Chứng thư số của người ký đã bị thu hồi",
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="refused">`, `data-event="refused"`)
	st := get("/admin/stuck")
	pageHas(t, "stuck after", st, `data-reason="held">Chờ kiểm tra thu hồi chứng thư (0)</a>`)
	if strings.Contains(string(st.body), `<tr class="stuck" data-reason="held"`) {
		t.Errorf("decided documents still listed as held")
	}
}

// TestConsoleHeldInBrowser: the demo hub (mode hold, its CRL files) before
// the issuing CA's CRL is there: an administrator in a real browser sees the
// held count on the dashboard, the held rows in the stuck list and, on a
// held document's page, the state, why, and the chain's check (the issuing
// CA proven good by the root's CRL, with its evidence link). Then the
// issuing CA publishes a CRL revoking the commune's certificate: the
// commune's envelope is refused, the department's released. Each page is a
// screenshot in the test's artifact folder (go test -artifacts).
func TestConsoleHeldInBrowser(t *testing.T) {
	b := browser.ForTest(t)
	issuingCRL := filepath.Join(t.TempDir(), testgen.IssuingCRL)
	m := start(t, func(c *axis.Config) {
		c.Trust.Revocation.CRLFiles = []string{filepath.Join(fixture.PKIDir, testgen.RootCRL), issuingCRL}
		c.Trust.Revocation.Retry.Duration = 200 * time.Millisecond
	})
	post := func(from, to, number, subject string) string {
		t.Helper()
		d := testgen.NewDocument()
		d.From = envelope.Organization{OrganID: from, OrganName: testgen.AgencyName(from)}
		if a, ok := m.Hub.Directory().Agency(from); ok {
			d.From.OrganName = a.Name
		}
		d.To = []envelope.Organization{{OrganID: to}}
		if a, ok := m.Hub.Directory().Agency(to); ok {
			d.To[0].OrganName = a.Name
		}
		d.Code.CodeNumber = number
		d.DocumentID = from + ",2026/06/01," + number
		d.Subject = subject
		return held(t, m, from, fixture.Sign(t, d))
	}
	commune := post(testgen.Commune, testgen.Department, "27", "Báo cáo tình hình phòng chống lụt bão tháng 6")
	dept := post(testgen.Department, testgen.Commune, "112", "Hướng dẫn triển khai chữ ký số trong cơ quan nhà nước")

	p := newPage(t, b, 2*time.Minute)
	base := m.URL()

	p.open(base + "/admin/login")
	p.fill("#login-token", testgen.DemoAdminToken)
	p.click("#login-submit")
	p.waitFor("#dashboard")
	if p.count("#stat-held.stat-bad") != 1 || !strings.Contains(p.text("#stat-held"), "2") {
		t.Fatalf("dashboard held card: %q", p.text("#stat-held"))
	}
	p.shot("held-1-dashboard.png")

	// The dashboard's card leads to the stuck list filtered on held.
	p.click("#stat-held")
	if p.count(`#stuck tr.stuck[data-reason="held"]`) != 2 || p.count(`.filters a.active[data-reason="held"]`) != 1 {
		t.Fatal("the stuck list does not show the two held envelopes under the held filter")
	}
	p.shot("held-2-stuck.png")

	// A held document's page.
	p.click(`#stuck tr.stuck[data-doc="` + commune + `"] a.doc-link`)
	p.waitFor("#doc-state")
	if st := p.text("#doc-state"); !strings.Contains(st, "Tạm giữ: chưa xác định được tình trạng thu hồi chứng thư số") ||
		!strings.Contains(st, "Không lấy được thông tin thu hồi chứng thư (OCSP hoặc CRL) từ tổ chức cấp.") || strings.Contains(st, "no current CRL") {
		t.Fatalf("held state: %q", st)
	}
	var tech string // the technical reason, folded under the sentence
	p.eval(`document.querySelector("#held-reason details.tech code").textContent`, &tech)
	if !strings.Contains(tech, "no current CRL of its issuer") {
		t.Fatalf("held reason's technical detail: %q", tech)
	}
	if p.count(`#revocation .rev-cert[data-cert="0"][data-status="unknown"]`) != 1 || p.count(`#revocation .rev-cert[data-cert="1"][data-status="good"] a.evidence`) != 1 {
		t.Fatal("the revocation block does not show the chain's check")
	}
	p.shot("held-3-document-held.png")

	// The issuing CA revokes the commune's certificate.
	issuer, err := demopki.Load(fixture.PKIDir, testgen.IssuingCA)
	p.must(err)
	cc, err := demopki.Load(fixture.PKIDir, testgen.AgencyName(testgen.Commune))
	p.must(err)
	crl, err := testgen.DemoCRL(issuer, big.NewInt(2), demopki.TestNow.Add(-time.Hour),
		[]x509.RevocationListEntry{{SerialNumber: cc.Cert.SerialNumber, RevocationTime: demopki.TestNow.Add(-30 * time.Minute), ReasonCode: 1}})
	p.must(err)
	p.must(os.WriteFile(issuingCRL+".tmp", crl, 0o644))
	p.must(os.Rename(issuingCRL+".tmp", issuingCRL))
	eventually(t, 20*time.Second, "both decided", func() bool { // the checker re-reads CRL files every 5 s
		return docOf(t, m, commune).Document.State == store.StateRefused && docOf(t, m, dept).Document.State == ""
	})

	p.open(base + "/admin/documents/" + commune)
	if st := p.text("#doc-state"); !strings.Contains(st, "Bị từ chối: Chứng thư số của người ký đã bị thu hồi") || !strings.Contains(st, "certificate_revoked") {
		t.Fatalf("refused state: %q", st)
	}
	// The re-check's answer replaced the intake's: the signer is shown
	// revoked, with the CRL that says so to download.
	if p.count("#revocation-at-intake") != 0 || p.count(`#revocation .rev-cert[data-cert="0"][data-status="revoked"] a.evidence`) != 1 {
		t.Fatal("the refused page does not show the revocation and its evidence")
	}
	p.shot("held-4-document-refused.png")
	p.open(base + "/admin/documents/" + dept)
	if p.count("#doc-released") != 1 || p.count(`#revocation .rev-cert[data-status="good"] a.evidence`) != 2 {
		t.Fatal("the released document's page does not show its evidence")
	}
	p.shot("held-5-document-released.png")
	p.open(base + "/admin/stuck")
	if p.count(`#stuck tr.stuck[data-reason="held"]`) != 0 {
		t.Fatal("decided envelopes still held in the stuck list")
	}
	t.Logf("screenshots in %s", t.ArtifactDir())
}
