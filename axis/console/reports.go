package console

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
)

// ---- Đối soát --------------------------------------------------------------

// reportRuns bounds the runs listed: two months of nightly runs.
const reportRuns = 62

type reportsBody struct {
	Runs      []api.Report
	Dir       string
	Yesterday string // the form's default date
	CanRepair bool
}

// reports lists the reconciliation runs the hub kept (Hub.ReportsDir), each
// with its verdict and totals, and its report to open or download.
func (s *server) reports(w http.ResponseWriter, r *http.Request, ss *session) {
	runs, err := s.hub.ReportRuns(reportRuns)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	b := reportsBody{Runs: runs, Dir: s.hub.ReportsDir(), Yesterday: store.Day(s.hub.Now().Add(-24 * time.Hour)), CanRepair: !ss.caller.Viewer}
	p := page{Title: "Đối soát", Nav: "reports", Body: b}
	if d := r.URL.Query().Get("ran"); d != "" {
		p.Flash = "Đã đối soát ngày " + dayText(d) + "; báo cáo ở dòng đầu tiên của danh sách."
	}
	s.render(w, r, http.StatusOK, "reports", ss, p)
}

// runReconcile runs the reconciliation of a day from the console, as the
// signed-in administrator (an event with their name); a viewer may run it
// but not repair.
func (s *server) runReconcile(w http.ResponseWriter, r *http.Request, ss *session) {
	day := strings.TrimSpace(r.PostForm.Get("date"))
	repair := r.PostForm.Get("repair") == "1"
	if _, err := time.Parse("2006-01-02", day); err != nil {
		s.badRequest(w, r, ss, "Ngày đối soát phải có dạng năm-tháng-ngày, ví dụ 2026-06-01.")
		return
	}
	if repair && ss.caller.Viewer {
		s.forbidden(w, r, ss, "Tài khoản chỉ xem ("+ss.caller.Name+") được đối soát nhưng không được sửa; cần tài khoản quản trị.")
		return
	}
	if _, err := s.hub.ReconcileAs(r.Context(), ss.caller, day, repair); err != nil {
		s.problem(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/admin/reports?ran="+day, http.StatusSeeOther)
}

// reportContentTypes are the types the files of a report are served with.
var reportContentTypes = map[string]string{
	"report.html":         "text/html; charset=utf-8",
	"report.csv":          "text/csv; charset=utf-8",
	"report.json":         "application/json",
	api.ReportSummaryFile: "application/json",
}

// reportCSP lets a kept report.html use its own inline style sheet and
// nothing else.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

// reportFile serves one file of a kept report: the HTML to read in the
// browser, the CSV and JSON to download.
func (s *server) reportFile(w http.ResponseWriter, r *http.Request, ss *session) {
	day, name := r.PathValue("date"), r.PathValue("file")
	f, err := s.hub.ReportFile(day, name)
	if errors.Is(err, axis.ErrNotFound) {
		s.notFound(w, r, ss, "Không có báo cáo đối soát "+name+" của ngày "+day+".")
		return
	}
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", reportContentTypes[name])
	if name == "report.html" {
		hd.Set("Content-Security-Policy", reportCSP)
	} else {
		hd.Set("Content-Disposition", `attachment; filename="doi-soat-`+day+`-`+name+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, f)
	}
}
