package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/httpapi"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// httpLines are the access-log lines (msg "http") with this status.
func httpLines(t *testing.T, l *testhub.Log, status int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range l.Lines(t) {
		if m["msg"] == "http" && m["status"] == float64(status) {
			out = append(out, m)
		}
	}
	return out
}

// env is a real hub of the demo province served over HTTP on 127.0.0.1.
type env struct {
	t    *testing.T
	hub  *axis.Hub
	url  string
	logs *testhub.Log
}

// newEnv opens a test hub logging JSON into a buffer and serves handler(h).
func newEnv(t *testing.T, handler func(*axis.Hub) http.Handler) *env {
	t.Helper()
	logs := &testhub.Log{}
	h := testhub.Open(t, testhub.Options{Hub: axis.Options{Logger: logs.Logger()}})
	srv := httptest.NewServer(handler(h)) // httptest listens on 127.0.0.1
	t.Cleanup(srv.Close)                  // before the hub closes (cleanups run last first)
	return &env{t: t, hub: h, url: srv.URL, logs: logs}
}

type answer struct {
	resp *http.Response
	body []byte
}

func (a answer) header(k string) string { return a.resp.Header.Get(k) }

// do sends one request (token "" sends no Authorization) and reads the
// whole answer; it never follows redirects.
func (e *env) do(method, path, token string, body []byte, header ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, b := testhub.Do(e.t, client, req)
	return answer{resp: resp, body: b}
}

// wantStatus fails the test unless a has the status.
func wantStatus(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, a.resp.StatusCode, status, a.body)
	}
}

// problem checks an error answer: status, problem+json, the api.Problem
// shape with code; it returns the problem.
func problem(t *testing.T, what string, a answer, status int, code string) api.Problem {
	t.Helper()
	wantStatus(t, what, a, status)
	if ct := a.header("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %s", what, err, a.body)
	}
	for k := range raw {
		switch k {
		case "type", "title", "status", "code", "detail":
		default:
			t.Errorf("%s: problem has an unexpected field %q: %s", what, k, a.body)
		}
	}
	var p api.Problem
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: not an api.Problem: %v: %s", what, err, a.body)
	}
	want := api.Problem{Type: "https://axis.invalid/problems/" + code, Title: http.StatusText(status), Status: status, Code: code, Detail: p.Detail}
	if p != want {
		t.Errorf("%s: problem %+v, want %+v", what, p, want)
	}
	return p
}

func wantRequestID(t *testing.T, what string, a answer) string {
	t.Helper()
	id := a.header("X-Request-Id")
	if id == "" {
		t.Errorf("%s: no X-Request-Id header", what)
	}
	return id
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// signedDocument is testgen's document from the commune to the
// department, signed by the commune.
func signedDocument(t *testing.T) []byte {
	t.Helper()
	return fixture.Sign(t, testgen.NewDocument())
}

// intake posts raw as organ and decodes the receipt.
func (e *env) intake(organ string, raw []byte, status int) (answer, api.Receipt) {
	e.t.Helper()
	a := e.do(http.MethodPost, "/api/v1/envelopes", testgen.DemoToken(organ), raw, "Content-Type", "application/xml")
	wantStatus(e.t, "intake", a, status)
	if ct := a.header("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("intake: Content-Type %q, want application/json", ct)
	}
	var r api.Receipt
	if err := json.Unmarshal(a.body, &r); err != nil {
		e.t.Fatalf("intake: receipt is not JSON: %v: %s", err, a.body)
	}
	return a, r
}

func TestErrorsAreProblems(t *testing.T) {
	e := newEnv(t, httpapi.API)
	seen := map[string]bool{}
	requestID := func(what string, a answer) {
		t.Helper()
		id := wantRequestID(t, what, a)
		if seen[id] {
			t.Errorf("%s: X-Request-Id %q repeats an earlier answer's", what, id)
		}
		seen[id] = true
	}

	a := e.do(http.MethodGet, "/api/v1/inbox", "", nil)
	p := problem(t, "no Authorization", a, http.StatusUnauthorized, "unauthorized")
	if p.Type != "https://axis.invalid/problems/unauthorized" || p.Title != "Unauthorized" || p.Status != 401 {
		t.Errorf("no Authorization: problem %+v", p)
	}
	requestID("no Authorization", a)

	dept := testgen.DemoToken(testgen.Department)
	for _, c := range []struct {
		what, path, token string
		status            int
		code              string // the problem's; "" for a success
		detailHas         string // the problem's detail contains this
		detailEnds        string // and ends with this
	}{
		{what: "unknown token", path: "/api/v1/inbox", token: "not-a-known-token", status: http.StatusUnauthorized, code: "unauthorized"},
		{what: "agency on /admin/v1/overview", path: "/admin/v1/overview", token: dept, status: http.StatusForbidden, code: "forbidden", detailHas: "administrators only"},
		{what: "unknown route", path: "/api/v1/nope", token: dept, status: http.StatusNotFound, code: "not_found"},
		{what: "limit=0", path: "/api/v1/inbox?limit=0", token: dept, status: http.StatusBadRequest, code: "bad_request", detailEnds: "limit must be 1..1000"},
		{what: "after=x", path: "/api/v1/inbox?after=x", token: dept, status: http.StatusBadRequest, code: "bad_request", detailEnds: "after is not a cursor from a previous page"},
		// Successes carry one too.
		{what: "inbox", path: "/api/v1/inbox", token: dept, status: http.StatusOK},
		{what: "healthz", path: "/healthz", status: http.StatusOK},
	} {
		a := e.do(http.MethodGet, c.path, c.token, nil)
		if c.code == "" {
			wantStatus(t, c.what, a, c.status)
		} else {
			p := problem(t, c.what, a, c.status, c.code)
			if !strings.Contains(p.Detail, c.detailHas) {
				t.Errorf("%s: detail %q, want it to contain %q", c.what, p.Detail, c.detailHas)
			}
			if !strings.HasSuffix(p.Detail, c.detailEnds) {
				t.Errorf("%s: detail %q, want it to end with %q", c.what, p.Detail, c.detailEnds)
			}
		}
		requestID(c.what, a)
	}
}

func TestIntakeInboxFetchAck(t *testing.T) {
	e := newEnv(t, httpapi.API)
	raw := signedDocument(t)

	_, r := e.intake(testgen.Commune, raw, http.StatusCreated)
	if !hex32.MatchString(r.DocID) {
		t.Fatalf("receipt doc_id %q is not 32 hex digits", r.DocID)
	}
	if len(r.Recipients) != 1 || r.Recipients[0].OrganID != testgen.Department || r.Recipients[0].Route != "local" {
		t.Errorf("receipt recipients %+v, want the department, local", r.Recipients)
	}
	if r.State != "" {
		t.Errorf("receipt state %q, want empty (routed at intake)", r.State)
	}

	// The same bytes again: 200, the same document.
	_, again := e.intake(testgen.Commune, raw, http.StatusOK)
	if again.DocID != r.DocID {
		t.Errorf("same bytes again: doc_id %q, want %q", again.DocID, r.DocID)
	}

	// The recipient's inbox lists it, from the commune.
	dept := testgen.DemoToken(testgen.Department)
	a := e.do(http.MethodGet, "/api/v1/inbox", dept, nil)
	wantStatus(t, "inbox", a, http.StatusOK)
	var page api.InboxPage
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatalf("inbox: %v: %s", err, a.body)
	}
	if len(page.Items) != 1 || page.Items[0].DocID != r.DocID || page.Items[0].From != testgen.Commune || page.Next != "" {
		t.Fatalf("inbox %+v, want only %s from %s", page, r.DocID, testgen.Commune)
	}

	// The sender's inbox does not.
	a = e.do(http.MethodGet, "/api/v1/inbox", testgen.DemoToken(testgen.Commune), nil)
	wantStatus(t, "sender's inbox", a, http.StatusOK)
	if strings.TrimSpace(string(a.body)) != `{"items":[]}` {
		t.Errorf("sender's inbox %s, want no items", a.body)
	}

	// The exact bytes.
	a = e.do(http.MethodGet, "/api/v1/envelopes/"+r.DocID, dept, nil)
	wantStatus(t, "fetch", a, http.StatusOK)
	if ct := a.header("Content-Type"); ct != "application/xml" {
		t.Errorf("fetch: Content-Type %q, want application/xml", ct)
	}
	if !bytes.Equal(a.body, raw) {
		t.Errorf("fetch: %d bytes differ from the %d posted", len(a.body), len(raw))
	}

	// An agency that is neither sender nor recipient gets nothing.
	a = e.do(http.MethodGet, "/api/v1/envelopes/"+r.DocID, testgen.DemoToken(testgen.District), nil)
	problem(t, "fetch by a stranger", a, http.StatusNotFound, "not_found")

	ack := "/api/v1/envelopes/" + r.DocID + "/ack"
	a = e.do(http.MethodPost, ack, dept, []byte(`{"status":"maybe"}`), "Content-Type", "application/json")
	p := problem(t, `ack "maybe"`, a, http.StatusBadRequest, "bad_request")
	if !strings.Contains(p.Detail, `status must be "done" or "fail"`) {
		t.Errorf(`ack "maybe": detail %q`, p.Detail)
	}
	a = e.do(http.MethodPost, ack, dept, []byte(`{"status":"done","extra":1}`), "Content-Type", "application/json")
	p = problem(t, "ack with an unknown field", a, http.StatusBadRequest, "bad_request")
	if !strings.Contains(p.Detail, "extra") {
		t.Errorf("ack with an unknown field: detail %q, want it to name the field", p.Detail)
	}
	a = e.do(http.MethodPost, ack, dept, nil, "Content-Type", "application/json")
	p = problem(t, "ack without a body", a, http.StatusBadRequest, "bad_request")
	if !strings.Contains(p.Detail, "empty body") {
		t.Errorf("ack without a body: detail %q", p.Detail)
	}

	a = e.do(http.MethodPost, ack, dept, []byte(`{"status":"done"}`), "Content-Type", "application/json")
	wantStatus(t, "ack done", a, http.StatusOK)
	var acked struct {
		DocID   string `json:"doc_id"`
		OrganID string `json:"organ_id"`
		State   string `json:"state"`
	}
	if err := json.Unmarshal(a.body, &acked); err != nil {
		t.Fatalf("ack: %v: %s", err, a.body)
	}
	if acked.DocID != r.DocID || acked.OrganID != testgen.Department || acked.State != "acked_done" {
		t.Errorf("ack answer %+v, want %s %s acked_done", acked, r.DocID, testgen.Department)
	}

	// Acked: out of the inbox.
	a = e.do(http.MethodGet, "/api/v1/inbox", dept, nil)
	wantStatus(t, "inbox after ack", a, http.StatusOK)
	if strings.TrimSpace(string(a.body)) != `{"items":[]}` {
		t.Errorf("inbox after ack %s, want no items", a.body)
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t, httpapi.API)
	a, r := e.intake(testgen.Commune, signedDocument(t), http.StatusCreated)
	reqID := a.header("X-Request-Id")
	if reqID == "" {
		t.Fatal("intake: no X-Request-Id")
	}
	refused := e.do(http.MethodGet, "/api/v1/inbox", "", nil)
	wantStatus(t, "no token", refused, http.StatusUnauthorized)
	refusedID := refused.header("X-Request-Id")

	// The handler logs after writing the answer; the client may read it
	// first. Wait for both lines.
	fixture.Eventually(t, 5*time.Second, "the access-log lines", func() bool {
		return len(httpLines(t, e.logs, 201)) > 0 && len(httpLines(t, e.logs, 401)) > 0
	})

	created := httpLines(t, e.logs, 201)
	if len(created) != 1 {
		t.Fatalf("%d access-log lines with status 201, want 1:\n%s", len(created), e.logs)
	}
	l := created[0]
	for k, want := range map[string]any{
		"level": "INFO", "method": "POST", "path": "/api/v1/envelopes",
		"request_id": reqID, "caller": testgen.Commune, "doc_id": r.DocID,
	} {
		if l[k] != want {
			t.Errorf("201 line: %s = %v, want %v (%v)", k, l[k], want, l)
		}
	}
	if _, ok := l["code"]; ok {
		t.Errorf("201 line has a code: %v", l)
	}
	if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("201 line: duration_ms %v", l["duration_ms"])
	}

	lines := httpLines(t, e.logs, 401)
	if len(lines) != 1 {
		t.Fatalf("%d access-log lines with status 401, want 1:\n%s", len(lines), e.logs)
	}
	l = lines[0]
	for k, want := range map[string]any{
		"method": "GET", "path": "/api/v1/inbox", "code": "unauthorized", "request_id": refusedID,
	} {
		if l[k] != want {
			t.Errorf("401 line: %s = %v, want %v (%v)", k, l[k], want, l)
		}
	}
	for _, k := range []string{"caller", "doc_id"} {
		if _, ok := l[k]; ok {
			t.Errorf("401 line has %s: %v", k, l)
		}
	}

	// The refusal is also logged as such, with the same request id.
	var warned bool
	for _, m := range e.logs.Lines(t) {
		if m["msg"] == "auth: bearer token refused" {
			warned = true
			if m["request_id"] != refusedID || m["reason"] != "no bearer token" || m["surface"] == nil {
				t.Errorf("refusal line %v", m)
			}
		}
	}
	if !warned {
		t.Errorf("no auth refusal line:\n%s", e.logs)
	}
}

// sample is the value of one sample of a counter in Prometheus's text
// format, by its labels; ok false when there is none.
func sample(t *testing.T, text, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	line := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	for l := range strings.SplitSeq(text, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil || m[1] != name {
			continue
		}
		got := map[string]string{}
		for _, lm := range label.FindAllStringSubmatch(m[2], -1) {
			got[lm[1]] = lm[2]
		}
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", l, err)
		}
		return v, true
	}
	return 0, false
}

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, httpapi.API)

	a := e.do(http.MethodGet, "/healthz", "", nil)
	wantStatus(t, "healthz", a, http.StatusOK)
	if string(a.body) != "ok\n" {
		t.Errorf("healthz body %q, want ok\\n", a.body)
	}

	e.intake(testgen.Commune, signedDocument(t), http.StatusCreated)
	e.do(http.MethodGet, "/api/v1/inbox", "", nil) // a 401

	created := map[string]string{"route": "/api/v1/envelopes", "status": "201"}
	var text string
	// The count is taken after the answer is written: wait for it.
	fixture.Eventually(t, 5*time.Second, "the 201 intake counted", func() bool {
		a = e.do(http.MethodGet, "/metrics", "", nil)
		text = string(a.body)
		_, ok := sample(t, text, "axis_http_requests_total", created)
		return ok
	})
	wantStatus(t, "metrics", a, http.StatusOK)
	if ct := a.header("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics: Content-Type %q", ct)
	}
	if !strings.Contains(text, "# TYPE axis_http_requests_total counter") {
		t.Errorf("metrics: no counter axis_http_requests_total:\n%s", text)
	}
	if v, _ := sample(t, text, "axis_http_requests_total", created); v != 1 {
		t.Errorf("axis_http_requests_total %v = %v, want 1", created, v)
	}
	if v, ok := sample(t, text, "axis_http_requests_total", map[string]string{"route": "/healthz", "status": "200"}); !ok || v != 1 {
		t.Errorf("axis_http_requests_total for /healthz 200 = %v (%v), want 1", v, ok)
	}
	if v, ok := sample(t, text, "axis_http_requests_total", map[string]string{"route": "/api/v1/inbox", "status": "401"}); !ok || v != 1 {
		t.Errorf("axis_http_requests_total for /api/v1/inbox 401 = %v (%v), want 1", v, ok)
	}
}

func TestNewMountsConsoleAndAPI(t *testing.T) {
	e := newEnv(t, httpapi.New)

	// The console without a session: to its sign-in page.
	a := e.do(http.MethodGet, "/admin/", "", nil)
	wantStatus(t, "GET /admin/", a, http.StatusSeeOther)
	if loc := a.header("Location"); loc != "/admin/login" {
		t.Errorf("GET /admin/: Location %q, want /admin/login", loc)
	}
	a = e.do(http.MethodGet, "/admin/login", "", nil)
	wantStatus(t, "GET /admin/login", a, http.StatusOK)
	if ct := a.header("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET /admin/login: Content-Type %q", ct)
	}
	if !bytes.Contains(a.body, []byte("<form")) {
		t.Errorf("GET /admin/login: no form in %s", a.body)
	}

	// A bearer token is not a console session.
	a = e.do(http.MethodGet, "/admin/", testgen.DemoAdminToken, nil)
	wantStatus(t, "GET /admin/ with a bearer token", a, http.StatusSeeOther)

	// /admin/v1/ is the JSON API.
	a = e.do(http.MethodGet, "/admin/v1/overview", testgen.DemoAdminToken, nil)
	wantStatus(t, "overview", a, http.StatusOK)
	if ct := a.header("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("overview: Content-Type %q", ct)
	}
	var o api.Overview
	if err := json.Unmarshal(a.body, &o); err != nil {
		t.Fatalf("overview: %v: %s", err, a.body)
	}
	if o.Hub != e.hub.Name() || o.Hub == "" {
		t.Errorf("overview hub %q, want %q", o.Hub, e.hub.Name())
	}
	wantRequestID(t, "overview", a)

	a = e.do(http.MethodGet, "/admin/v1/overview", "", nil)
	problem(t, "overview without a token", a, http.StatusUnauthorized, "unauthorized")

	// The rest is the API too.
	a = e.do(http.MethodGet, "/healthz", "", nil)
	wantStatus(t, "healthz", a, http.StatusOK)
	if string(a.body) != "ok\n" {
		t.Errorf("healthz body %q", a.body)
	}
	_, r := e.intake(testgen.Commune, signedDocument(t), http.StatusCreated)
	if !hex32.MatchString(r.DocID) {
		t.Errorf("intake through New: doc_id %q", r.DocID)
	}
}
