package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/browser"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// englishProblems are the English texts the hub records of failures and
// answers on its API, made for logs and machines: the console must show
// them only folded under "Chi tiết kỹ thuật" (a closed <details>, not
// rendered, so not in document.body.innerText). Copied by hand from where
// they are written.
var englishProblems = []struct{ text, from string }{
	// axis/errors.go: the Problem titles, and Problem.Error's prefix.
	{"missing or unknown bearer token", "axis/errors.go ErrUnauthorized"},
	{"not allowed for this caller", "axis/errors.go ErrForbidden"},
	{"no such document for this caller", "axis/errors.go ErrNotFound"},
	{"unknown recipient", "axis/errors.go ErrUnknownRecipient"},
	{"the authenticated caller is not the envelope's sender", "axis/errors.go ErrCallerMismatch"},
	{"bad request", "axis/errors.go ErrBadRequest"},
	{"state conflict", "axis/errors.go ErrConflict"},
	{"hub is shutting down", "axis/errors.go ErrUnavailable"},
	{"internal error", "axis/errors.go ErrInternal"},
	{"axis: ", "axis/errors.go Problem.Error"},
	// envelope/errors.go: the verification errors, and their prefix.
	{"envelope: ", "envelope/errors.go newError"},
	{"malformed XML", "envelope/errors.go ErrMalformedXML"},
	{"DOCTYPE is forbidden", "envelope/errors.go ErrDoctypeForbidden"},
	{"envelope too large", "envelope/errors.go ErrTooLarge"},
	{"envelope nested too deep", "envelope/errors.go ErrTooDeep"},
	{"signature missing", "envelope/errors.go ErrSignatureMissing"},
	{"signature invalid", "envelope/errors.go ErrSignatureInvalid"},
	{"digest mismatch", "envelope/errors.go ErrDigestMismatch"},
	{"content changed after signing", "envelope/errors.go ErrDigestMismatch"},
	{"algorithm forbidden by policy", "envelope/errors.go ErrAlgorithmForbidden"},
	{"certificate untrusted", "envelope/errors.go ErrCertificateUntrusted"},
	{"certificate expired or not yet valid", "envelope/errors.go ErrCertificateExpired"},
	{"certificate not allowed for digital signatures", "envelope/errors.go ErrCertificateUsage"},
	{"signer certificate does not belong to the sender", "envelope/errors.go ErrSenderMismatch"},
	{"certificate revoked", "envelope/errors.go ErrCertificateRevoked"},
	{"certificate revocation status unknown", "envelope/errors.go ErrRevocationUnknown"},
	{"header invalid", "envelope/errors.go ErrHeaderInvalid"},
	{"the sender is not entitled to do this", "envelope/errors.go ErrNotEntitled"},
	// envelope/revocation.go: a revocation source that did not answer.
	{"not asked again before", "envelope/revocation.go OCSP/CRL unreachable"},
	// axis/peer.go: a peer's refusal, as a relay's last error.
	{"peer answered", "axis/peer.go axisClient.Send"},
	{"without a doc id", "axis/peer.go axisClient.Send"},
	// store/relay.go, store/intake.go: the relay events' details.
	{"gave up", "store/relay.go RelayFailed (dead), axis/reconcile.go"},
	{"peer=", "store/relay.go, store/intake.go event details"},
	{"peer_doc_id=", "store/relay.go MarkRelayed event detail"},
	// Go's net and net/http: a peer that is down, as a relay's last error.
	{"connection refused", "net: dial error"},
	{"dial tcp", "net: dial error"},
	{`Post "http`, "net/http: client error"},
}

// visibleText is what a person reads on the page: document.body.innerText,
// which leaves out what is not rendered (a closed <details>, a title
// attribute). It fails the test if any English problem text is in it.
func visibleText(t *testing.T, p *page, what string) string {
	t.Helper()
	var text string
	p.eval("document.body.innerText", &text)
	low := strings.ToLower(text)
	for _, en := range englishProblems {
		if strings.Contains(low, strings.ToLower(en.text)) {
			t.Errorf("%s shows the English %q (from %s):\n%s", what, en.text, en.from, text)
		}
	}
	return text
}

// signIn signs in to the console at base with token, from the sign-in page.
func signIn(p *page, base, token string) {
	p.t.Helper()
	p.open(base + "/admin/login")
	p.fill("#login-token", token)
	p.click("#login-submit")
	p.waitFor("#dashboard")
}

// signOut presses the sign-out button of the dashboard's top bar.
func signOut(p *page, base string) {
	p.t.Helper()
	p.open(base + "/admin/")
	p.click("#logout")
	p.waitFor("#login-form")
}

// csvDownload fetches the CSV export the link sel points to from within the
// page (with the session cookie, as the download would) and checks it is
// UTF-8 with a byte order mark; it returns its records, header first.
func csvDownload(t *testing.T, p *page, sel string) [][]string {
	t.Helper()
	var res struct {
		Href, Type, Err string
		Status          int
		Head            []int
		Text            string
	}
	p.eval(`(async () => {
	const a = document.querySelector(`+jsQuote(sel)+`);
	if (a === null) return {err: "no element"};
	const href = a.getAttribute("href");
	const r = await fetch(href, {credentials: "same-origin"});
	const b = new Uint8Array(await r.arrayBuffer());
	let text = "", err = "";
	try { text = new TextDecoder("utf-8", {fatal: true}).decode(b); } catch (e) { err = String(e); }
	return {href, status: r.status, type: r.headers.get("Content-Type"), head: Array.from(b.slice(0, 3)), text, err};
})()`, &res)
	if res.Err != "" || res.Status != 200 || res.Type != "text/csv; charset=utf-8" {
		t.Fatalf("%s (%s): %d %q %s", sel, res.Href, res.Status, res.Type, res.Err)
	}
	if !slices.Equal(res.Head, []int{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("%s (%s) starts % X, not the UTF-8 byte order mark EF BB BF", sel, res.Href, res.Head)
	}
	// TextDecoder drops the byte order mark, as Excel does.
	recs, err := csv.NewReader(strings.NewReader(res.Text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s (%s): %v\n%s", sel, res.Href, err, res.Text)
	}
	return recs
}

// jsQuote is s as a JavaScript string literal (a JSON string is one).
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// resultRows are the rows of the search results: each document id and the
// states of its recipients' badges.
func resultRows(t *testing.T, p *page) (ids []string, states map[string][]string) {
	t.Helper()
	var rows []struct {
		ID     string
		States []string
	}
	p.eval(`[...document.querySelectorAll("#results tr.result")].map(tr => ({
	id: tr.dataset.id,
	states: [...tr.querySelectorAll("td.states [data-state]")].map(b => b.dataset.state)}))`, &rows)
	states = map[string][]string{}
	for _, r := range rows {
		ids = append(ids, r.ID)
		states[r.ID] = r.States
	}
	return ids, states
}

// chartOf reads the volume chart: how many g.day it has and today's count.
func chartOf(t *testing.T, p *page, today string) (days, todayCount int) {
	t.Helper()
	var c struct{ Days, Today int }
	p.eval(`(() => {
	const svg = document.querySelector("svg#volume-chart");
	if (svg === null) return {days: -1, today: -1};
	const d = svg.querySelector('g.day[data-day="`+today+`"]');
	return {days: svg.querySelectorAll("g.day").length, today: d === null ? -1 : Number(d.getAttribute("data-count"))};
})()`, &c)
	return c.Days, c.Today
}

// fromDepartment is a document of the department (its own number) to one
// organ.
func fromDepartment(n, to string) *envelope.Message {
	m := testgen.NewDocument()
	m.From = testgen.Organ(testgen.Department)
	m.To = []envelope.Organization{testgen.Organ(to)}
	m.Code = envelope.Code{CodeNumber: n, CodeNotation: "STTTT-VP"}
	m.DocumentID = testgen.Department + ",2026/05/28," + n + "/STTTT-VP"
	m.Subject = "Công văn về việc hướng dẫn triển khai trục liên thông văn bản"
	m.TraceHeaders = []envelope.TraceHeader{{OrganID: testgen.Department, Timestamp: "2026/05/28 08:30:00"}}
	m.DueDate = ""
	return m
}

// The console's tools in a real browser, on a network of real hubs: the
// peer's health on the dashboard (retrying and dead at once, then
// reachable), search paging both ways with each result's states, the CSV
// exports as a spreadsheet would get them, the 30-day volume chart, a
// reconciliation run from the reports page and its report, a viewer
// refused a re-drive; and on every page no English problem detail outside
// the folded technical details. Screenshots in the artifact folder (go
// test -artifacts).
func TestConsoleToolsInBrowser(t *testing.T) {
	b := browser.ForTest(t)
	deadAfter := time.Millisecond // the first failure is final, until H40 restarts
	n := startNetwork(t, func(cfg string, c *axis.Config) {
		if cfg == cfgH40 {
			c.Relay.DeadAfter.Duration = deadAfter
			c.Admin.Users = []axis.AdminUser{{Name: "Lê Thị Xem", TokenSHA256: axis.TokenHash("token-xem"), Role: axis.RoleViewer}}
		}
	})
	today := store.Day(time.Now())
	send := func(organ string, m *envelope.Message) string {
		t.Helper()
		m.DueDate = "" // no processing deadline: the hubs run on the real clock, past the sample's
		return intake(t, n.h40, organ, fixture.Sign(t, m)).DocID
	}
	retrying := func(r api.RecipientStatus) bool {
		return r.State == store.StateRelaying && r.Attempts > 0 && r.LastError != ""
	}

	// The national axis is down: A (15/UBND-VP) goes dead on its first
	// failure. H40 restarts with a long dead_after: B keeps retrying.
	n.national.Close()
	docA := send(testgen.Commune, docTo(vpcpOrgan))
	waitRecipients(t, n.h40, testgen.Commune, docA, 1, "A's relay is dead", inState(store.StateDead))
	if err := n.h40.Close(); err != nil {
		t.Fatal(err)
	}
	deadAfter = time.Hour
	n.h40 = n.start(t, cfgH40)
	b16 := fixture.Numbered("16")
	b16.To = []envelope.Organization{vpcpOrgan}
	docB := send(testgen.Commune, b16)
	waitRecipients(t, n.h40, testgen.Commune, docB, 1, "B's relay retrying", retrying)
	local := []string{docA, docB} // the commune's, newest last
	for _, num := range []string{"17", "18", "19"} {
		local = append(local, send(testgen.Commune, fixture.Numbered(num))) // to the department
	}
	send(testgen.Department, fromDepartment("30", testgen.Commune))
	send(testgen.Department, fromDepartment("31", testgen.District))
	const sent, commune = 7, 6 // all the test sent; the commune's: 5 sent, 1 received

	p := newPage(t, b, 2*time.Minute)
	base := n.h40.URL()
	signIn(p, base, testgen.DemoAdminToken)

	// 1. Dashboard: retrying since B was queued, and A dead, at once.
	peer := `#peers tr.peer[data-peer="national"] `
	if p.count(peer+`[data-health="retrying"]`) != 1 || p.count(peer+`[data-health="dead"]`) != 1 || p.count(peer+`[data-health="reachable"]`) != 0 {
		t.Fatalf("dashboard health badges: %q", p.text(peer))
	}
	if s := p.text(peer + `[data-health="retrying"]`); !strings.HasPrefix(s, "đang thử lại từ ") {
		t.Fatalf("retrying badge %q", s)
	}
	if s := p.text(peer + `[data-health="dead"]`); !strings.HasPrefix(s, "1 văn bản chuyển thất bại") {
		t.Fatalf("dead badge %q", s)
	}
	visibleText(t, p, "dashboard (national down)")
	p.shot("t1-dashboard-retrying-dead.png")

	// 2. The national axis is back: B is relayed, the peer reachable; A
	// stays dead until someone re-drives it.
	n.national = n.start(t, cfgNational)
	waitRecipients(t, n.h40, testgen.Commune, docB, 1, "B relayed", inState(store.StateRelayed))
	eventually(t, 20*time.Second, "the dashboard shows the peer reachable, with a dead entry", func() bool {
		p.open(base + "/admin/")
		return p.count(peer+`[data-health="reachable"]`) == 1 && p.count(peer+`[data-health="dead"]`) == 1 && p.count(peer+`[data-health="retrying"]`) == 0
	})
	visibleText(t, p, "dashboard (national back)")
	p.shot("t2-dashboard-reachable-dead.png")

	// 3. Search: the commune's five documents two a page, forward and back.
	p.open(base + "/admin/search?from=" + testgen.Commune + "&limit=2")
	want := map[string]string{docA: store.StateDead, docB: store.StateRelayed, local[2]: store.StateQueued, local[3]: store.StateQueued, local[4]: store.StateQueued}
	var pages [][]string
	seen := map[string]bool{}
	for i := range 3 {
		ids, states := resultRows(t, p)
		if wantRows := []int{2, 2, 1}[i]; len(ids) != wantRows {
			t.Fatalf("search page %d: %d rows %v, want %d", i+1, len(ids), ids, wantRows)
		}
		for _, id := range ids {
			if seen[id] || !slices.Equal(states[id], []string{want[id]}) {
				t.Fatalf("search page %d: %s (seen before: %v) has states %v, want [%s]", i+1, id, seen[id], states[id], want[id])
			}
			seen[id] = true
		}
		pages = append(pages, ids)
		if i == 0 {
			visibleText(t, p, "search results")
		}
		p.shot(fmt.Sprintf("t3-search-page%d.png", i+1))
		if i < 2 {
			p.click("#next-page")
		}
	}
	if p.count("#next-page") != 0 || p.count("#prev-page") != 1 {
		t.Fatal("the last search page has a next page, or no previous one")
	}
	if newestFirst := slices.Concat(pages...); !slices.Equal(newestFirst, []string{local[4], local[3], local[2], docB, docA}) {
		t.Fatalf("search pages %v, want the commune's documents newest first %v", pages, local)
	}
	for _, back := range []int{1, 0} {
		p.click("#prev-page")
		if ids, _ := resultRows(t, p); !slices.Equal(ids, pages[back]) {
			t.Fatalf("back to page %d: %v, was %v", back+1, ids, pages[back])
		}
	}
	if p.count("#prev-page") != 0 || p.count("#next-page") != 1 {
		t.Fatal("back on the first page: a previous page, or no next one")
	}
	p.shot("t3-search-page1-again.png")

	// 4. Its CSV: every result (not only the page), the Vietnamese intact.
	recs := csvDownload(t, p, "#search-csv")
	if len(recs) != 1+5 || !strings.HasPrefix(strings.Join(recs[0], ","), "Thời gian nhận,Mã văn bản,Số ký hiệu,Trích yếu") {
		t.Fatalf("search CSV %q", recs)
	}
	if i := slices.IndexFunc(recs, func(r []string) bool { return r[1] == docA }); i < 0 || recs[i][2] != "15/UBND-VP" ||
		recs[i][3] != "Công văn về việc báo cáo kết quả chuyển đổi số năm 2026" || recs[i][8] != "1 Chuyển tiếp thất bại" {
		t.Fatalf("search CSV has no row of A as the page shows it: %q", recs)
	}

	// The document page: the dead relay's English error is under a closed
	// <details>, which innerText leaves out (and takes in once opened: the
	// check above would see it).
	p.open(base + "/admin/documents/" + docA)
	if p.count(`tr.recipient[data-organ="`+vpcp+`"][data-state="dead"] td.error-text details.tech`) != 1 {
		t.Fatal("the document page has no technical details on the dead relay")
	}
	var tech struct {
		Open             bool
		Code             string
		Closed, Disclose string
	}
	p.eval(`(() => {
	const d = document.querySelector('tr.recipient[data-state="dead"] td.error-text details.tech');
	const closed = document.body.innerText;
	d.open = true;
	const disclose = document.body.innerText;
	d.open = false;
	return {open: d.open, code: d.querySelector("code").textContent, closed, disclose};
})()`, &tech)
	if !strings.Contains(tech.Code, "connection refused") || !strings.Contains(tech.Code, "dial tcp") {
		t.Fatalf("the dead relay's technical detail %q is not the connection error", tech.Code)
	}
	if strings.Contains(tech.Closed, tech.Code) || !strings.Contains(tech.Disclose, tech.Code) {
		t.Fatalf("innerText does not leave out a closed <details> (or does not take in an open one): closed %v, open %v",
			strings.Contains(tech.Closed, tech.Code), strings.Contains(tech.Disclose, tech.Code))
	}
	if s := p.text(`tr.recipient[data-state="dead"] td.error-text .problem`); !strings.HasPrefix(s, "Không kết nối được") {
		t.Fatalf("the dead relay's sentence %q", s)
	}
	visibleText(t, p, "document page (dead relay)")
	p.shot("t4-document-dead.png")

	// The stuck list and its CSV.
	p.open(base + "/admin/stuck")
	if p.count(`#stuck tr.stuck[data-reason="relay_dead"][data-doc="`+docA+`"]`) != 1 {
		t.Fatal("the stuck list does not show A's dead relay")
	}
	visibleText(t, p, "stuck list")
	p.shot("t5-stuck.png")
	recs = csvDownload(t, p, "#stuck-csv")
	if !strings.HasPrefix(strings.Join(recs[0], ","), "Lý do,Từ lúc,Mã văn bản,Số ký hiệu") {
		t.Fatalf("stuck CSV header %q", recs[0])
	}
	if i := slices.IndexFunc(recs, func(r []string) bool { return r[2] == docA }); i < 0 || recs[i][0] != "Chuyển tiếp thất bại" ||
		recs[i][3] != "15/UBND-VP" || recs[i][6] != vpcp || recs[i][8] != "Trục liên thông quốc gia" {
		t.Fatalf("stuck CSV has no row of A's dead relay: %q", recs)
	}

	// Agencies, and the commune's page with its chart: sent and received.
	p.open(base + "/admin/agencies")
	if p.count(`#agencies tr.agency[data-organ="`+testgen.Commune+`"]`) != 1 {
		t.Fatal("the agencies list lacks the commune")
	}
	visibleText(t, p, "agencies")
	all := p.count("#agencies tr.agency")
	p.fill("#f-q", "hai hau") // without diacritics; the whole list is too long a screenshot
	p.click("#agency-filter button")
	if n := p.count("#agencies tr.agency"); n == 0 || n >= all || p.count(`#agencies tr.agency[data-organ="`+testgen.Commune+`"]`) != 1 {
		t.Fatalf("filtering the agencies by \"hai hau\": %d of %d rows, the commune among them: %d", n, all, p.count(`#agencies tr.agency[data-organ="`+testgen.Commune+`"]`))
	}
	visibleText(t, p, "agencies (filtered)")
	p.shot("t6-agencies-hai-hau.png")
	p.click(`#agencies tr.agency[data-organ="` + testgen.Commune + `"] a.code`)
	p.waitFor("#agency")
	if days, n := chartOf(t, p, today); days != 30 || n != commune {
		t.Fatalf("the commune's chart: %d days, today %d, want 30 and %d", days, n, commune)
	}
	visibleText(t, p, "the commune's page")
	p.shot("t7-agency-commune.png")

	// Statistics: the hub's chart, and the day's CSV.
	p.open(base + "/admin/stats")
	if days, n := chartOf(t, p, today); days != 30 || n != sent {
		t.Fatalf("the hub's chart: %d days, today %d, want 30 and %d", days, n, sent)
	}
	visibleText(t, p, "statistics")
	p.shot("t8-stats.png")
	recs = csvDownload(t, p, "#stats-csv")
	if !strings.HasPrefix(strings.Join(recs[0], ","), "Ngày,Mã cơ quan,Tên cơ quan,Đã gửi,Gửi đến") {
		t.Fatalf("stats CSV header %q", recs[0])
	}
	// The commune: 5 sent, 1 received; sent beyond the hub: 1 relayed (B), 1 dead (A).
	if i := slices.IndexFunc(recs, func(r []string) bool { return r[1] == testgen.Commune }); i < 0 {
		t.Fatalf("stats CSV has no row of the commune (%d rows)", len(recs))
	} else if c := recs[i]; c[0] != today || !strings.HasPrefix(c[2], "UBND xã Hải Minh") || c[3] != "5" || c[4] != "1" || c[12] != "1" || c[14] != "1" {
		t.Fatalf("stats CSV: the commune's row %q, want 5 sent, 1 received, 1 relayed, 1 dead", c)
	}

	// Reports: reconcile today; the run is listed and its report names A.
	p.open(base + "/admin/reports")
	visibleText(t, p, "reports (before)")
	p.fill("#reconcile-date", today)
	p.click("#reconcile-submit")
	row := `#runs tr.run[data-date="` + today + `"]`
	if p.count(row) != 1 || !strings.Contains(p.text("#flash"), "Đã đối soát ngày "+dayText(today)) {
		t.Fatalf("no run of %s listed after reconciling it (flash %q)", today, p.text("main"))
	}
	if s := p.text(row); !strings.Contains(s, "còn 1 chênh lệch") {
		t.Fatalf("the run's row %q: want one discrepancy (A's dead relay)", s)
	}
	visibleText(t, p, "reports")
	p.shot("t9-reports.png")
	p.click(row + " a.report-link")
	if u := p.url(); !strings.HasSuffix(u, "/admin/reports/"+today+"/report.html") {
		t.Fatalf("the report link opened %s", u)
	}
	report := visibleText(t, p, "report.html")
	if !strings.Contains(report, "15/UBND-VP") || !strings.Contains(report, docA) {
		t.Fatalf("report.html does not name A (15/UBND-VP):\n%s", report)
	}
	p.shot("t10-report.png")

	// A viewer may not re-drive: refused, and the relay stays dead.
	attempts := status(t, n.h40, testgen.Commune, docA).Recipients[0].Attempts
	signOut(p, base)
	signIn(p, base, "token-xem")
	p.open(base + "/admin/stuck")
	p.click(`#stuck tr.stuck[data-reason="relay_dead"][data-doc="` + docA + `"] button.redrive`)
	if msg := p.text("#message"); p.count(`#message[data-status="403"]`) != 1 ||
		!strings.Contains(msg, "Tài khoản chỉ xem (Lê Thị Xem) không được gửi lại văn bản") {
		t.Fatalf("the viewer's re-drive: %q", msg)
	}
	visibleText(t, p, "the viewer's refusal")
	p.shot("t11-viewer-refused.png")
	if r := status(t, n.h40, testgen.Commune, docA).Recipients[0]; r.State != store.StateDead || r.Attempts != attempts {
		t.Fatalf("after the viewer's re-drive A is %s after %d attempts, want dead after %d", r.State, r.Attempts, attempts)
	}
	signOut(p, base)

	// The administrator re-drives it: relayed, and the peer only reachable.
	signIn(p, base, testgen.DemoAdminToken)
	p.open(base + "/admin/stuck")
	p.click(`#stuck tr.stuck[data-reason="relay_dead"][data-doc="` + docA + `"] button.redrive`)
	if flash := p.text("#flash"); !strings.Contains(flash, "Đã đưa lại 1 mục") {
		t.Fatalf("flash %q", flash)
	}
	waitRecipients(t, n.h40, testgen.Commune, docA, 1, "A relayed after the re-drive", inState(store.StateRelayed))
	eventually(t, 20*time.Second, "the dashboard shows the peer reachable and nothing dead", func() bool {
		p.open(base + "/admin/")
		return p.count(peer+`[data-health="reachable"]`) == 1 && p.count(peer+`[data-health]`) == 1
	})
	if s := p.text(peer + `[data-health="reachable"]`); s != "kết nối được" {
		t.Fatalf("reachable badge %q", s)
	}
	visibleText(t, p, "dashboard (re-driven)")
	p.shot("t12-dashboard-reachable.png")
	if it := inbox(t, n.national, vpcp).Items; len(it) != 2 {
		t.Fatalf("national inbox %+v, want A and B", it)
	}
	t.Logf("screenshots in %s", t.ArtifactDir())
}

// dayText is YYYY-MM-DD as DD/MM/YYYY.
func dayText(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t.Format("02/01/2006")
}
