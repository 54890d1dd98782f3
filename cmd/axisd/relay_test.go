package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// network is three real hubs: Nam Định (H40), the national axis and Nghệ An
// (H41), each on its own 127.0.0.1 port, with the demo configs.
type network struct {
	h40, national, h41 *Main
	urls               map[string]string           // config file → base URL
	dirs               map[string]string           // config file → data dir
	stores             map[string]axis.StoreConfig // config file → its store (made at the hub's first start)
	listeners          map[string]net.Listener
	configure          []func(cfg string, c *axis.Config)
	pki                *testPKI // every hub on TLS, when set (startNetworkTLS, tls_test.go)
}

// Agencies beyond the province: a department of Nghệ An (at its own hub,
// H41) and a central body, Văn phòng Chính phủ (at the national hub).
const (
	deptH41 = "000.00.11.H41"
	vpcp    = "000.00.00.G22"
)

// deptH41 and vpcp as recipients, with their names.
var (
	deptH41Organ = envelope.Organization{OrganID: deptH41, OrganName: "Sở TT&TT Nghệ An"}
	vpcpOrgan    = envelope.Organization{OrganID: vpcp, OrganName: "Văn phòng Chính phủ"}
)

const (
	cfgH40      = "axis-h40.yaml"
	cfgNational = "axis-national.yaml"
	cfgH41      = "axis-h41.yaml"
)

var peerConfig = map[string]string{"national": cfgNational, "nam-dinh": cfgH40, "nghe-an": cfgH41}

func startNetwork(t *testing.T, configure ...func(cfg string, c *axis.Config)) *network {
	t.Helper()
	return startNetworkWith(t, nil, configure...)
}

// startNetworkWith is startNetwork, with every hub serving HTTPS and
// calling its peers over https:// when pki is set.
func startNetworkWith(t *testing.T, pki *testPKI, configure ...func(cfg string, c *axis.Config)) *network {
	t.Helper()
	n := &network{urls: map[string]string{}, dirs: map[string]string{}, listeners: map[string]net.Listener{}, configure: configure, pki: pki}
	for _, c := range []string{cfgH40, cfgNational, cfgH41} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n.listeners[c] = ln
		n.urls[c] = pki.scheme() + ln.Addr().String()
		n.dirs[c] = t.TempDir()
	}
	n.h40 = n.start(t, cfgH40)
	n.national = n.start(t, cfgNational)
	n.h41 = n.start(t, cfgH41)
	return n
}

// start runs one hub of the network on its address and data dir, on the
// real clock.
func (n *network) start(t *testing.T, cfg string) *Main {
	t.Helper()
	m := newMain(t, fixture.Demo(cfg))
	m.Config.DataDir = n.dirs[cfg]
	if n.stores == nil {
		n.stores = map[string]axis.StoreConfig{}
	}
	if st, ok := n.stores[cfg]; ok { // a restart: the same store
		m.Config.Store = st
	} else {
		testhub.UseEngine(t, m.Config)
		n.stores[cfg] = m.Config.Store
	}
	for i := range m.Config.Peers {
		m.Config.Peers[i].URL = n.urls[peerConfig[m.Config.Peers[i].Name]]
	}
	m.Config.Relay.RetryMin.Duration = 20 * time.Millisecond
	m.Config.Relay.RetryMax.Duration = 300 * time.Millisecond
	n.pki.onNetwork(t, m.Config, n.urls[cfg]) // before configure: it may add to peers[].tls
	for _, f := range n.configure {
		f(cfg, m.Config)
	}
	if testing.Verbose() {
		m.Options.Logger = slog.New(slog.NewTextHandler(testWriter{t, cfg}, nil))
	}
	ln := n.listeners[cfg]
	if ln == nil { // a restart: listen again on the same address
		var err error
		if ln, err = net.Listen("tcp", hostPort(n.urls[cfg])); err != nil {
			t.Fatal(err)
		}
	}
	n.listeners[cfg] = nil
	m.Listener = ln
	return run(t, m)
}

// signerFor issues a demo certificate for any organ, for this test run.
func signerFor(t *testing.T, organ string) *envelope.Signer {
	t.Helper()
	ca, err := demopki.Load(fixture.PKIDir, testgen.IssuingCA)
	if err != nil {
		t.Fatal(err)
	}
	c, err := demopki.IssueAgency(ca, organ, "DEMO "+organ)
	if err != nil {
		t.Fatal(err)
	}
	s, err := envelope.NewSigner(c.Key, []*x509.Certificate{c.Cert, ca.Cert})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// agencyAt is an agency at one hub of a network, with its signer where the
// test signs as it.
type agencyAt struct {
	m     *Main
	organ string
	s     *envelope.Signer
}

// TestThreeHubsDocumentStatusAndRevoke runs plain, then with every hub on
// TLS (HTTPS only, peers called over https:// with tls.ca).
func TestThreeHubsDocumentStatusAndRevoke(t *testing.T) {
	t.Run("plain", func(t *testing.T) { threeHubsDocumentStatusAndRevoke(t, startNetwork(t)) })
	t.Run("tls", func(t *testing.T) { threeHubsDocumentStatusAndRevoke(t, startNetworkWith(t, newTestPKI(t))) })
}

func threeHubsDocumentStatusAndRevoke(t *testing.T, n *network) {
	doc, id, _, _ := outAndBack(t, n)
	// The statuses also reached the commune's inbox (2 recipients × 2 codes).
	eventually(t, 10*time.Second, "four status messages in the commune's inbox", func() bool {
		p := inbox(t, n.h40, testgen.Commune)
		k := 0
		for _, it := range p.Items {
			if it.Kind == "status" && it.RespondsTo == id {
				k++
			}
		}
		return k == 4
	})

	// A revoke reaches both recipients and shows on the original.
	rv := testgen.NewDocument()
	rv.To = doc.To
	rv.Business.DocType = envelope.BusinessRevoke
	rv.Business.DocReason = "Thu hồi văn bản"
	rv.Code.CodeNumber = "16"
	rv.ResponseFor = []envelope.ResponseFor{{OrganID: testgen.Commune, Code: "15/UBND-VP", DocumentID: doc.DocumentID}}
	rvc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, rv))
	for _, x := range []agencyAt{{m: n.h41, organ: deptH41}, {m: n.national, organ: vpcp}} {
		eventually(t, 20*time.Second, x.organ+" receives the revoke", func() bool {
			p := inbox(t, x.m, x.organ)
			return len(p.Items) == 1 && p.Items[0].DocID == rvc.DocID
		})
	}
	s := status(t, n.h40, testgen.Commune, id)
	if len(s.Related) != 1 || s.Related[0].BusinessType != envelope.BusinessRevoke || s.Related[0].DocID != rvc.DocID {
		t.Fatalf("original does not show the revoke: %+v", s.Related)
	}
	// And at the recipients' hubs, the revoke is linked to their copy too.
	adm := statusAs(t, n.h41, testgen.DemoAdminToken, id)
	if len(adm.Related) != 1 {
		t.Fatalf("H41 does not link the revoke: %+v", adm)
	}
	for _, m := range []*Main{n.h40, n.national, n.h41} {
		if err := m.Hub.Store().Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "msg=http") {
		w.t.Logf("%s: %s", w.name, p)
	}
	return len(p), nil
}

// TestDeliveryReportAfterOutage: H41's department acknowledges a document
// from H40 while the national hub, the hop between them, is down. The
// report waits at H41 and reaches H40 once the national hub is back,
// exactly once: one "reported" event per state at each hub on the way.
func TestDeliveryReportAfterOutage(t *testing.T) {
	n := startNetwork(t)
	rc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, docTo(deptH41Organ)))
	id := rc.DocID
	eventually(t, 20*time.Second, "H41's department receives it", func() bool {
		p := inbox(t, n.h41, deptH41)
		return len(p.Items) == 1 && p.Items[0].DocID == id
	})
	waitRecipients(t, n.h40, testgen.Commune, id, 1, "H40 shows it relayed", inState("relayed"))
	if err := n.national.Close(); err != nil {
		t.Fatal(err)
	}
	call(t, n.h41, "GET", "/api/v1/envelopes/"+id, tok(deptH41), nil)
	if r := call(t, n.h41, "POST", "/api/v1/envelopes/"+id+"/ack", tok(deptH41), []byte(`{"status":"done"}`)); r.status != 200 {
		t.Fatalf("ack %d %s", r.status, r.body)
	}
	eventually(t, 10*time.Second, "H41 holds both reports for the national hub", func() bool {
		qs, err := n.h41.Hub.Store().Reports(context.Background(), "national", 10)
		return err == nil && len(qs) == 2
	})
	if s := status(t, n.h40, testgen.Commune, id); s.Recipients[0].State != "relayed" {
		t.Fatalf("H40 already shows %+v with the national hub down", s.Recipients[0])
	}

	n.national = n.start(t, cfgNational)
	waitRecipients(t, n.h40, testgen.Commune, id, 1, "H40 shows it acked at H41", ackedAt("national", id, map[string]string{deptH41: "axis-h41"}))
	for _, m := range []*Main{n.h41, n.national} {
		fixture.Eventually(t, 10*time.Second, "the reports are sent", func() bool {
			qs, _ := m.Hub.Store().Reports(context.Background(), "national", 10)
			qs2, _ := m.Hub.Store().Reports(context.Background(), "nam-dinh", 10)
			return len(qs)+len(qs2) == 0
		})
	}
	// Exactly once, at the national hub and at H40.
	for _, m := range []*Main{n.national, n.h40} {
		evs, err := m.Hub.Store().Events(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var reported []string
		for _, e := range evs {
			if e.Type == store.EventReported {
				reported = append(reported, e.OrganID+" "+e.Detail)
			}
		}
		want := []string{deptH41 + " delivered at axis-h41", deptH41 + " acked_done at axis-h41"}
		if !slices.Equal(reported, want) {
			t.Fatalf("%s: reported events %q, want %q", m.Config.Hub.Name, reported, want)
		}
	}
}

// TestOutageDrill: the national hub is down while H40 accepts 500 envelopes
// for a central body; H40 keeps accepting; when the national hub comes back
// on the same data, all 500 arrive exactly once and H40 shows each relayed
// with the national doc id.
func TestOutageDrill(t *testing.T) {
	n := startNetwork(t)
	if err := n.national.Close(); err != nil {
		t.Fatal(err)
	}
	const count = 500
	pool := make([][]byte, count)
	signPool(t, pool, func(i int) *envelope.Message {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("OD%d", i)
		m.DocumentID = fmt.Sprintf("%s,2026/06/01,OD%d/UBND-VP", testgen.Commune, i)
		m.To = []envelope.Organization{{OrganID: vpcp}}
		return m
	})
	start := time.Now()
	ids := map[string]bool{}
	for _, raw := range pool { // H40 accepts with the national hub down
		ids[intake(t, n.h40, testgen.Commune, raw).DocID] = true
	}
	t.Logf("H40 accepted %d envelopes in %v with the national hub down", count, time.Since(start).Round(time.Millisecond))
	depth, _ := n.h40.Hub.Store().OutboxDepths(context.Background())
	if depth["national"] != count {
		t.Fatalf("outbox depth %d, want %d", depth["national"], count)
	}

	restart := time.Now()
	n.national = n.start(t, cfgNational)
	eventually(t, 60*time.Second, "the backlog drains", func() bool {
		d, _ := n.h40.Hub.Store().OutboxDepths(context.Background())
		return d["national"] == 0
	})
	drain := time.Since(restart)
	t.Logf("backlog of %d drained in %v: %.0f envelopes/s", count, drain.Round(time.Millisecond), float64(count)/drain.Seconds())

	p := inbox(t, n.national, vpcp)
	got := map[string]int{}
	for _, it := range p.Items {
		got[it.DocID]++
	}
	if len(p.Items) != count || len(got) != count {
		t.Fatalf("national inbox holds %d items, %d distinct; want %d", len(p.Items), len(got), count)
	}
	for id := range ids {
		if got[id] != 1 {
			t.Fatalf("%s arrived %d times", id, got[id])
		}
		s := status(t, n.h40, testgen.Commune, id)
		if s.Recipients[0].State != "relayed" || s.Recipients[0].PeerDocID != id || s.Recipients[0].Attempts < 1 {
			t.Fatalf("%s at H40: %+v", id, s.Recipients[0])
		}
	}
	if c, _ := n.national.Hub.Store().Count(context.Background()); c != count {
		t.Fatalf("national stores %d documents", c)
	}
}

// TestPushDelivery: an agency with push_url gets each envelope POSTed; the
// endpoint fails three times, then the delivery ends delivered, once, with
// the attempts in the document's records.
func TestPushDelivery(t *testing.T) {
	var mu sync.Mutex
	calls, delivered := 0, 0
	var got []byte
	var gotID string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 {
			http.Error(w, "not today", http.StatusServiceUnavailable)
			return
		}
		got, _ = io.ReadAll(r.Body)
		gotID = r.Header.Get(axis.DocIDHeader)
		delivered++
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	m := start(t, func(c *axis.Config) {
		c.Relay.RetryMin.Duration = 20 * time.Millisecond
		c.Relay.RetryMax.Duration = 100 * time.Millisecond
		for i := range c.Agencies {
			if c.Agencies[i].OrganID == testgen.Department {
				c.Agencies[i].PushURL = srv.URL + "/inbox"
			}
		}
	})
	raw := fixture.Sign(t, testgen.NewDocument())
	rc := intake(t, m, testgen.Commune, raw)
	waitRecipients(t, m, testgen.Commune, rc.DocID, 1, "pushed", inState("delivered"))
	fixture.Consistently(t, 200*time.Millisecond, "a second push", func() bool { // it would show here
		mu.Lock()
		defer mu.Unlock()
		return delivered == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if calls != 4 || delivered != 1 || string(got) != string(raw) || gotID != rc.DocID {
		t.Fatalf("calls %d, delivered %d, id %q, bytes equal %v", calls, delivered, gotID, string(got) == string(raw))
	}
	s := status(t, m, testgen.Commune, rc.DocID)
	if s.Recipients[0].Attempts != 4 {
		t.Fatalf("attempts %d", s.Recipients[0].Attempts)
	}
	evs, _ := m.Hub.Store().Events(context.Background(), rc.DocID)
	var failed, pushed int
	for _, e := range evs {
		switch e.Type {
		case "push_failed":
			failed++
		case "pushed":
			pushed++
		}
	}
	if failed != 3 || pushed != 1 {
		t.Fatalf("events: %d push_failed, %d pushed", failed, pushed)
	}
	// Pull still works for the pushed document: it is in the inbox until acked.
	if p := inbox(t, m, testgen.Department); len(p.Items) != 1 {
		t.Fatalf("inbox %+v", p)
	}
}

// TestDeadAndRedrive: with the national hub down past dead_after, the entry
// goes dead with its error visible; a viewer may not re-drive it; a named
// administrator's re-drive sends it, and the chain says who.
func TestDeadAndRedrive(t *testing.T) {
	n := startNetwork(t, func(cfg string, c *axis.Config) {
		if cfg == cfgH40 {
			c.Relay.DeadAfter.Duration = time.Millisecond
			c.Admin.Users = []axis.AdminUser{{Name: "Nguyễn Văn An", TokenSHA256: axis.TokenHash("token-an")},
				{Name: "Lê Thị Xem", TokenSHA256: axis.TokenHash("token-xem"), Role: axis.RoleViewer}}
		}
	})
	n.national.Close()
	rc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, docTo(organs(vpcp)...)))
	waitRecipients(t, n.h40, testgen.Commune, rc.DocID, 1, "the entry goes dead", inState("dead"))
	if s := status(t, n.h40, testgen.Commune, rc.DocID).Recipients[0]; s.LastError == "" || s.Attempts < 1 {
		t.Fatalf("dead without its reason: %+v", s)
	}
	if r := call(t, n.h40, "POST", "/admin/v1/redrive/"+rc.DocID, tok(testgen.Commune), nil); r.status != 403 || r.code(t) != "forbidden" {
		t.Fatalf("an agency re-drove: %d", r.status)
	}
	if r := call(t, n.h40, "POST", "/admin/v1/redrive/"+rc.DocID, "token-xem", nil); r.status != 403 || r.code(t) != "forbidden" ||
		!strings.Contains(string(r.body), "viewer:Lê Thị Xem is a viewer: re-driving needs an administrator") {
		t.Fatalf("a viewer re-drove: %d %s", r.status, r.body)
	}
	if r := call(t, n.h40, "GET", "/admin/v1/overview", "token-xem", nil); r.status != 200 {
		t.Fatalf("a viewer cannot read the overview: %d", r.status)
	}
	n.national = n.start(t, cfgNational)
	r := call(t, n.h40, "POST", "/admin/v1/redrive/"+rc.DocID, "token-an", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"redriven":1`) {
		t.Fatalf("redrive: %d %s", r.status, r.body)
	}
	waitRecipients(t, n.h40, testgen.Commune, rc.DocID, 1, "relayed after the re-drive", inState("relayed"))
	evs, _ := n.h40.Hub.Store().Events(context.Background(), rc.DocID)
	var types []string
	for _, e := range evs {
		if e.Type != "relay_failed" {
			types = append(types, e.Type)
		}
	}
	if got := strings.Join(types, " "); got != "received verified outboxed dead redriven relayed" {
		t.Fatalf("events: %s", got)
	}
	if !slices.ContainsFunc(evs, func(e record.Event) bool {
		return e.Type == store.EventRedriven && e.Detail == "peer=national by admin:Nguyễn Văn An"
	}) {
		t.Fatalf("the re-drive does not name its administrator: %+v", evs)
	}
	if v := call(t, n.h40, "GET", "/admin/v1/audit/verify", "token-an", nil); v.status != 200 || !strings.Contains(string(v.body), `"ok":true`) {
		t.Fatalf("audit-verify after the re-drive: %d %s", v.status, v.body)
	}
	if p := inbox(t, n.national, vpcp); len(p.Items) != 1 {
		t.Fatalf("national inbox %+v", p)
	}
}

// outAndBack has H40's commune send a document to deptH41 and vpcp, both
// routed to the national peer, where both recipients fetch and ack it
// (sendOutAndAckAtBoth); waits for H40 to show it; and has both recipients
// send status 03 then 06 back (statusesComeBack). It returns the document,
// its id and the recipients' signers.
//
// The acks come back as delivery reports, hop by hop (H41 → national →
// H40, national → H40): H40 shows both acked where they were delivered.
func outAndBack(t *testing.T, n *network) (doc *envelope.Message, id string, sDept, sVPCP *envelope.Signer) {
	t.Helper()
	sDept, sVPCP = signerFor(t, deptH41), signerFor(t, vpcp)
	doc, id = sendOutAndAckAtBoth(t, n, deptH41, vpcp)
	waitRecipients(t, n.h40, testgen.Commune, id, 2, "H40 shows both acked where they were delivered", ackedAt("national", id,
		map[string]string{deptH41: "axis-h41", vpcp: "axis-national"}))
	statusesComeBack(t, n, id, deptH41, vpcp, sDept, sVPCP)
	return doc, id, sDept, sVPCP
}

// statusesComeBack has H41's department and the central body send status
// 03 then 06 for document id, and waits until the commune's hub (H40) shows
// each code for both recipients.
func statusesComeBack(t *testing.T, n *network, id, deptH41, vpcp string, sDept, sVPCP *envelope.Signer) {
	t.Helper()
	for _, code := range []string{"03", "06"} {
		for _, x := range []agencyAt{{n.h41, deptH41, sDept}, {n.national, vpcp, sVPCP}} {
			st := testgen.Status(code, "trạng thái "+code)
			st.From = envelope.Organization{OrganID: x.organ}
			st.Timestamp = "2026/06/01 10:" + code + ":00"
			if r := call(t, x.m, "POST", "/api/v1/envelopes", tok(x.organ), fixture.SignWith(t, x.s, st)); r.status != 201 {
				t.Fatalf("status %s from %s: %d %s", code, x.organ, r.status, r.body)
			}
		}
		eventually(t, 20*time.Second, "the commune sees status "+code+" for both recipients", func() bool {
			s := status(t, n.h40, testgen.Commune, id)
			for _, rs := range s.Recipients {
				if rs.StatusCode != code || rs.StatusAt == nil {
					return false
				}
			}
			return true
		})
	}
}

// sendOutAndAckAtBoth has H40's commune send a document to a department of
// H41 and to a central body, both routed to the national peer; each
// recipient receives it through its own hub, gets the exact bytes and acks.
func sendOutAndAckAtBoth(t *testing.T, n *network, deptH41, vpcp string) (*envelope.Message, string) {
	t.Helper()
	doc := docTo(deptH41Organ, vpcpOrgan)
	raw := fixture.Sign(t, doc)
	rc := intake(t, n.h40, testgen.Commune, raw)
	for _, rr := range rc.Recipients {
		if rr.Route != "national" {
			t.Fatalf("route %+v", rr)
		}
	}
	id := rc.DocID
	for _, x := range []agencyAt{{m: n.h41, organ: deptH41}, {m: n.national, organ: vpcp}} {
		eventually(t, 20*time.Second, x.organ+" receives the document", func() bool {
			p := inbox(t, x.m, x.organ)
			return len(p.Items) == 1 && p.Items[0].DocID == id
		})
		if got := call(t, x.m, "GET", "/api/v1/envelopes/"+id, tok(x.organ), nil); string(got.body) != string(raw) {
			t.Fatalf("%s got other bytes", x.organ)
		}
		if r := call(t, x.m, "POST", "/api/v1/envelopes/"+id+"/ack", tok(x.organ), []byte(`{"status":"done"}`)); r.status != 200 {
			t.Fatalf("ack %d", r.status)
		}
	}
	return doc, id
}

// "Did they receive it?", answered the same everywhere the sender looks: a
// commune of H40 sends to a central body (at the national hub) and to a
// department of H41, both fetch and ack at their hubs, and at H40 the API
// status, axisctl status, the console's document page and VDXP
// getSentEdocList each say acked_done, and where.
func TestDeliveryStateSeenEverywhere(t *testing.T) {
	t.Setenv(testgen.DemoVDXPSecretEnv, vdxpTestSecret)
	n := startNetwork(t)
	_, id := sendOutAndAckAtBoth(t, n, deptH41, vpcp)
	atHub := map[string]string{deptH41: "axis-h41", vpcp: "axis-national"}
	waitRecipients(t, n.h40, testgen.Commune, id, 2, "H40's API shows both acked where they were delivered", ackedAt("national", id, atHub))

	code, out, errOut := axisctl(t, "status", "--hub", n.h40.URL(), "--token", tok(testgen.Commune), id)
	if code != 0 {
		t.Fatalf("axisctl status: exit %d: %s", code, errOut)
	}
	for organ, hub := range atHub {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(organ) + `\s+national\s+acked_done\s+` + regexp.QuoteMeta(hub) + `\s`).MatchString(out) {
			t.Errorf("axisctl status lacks %s acked_done at %s:\n%s", organ, hub, out)
		}
	}

	page := string(get(t, consoleAdmin(t, n.h40), n.h40.URL()+"/admin/documents/"+id, "").body)
	for organ, hub := range atHub {
		if !strings.Contains(page, `<tr class="recipient" data-organ="`+organ+`" data-state="relayed">`) ||
			!strings.Contains(page, `<div class="remote" data-remote-state="acked_done" data-at-hub="`+hub+`">`) {
			t.Errorf("the console's document page lacks %s acked_done at %s", organ, hub)
		}
	}

	c := newVDXPSDK(n.h40.URL()+"/vdxp", vdxpTestSystem, vdxpTestSecret)
	rows := c.call(t, "getSentEdocList", vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", "edoc"}, vdxpParam{"docId", id}).ok(t).rows(t, vdxpSentFields...)
	got := map[string]string{}
	for _, row := range rows {
		got[row["toCode"]] = row["receiveStatus"]
	}
	if len(rows) != 2 || got[deptH41] != "acked_done" || got[vpcp] != "acked_done" {
		t.Errorf("getSentEdocList %v", rows)
	}
}
