package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/console"
	"github.com/axis-h40/axis/axis/httpapi"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// env is a real hub of the demo province with the console and the hub's
// API mounted as axisd mounts them, and a browser-like client (cookie jar,
// redirects not followed).
type env struct {
	t      *testing.T
	hub    *axis.Hub
	srv    *httptest.Server
	client *http.Client
	logs   *testhub.Log
	clock  *fixture.Clock
}

type setup struct {
	config  func(*axis.Config)
	hubOpts func(*axis.Options)
	console console.Options
	tls     bool
}

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	logs := &testhub.Log{}
	o := axis.Options{Logger: logs.Logger()}
	if s.hubOpts != nil {
		s.hubOpts(&o)
	}
	// Alone unless the test's config says otherwise; checked at cleanup.
	h := testhub.Open(t, testhub.Options{Configure: s.config, Hub: o})
	clk := fixture.NewClock(demopki.TestNow)
	if s.console.Now == nil {
		s.console.Now = clk.Now
	}
	api := httpapi.API(h)
	mux := http.NewServeMux()
	mux.Handle("/admin/v1/", api)
	mux.Handle("/admin/", console.New(h, s.console))
	mux.Handle("/", api)
	var srv *httptest.Server
	if s.tls {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	e := &env{t: t, hub: h, srv: srv, logs: logs, clock: clk}
	e.client = e.newClient()
	return e
}

// newClient is a fresh browser: its own cookie jar.
func (e *env) newClient() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(c *http.Client, req *http.Request) resp {
	e.t.Helper()
	r, b := testhub.Do(e.t, c, req)
	return resp{status: r.StatusCode, header: r.Header, body: string(b)}
}

func (e *env) get(path string) resp {
	e.t.Helper()
	return e.getWith(e.client, path)
}

func (e *env) getWith(c *http.Client, path string) resp {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, req)
}

func (e *env) post(path string, form url.Values) resp {
	e.t.Helper()
	return e.postWith(e.client, path, form, nil)
}

func (e *env) postWith(c *http.Client, path string, form url.Values, hdr http.Header) resp {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(c, req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// csrf is the value of the first hidden csrf field of a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in:\n%s", body)
	}
	return m[1]
}

// signIn signs c in with token through the form and returns the answer.
func (e *env) signInWith(c *http.Client, token string, hdr http.Header) resp {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/login", nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	form := e.do(c, req)
	if form.status != http.StatusOK {
		e.t.Fatalf("GET /admin/login: %d", form.status)
	}
	return e.postWith(c, "/admin/login", url.Values{"csrf": {csrf(e.t, form.body)}, "token": {token}}, hdr)
}

// admin signs the env's client in as the administrator.
func (e *env) admin() {
	e.t.Helper()
	if r := e.signInWith(e.client, testgen.DemoAdminToken, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		e.t.Fatalf("admin sign-in: %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
}

// intake posts a signed envelope as its sender.
func (e *env) intake(m *envelope.Message) *api.Receipt {
	e.t.Helper()
	rc, _, err := e.hub.Intake(context.Background(), axis.Caller{Agency: m.From.OrganID}, fixture.Sign(e.t, m))
	if err != nil {
		e.t.Fatal(err)
	}
	return rc
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
	if t.Failed() {
		t.Logf("%s body:\n%s", what, body)
		t.FailNow()
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("%s: unexpected %q", what, n)
		}
	}
	if t.Failed() {
		t.Logf("%s body:\n%s", what, body)
		t.FailNow()
	}
}

func securityHeaders(t *testing.T, what string, r resp) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

// sessionCookie is the Set-Cookie line of axis_session in a response.
func setCookie(t *testing.T, r resp, name string) *http.Cookie {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignInSessionAndLogout(t *testing.T) {
	e := newEnv(t, setup{})

	for _, p := range []string{"/admin/", "/admin/search?code=15", "/admin/stuck", "/admin/agencies",
		"/admin/documents/00000000000000000000000000000000", "/admin/agencies/000.00.11.H40", "/admin/nowhere"} {
		r := e.get(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
			t.Errorf("GET %s without a session: %d %q, want 303 to /admin/login", p, r.status, r.header.Get("Location"))
		}
		securityHeaders(t, "GET "+p, r)
	}
	if r := e.post("/admin/redrive", url.Values{"doc_id": {"00000000000000000000000000000000"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Errorf("POST /admin/redrive without a session: %d %q", r.status, r.header.Get("Location"))
	}

	form := e.get("/admin/login")
	if form.status != http.StatusOK {
		t.Fatalf("login form: %d", form.status)
	}
	securityHeaders(t, "login form", form)
	mustContain(t, "login form", form.body, `id="login-token"`, `type="password"`, `id="login-submit"`, `action="/admin/login"`,
		`lang="vi"`, "Đăng nhập", "axis-h40", `href="/admin/static/style.css"`)
	mustNotContain(t, "login form", form.body, "<script", "http://", "https://")
	pre := setCookie(t, form, "axis_login")
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode || pre.Value != csrf(t, form.body) {
		t.Fatalf("pre-session cookie %+v, form token %s", pre, csrf(t, form.body))
	}

	// The sign-in form is protected by its double-submit token.
	if r := e.post("/admin/login", url.Values{"token": {testgen.DemoAdminToken}}); r.status != http.StatusForbidden || setCookie(t, r, "axis_session") != nil {
		t.Errorf("sign-in without the form's csrf: %d", r.status)
	}
	if r := e.post("/admin/login", url.Values{"token": {testgen.DemoAdminToken}, "csrf": {strings.Repeat("ab", 32)}}); r.status != http.StatusForbidden || setCookie(t, r, "axis_session") != nil {
		t.Errorf("sign-in with another csrf: %d", r.status)
	}
	noCookies := e.newClient()
	if r := e.postWith(noCookies, "/admin/login", url.Values{"token": {testgen.DemoAdminToken}, "csrf": {pre.Value}}, nil); r.status != http.StatusForbidden {
		t.Errorf("sign-in with the field but no cookie (a forged form): %d", r.status)
	}

	// An agency's token is refused exactly like a wrong one.
	agency := e.signInWith(e.client, testgen.DemoToken(testgen.Department), nil)
	wrong := e.signInWith(e.client, "not-a-token", nil)
	for name, r := range map[string]resp{"agency token": agency, "wrong token": wrong} {
		if r.status != http.StatusUnauthorized || setCookie(t, r, "axis_session") != nil {
			t.Errorf("%s: %d, session cookie %v", name, r.status, setCookie(t, r, "axis_session"))
		}
		mustContain(t, name, r.body, "Mã quản trị không đúng hoặc không có quyền quản trị.", `id="login-token"`)
	}
	msg := regexp.MustCompile(`<div id="error"[^>]*>[^<]*</div>`)
	if a, w := msg.FindString(agency.body), msg.FindString(wrong.body); a == "" || a != w {
		t.Errorf("agency token message %q, wrong token message %q: want the same", a, w)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "sign-in refused") || !strings.Contains(logs, `"remote_ip":"127.0.0.1"`) ||
		!strings.Contains(logs, "not an administrator") || strings.Contains(logs, testgen.DemoToken(testgen.Department)) {
		t.Errorf("refusals are logged with the IP (and never the token):\n%s", logs)
	}

	ok := e.signInWith(e.client, testgen.DemoAdminToken, nil)
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/admin/" {
		t.Fatalf("admin sign-in: %d %q", ok.status, ok.header.Get("Location"))
	}
	sc := setCookie(t, ok, "axis_session")
	if sc == nil {
		t.Fatal("no axis_session cookie")
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/admin/" || sc.Secure || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sc.Value) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/admin/, not Secure over plain HTTP, 64 hex digits", sc)
	}
	if sc.MaxAge != int((8 * time.Hour).Seconds()) {
		t.Errorf("session cookie Max-Age %d, want 8h", sc.MaxAge)
	}
	if line := strings.Join(ok.header.Values("Set-Cookie"), "\n"); !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Strict") || !strings.Contains(line, "Path=/admin/") {
		t.Errorf("Set-Cookie: %s", line)
	}
	if r := e.get("/admin/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("login form while signed in: %d %q", r.status, r.header.Get("Location"))
	}

	dash := e.get("/admin/")
	if dash.status != http.StatusOK {
		t.Fatalf("dashboard: %d\n%s", dash.status, dash.body)
	}
	securityHeaders(t, "dashboard", dash)
	mustContain(t, "dashboard", dash.body, `id="dashboard"`, "Tổng quan", "Tìm kiếm", "Bị kẹt", "Cơ quan", "Đăng xuất", "axis-h40",
		`action="/admin/logout"`, "ngày 01/06/2026")
	mustNotContain(t, "dashboard", dash.body, "<script")
	token := csrf(t, dash.body)

	// Another browser holding a stolen cookie value but no CSRF token cannot
	// POST; a request from another site is refused by the browser's headers.
	if r := e.post("/admin/logout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("logout without csrf: %d", r.status)
	}
	if r := e.post("/admin/logout", url.Values{"csrf": {strings.Repeat("0", 64)}}); r.status != http.StatusForbidden {
		t.Errorf("logout with a wrong csrf: %d", r.status)
	}
	if r := e.postWith(e.client, "/admin/logout", url.Values{"csrf": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}); r.status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d", r.status)
	}
	if r := e.get("/admin/"); r.status != http.StatusOK {
		t.Fatalf("still signed in after refused logouts: %d", r.status)
	}

	out := e.post("/admin/logout", url.Values{"csrf": {token}})
	if out.status != http.StatusSeeOther || !strings.HasPrefix(out.header.Get("Location"), "/admin/login") {
		t.Fatalf("logout: %d %q", out.status, out.header.Get("Location"))
	}
	if c := setCookie(t, out, "axis_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout clears the cookie: %+v", c)
	}
	if r := e.get("/admin/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Errorf("after logout: %d %q", r.status, r.header.Get("Location"))
	}
	// The old session id is dead on the server too, not only in this jar.
	replay := e.newClient()
	u, _ := url.Parse(e.srv.URL + "/admin/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "axis_session", Value: sc.Value, Path: "/admin/"}})
	if r := e.getWith(replay, "/admin/"); r.status != http.StatusSeeOther {
		t.Errorf("replayed session after logout: %d", r.status)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, setup{console: console.Options{SessionTTL: time.Hour}})
	e.admin()
	if r := e.get("/admin/"); r.status != http.StatusOK {
		t.Fatalf("dashboard: %d", r.status)
	}
	e.clock.Add(59 * time.Minute)
	if r := e.get("/admin/"); r.status != http.StatusOK {
		t.Fatalf("dashboard before expiry: %d", r.status)
	}
	e.clock.Add(time.Minute)
	if r := e.get("/admin/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Errorf("after the TTL: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, setup{config: func(c *axis.Config) { c.Limits.AuthFailuresPer5m = 5 },
		console: console.Options{ClientIP: func(r *http.Request) string {
			if ip := r.Header.Get("X-Test-Client"); ip != "" {
				return ip
			}
			return "127.0.0.1"
		}}})
	for i := 1; i <= 5; i++ {
		if r := e.signInWith(e.client, "guess-"+string(rune('0'+i)), nil); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong token #%d: %d", i, r.status)
		}
	}
	r := e.signInWith(e.client, "guess-6", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "300" {
		t.Fatalf("wrong token #6: %d Retry-After %q, want 429 and 300", r.status, r.header.Get("Retry-After"))
	}
	securityHeaders(t, "429", r)
	mustContain(t, "429", r.body, "Đăng nhập sai quá nhiều lần", "5 phút")
	if !strings.Contains(e.logs.String(), "too many failures") {
		t.Errorf("the lock-out is logged:\n%s", e.logs.String())
	}
	e.clock.Add(2 * time.Minute)
	if r := e.signInWith(e.client, "guess-7", nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "180" {
		t.Fatalf("wrong token 2 minutes later: %d Retry-After %q, want 429 and 180", r.status, r.header.Get("Retry-After"))
	}
	// The right token is never refused by the limiter: the credential is
	// checked first.
	if r := e.signInWith(e.newClient(), testgen.DemoAdminToken, nil); r.status != http.StatusSeeOther || setCookie(t, r, "axis_session") == nil {
		t.Fatalf("admin token while wrong ones are limited: %d", r.status)
	}
	// Another client IP is not limited.
	other := e.newClient()
	if r := e.signInWith(other, "guess-8", http.Header{"X-Test-Client": {"10.0.0.9"}}); r.status != http.StatusUnauthorized {
		t.Errorf("another IP: %d", r.status)
	}
	// Once the oldest counted failure left the window, a wrong token is
	// an ordinary failure again.
	e.clock.Add(3 * time.Minute)
	if r := e.signInWith(e.client, "guess-9", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("after the window: %d", r.status)
	}
}

func TestSecureCookiesOverTLS(t *testing.T) {
	e := newEnv(t, setup{tls: true})
	form := e.get("/admin/login")
	if c := setCookie(t, form, "axis_login"); c == nil || !c.Secure {
		t.Errorf("pre-session cookie over TLS: %+v", c)
	}
	r := e.signInWith(e.client, testgen.DemoAdminToken, nil)
	c := setCookie(t, r, "axis_session")
	if r.status != http.StatusSeeOther || c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin/" {
		t.Errorf("session cookie over TLS: %d %+v", r.status, c)
	}
}

var docLink = regexp.MustCompile(`<tr class="result" data-id="([0-9a-f]{32})">`)

func resultIDs(body string) []string {
	var out []string
	for _, m := range docLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSearchAndDocumentPage(t *testing.T) {
	e := newEnv(t, setup{})
	rc := e.intake(testgen.NewDocument())
	other := fixture.Numbered("16")
	other.Subject = "Giấy mời họp giao ban quý II"
	rc2 := e.intake(other)
	e.admin()

	for _, q := range []string{
		"code=" + url.QueryEscape("15/UBND-VP"),
		"code=" + url.QueryEscape("15/ubnd-vp"),
		"subject=" + url.QueryEscape("cong van"),
		"subject=" + url.QueryEscape("Công văn chuyển đổi số"),
		"code=15%2FUBND-VP&to=" + testgen.Department + "&since=2026-06-01&until=2026-06-01&state=queued&kind=document",
		"from=" + url.QueryEscape("Hải Minh") + "&subject=cong+van", // a name for the code
	} {
		r := e.get("/admin/search?" + q)
		if r.status != http.StatusOK {
			t.Fatalf("search %s: %d\n%s", q, r.status, r.body)
		}
		if ids := resultIDs(r.body); len(ids) != 1 || ids[0] != rc.DocID {
			t.Fatalf("search %s: results %v, want [%s]\n%s", q, ids, rc.DocID, r.body)
		}
		mustContain(t, "search "+q, r.body, `id="search-form"`, `id="results"`, `<a class="doc-link" href="/admin/documents/`+rc.DocID+`">15/UBND-VP</a>`,
			"Công văn về việc báo cáo kết quả chuyển đổi số năm 2026", "UBND xã Hải Minh, huyện Hải Hậu", testgen.Commune,
			"T2 01/06/2026 16:00:00") // 09:00 UTC is 16:00 in Hà Nội
	}
	if r := e.get("/admin/search?from=" + url.QueryEscape("Hải Minh")); !strings.Contains(r.body, "được hiểu là "+testgen.Commune) {
		t.Errorf("a sender typed as a name is explained:\n%s", r.body)
	}
	// The form keeps what was asked.
	r := e.get("/admin/search?code=15%2FUBND-VP&state=queued&kind=document&since=2026-06-01")
	mustContain(t, "search form", r.body, `name="code" value="15/UBND-VP"`, `<option value="queued" selected>Chờ nhận</option>`,
		`<option value="document" selected>Văn bản</option>`, `name="since" value="2026-06-01"`, `type="date"`, `name="until"`,
		`name="subject"`, `name="from"`, `name="to"`)

	for _, q := range []string{"code=99%2FUBND-VP", "subject=khong+co+tu+nay", "state=dead", "kind=status", "since=2026-06-02"} {
		r := e.get("/admin/search?" + q)
		if r.status != http.StatusOK || len(resultIDs(r.body)) != 0 || !strings.Contains(r.body, `id="no-results"`) {
			t.Errorf("search %s: %d %v", q, r.status, resultIDs(r.body))
		}
	}
	// Newest first, and the next page follows the cursor.
	r = e.get("/admin/search?from=" + testgen.Commune + "&limit=1")
	if ids := resultIDs(r.body); len(ids) != 1 || ids[0] != rc2.DocID {
		t.Fatalf("first page: %v", ids)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" id="next-page"`).FindStringSubmatch(r.body)
	if next == nil || !strings.Contains(next[1], "before=") || !strings.Contains(r.body, "Trang sau") {
		t.Fatalf("no next page link:\n%s", r.body)
	}
	r = e.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if ids := resultIDs(r.body); len(ids) != 1 || ids[0] != rc.DocID {
		t.Fatalf("second page: %v", ids)
	}
	// And back: the previous page of the second is the first, and each
	// row says its recipients' states.
	prev := regexp.MustCompile(`<a href="([^"]+)" id="prev-page"`).FindStringSubmatch(r.body)
	if prev == nil || !strings.Contains(r.body, "Trang trước") {
		t.Fatalf("no previous page link:\n%s", r.body)
	}
	mustContain(t, "second page", r.body, `<td class="states"><span class="badge state-queued" data-state="queued">1 Chờ nhận</span>`)
	r = e.get(strings.ReplaceAll(prev[1], "&amp;", "&"))
	if ids := resultIDs(r.body); len(ids) != 1 || ids[0] != rc2.DocID || strings.Contains(r.body, `id="prev-page"`) {
		t.Fatalf("back to the first page: %v", ids)
	}
	if r := e.get("/admin/search?since=2026-13-45"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Điều kiện tìm kiếm không hợp lệ") {
		t.Errorf("bad date: %d", r.status)
	}
	if r := e.get("/admin/search?code=" + rc.DocID); !strings.Contains(r.body, `href="/admin/documents/`+rc.DocID+`"`) {
		t.Errorf("a document id typed as the notation links to the document")
	}

	// The document page: header, recipients, timeline.
	doc := e.get("/admin/documents/" + rc.DocID)
	if doc.status != http.StatusOK {
		t.Fatalf("document: %d\n%s", doc.status, doc.body)
	}
	securityHeaders(t, "document", doc)
	mustContain(t, "document", doc.body,
		"15/UBND-VP", "Công văn về việc báo cáo kết quả chuyển đổi số năm 2026", rc.SHA256, "T2 01/06/2026 16:00:00", "byte",
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="queued">`, "Chờ nhận", "Sở Thông tin và Truyền thông tỉnh Nam Định",
		"Nội bộ (trục này)", `id="timeline"`, `<section class="hub-timeline" data-hub="axis-h40">`,
		`<div class="event-group" data-organ="">`, `<div class="event-group" data-organ="`+testgen.Department+`">`,
		`data-event="received"`, "Đã tiếp nhận", `data-event="verified"`, "Đã xác thực chữ ký", `data-event="queued"`, "Vào hàng đợi",
		`href="/admin/documents/`+rc.DocID+`?follow=1"`, "Theo dõi qua các trục khác")
	mustNotContain(t, "document", doc.body, `class="redrive"`, `id="flash"`, "<script")
	// received and verified are the document's; queued is the recipient's.
	groups := strings.Split(doc.body, `<div class="event-group"`)
	if len(groups) != 3 || !strings.Contains(groups[1], `data-event="received"`) || strings.Contains(groups[1], `data-event="queued"`) ||
		!strings.Contains(groups[2], `data-event="queued"`) || strings.Contains(groups[2], `data-event="received"`) {
		t.Errorf("timeline groups: %d\n%s", len(groups), doc.body)
	}

	// The department fetches, acks and answers with a status: the page follows.
	ctx := context.Background()
	dept := axis.Caller{Agency: testgen.Department}
	if _, err := e.hub.Fetch(ctx, dept, rc.DocID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.Ack(ctx, dept, rc.DocID, true, ""); err != nil {
		t.Fatal(err)
	}
	e.intake(testgen.Status("03", "Đã tiếp nhận văn bản"))
	doc = e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "document after fetch, ack, status", doc.body,
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="acked_done">`, "Đã xác nhận",
		`data-event="fetched"`, "Đã tải về", `data-event="acked"`, `data-event="status"`, "Trạng thái xử lý", "Đã tiếp nhận",
		`message=<a href="/admin/documents/`) // the status message, linked
	groups = strings.Split(doc.body, `<div class="event-group"`)
	if len(groups) != 3 || !strings.Contains(groups[2], `data-event="status"`) || !strings.Contains(groups[2], `data-event="acked"`) {
		t.Errorf("the recipient's events are in its group:\n%s", doc.body)
	}
	if r := e.get("/admin/search?state=acked_done"); len(resultIDs(r.body)) != 1 {
		t.Errorf("state filter: %v", resultIDs(r.body))
	}
	if r := e.get("/admin/search?kind=status"); len(resultIDs(r.body)) != 1 || !strings.Contains(r.body, "Thông báo trạng thái") {
		t.Errorf("kind filter: %v", resultIDs(r.body))
	}

	// Unknown and malformed ids: a Vietnamese 404.
	for _, id := range []string{"0123456789abcdef0123456789abcdef", "khong-phai-ma", strings.Repeat("f", 31)} {
		r := e.get("/admin/documents/" + id)
		if r.status != http.StatusNotFound {
			t.Errorf("document %s: %d", id, r.status)
		}
		securityHeaders(t, "404", r)
		mustContain(t, "404 "+id, r.body, "Không tìm thấy", `lang="vi"`)
	}
	if r := e.get("/admin/khong-co-trang-nay"); r.status != http.StatusNotFound || !strings.Contains(r.body, "Trang này không tồn tại.") {
		t.Errorf("unknown page: %d", r.status)
	}
}

func TestAgencies(t *testing.T) {
	e := newEnv(t, setup{})
	e.intake(testgen.NewDocument())
	e.admin()

	r := e.get("/admin/agencies")
	if r.status != http.StatusOK {
		t.Fatalf("agencies: %d", r.status)
	}
	n := len(e.hub.Directory().Agencies())
	if got := strings.Count(r.body, `<tr class="agency"`); got != n || n < 250 {
		t.Errorf("agencies page lists %d of %d agencies", got, n)
	}
	mustContain(t, "agencies", r.body, `<tr class="agency" data-organ="`+testgen.Department+`" data-depth="1">`,
		`href="/admin/agencies/`+testgen.Department+`"`, "UBND huyện Hải Hậu")
	r = e.get("/admin/agencies?q=hai+hau")
	if got := strings.Count(r.body, `<tr class="agency"`); got < 2 || got > 30 {
		t.Errorf("filter hai hau: %d rows", got)
	}

	r = e.get("/admin/agencies/" + testgen.Department)
	if r.status != http.StatusOK {
		t.Fatalf("agency: %d", r.status)
	}
	mustContain(t, "agency", r.body, "Sở Thông tin và Truyền thông tỉnh Nam Định", `id="inbox-depth">1 văn bản`,
		`id="last-fetch"><span class="muted">chưa có</span>`, "UBND tỉnh Nam Định", `href="/admin/search?to=`+testgen.Department+`"`)
	if _, err := e.hub.Fetch(context.Background(), axis.Caller{Agency: testgen.Department}, e.intakeID(t)); err != nil {
		t.Fatal(err)
	}
	r = e.get("/admin/agencies/" + testgen.Department)
	mustContain(t, "agency after fetch", r.body, `<time datetime="2026-06-01T16:00:00+07:00">T2 01/06/2026 16:00:00 GMT+7</time>`)
	if r := e.get("/admin/agencies/000.99.99.H40"); r.status != http.StatusNotFound {
		t.Errorf("unknown agency: %d", r.status)
	}
	r = e.get("/admin/agencies/" + testgen.District)
	mustContain(t, "district", r.body, "Cơ quan trực thuộc", "UBND xã Hải Minh, huyện Hải Hậu")
}

// intakeID is the id of the one document of TestAgencies.
func (e *env) intakeID(t *testing.T) string {
	res, err := e.hub.Store().Search(context.Background(), store.Query{Code: "15/UBND-VP"})
	if err != nil || len(res.Docs) != 1 {
		t.Fatalf("search: %v %v", res, err)
	}
	return res.Docs[0].ID
}

// refusingPeer is a national axis that refuses every envelope for good.
type refusingPeer struct{}

func (refusingPeer) Send(context.Context, axis.Outgoing) (string, error) {
	return "", &axis.PermanentError{Err: errors.New("peer answered 422 unknown_recipient: test refusal")}
}

const central = "000.00.00.G22" // Văn phòng Chính phủ, at the national axis

func toDepartmentAndCentral() *envelope.Message {
	m := testgen.NewDocument()
	m.To = append(m.To, envelope.Organization{OrganID: central, OrganName: "Văn phòng Chính phủ"})
	return m
}

// waitState waits until a recipient's delivery reaches state.
func (e *env) waitState(id, organ, state string) {
	e.t.Helper()
	var tr *api.Trace
	if !fixture.Poll(10*time.Second, func() bool {
		tr = e.trace(id)
		return slices.ContainsFunc(tr.Recipients, func(d record.Delivery) bool { return d.OrganID == organ && d.State == state })
	}) {
		e.t.Fatalf("%s never reached %s: %+v", organ, state, tr.Recipients)
	}
}

// waitEvents waits until a document has n events of a type.
func (e *env) waitEvents(id, typ string, n int) {
	e.t.Helper()
	got := 0
	if !fixture.Poll(10*time.Second, func() bool {
		got = 0
		for _, ev := range e.trace(id).Events {
			if ev.Event == typ {
				got++
			}
		}
		return got >= n
	}) {
		e.t.Fatalf("%d %s events, want %d", got, typ, n)
	}
}

func (e *env) trace(id string) *api.Trace {
	e.t.Helper()
	tr, err := e.hub.Trace(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return tr
}

// deadRelay is an env whose national peer refuses every envelope for good,
// signed in as the administrator, with a document to the department and a
// central body whose relay is dead.
func deadRelay(t *testing.T) (*env, *api.Receipt) {
	t.Helper()
	e := newEnv(t, setup{
		config: func(c *axis.Config) {
			c.Peers = []axis.Peer{{Name: "national", Kind: "axis", URL: "http://127.0.0.1:1", Routes: []string{"*"}}}
		},
		hubOpts: func(o *axis.Options) { o.PeerClients = map[string]axis.PeerClient{"national": refusingPeer{}} },
	})
	rc := e.intake(toDepartmentAndCentral())
	e.waitState(rc.DocID, central, store.StateDead)
	e.admin()
	return e, rc
}

func TestStuckAndRedrive(t *testing.T) {
	e, rc := deadRelay(t)

	dash := e.get("/admin/")
	// Two states, each on its own: the peer answers (it refused for good),
	// and one old failure waits for a re-drive.
	mustContain(t, "dashboard", dash.body, `<tr class="peer" data-peer="national" data-outbox="0" data-dead="1">`,
		`<span class="badge tone-ok" data-health="reachable">kết nối được</span>`,
		`<span class="badge tone-warn" data-health="dead">1 văn bản chuyển thất bại, cần gửi lại</span>`,
		`href="/admin/stuck"`)

	doc := e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "document", doc.body,
		`<tr class="recipient" data-organ="`+central+`" data-state="dead">`, "Chuyển tiếp thất bại", "Qua trục national", "test refusal",
		// A recipient outside the directory by the name its envelope gives.
		`<span class="organ remote"><span class="code">`+central+`</span> <span class="organ-name">Văn phòng Chính phủ</span> <span class="small muted">(tên theo văn bản)</span></span>`,
		`<tr class="recipient" data-organ="`+testgen.Department+`" data-state="queued">`,
		`data-event="outboxed"`, "Chờ chuyển tiếp", `data-event="dead"`, "Thất bại",
		`action="/admin/redrive"`, `<button type="submit" class="redrive">Gửi lại</button>`)
	if n := strings.Count(doc.body, `class="redrive"`); n != 1 {
		t.Errorf("one re-drive button (the dead recipient only), got %d", n)
	}

	st := e.get("/admin/stuck")
	if st.status != http.StatusOK {
		t.Fatalf("stuck: %d", st.status)
	}
	mustContain(t, "stuck", st.body, `id="stuck"`, `<tr class="stuck" data-reason="relay_dead" data-doc="`+rc.DocID+`" data-organ="`+central+`">`,
		"Chuyển tiếp thất bại", `class="doc-link" href="/admin/documents/`+rc.DocID+`"`, "national", "test refusal", `class="redrive"`)
	if r := e.get("/admin/stuck?reason=not_fetched"); strings.Contains(r.body, `<tr class="stuck"`) || !strings.Contains(r.body, `id="no-stuck"`) {
		t.Errorf("stuck filtered by another reason still lists the dead relay")
	}
	token := csrf(t, st.body)

	form := url.Values{"doc_id": {rc.DocID}, "recipient": {central}}
	if r := e.post("/admin/redrive", form); r.status != http.StatusForbidden {
		t.Errorf("redrive without csrf: %d", r.status)
	}
	form.Set("csrf", strings.Repeat("0", 64))
	if r := e.post("/admin/redrive", form); r.status != http.StatusForbidden {
		t.Errorf("redrive with a wrong csrf: %d", r.status)
	}
	// Another signed-in browser's token is not this session's.
	second := e.newClient()
	if r := e.signInWith(second, testgen.DemoAdminToken, nil); r.status != http.StatusSeeOther {
		t.Fatal(r.status)
	}
	form.Set("csrf", csrf(t, e.getWith(second, "/admin/").body))
	if r := e.post("/admin/redrive", form); r.status != http.StatusForbidden {
		t.Errorf("redrive with another session's csrf: %d", r.status)
	}
	form.Set("csrf", token)
	r := e.post("/admin/redrive", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/documents/"+rc.DocID+"?redriven=1" {
		t.Fatalf("redrive: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	doc = e.get(r.header.Get("Location"))
	mustContain(t, "document after redrive", doc.body, `<p id="flash" class="flash" role="status">Đã đưa lại 1 mục vào hàng chuyển tiếp.</p>`,
		`data-event="redriven"`, "Gửi lại")
	e.waitEvents(rc.DocID, store.EventDead, 2) // the relay refused it again: quiet before the store check
	if r := e.post("/admin/redrive", url.Values{"csrf": {token}, "doc_id": {"0123456789abcdef0123456789abcdef"}}); r.status != http.StatusNotFound {
		t.Errorf("redrive of an unknown document: %d", r.status)
	}
	if r := e.post("/admin/redrive", url.Values{"csrf": {token}, "doc_id": {"../../etc"}}); r.status != http.StatusBadRequest {
		t.Errorf("redrive of a malformed id: %d", r.status)
	}
}

// TestFollowAcrossHubs relays a document from Nam Định to a real national
// axis and follows it there from the console.
func TestFollowAcrossHubs(t *testing.T) {
	natURL := testhub.Serve(t, testhub.Open(t, testhub.Options{Config: fixture.Demo("axis-national.yaml"), KeepPeers: true}))
	e := newEnv(t, setup{
		config: func(c *axis.Config) {
			c.Peers = []axis.Peer{{Name: "national", Kind: "axis", URL: natURL, Routes: []string{"*"},
				Token: testgen.PeerToken("nam-dinh"), AdminTokenEnv: "AXIS_TEST_NATIONAL_ADMIN"}}
			c.Relay.RetryMin.Duration = 20 * time.Millisecond
			c.Relay.RetryMax.Duration = 200 * time.Millisecond
		},
		hubOpts: func(o *axis.Options) {
			o.Getenv = func(k string) string {
				if k == "AXIS_TEST_NATIONAL_ADMIN" {
					return testgen.DemoAdminToken
				}
				return testhub.StoreEnv(k) // the store's DSN in a PostgreSQL run, nothing else
			}
		},
	})
	rc := e.intake(toDepartmentAndCentral())
	e.waitState(rc.DocID, central, store.StateRelayed)
	e.admin()

	here := e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "document", here.body, `<tr class="recipient" data-organ="`+central+`" data-state="relayed">`, "Đã chuyển tiếp",
		`data-hub="axis-h40"`, `data-event="relayed"`)
	mustNotContain(t, "document", here.body, `data-hub="axis-national"`)

	r := e.get("/admin/documents/" + rc.DocID + "?follow=1")
	if r.status != http.StatusOK {
		t.Fatalf("followed: %d\n%s", r.status, r.body)
	}
	mustContain(t, "followed", r.body, `<section class="hub-timeline" data-hub="axis-h40">`, `<section class="hub-timeline" data-hub="axis-national">`,
		`<tr class="event" data-event="received" data-hub="axis-national">`, `<tr class="event" data-event="queued" data-hub="axis-national">`,
		"Chỉ xem trục này")
	mustNotContain(t, "followed", r.body, `class="note warn unreachable" data-peer="national"`)
	// axis-national's events are in its own section, after this hub's.
	i, j := strings.Index(r.body, `data-hub="axis-h40">`), strings.Index(r.body, `<section class="hub-timeline" data-hub="axis-national">`)
	if i < 0 || j < i || strings.Contains(r.body[i:j], `data-hub="axis-national"`) {
		t.Errorf("per-hub sections out of order or mixed")
	}
	if strings.Contains(r.body[j:], `<tr class="event" data-event="received" data-hub="axis-h40">`) {
		t.Errorf("this hub's events in the national section")
	}

	// The national hub reports the central body's acknowledgement: the
	// page shows it, at that hub, beside this hub's own "relayed".
	ans, err := e.hub.ApplyDeliveryReports(context.Background(), axis.Caller{Peer: "national"}, &api.DeliveryReports{Reports: []record.DeliveryReport{
		{DocID: rc.DocID, OrganID: central, State: store.StateAckedDone, AtHub: "axis-national", At: demopki.TestNow.Add(time.Minute)}}})
	if err != nil || ans.Applied != 1 {
		t.Fatalf("report: %+v %v", ans, err)
	}
	here = e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "reported", here.body, `<tr class="recipient" data-organ="`+central+`" data-state="relayed">`,
		`<div class="remote" data-remote-state="acked_done" data-at-hub="axis-national">tại trục axis-national: <span class="badge state-acked_done">Đã xác nhận</span>`,
		`data-event="reported"`, "Trục nơi nhận báo trạng thái")
}

func TestFollowUnreachablePeer(t *testing.T) {
	e, rc := deadRelay(t)
	r := e.get("/admin/documents/" + rc.DocID + "?follow=1")
	if r.status != http.StatusOK {
		t.Fatalf("followed: %d", r.status)
	}
	mustContain(t, "followed", r.body, `class="note warn unreachable" data-peer="national"`, "Không hỏi được trục national", `id="timeline"`)
}

func TestStaticAndAPIMount(t *testing.T) {
	e := newEnv(t, setup{})
	r := e.get("/admin/static/style.css")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.body, ".badge") {
		t.Fatalf("style.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	securityHeaders(t, "style.css", r)
	if strings.Contains(r.body, "http://") || strings.Contains(r.body, "https://") || strings.Contains(r.body, "@import") {
		t.Errorf("the style sheet loads nothing from elsewhere")
	}
	// /admin/v1/ stays the hub's JSON API.
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/v1/overview", nil)
	req.Header.Set("Authorization", "Bearer "+testgen.DemoAdminToken)
	if r := e.do(e.client, req); r.status != http.StatusOK || !strings.Contains(r.body, `"hub":"axis-h40"`) {
		t.Errorf("/admin/v1/overview: %d %s", r.status, r.body)
	}
	// And the console alone never answers it.
	h := console.New(e.hub, console.Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/v1/overview", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("console on /admin/v1/: %d", rec.Code)
	}
}

// A long stuck list shows its first rows and says how many more there are;
// the counts per reason cover them all.
func TestStuckListShowsHowManyMore(t *testing.T) {
	hub := fixture.NewClock(demopki.TestNow)
	e := newEnv(t, setup{config: func(c *axis.Config) { c.Admin.SLAFetch.Duration = time.Hour }, hubOpts: func(o *axis.Options) { o.Now = hub.Now }})
	e.admin()
	const n = 205
	for i := range n {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("S%d", i)
		m.DocumentID = testgen.Commune + ",2026/05/28," + m.Code.CodeNumber
		e.intake(m)
	}
	if got := strings.Count(e.get("/admin/stuck").body, `<tr class="stuck"`); got != 0 {
		t.Fatalf("%d stuck before the SLA", got)
	}
	hub.Add(61 * time.Minute)
	r := e.get("/admin/stuck")
	if r.status != http.StatusOK {
		t.Fatalf("%d", r.status)
	}
	if got := strings.Count(r.body, `<tr class="stuck" data-reason="not_fetched"`); got != 200 {
		t.Fatalf("%d rows, want 200", got)
	}
	mustContain(t, "stuck list", r.body, `id="stuck-hidden">Còn 5 mục nữa`, `data-reason="not_fetched">Chưa tải về (205)`)
}

// A document whose DueDate has passed, for two recipients of which one
// reported status 06 (done): exactly the other is overdue for processing,
// in the stuck API, the console's stuck page, the reconciliation report
// and /metrics.
func TestOverdueProcessing(t *testing.T) {
	e := newEnv(t, setup{})
	m := testgen.NewDocument()
	m.DueDate = "2026/05/30" // the hub's clock is 2026-06-01
	m.To = []envelope.Organization{{OrganID: testgen.Department}, {OrganID: testgen.District}}
	rc := e.intake(m)
	e.intake(testgen.Status("06", "Đã hoàn thành xử lý")) // from the department
	ctx := context.Background()

	st, err := e.hub.Stuck(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var overdue []record.StuckItem
	for _, it := range st {
		if it.Reason == store.ReasonOverdueProcessing {
			overdue = append(overdue, it)
		}
	}
	if len(overdue) != 1 || overdue[0].DocID != rc.DocID || overdue[0].OrganID != testgen.District || overdue[0].DueDate != "2026-05-30" ||
		!overdue[0].Since.Equal(time.Date(2026, 5, 30, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("overdue for processing: %+v", overdue)
	}

	e.admin()
	r := e.get("/admin/stuck")
	if n := strings.Count(r.body, `<tr class="stuck" data-reason="overdue_processing"`); n != 1 {
		t.Fatalf("%d overdue rows on the stuck page\n%s", n, r.body)
	}
	mustContain(t, "stuck", r.body, "Quá hạn xử lý", `<span class="due" data-due="2026-05-30">hạn xử lý 2026-05-30</span>`)

	rep, err := e.hub.Reconcile(ctx, store.Day(demopki.TestNow), false)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, d := range rep.Discrepancies {
		if d.Kind == api.KindOverdueProcessing {
			kinds = append(kinds, d.OrganID)
		}
	}
	if !slices.Equal(kinds, []string{testgen.District}) {
		t.Fatalf("reconciliation: overdue_processing for %v\n%+v", kinds, rep.Discrepancies)
	}

	rec := httptest.NewRecorder()
	e.hub.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "\naxis_overdue_processing 1\n") {
		t.Fatalf("metrics lack axis_overdue_processing 1")
	}
}

// A viewer (admin.users, role viewer) signs in and reads, but its re-drive
// is refused and the relay stays dead; its sign-in is in the event chain
// with its name.
func TestViewerCannotRedrive(t *testing.T) {
	e := newEnv(t, setup{
		config: func(c *axis.Config) {
			c.Peers = []axis.Peer{{Name: "national", Kind: "axis", URL: "http://127.0.0.1:1", Routes: []string{"*"}}}
			c.Admin.Users = []axis.AdminUser{{Name: "Lê Thị Xem", TokenSHA256: axis.TokenHash("token-xem"), Role: axis.RoleViewer}}
		},
		hubOpts: func(o *axis.Options) { o.PeerClients = map[string]axis.PeerClient{"national": refusingPeer{}} },
	})
	rc := e.intake(toDepartmentAndCentral())
	e.waitState(rc.DocID, central, store.StateDead)
	if r := e.signInWith(e.client, "token-xem", nil); r.status != http.StatusSeeOther {
		t.Fatalf("viewer sign-in: %d", r.status)
	}
	st := e.get("/admin/stuck")
	mustContain(t, "stuck", st.body, `<tr class="stuck" data-reason="relay_dead" data-doc="`+rc.DocID+`"`)
	r := e.post("/admin/redrive", url.Values{"doc_id": {rc.DocID}, "recipient": {central}, "csrf": {csrf(t, st.body)}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Tài khoản chỉ xem (Lê Thị Xem) không được gửi lại văn bản") {
		t.Fatalf("a viewer's re-drive: %d\n%s", r.status, r.body)
	}
	e.waitState(rc.DocID, central, store.StateDead) // still
	evs, err := e.hub.Store().Events(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != store.EventAdmin || !strings.HasPrefix(evs[0].Detail, "viewer:Lê Thị Xem: signed in to the console from ") {
		t.Fatalf("hub events %+v", evs)
	}
	if err := e.hub.Store().Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A peer that does not answer now is "retrying since" the outbox head was
// queued, with the error in the badge's title: not the same badge as an old
// dead relay.
func TestPeerRetrying(t *testing.T) {
	e := newEnv(t, setup{config: func(c *axis.Config) {
		c.Peers = []axis.Peer{{Name: "national", DisplayName: "Trục liên thông quốc gia", Kind: "axis", URL: "http://127.0.0.1:1", Routes: []string{"*"}}}
		c.Relay.RetryMin.Duration, c.Relay.RetryMax.Duration = 20*time.Millisecond, 50*time.Millisecond
	}})
	rc := e.intake(toDepartmentAndCentral())
	fixture.Eventually(t, 10*time.Second, "a failed attempt", func() bool {
		dl, err := e.hub.Store().Delivery(context.Background(), rc.DocID, central)
		return err == nil && dl.Attempts > 0
	})
	e.admin()
	dash := e.get("/admin/")
	mustContain(t, "dashboard", dash.body, `<tr class="peer" data-peer="national" data-outbox="1" data-dead="0">`,
		`<span class="badge tone-bad" data-health="retrying" title="`, `>đang thử lại từ T2 01/06/2026 16:00:00 GMT&#43;7</span>`)
	mustNotContain(t, "dashboard", dash.body, `data-health="dead"`, `data-health="reachable"`)
	// People see the peer by its display name; the name stays beside it.
	mustContain(t, "dashboard", dash.body, `<strong>Trục liên thông quốc gia</strong> <span class="code small muted">national</span>`)
	doc := e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "document", doc.body, "Qua Trục liên thông quốc gia")
	mustNotContain(t, "document", doc.body, "Qua trục national")
	o, err := e.hub.Overview(context.Background())
	if err != nil || len(o.Peers) != 1 || o.Peers[0].RetryingSince == nil || !o.Peers[0].RetryingSince.Equal(demopki.TestNow) || o.Peers[0].LastError == "" {
		t.Fatalf("overview peers %+v %v", o.Peers, err)
	}
}
