package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// acceptingPeer is a national axis that takes every envelope.
type acceptingPeer struct{}

func (acceptingPeer) Send(context.Context, axis.Outgoing) (string, error) {
	return "national-doc-1", nil
}

// readCSV checks an export's shape (a download, UTF-8 with a byte order
// mark, one header line) and returns its records, header first.
func readCSV(t *testing.T, what string, r resp) [][]string {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), `attachment; filename="`) {
		t.Fatalf("%s: %d %q %q\n%s", what, r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.body)
	}
	if !strings.HasPrefix(r.body, "\ufeff") {
		t.Fatalf("%s: no byte order mark: %q", what, r.body[:min(20, len(r.body))])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return recs
}

// The exports of the search, the statistics and the stuck list: each a CSV
// of what the page shows, with the Vietnamese kept.
func TestCSVExports(t *testing.T) {
	e, rc := deadRelay(t)

	search := e.get("/admin/search?code=15/UBND-VP")
	mustContain(t, "search", search.body, `id="search-csv"`, `href="/admin/search?code=15%2FUBND-VP&amp;format=csv"`)
	recs := readCSV(t, "search", e.get("/admin/search?code=15/UBND-VP&format=csv"))
	if len(recs) != 2 || recs[0][0] != "Thời gian nhận" || recs[1][1] != rc.DocID || recs[1][2] != "15/UBND-VP" ||
		recs[1][3] != "Công văn về việc báo cáo kết quả chuyển đổi số năm 2026" || recs[1][0] != "2026-06-01 16:00:00 +07:00" ||
		!strings.Contains(recs[1][8], "1 Chuyển tiếp thất bại") || !strings.Contains(recs[1][8], "1 Chờ nhận") {
		t.Fatalf("search CSV %q", recs)
	}

	recs = readCSV(t, "stuck", e.get("/admin/stuck?reason=relay_dead&format=csv"))
	if len(recs) != 2 || recs[0][0] != "Lý do" || recs[1][0] != "Chuyển tiếp thất bại" || recs[1][2] != rc.DocID || recs[1][6] != central ||
		!strings.Contains(recs[1][12], "unknown_recipient") {
		t.Fatalf("stuck CSV %q", recs)
	}

	recs = readCSV(t, "stats", e.get("/admin/stats?date=2026-06-01&format=csv"))
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		rows[r[1]] = r
	}
	if recs[0][0] != "Ngày" || recs[0][3] != "Đã gửi" || len(recs) != 1+len(e.hub.Directory().Agencies())+1 { // every agency, and the central body
		t.Fatalf("stats CSV header %q, %d rows", recs[0], len(recs))
	}
	// The commune sent one document; its copy to the central body went to
	// the national axis and was given up on: its row says so.
	if c := rows[testgen.Commune]; !strings.HasPrefix(c[2], "UBND xã Hải Minh") || c[3] != "1" || c[14] != "1" || c[12] != "0" {
		t.Fatalf("the commune's row %q", c)
	}
	if c := rows[central]; c[2] != "Văn phòng Chính phủ" || c[4] != "1" || c[11] != "1" {
		t.Fatalf("the central body's row %q", c)
	}
}

// A commune's documents relayed to another hub are counted on its page and
// in the statistics (they were 0: the relays counted only on the remote
// recipient's row), and its page and the hub's have the 30-day chart.
func TestRelayedCountsAndVolumeChart(t *testing.T) {
	e := newEnv(t, setup{
		config: func(c *axis.Config) {
			c.Peers = []axis.Peer{{Name: "national", Kind: "axis", URL: "http://127.0.0.1:1", Routes: []string{"*"}}}
		},
		hubOpts: func(o *axis.Options) { o.PeerClients = map[string]axis.PeerClient{"national": acceptingPeer{}} },
	})
	rc := e.intake(toDepartmentAndCentral())
	e.waitState(rc.DocID, central, store.StateRelayed)
	e.admin()

	ag := e.get("/admin/agencies/" + testgen.Commune)
	mustContain(t, "commune", ag.body, `<tr id="today-sent-relayed"><th>Gửi đi qua trục khác: đã chuyển tiếp</th><td class="num">1</td></tr>`,
		`<svg class="chart" id="volume-chart"`, `data-days="30" data-total="1"`,
		`<g class="day" data-day="2026-06-01" data-count="1"><title>01/06/2026: gửi 1, nhận 0</title>`,
		`<g class="day" data-day="2026-05-03" data-count="0">`)
	mustNotContain(t, "commune", ag.body, `data-day="2026-05-02"`, `data-day="2026-06-02"`)

	st := e.get("/admin/stats")
	mustContain(t, "stats", st.body, `<section id="stats" data-date="2026-06-01">`, `data-days="30" data-total="1"`,
		`<g class="day" data-day="2026-06-01" data-count="1"><title>01/06/2026: 1 văn bản</title>`,
		`<tr class="stats-row" data-organ="`+testgen.Commune+`">`)
	if !regexp.MustCompile(`data-organ="` + regexp.QuoteMeta(testgen.Commune) + `">(?s:.*?)<td class="num sent-relayed">1</td>`).MatchString(st.body) {
		t.Fatalf("the commune's stats row lacks its relayed copy\n%s", st.body)
	}
	if r := e.get("/admin/stats?date=01-06-2026"); r.status != http.StatusBadRequest {
		t.Fatalf("a bad date: %d", r.status)
	}
}

// Reports: a reconciliation run from the console is kept under the hub's
// reports folder, listed with its verdict and who ran it, and its report
// opens (HTML under its own narrow CSP) and downloads (CSV with a BOM).
// A viewer may run one but not repair.
func TestReportsPage(t *testing.T) {
	e, rc := deadRelay(t)
	r := e.get("/admin/reports")
	mustContain(t, "reports", r.body, `id="no-runs"`, `id="reconcile-form"`, `name="repair"`)
	run := e.post("/admin/reports", url.Values{"csrf": {csrf(t, r.body)}, "date": {"2026-06-01"}})
	if run.status != http.StatusSeeOther || run.header.Get("Location") != "/admin/reports?ran=2026-06-01" {
		t.Fatalf("run: %d %q\n%s", run.status, run.header.Get("Location"), run.body)
	}
	r = e.get("/admin/reports?ran=2026-06-01")
	mustContain(t, "reports", r.body, `<tr class="run" data-date="2026-06-01" data-remaining="1">`, "còn 1 chênh lệch", ">quản trị viên (mã chung)<",
		`href="/admin/reports/2026-06-01/report.html"`, "Đã đối soát ngày 01/06/2026")

	html := e.get("/admin/reports/2026-06-01/report.html")
	if html.status != http.StatusOK || html.header.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" ||
		!strings.Contains(html.body, "15/UBND-VP") || !strings.Contains(html.body, central) {
		t.Fatalf("report.html: %d %q\n%s", html.status, html.header.Get("Content-Security-Policy"), html.body)
	}
	recs := readCSV(t, "report.csv", e.get("/admin/reports/2026-06-01/report.csv"))
	if len(recs) != 2 || recs[0][0] != "kind" || recs[1][0] != "dead_relay" || recs[1][1] != rc.DocID {
		t.Fatalf("report.csv %q", recs)
	}
	for _, p := range []string{"/admin/reports/2026-06-02/report.html", "/admin/reports/2026-06-01/axis.db", "/admin/reports/..%2f..%2faxis.db/report.html"} {
		if r := e.get(p); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	evs, err := e.hub.Store().Events(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(evs); n < 2 || evs[n-1].Detail != "admin: reconcile 2026-06-01" {
		t.Fatalf("events %+v", evs)
	}
}

func TestReportsViewerMayNotRepair(t *testing.T) {
	e := newEnv(t, setup{config: func(c *axis.Config) {
		c.Admin.Users = []axis.AdminUser{{Name: "Lê Thị Xem", TokenSHA256: axis.TokenHash("token-xem"), Role: axis.RoleViewer}}
	}})
	if r := e.signInWith(e.client, "token-xem", nil); r.status != http.StatusSeeOther {
		t.Fatalf("viewer sign-in: %d", r.status)
	}
	r := e.get("/admin/reports")
	mustNotContain(t, "reports", r.body, `name="repair"`)
	rep := e.post("/admin/reports", url.Values{"csrf": {csrf(t, r.body)}, "date": {"2026-06-01"}, "repair": {"1"}})
	if rep.status != http.StatusForbidden || !strings.Contains(rep.body, "được đối soát nhưng không được sửa") {
		t.Fatalf("viewer repair: %d\n%s", rep.status, rep.body)
	}
	if runs, _ := e.hub.ReportRuns(10); len(runs) != 0 {
		t.Fatalf("a refused run was kept: %+v", runs)
	}
	if ok := e.post("/admin/reports", url.Values{"csrf": {csrf(t, r.body)}, "date": {"2026-06-01"}}); ok.status != http.StatusSeeOther {
		t.Fatalf("viewer run: %d\n%s", ok.status, ok.body)
	}
	if runs, _ := e.hub.ReportRuns(10); len(runs) != 1 || runs[0].By != "viewer:Lê Thị Xem" || runs[0].Date != "2026-06-01" {
		t.Fatalf("runs %+v", runs)
	}
}

// A relay's technical error is a Vietnamese sentence chosen by its code,
// the message itself folded under "Chi tiết kỹ thuật".
func TestErrorsInVietnamese(t *testing.T) {
	e, rc := deadRelay(t)
	doc := e.get("/admin/documents/" + rc.DocID)
	mustContain(t, "document", doc.body,
		`<span class="problem" data-code="unknown_recipient">Trục kia không biết nơi nhận này (mã cơ quan không có trong danh bạ của trục đó).</span><details class="tech"><summary>Chi tiết kỹ thuật</summary><code>peer answered 422 unknown_recipient: test refusal</code></details>`)
	visible := regexp.MustCompile(`(?s)<details class="tech">.*?</details>|<[^>]+>`).ReplaceAllString(doc.body, " ")
	for _, en := range []string{"peer answered", "unknown_recipient", "test refusal", "gave up", "peer="} {
		if strings.Contains(visible, en) {
			t.Errorf("document page shows %q outside the technical details", en)
		}
	}
	st := e.get("/admin/stuck")
	mustContain(t, "stuck", st.body, `<span class="problem" data-code="unknown_recipient">`)
}

func TestSearchOverdue(t *testing.T) {
	e := newEnv(t, setup{})
	m := testgen.NewDocument()
	m.DueDate = "2026/05/30"
	m.To = []envelope.Organization{{OrganID: testgen.Department}, {OrganID: testgen.District}}
	rc := e.intake(m)
	e.intake(testgen.Status("06", "Đã hoàn thành xử lý")) // the department is done
	later := testgen.NewDocument()                        // due 2026-06-15: not overdue
	later.Code.CodeNumber, later.DocumentID = "16", testgen.Commune+",2026/05/28,16/UBND-VP"
	e.intake(later)
	e.admin()
	for _, q := range []string{"state=overdue_processing", "state=overdue_processing&to=" + testgen.District} {
		r := e.get("/admin/search?" + q)
		if ids := resultIDs(r.body); len(ids) != 1 || ids[0] != rc.DocID {
			t.Fatalf("%s: %v\n%s", q, ids, r.body)
		}
		mustContain(t, q, r.body, `data-overdue="1" title="`+testgen.District+`">1 quá hạn xử lý (hạn 2026-05-30)</span>`)
	}
	if ids := resultIDs(e.get("/admin/search?state=overdue_processing&to=" + testgen.Department).body); len(ids) != 0 {
		t.Fatalf("the department is done: %v", ids)
	}
	ag := e.get("/admin/agencies/" + testgen.District)
	mustContain(t, "district", ag.body, `<span class="sub" id="overdue-total">1</span>`, `<tr class="overdue" data-doc="`+rc.DocID+`" data-due="2026-05-30">`)
	mustContain(t, "department", e.get("/admin/agencies/"+testgen.Department).body, `id="no-overdue"`)
}
