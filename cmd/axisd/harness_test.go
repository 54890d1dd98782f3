package main

// The test harness: the one in-process hub starter (start, startWith; the
// three-hub network's hubs, relay_test.go; the real binaries as their own
// processes, crash_test.go's startProcess and axisctl), the HTTP calls the
// tests make, and the waits. The documents the tests send are
// documents_test.go's.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

var demoConfig = fixture.DemoConfig

// newMain is axisd's Main on a config file, with args after --config;
// quiet unless $AXIS_TEST_LOG is set (then its log goes to stderr); not
// running.
func newMain(t testing.TB, config string, args ...string) *Main {
	t.Helper()
	m := NewMain()
	if err := m.ParseFlags(append([]string{"--config", config}, args...)); err != nil {
		t.Fatal(err)
	}
	m.Options.Logger = testhub.Quiet()
	if os.Getenv("AXIS_TEST_LOG") != "" {
		m.Options.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return m
}

// demoMain is the demo province's Main on 127.0.0.1:0 with a temp data dir,
// alone (nothing leaves the province), its clock pinned to the demo PKI's
// test time; not running.
func demoMain(t testing.TB) *Main {
	t.Helper()
	m := newMain(t, demoConfig, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	testhub.UseEngine(t, m.Config)
	m.Config.Peers = nil
	m.Options.Now = fixture.Now
	return m
}

// run runs m for the test; at cleanup its store passes the consistency
// check (unless the test closed it) and it closes.
func run(t testing.TB, m *Main) *Main {
	t.Helper()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if m.Hub.Ready() == nil { // not closed by the test: a restart on its data is checked itself
			testhub.Check(t, m.Hub.Store())
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// runFails runs m expecting it not to start and returns Run's error,
// closing m if it started after all.
func runFails(m *Main) error {
	err := m.Run(context.Background())
	if err == nil {
		m.Close()
	}
	return err
}

// start runs the real axisd wiring for the demo province (demoMain), with
// configure's changes to its config.
func start(t testing.TB, configure ...func(*axis.Config)) *Main {
	t.Helper()
	return startWith(t, nil, configure...)
}

// startWith is start with a last say on the Main (its options) before it
// runs.
func startWith(t testing.TB, adjust func(*Main), configure ...func(*axis.Config)) *Main {
	t.Helper()
	m := demoMain(t)
	for _, f := range configure {
		f(m.Config)
	}
	if adjust != nil {
		adjust(m)
	}
	return run(t, m)
}

// eventually waits until cond holds (fixture.Eventually).
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	fixture.Eventually(t, within, what, cond)
}

func tok(organ string) string { return testgen.DemoToken(organ) }

// response is one HTTP answer, read whole.
type response struct {
	status int
	body   []byte
	header http.Header
	tls    *tls.ConnectionState
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
}

// code is the problem+json code of an error response.
func (r response) code(t testing.TB) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d content type %q: %s", r.status, ct, r.body)
	}
	var p struct{ Code, Detail string }
	r.json(t, &p)
	return p.Code
}

// roundTrip sends req with hc and reads the whole answer.
func roundTrip(hc *http.Client, req *http.Request) (response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header, tls: resp.TLS}, err
}

// send is roundTrip failing the test on an error.
func send(t testing.TB, hc *http.Client, req *http.Request) response {
	t.Helper()
	r, err := roundTrip(hc, req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newRequest is a request with a bearer token (none when "") and headers.
func newRequest(t testing.TB, method, url, token string, body []byte, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return req
}

func call(t testing.TB, m *Main, method, path, token string, body []byte) response {
	t.Helper()
	return callURL(t, m.URL(), method, path, token, body)
}

// callURL is call for a hub known only by its base URL (another process).
func callURL(t testing.TB, base, method, path, token string, body []byte) response {
	t.Helper()
	// http.DefaultClient, or one trusting a TLS test's CA (tls_test.go)
	return send(t, clientFor(base), newRequest(t, method, base+path, token, body, nil))
}

// callWith is call without a body, with extra request headers
// (X-Forwarded-For, say).
func callWith(t testing.TB, m *Main, method, path, token string, hdr http.Header) response {
	t.Helper()
	return send(t, clientFor(m.URL()), newRequest(t, method, m.URL()+path, token, nil, hdr))
}

// intake posts raw as organ and decodes the receipt: the hub must answer
// 201 Created.
func intake(t testing.TB, m *Main, organ string, raw []byte) api.Receipt {
	t.Helper()
	return intakeWant(t, m.URL(), organ, raw, http.StatusCreated)
}

// intakeWant is intake at a base URL, the hub answering status want (202
// for a held envelope).
func intakeWant(t testing.TB, base, organ string, raw []byte, want int) api.Receipt {
	t.Helper()
	r := callURL(t, base, "POST", "/api/v1/envelopes", tok(organ), raw)
	if r.status != want {
		t.Fatalf("intake as %s: %d %s, want %d", organ, r.status, r.body, want)
	}
	var rc api.Receipt
	r.json(t, &rc)
	return rc
}

func inbox(t testing.TB, m *Main, organ string) api.InboxPage {
	t.Helper()
	var p api.InboxPage
	call(t, m, "GET", "/api/v1/inbox?limit=1000", tok(organ), nil).json(t, &p)
	return p
}

func status(t testing.TB, m *Main, organ, id string) api.DocStatus {
	t.Helper()
	return statusAs(t, m, tok(organ), id)
}

// statusAs is status with a bearer token: the administrator's sees any
// document.
func statusAs(t testing.TB, m *Main, token, id string) api.DocStatus {
	t.Helper()
	var s api.DocStatus
	call(t, m, "GET", "/api/v1/envelopes/"+id+"/status", token, nil).json(t, &s)
	return s
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleLogin signs in to the web console as a fresh browser would (a
// cookie jar, redirects not followed; the form's double-submit cookie, then
// the POST) with token, sending hdr on both requests. It returns the
// browser, the POST's answer and whether a session cookie was set.
func consoleLogin(t testing.TB, m *Main, token string, hdr http.Header) (*http.Client, response, bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := send(t, hc, newRequest(t, "GET", m.URL()+"/admin/login", "", nil, hdr))
	match := csrfField.FindSubmatch(form.body)
	if form.status != http.StatusOK || match == nil {
		t.Fatalf("GET /admin/login: %d without a csrf field", form.status)
	}
	req := newRequest(t, "POST", m.URL()+"/admin/login", "", []byte(url.Values{"csrf": {string(match[1])}, "token": {token}}.Encode()), hdr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := send(t, hc, req)
	session := false
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		session = session || (c.Name == "axis_session" && c.Value != "" && c.MaxAge >= 0)
	}
	return hc, r, session
}

// consoleAdmin is a browser signed in to m's console as the administrator.
func consoleAdmin(t testing.TB, m *Main) *http.Client {
	t.Helper()
	hc, r, session := consoleLogin(t, m, testgen.DemoAdminToken, nil)
	if r.status != http.StatusSeeOther || !session {
		t.Fatalf("console sign-in: %d, session %v", r.status, session)
	}
	return hc
}

// waitRecipients waits until the document id, as its sender sees it at m,
// has n recipients and each is as ok says.
func waitRecipients(t testing.TB, m *Main, sender, id string, n int, what string, ok func(api.RecipientStatus) bool) {
	t.Helper()
	eventually(t, 20*time.Second, what, func() bool {
		s := status(t, m, sender, id)
		for _, r := range s.Recipients {
			if !ok(r) {
				return false
			}
		}
		return len(s.Recipients) == n
	})
}

// inState is a waitRecipients condition: the recipient is in state.
func inState(state string) func(api.RecipientStatus) bool {
	return func(r api.RecipientStatus) bool { return r.State == state }
}

// ackedAt is a waitRecipients condition: the recipient, relayed over
// route as peerDocID, was acknowledged done at the hub atHub names for it.
func ackedAt(route, peerDocID string, atHub map[string]string) func(api.RecipientStatus) bool {
	return func(r api.RecipientStatus) bool {
		return r.State == "acked_done" && r.AtHub == atHub[r.OrganID] && r.Route == route && r.PeerDocID == peerDocID
	}
}

// relayedAs is a waitRecipients condition: the recipient is relayed over
// route and the peer knows the document as peerDocID.
func relayedAs(route, peerDocID string) func(api.RecipientStatus) bool {
	return func(r api.RecipientStatus) bool {
		return r.State == "relayed" && r.Route == route && r.PeerDocID == peerDocID
	}
}
