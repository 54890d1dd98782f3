package console_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// heldEnv is the demo hub (revocation mode hold) with the root's CRL but
// not yet the issuing CA's: the issuing CA is proven good by the root's
// CRL, the agencies' certificates (the issuing CA's) have no status, so
// their envelopes are held. Writing the issuing CA's CRL to the returned
// file releases them; advancing the hub's clock past hold_max refuses them.
func heldEnv(t *testing.T, hub *fixture.Clock) (*env, string) {
	t.Helper()
	issuing := filepath.Join(t.TempDir(), testgen.IssuingCRL)
	e := newEnv(t, setup{
		config: func(c *axis.Config) {
			c.Trust.Revocation.CRLFiles = []string{filepath.Join(fixture.PKIDir, testgen.RootCRL), issuing}
			c.Trust.Revocation.Retry.Duration = 20 * time.Millisecond
		},
		hubOpts: func(o *axis.Options) { o.Now = hub.Now },
	})
	return e, issuing
}

// waitDocState waits until a document's own state is state.
func (e *env) waitDocState(id, state string) *record.Document {
	e.t.Helper()
	var d *record.Document
	if !fixture.Poll(20*time.Second, func() bool {
		var err error
		if d, err = e.hub.Store().Document(context.Background(), id); err != nil {
			e.t.Fatal(err)
		}
		return d.State == state
	}) {
		e.t.Fatalf("document %s is %q, never %q", id, d.State, state)
	}
	return d
}

// apiGet calls the hub's admin API with the admin token.
func (e *env) apiGet(path string, v any) resp {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testgen.DemoAdminToken)
	r := e.do(e.srv.Client(), req)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(r.body), v); err != nil {
			e.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return r
}

// A held envelope in the console: the dashboard counts it (in red), the
// stuck list has its row (reason held, its filter chip, the certificate and
// why), its page says it is held, since when and why, and shows the
// revocation check of each certificate of the chain with a link to the
// evidence, which downloads the exact DER the store keeps (the same as the
// API's). Past hold_max the hub refuses it: the page says so with the code,
// and it leaves the stuck list. A second one is released once the issuing
// CA's CRL appears.
func TestHeldDocument(t *testing.T) {
	hub := fixture.NewClock(demopki.TestNow)
	e, issuingCRL := heldEnv(t, hub)
	rc := e.intake(testgen.NewDocument())
	if rc.State != store.StateHeld {
		t.Fatalf("receipt %+v, want held", rc)
	}
	id := rc.DocID
	d, err := e.hub.Store().Document(context.Background(), id)
	if err != nil || d.Revocation == nil || len(d.Revocation.Certs) != 2 {
		t.Fatalf("held document %+v %v", d, err)
	}
	leaf, issuing := d.Revocation.Certs[0], d.Revocation.Certs[1]
	if leaf.Status != "unknown" || leaf.Reason == "" || issuing.Status != "good" || issuing.Method != "crl" || issuing.EvidenceSHA256 == "" {
		t.Fatalf("revocation %+v", d.Revocation)
	}
	e.admin()

	dash := e.get("/admin/")
	mustContain(t, "dashboard", dash.body, `<a class="stat stat-bad" id="stat-held" href="/admin/stuck?reason=held"><span class="label">Tạm giữ (chờ kiểm tra thu hồi chứng thư)</span><span class="value">1</span></a>`)

	// The document page: held, since when, why; the chain's check.
	doc := e.get("/admin/documents/" + id)
	if doc.status != http.StatusOK {
		t.Fatalf("document: %d", doc.status)
	}
	mustContain(t, "held document", doc.body,
		`<section id="doc-state" class="state-box state-box-held" data-state="held">`,
		"Tạm giữ: chưa xác định được tình trạng thu hồi chứng thư số",
		"Tạm giữ từ <time", "T2 01/06/2026 16:00:00", // TestNow in Hà Nội
		"đến <time", "T5 04/06/2026 16:00:00", // + hold_max 72h
		`id="held-reason"`, leaf.Subject, leaf.Serial, leaf.Reason,
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="held">`, "Chưa chuyển (tạm giữ)",
		`<section id="revocation" data-status="unknown">`, "Kiểm tra thu hồi chứng thư số",
		`<article class="rev-cert" data-cert="0" data-status="unknown">`, "Chứng thư của người ký", "Chưa xác định", "Vì sao chưa xác định",
		`<article class="rev-cert" data-cert="1" data-status="good">`, "Còn hiệu lực", issuing.Subject, issuing.Serial,
		"CRL (danh sách chứng thư bị thu hồi)", issuing.Source, "<dt>Số CRL</dt><dd>1", "(thisUpdate)", "(nextUpdate)",
		`<a class="evidence" href="/admin/documents/`+id+`/revocation-evidence?cert=1" download>`, issuing.EvidenceSHA256,
		`data-event="held"`, `<span class="badge tone-warn">Tạm giữ</span>`)
	mustNotContain(t, "held document", doc.body, "revocation-evidence?cert=0", `class="redrive"`)

	// The evidence: the exact DER the store keeps, the API's bytes, the
	// root's CRL file decoded.
	ev := e.get("/admin/documents/" + id + "/revocation-evidence?cert=1")
	if ev.status != http.StatusOK || ev.header.Get("Content-Type") != "application/pkix-crl" ||
		ev.header.Get("Content-Disposition") != `attachment; filename="`+id+`-cert1-crl1.crl"` {
		t.Fatalf("evidence: %d %q %q", ev.status, ev.header.Get("Content-Type"), ev.header.Get("Content-Disposition"))
	}
	securityHeaders(t, "evidence", ev)
	der, err := e.hub.Store().Evidence(context.Background(), issuing.EvidenceSHA256)
	if err != nil || ev.body != string(der) {
		t.Fatalf("evidence %d bytes, the store's %d (%v)", len(ev.body), len(der), err)
	}
	if api := e.apiGet("/admin/v1/documents/"+id+"/revocation-evidence?cert=1", nil); api.body != ev.body {
		t.Errorf("the console's evidence is not the API's")
	}
	pemCRL, err := os.ReadFile(filepath.Join(fixture.PKIDir, testgen.RootCRL))
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(pemCRL); blk == nil || string(blk.Bytes) != ev.body {
		t.Errorf("the evidence is not the root's CRL")
	}
	for path, want := range map[string]int{
		"/admin/documents/" + id + "/revocation-evidence?cert=0":                http.StatusNotFound, // unknown: no evidence
		"/admin/documents/" + id + "/revocation-evidence?cert=2":                http.StatusNotFound,
		"/admin/documents/" + id + "/revocation-evidence?cert=-1":               http.StatusBadRequest,
		"/admin/documents/" + id + "/revocation-evidence?cert=x":                http.StatusBadRequest,
		"/admin/documents/0123456789abcdef0123456789abcdef/revocation-evidence": http.StatusNotFound,
		"/admin/documents/nothex/revocation-evidence":                           http.StatusNotFound,
	} {
		if r := e.get(path); r.status != want {
			t.Errorf("GET %s: %d, want %d", path, r.status, want)
		}
	}
	if r := e.getWith(e.newClient(), "/admin/documents/"+id+"/revocation-evidence?cert=1"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Errorf("evidence without a session: %d %q", r.status, r.header.Get("Location"))
	}

	// The stuck list: its row, first, and its filter chip.
	st := e.get("/admin/stuck")
	mustContain(t, "stuck", st.body,
		`<tr class="stuck" data-reason="held" data-doc="`+id+`" data-organ="">`,
		`<span class="badge reason-held">Chờ kiểm tra thu hồi chứng thư</span>`,
		`data-reason="held">Chờ kiểm tra thu hồi chứng thư (1)</a>`,
		"sẽ chuyển đến", testgen.Department, leaf.Subject, leaf.Serial, leaf.Reason)
	if r := e.get("/admin/stuck?reason=held"); !strings.Contains(r.body, `data-reason="held" data-doc="`+id+`"`) {
		t.Errorf("the held filter does not list it")
	}
	if r := e.get("/admin/stuck?reason=relay_dead"); strings.Contains(r.body, `<tr class="stuck"`) {
		t.Errorf("the relay_dead filter lists the held row")
	}
	// The API: the item, the counts, the overview.
	var stuck struct {
		Items  []record.StuckItem `json:"items"`
		Counts map[string]int     `json:"counts"`
	}
	e.apiGet("/admin/v1/stuck", &stuck)
	if len(stuck.Items) != 1 || stuck.Counts["held"] != 1 {
		t.Fatalf("/admin/v1/stuck: %+v", stuck)
	}
	if it := stuck.Items[0]; it.Reason != "held" || it.DocID != id || it.State != "held" || !it.Since.Equal(demopki.TestNow) ||
		it.Cert != leaf.Subject || it.CertSerial != leaf.Serial || it.LastError != leaf.Reason || len(it.Pending) != 1 || it.Pending[0] != testgen.Department {
		t.Errorf("held item %+v", it)
	}
	var ov api.Overview
	if e.apiGet("/admin/v1/overview", &ov); ov.Held != 1 || ov.Stuck != 1 {
		t.Errorf("overview held %d stuck %d", ov.Held, ov.Stuck)
	}

	// Past hold_max: refused (revocation_unknown).
	hub.Add(73 * time.Hour)
	e.waitDocState(id, store.StateRefused)
	doc = e.get("/admin/documents/" + id)
	mustContain(t, "refused document", doc.body,
		`<section id="doc-state" class="state-box state-box-refused" data-state="refused">`,
		"<h2>Bị từ chối: Quá thời hạn tạm giữ", `id="revocation-at-intake"`,
		`<span class="code" id="refused-code">revocation_unknown</span>`,
		"Quá thời hạn tạm giữ mà vẫn chưa xác định được tình trạng thu hồi chứng thư số",
		`id="refused-detail"`, "revocation status still unknown after 72h0m0s",
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="refused">`, "Không chuyển (bị từ chối)",
		`data-event="refused"`, `<article class="rev-cert" data-cert="1" data-status="good">`)
	mustNotContain(t, "refused document", doc.body, `data-state="held"`)
	if r := e.get("/admin/stuck"); strings.Contains(r.body, `data-reason="held" data-doc=`) || !strings.Contains(r.body, `data-reason="held">Chờ kiểm tra thu hồi chứng thư (0)`) {
		t.Errorf("the refused document is still in the stuck list:\n%s", r.body)
	}
	mustContain(t, "dashboard after", e.get("/admin/").body, `<a class="stat" id="stat-held" href="/admin/stuck?reason=held">`)

	// Another one, released once the issuing CA's CRL is there.
	rc = e.intake(fixture.Numbered("16"))
	if rc.State != store.StateHeld {
		t.Fatalf("second receipt %+v", rc)
	}
	b, err := os.ReadFile(filepath.Join(fixture.PKIDir, testgen.IssuingCRL))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(issuingCRL, b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitDocState(rc.DocID, "") // the checker re-reads CRL files every 5 s
	e.waitState(rc.DocID, testgen.Department, store.StateQueued)
	doc = e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "released document", doc.body, `<p class="note" id="doc-released">`, `<section id="revocation" data-status="good">`,
		`<article class="rev-cert" data-cert="0" data-status="good">`, `revocation-evidence?cert=0" download>`,
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="queued">`,
		`data-event="released"`, "Hết tạm giữ")
	mustNotContain(t, "released document", doc.body, `id="doc-state"`, `id="revocation-at-intake"`)
	if r := e.get("/admin/stuck"); strings.Contains(r.body, `data-reason="held" data-doc=`) {
		t.Errorf("the released document is still in the stuck list")
	}
}
