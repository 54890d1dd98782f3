// Package console is the administrator's web console of an axis hub, served
// under /admin/ (except /admin/v1/, the hub's JSON API): server-rendered
// HTML in Vietnamese, no JavaScript, no resource from another origin.
//
//	GET  /admin/login                 sign-in form (the admin token)
//	POST /admin/login                 sign in (CSRF double-submit, failures limited per IP)
//	POST /admin/logout                sign out
//	GET  /admin/                      Tổng quan: today's traffic, queues, relays
//	GET  /admin/search                Tìm kiếm: notation, Subject words, sender, recipient, days, state, kind, overdue (?format=csv)
//	GET  /admin/documents/{id}        a document: header, held/refused state, recipients, revocation check, timeline (?follow=1 across hubs)
//	GET  /admin/documents/{id}/revocation-evidence?cert=N  the DER that proved certificate N's status (attachment)
//	GET  /admin/stuck                 Bị kẹt: dead relays, held envelopes, what waited longer than the SLAs (?format=csv)
//	POST /admin/redrive               re-drive a document's dead relays
//	GET  /admin/agencies              Cơ quan: every agency with its inbox depth
//	GET  /admin/agencies/{organ}      one agency: inbox, last fetch and ack, today's counts, overdue processing, 30 days' volume
//	GET  /admin/stats                 Thống kê: a day's traffic per agency, the hub's 30 days' volume (?format=csv)
//	GET  /admin/reports               Đối soát: the reconciliation runs kept (Hub.ReportsDir), each report to open
//	POST /admin/reports               run the reconciliation of a day (repair: administrators only)
//	GET  /admin/reports/{date}/{file} a kept report's report.html, report.csv, report.json or summary.json
//	GET  /admin/static/style.css      the style sheet (embedded)
//
// CSV exports are UTF-8 with a byte order mark (Excel reads the Vietnamese
// right) and one header line. Technical messages are shown as Vietnamese
// sentences by their code, the message folded under them (problems.go).
//
// Every page reads through the hub's indexed admin calls only (Overview,
// Search, Trace, Stuck, AgencyView, QueueDepths, and the store's Document and
// Evidence by key): none scans all documents.
package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Options tune the console; zero values are production defaults.
type Options struct {
	// SessionTTL is how long a sign-in lasts; default 8h.
	SessionTTL time.Duration
	// Now is the console's clock (session expiry, the times of failed
	// sign-ins); default the hub's clock. The limit of failed sign-ins is
	// the hub's limits.auth_failures_per_5m, one count per client address
	// shared with the API and VDXP (axis.Hub.AuthFailure).
	Now func() time.Time
	// SecureCookies marks the cookies Secure even when the request did not
	// come over TLS (behind a TLS-terminating reverse proxy). Without it,
	// cookies are Secure exactly when the request came over TLS.
	SecureCookies bool
	// ClientIP names the client of a request for rate limiting and logs;
	// default the hub's (axis.Hub.ClientIP: the socket's address, or
	// X-Forwarded-For from a peer in trusted_proxies), which axisd passes.
	ClientIP func(*http.Request) string
}

// Cookie names.
const (
	sessionCookie = "axis_session"
	loginCookie   = "axis_login" // the sign-in form's double-submit CSRF token
	cookiePath    = "/admin/"
)

// The security headers of every response.
const contentSecurityPolicy = "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"

// maxFormBytes bounds a POSTed form.
const maxFormBytes = 64 << 10

type server struct {
	hub   *axis.Hub
	opt   Options
	log   *slog.Logger
	pages map[string]*template.Template

	sessions *sessions
	vol      volumes // past days' counts of the volume charts (chart.go)
}

// New returns the console's handler for everything under /admin/ except
// /admin/v1/ (mount the hub's Handler there).
func New(h *axis.Hub, o Options) http.Handler {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.Now == nil {
		o.Now = h.Now
	}
	if o.ClientIP == nil {
		o.ClientIP = h.ClientIP
	}
	s := &server{hub: h, opt: o, log: h.Logger(),
		sessions: &sessions{hub: h}}

	s.pages = parseTemplates(template.FuncMap{"organ": s.organ, "organNamed": s.organNamed, "organName": s.organName,
		"peerName": s.peerName, "routeLabel": s.routeLabel, "eventSummary": s.eventSummary})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/static/style.css", s.style)
	mux.HandleFunc("GET /admin/login", s.loginForm)
	mux.HandleFunc("POST /admin/login", s.login)
	for pattern, page := range map[string]func(http.ResponseWriter, *http.Request, *session){ // signed in only
		"POST /admin/logout":                            s.logout,
		"GET /admin/{$}":                                s.dashboard,
		"GET /admin/search":                             s.search,
		"GET /admin/documents/{id}":                     s.document,
		"GET /admin/documents/{id}/revocation-evidence": s.revocationEvidence,
		"GET /admin/stuck":                              s.stuck,
		"POST /admin/redrive":                           s.redrive,
		"GET /admin/agencies":                           s.agencies,
		"GET /admin/agencies/{organ}":                   s.agency,
		"GET /admin/stats":                              s.stats,
		"GET /admin/reports":                            s.reports,
		"POST /admin/reports":                           s.runReconcile,
		"GET /admin/reports/{date}/{file}":              s.reportFile,
	} {
		mux.HandleFunc(pattern, s.authed(page))
	}
	mux.HandleFunc("/admin/v1/", http.NotFound) // the JSON API is the hub's, not ours
	mux.HandleFunc("/admin/", s.authed(func(w http.ResponseWriter, r *http.Request, ss *session) {
		s.notFound(w, r, ss, "Trang này không tồn tại.")
	}))
	// Defence in depth beside the CSRF tokens and SameSite=Strict: browsers
	// say where a request comes from (Sec-Fetch-Site, Origin), and a
	// cross-origin POST is refused outright.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forbidden(w, r, nil, "Yêu cầu đến từ một trang khác đã bị từ chối.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders sets the headers every response of the console carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func (s *server) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	http.ServeContent(w, r, "style.css", time.Time{}, bytes.NewReader(styleCSS))
}

// page is what every template gets.
type page struct {
	Title string
	Hub   string
	Nav   string // the active menu entry
	CSRF  string // the session's token, for the POST forms ("" when signed out)
	Flash string
	Error string
	// ErrorDetail is the technical detail of Error, folded under it.
	ErrorDetail string
	Body        any
}

// render executes a page template into a buffer, then writes it: a
// template error is a clean 500, never half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, ss *session, p page) {
	t, ok := s.pages[name]
	if !ok {
		panic("console: no template " + name)
	}
	p.Hub = s.hub.Name()
	if ss != nil {
		p.CSRF = ss.csrf
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.Error("admin console: rendering", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "Lỗi hệ thống khi hiển thị trang.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

type messageBody struct {
	Status int
	Text   string
	Detail string // technical, folded under the text
}

// message renders the simple page of an error or notice.
func (s *server) message(w http.ResponseWriter, r *http.Request, status int, ss *session, title, text string) {
	s.render(w, r, status, "message", ss, page{Title: title, Body: messageBody{Status: status, Text: text}})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request, ss *session, text string) {
	s.message(w, r, http.StatusNotFound, ss, "Không tìm thấy", text)
}

func (s *server) forbidden(w http.ResponseWriter, r *http.Request, ss *session, text string) {
	s.message(w, r, http.StatusForbidden, ss, "Không được phép", text)
}

func (s *server) badRequest(w http.ResponseWriter, r *http.Request, ss *session, text string) {
	s.message(w, r, http.StatusBadRequest, ss, "Yêu cầu không hợp lệ", text)
}

// unavailable is a session that could not be read or written (the store
// is failing over, or down): 503, try again, nothing about the session.
func (s *server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("admin console: session store", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	s.message(w, r, http.StatusServiceUnavailable, nil, "Tạm thời không phục vụ được",
		"Trục chưa đọc được phiên đăng nhập từ kho dữ liệu. Vui lòng thử lại sau ít giây.")
}

// internalError logs err and shows a page that says so without details.
func (s *server) internalError(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	s.log.Error("admin console", "path", r.URL.Path, "err", err)
	s.message(w, r, http.StatusInternalServerError, ss, "Lỗi hệ thống",
		"Đã có lỗi khi đọc dữ liệu của trục. Lỗi đã được ghi vào nhật ký; vui lòng thử lại sau.")
}

// parseTemplates parses the layout and, on a copy of it each, every page;
// extra are the functions bound to this console (the directory's names).
func parseTemplates(extra template.FuncMap) map[string]*template.Template {
	fm := template.FuncMap{}
	maps.Copy(fm, funcs)
	maps.Copy(fm, extra)
	base := template.Must(template.New("").Funcs(fm).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return out
}
