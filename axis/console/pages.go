package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// organ shows an organ code with its name from the directory, linked to the
// agency's page when it is one of this hub's agencies.
func (s *server) organ(code string) template.HTML {
	if code == "" {
		return ""
	}
	c := template.HTMLEscapeString(code)
	if a, ok := s.hub.Directory().Agency(code); ok {
		return template.HTML(fmt.Sprintf(`<a class="organ" href="/admin/agencies/%s"><span class="code">%s</span> <span class="organ-name">%s</span></a>`,
			url.PathEscape(code), c, template.HTMLEscapeString(a.Name)))
	}
	return template.HTML(`<span class="organ"><span class="code">` + c + `</span></span>`)
}

// organNamed is organ for an organ the directory may not know: then the
// name its envelope gives, marked as such.
func (s *server) organNamed(code, name string) template.HTML {
	if _, ok := s.hub.Directory().Agency(code); ok || name == "" {
		return s.organ(code)
	}
	return template.HTML(`<span class="organ remote"><span class="code">` + template.HTMLEscapeString(code) + `</span> <span class="organ-name">` +
		template.HTMLEscapeString(name) + `</span> <span class="small muted">(tên theo văn bản)</span></span>`)
}

// peerName is a peer's display name (peers[].display_name), else its name.
func (s *server) peerName(name string) string {
	if p, ok := s.hub.Directory().Peer(name); ok && p.DisplayName != "" {
		return p.DisplayName
	}
	return name
}

// routeLabel says how a delivery goes: here, or through a peer, by the
// peer's display name.
func (s *server) routeLabel(route string) string {
	if route == "local" || route == "" {
		return "Nội bộ (trục này)"
	}
	if n := s.peerName(route); n != route {
		return "Qua " + n // a display name says what it is ("Trục liên thông quốc gia")
	}
	return "Qua trục " + route
}

func (s *server) organName(code string) string {
	if a, ok := s.hub.Directory().Agency(code); ok {
		return a.Name
	}
	return ""
}

// ---- Tổng quan -------------------------------------------------------------

type peerRow struct {
	api.PeerOverview
	Health []health // what is true of the peer now, each on its own
}

// health is one state of a peer: reachable (the last send worked or none
// failed), retrying since a time (the outbox head keeps failing), dead
// entries waiting for a re-drive (old failures, the peer may be fine now).
type health struct {
	Key, Text, Tone, Title string
}

type dashboardBody struct {
	O     *api.Overview
	Day   string
	Peers []peerRow
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request, ss *session) {
	o, err := s.hub.Overview(r.Context())
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	b := dashboardBody{O: o, Day: dayText(o.Day)}
	for _, p := range o.Peers {
		row := peerRow{PeerOverview: p}
		switch {
		case p.RetryingSince != nil:
			_, why := explainCode(p.LastError)
			row.Health = append(row.Health, health{"retrying", "đang thử lại từ " + fmtTime(*p.RetryingSince), "bad", why + " — " + p.LastError})
		case p.Outbox > 0:
			row.Health = append(row.Health, health{"reachable", "kết nối được, đang chuyển", "wait", ""})
		default:
			row.Health = append(row.Health, health{"reachable", "kết nối được", "ok", ""})
		}
		if p.Dead > 0 {
			row.Health = append(row.Health, health{"dead", number(p.Dead) + " văn bản chuyển thất bại, cần gửi lại", "warn", ""})
		}
		b.Peers = append(b.Peers, row)
	}
	s.render(w, r, http.StatusOK, "dashboard", ss, page{Title: "Tổng quan", Nav: "dashboard", Body: b})
}

// dayText turns YYYY-MM-DD into DD/MM/YYYY.
func dayText(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t.Format("02/01/2006")
}

// ---- Tìm kiếm --------------------------------------------------------------

type option struct {
	Value, Label string
	Selected     bool
}

// choice is a drop-down of the search form: the form field, its label,
// and its options after "Tất cả".
type choice struct {
	Name, Label string
	Options     []option
}

// newChoice lists values under their labels, the one the form holds selected.
func newChoice(form url.Values, name, label string, values []string, labels map[string]string) choice {
	c := choice{Name: name, Label: label}
	for _, v := range values {
		c.Options = append(c.Options, option{Value: v, Label: labels[v], Selected: form.Get(name) == v})
	}
	return c
}

type resultRow struct {
	Doc        record.Document
	Recipients string // the recipients' codes, for the cell's title
	// States counts the recipients by state, in stateOrder: a relayed
	// copy's state where it was delivered, once reported back.
	States []stateCount
	// Overdue are the recipients overdue for processing (store.OverdueFor).
	Overdue []string
}

// searchStateLabels are the search form's states: the delivery states,
// and overdue for processing.
var searchStateLabels = func() map[string]string {
	m := maps.Clone(stateLabels)
	m[store.ReasonOverdueProcessing] = reasonLabels[store.ReasonOverdueProcessing]
	return m
}()

// overdueAt lists the recipients of d overdue for processing.
func overdueAt(d *record.Document, dls []record.Delivery, now time.Time) []string {
	var out []string
	for i := range dls {
		if store.OverdueFor(d, &dls[i], now) {
			out = append(out, dls[i].OrganID)
		}
	}
	return out
}

// searchPage is one page of a search with its documents' deliveries.
func (s *server) searchPage(ctx context.Context, q store.Query) (*record.SearchResult, map[string][]record.Delivery, error) {
	res, err := s.hub.Search(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	dls, err := s.hub.Store().DeliveriesOfDocs(ctx, res.Docs)
	return res, dls, err
}

// searchCSV exports every result of the search (its pages one after the
// other, up to csvMaxRows).
func (s *server) searchCSV(w http.ResponseWriter, r *http.Request, ss *session, q store.Query) {
	q.Before, q.Limit = 0, 500
	now := s.hub.Now()
	var rows [][]string
	for len(rows) < csvMaxRows {
		res, dls, err := s.searchPage(r.Context(), q)
		if err != nil {
			s.internalError(w, r, ss, err)
			return
		}
		for _, d := range res.Docs {
			codes := make([]string, 0, len(d.Recipients))
			for _, rt := range d.Recipients {
				codes = append(codes, rt.OrganID)
			}
			rows = append(rows, []string{csvTime(d.ReceivedAt), d.ID, d.Code, d.Subject, label(kindLabels, d.Kind), d.From, s.organName(d.From),
				strings.Join(codes, " "), joinStates(stateCounts(dls[d.ID])), d.DueDate, strings.Join(overdueAt(&d, dls[d.ID], now), " ")})
		}
		if res.Next == 0 {
			break
		}
		q.Before = res.Next
	}
	s.writeCSV(w, r, "tim-kiem-"+store.Day(now)+".csv", []string{"Thời gian nhận", "Mã văn bản", "Số ký hiệu", "Trích yếu", "Loại",
		"Mã nơi gửi", "Nơi gửi", "Nơi nhận", "Trạng thái", "Hạn xử lý", "Quá hạn xử lý tại"}, rows[:min(len(rows), csvMaxRows)])
}

type stateCount struct {
	State string
	Count int
}

type searchBody struct {
	Form      url.Values
	Choices   []choice // Trạng thái, Loại
	Agencies  []*axis.Agency
	Searched  bool // some criterion was given
	Rows      []resultRow
	Next      string // URL of the next page
	Prev      string // URL of the previous page, when this is a later one
	First     string // URL of the first page, when this is a later one
	Truncated bool
	Scanned   int
	Notes     []string
	DocID     string // the notation field holds a document id
	CSV       string // URL of the CSV export of every result
}

var searchFields = []string{"code", "subject", "from", "to", "since", "until", "state", "kind"}

func (s *server) search(w http.ResponseWriter, r *http.Request, ss *session) {
	in := r.URL.Query()
	form := url.Values{}
	for _, k := range searchFields {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			form.Set(k, v)
		}
	}
	b := searchBody{Form: form, Agencies: s.hub.Directory().Agencies()}
	b.Searched = len(form) > 0
	b.Choices = []choice{
		newChoice(form, "state", "Trạng thái", append(slices.Clone(stateOrder), store.ReasonOverdueProcessing), searchStateLabels),
		newChoice(form, "kind", "Loại", []string{"document", "status"}, kindLabels),
	}
	if c := form.Get("code"); api.IsDocID(c) {
		b.DocID = strings.ToLower(c)
	}
	// Nơi gửi / Nơi nhận may be typed as a name: one agency whose name
	// contains it (diacritics ignored) stands for its code.
	q := url.Values{}
	for k, v := range form {
		q[k] = v
	}
	for _, f := range []struct{ key, label string }{{"from", "Nơi gửi"}, {"to", "Nơi nhận"}} {
		v := form.Get(f.key)
		if v == "" || s.looksLikeCode(v) {
			continue
		}
		matches := s.agenciesNamed(v, 11)
		switch {
		case len(matches) == 1:
			q.Set(f.key, matches[0].OrganID)
			b.Notes = append(b.Notes, fmt.Sprintf("%s “%s” được hiểu là %s — %s.", f.label, v, matches[0].OrganID, matches[0].Name))
		case len(matches) > 1:
			names := []string{}
			for _, a := range matches[:min(len(matches), 10)] {
				names = append(names, a.OrganID+" — "+a.Name)
			}
			more := ""
			if len(matches) > 10 {
				more = "; …"
			}
			b.Notes = append(b.Notes, fmt.Sprintf("%s “%s” khớp với nhiều cơ quan, hãy nhập mã: %s%s.", f.label, v, strings.Join(names, "; "), more))
		}
	}
	for _, k := range []string{"before", "limit"} { // the pager's, not the form's
		if v := in.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	query, err := axis.ParseQuery(q)
	if err != nil {
		b.Searched = false
		s.render(w, r, http.StatusBadRequest, "search", ss, page{Title: "Tìm kiếm", Nav: "search",
			Error: "Điều kiện tìm kiếm không hợp lệ (ngày phải có dạng năm-tháng-ngày).", ErrorDetail: strings.TrimPrefix(err.Error(), "axis: "), Body: b})
		return
	}
	if wantsCSV(r) {
		s.searchCSV(w, r, ss, query)
		return
	}
	res, dls, err := s.searchPage(r.Context(), query)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	now := s.hub.Now()
	for _, d := range res.Docs {
		codes := make([]string, 0, len(d.Recipients))
		for _, rt := range d.Recipients {
			codes = append(codes, rt.OrganID)
		}
		b.Rows = append(b.Rows, resultRow{Doc: d, Recipients: strings.Join(codes, ", "), States: stateCounts(dls[d.ID]), Overdue: overdueAt(&d, dls[d.ID], now)})
	}
	b.CSV = csvLink(r)
	b.Truncated, b.Scanned = res.Truncated, res.Scanned
	// Pages both ways: back holds the cursors of the pages before this one
	// ("0" is the first page), so a previous page is one link away.
	var back []string
	if v := in.Get("back"); v != "" {
		back = strings.Split(v, ",")
	}
	pageURL := func(before string, back []string) string {
		p := url.Values{}
		for k, v := range form {
			p[k] = v
		}
		if query.Limit != 0 {
			p.Set("limit", strconv.Itoa(query.Limit))
		}
		if before != "0" {
			p.Set("before", before)
		}
		if len(back) > 0 {
			p.Set("back", strings.Join(back, ","))
		}
		return "/admin/search?" + p.Encode()
	}
	if res.Next != 0 {
		b.Next = pageURL(strconv.FormatUint(res.Next, 10), append(slices.Clone(back), strconv.FormatUint(query.Before, 10)))
	}
	if query.Before != 0 {
		b.First = "/admin/search?" + form.Encode()
		if n := len(back); n > 0 {
			b.Prev = pageURL(back[n-1], back[:n-1])
		} else {
			b.Prev = b.First
		}
	}
	s.render(w, r, http.StatusOK, "search", ss, page{Title: "Tìm kiếm", Nav: "search", Body: b})
}

// looksLikeCode reports whether v is an organ code (of this hub or not)
// rather than a name: an agency here, or dotted without spaces.
func (s *server) looksLikeCode(v string) bool {
	if _, ok := s.hub.Directory().Agency(v); ok {
		return true
	}
	return strings.Contains(v, ".") && !strings.ContainsAny(v, " \t")
}

// agenciesNamed returns up to limit agencies whose name contains name,
// case and diacritics ignored.
func (s *server) agenciesNamed(name string, limit int) []*axis.Agency {
	want := store.Fold(strings.Join(strings.Fields(name), " "))
	var out []*axis.Agency
	for _, a := range s.hub.Directory().Agencies() {
		if strings.Contains(store.Fold(a.Name), want) {
			out = append(out, a)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// ---- Văn bản ---------------------------------------------------------------

type recipientRow struct {
	record.Delivery
	Name       string // the organ's name as the envelope gives it (record.Document.Names)
	CanRedrive bool
	Pending    bool // not routed: the document is held or was refused (Route is where it would go)
}

type eventGroup struct {
	Organ  string // "" for the document's own events (received, verified, ...)
	Events []api.TraceEvent
}

type hubTimeline struct {
	Hub    string
	Local  bool
	Groups []eventGroup
}

type documentBody struct {
	T           *api.Trace
	Doc         *record.Document
	Recipients  []recipientRow
	Timeline    []hubTimeline
	Follow      bool
	Unreachable [][2]string
	Dead        int

	// A held document: since when, how long ago, when the hub refuses it
	// if its status is still unknown, and the certificate that holds it.
	HeldSince    time.Time
	HeldAgo      string
	HoldDeadline time.Time
	Unknown      *envelope.CertRevocation
	// Revocation is the chain's revocation check, leaf first (nil: not
	// checked, e.g. trust.revocation.mode off or the hub's own notice).
	Revocation []revocationRow
	RevStatus  string // of the whole chain: good, revoked or unknown
}

// revocationRow is one certificate of the signer's chain as the revocation
// check saw it, and where to download its evidence.
type revocationRow struct {
	envelope.CertRevocation
	Index       int
	Role        string
	EvidenceURL string // "" when there is no evidence (status unknown)
	EvidenceExt string // ".der" (an OCSP response) or ".crl"
}

// docLevel are the events about the document itself, not one recipient.
var docLevel = map[string]bool{store.EventReceived: true, store.EventVerified: true, store.EventDuplicate: true}

// documentFailed answers a failed look-up of document id (not found when
// the hub has no such document, an internal error otherwise) and says
// whether it did: false when err is nil.
func (s *server) documentFailed(w http.ResponseWriter, r *http.Request, ss *session, id string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, axis.ErrNotFound):
		s.notFound(w, r, ss, "Trục "+s.hub.Name()+" không có văn bản mã "+id+".")
	default:
		s.internalError(w, r, ss, err)
	}
	return true
}

func (s *server) document(w http.ResponseWriter, r *http.Request, ss *session) {
	id := strings.ToLower(r.PathValue("id"))
	if !api.IsDocID(id) {
		s.notFound(w, r, ss, "Mã văn bản không hợp lệ (mã gồm 32 chữ số hệ mười sáu).")
		return
	}
	follow := slices.Contains([]string{"1", "true", "on"}, r.URL.Query().Get("follow"))
	var t *api.Trace
	var err error
	if follow {
		t, err = s.hub.TraceFollow(r.Context(), id, nil, 4)
	} else {
		t, err = s.hub.Trace(r.Context(), id)
	}
	if s.documentFailed(w, r, ss, id, err) {
		return
	}
	b := documentBody{T: t, Doc: t.Document, Follow: follow}
	for _, dl := range t.Recipients {
		row := recipientRow{Delivery: dl, CanRedrive: dl.State == store.StateDead, Name: t.Document.Names[dl.OrganID]}
		if row.CanRedrive {
			b.Dead++
		}
		b.Recipients = append(b.Recipients, row)
	}
	b.Timeline = buildTimeline(t, s.hub.Name())
	s.holdState(&b)
	for name, why := range t.Unreachable {
		b.Unreachable = append(b.Unreachable, [2]string{name, why})
	}
	sort.Slice(b.Unreachable, func(i, j int) bool { return b.Unreachable[i][0] < b.Unreachable[j][0] })
	p := page{Title: "Văn bản " + docTitle(t.Document), Nav: "search", Body: b}
	if v := r.URL.Query().Get("redriven"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			if n == 0 {
				p.Flash = "Không có mục chuyển tiếp thất bại nào cần gửi lại."
			} else {
				p.Flash = fmt.Sprintf("Đã đưa lại %d mục vào hàng chuyển tiếp.", n)
			}
		}
	}
	s.render(w, r, http.StatusOK, "document", ss, p)
}

// holdState fills what the document page says of a held or refused
// document and of its revocation check.
func (s *server) holdState(b *documentBody) {
	d := b.Doc
	if d.State == store.StateHeld || d.State == store.StateRefused {
		state := d.State
		at := d.ReceivedAt
		if !d.DecidedAt.IsZero() {
			at = d.DecidedAt
		}
		for _, r := range d.Pending {
			if slices.ContainsFunc(b.Recipients, func(x recipientRow) bool { return x.OrganID == r.OrganID }) {
				continue
			}
			b.Recipients = append(b.Recipients, recipientRow{Pending: true,
				Delivery: record.Delivery{DocID: d.ID, OrganID: r.OrganID, Route: r.Name(), State: state, UpdatedAt: at}})
		}
	}
	if d.State == store.StateHeld {
		b.HeldSince = d.ReceivedAt
		for _, e := range b.T.Events {
			if e.Event == store.EventHeld && e.Hub == s.hub.Name() {
				b.HeldSince = e.At
				break
			}
		}
		b.HeldAgo = ago(s.hub.Now(), b.HeldSince)
		if m := s.hub.HoldMax(); m > 0 {
			b.HoldDeadline = b.HeldSince.Add(m)
		}
	}
	if d.Revocation == nil {
		return
	}
	b.RevStatus = d.Revocation.Status()
	for i, c := range d.Revocation.Certs {
		row := revocationRow{CertRevocation: c, Index: i, Role: "Chứng thư của người ký"}
		switch {
		case i == 1:
			row.Role = "Chứng thư của CA đã cấp chứng thư người ký"
		case i > 1:
			row.Role = fmt.Sprintf("Chứng thư của CA trung gian (mức %d)", i)
		}
		if c.EvidenceSHA256 != "" {
			row.EvidenceURL = fmt.Sprintf("/admin/documents/%s/revocation-evidence?cert=%d", d.ID, i)
			row.EvidenceExt = evidenceExt(c.Method)
		}
		if c.Status == envelope.StatusUnknown && b.Unknown == nil {
			b.Unknown = &d.Revocation.Certs[i]
		}
		b.Revocation = append(b.Revocation, row)
	}
}

func evidenceExt(method string) string {
	if method == "ocsp" {
		return ".der"
	}
	return ".crl"
}

// revocationEvidence serves the DER that proved a certificate's status,
// the same bytes as the API's GET /admin/v1/documents/{id}/revocation-evidence:
// an OCSP response (openssl ocsp -respin FILE) or a CRL (openssl crl -inform DER).
func (s *server) revocationEvidence(w http.ResponseWriter, r *http.Request, ss *session) {
	id := strings.ToLower(r.PathValue("id"))
	if !api.IsDocID(id) {
		s.notFound(w, r, ss, "Mã văn bản không hợp lệ (mã gồm 32 chữ số hệ mười sáu).")
		return
	}
	i := 0
	if v := r.URL.Query().Get("cert"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.badRequest(w, r, ss, "cert là số thứ tự của chứng thư trong chuỗi (0 là chứng thư của người ký).")
			return
		}
		i = n
	}
	d, err := s.hub.Store().Document(r.Context(), id)
	if s.documentFailed(w, r, ss, id, err) {
		return
	}
	if d.Revocation == nil || i >= len(d.Revocation.Certs) || d.Revocation.Certs[i].EvidenceSHA256 == "" {
		s.notFound(w, r, ss, fmt.Sprintf("Không có bằng chứng thu hồi cho chứng thư %d của văn bản này.", i))
		return
	}
	c := d.Revocation.Certs[i]
	der, err := s.hub.Store().Evidence(r.Context(), c.EvidenceSHA256)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r, ss, fmt.Sprintf("Không có bằng chứng thu hồi cho chứng thư %d của văn bản này.", i))
		return
	}
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	ct, name := "application/pkix-crl", fmt.Sprintf("%s-cert%d-crl%s.crl", id, i, c.CRLNumber)
	if c.Method == "ocsp" {
		ct, name = "application/ocsp-response", fmt.Sprintf("%s-cert%d-ocsp.der", id, i)
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Content-Length", strconv.Itoa(len(der)))
	hd.Set("X-Axis-Revocation-Method", c.Method)
	hd.Set("X-Axis-Evidence-Sha256", c.EvidenceSHA256)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(der)
	}
}

func docTitle(d *record.Document) string {
	if d.Code != "" {
		return d.Code
	}
	return d.ID
}

// buildTimeline groups a trace's events per hub (this hub first, then in
// the order they were reached) and, within a hub, into the document's own
// events and one ordered list per recipient (the events with its organ).
func buildTimeline(t *api.Trace, local string) []hubTimeline {
	recipients := []string{}
	isRecipient := map[string]bool{}
	for _, r := range t.Document.Recipients {
		recipients = append(recipients, r.OrganID)
		isRecipient[r.OrganID] = true
	}
	hubs := slices.Clone(t.Hubs)
	if !slices.Contains(hubs, local) {
		hubs = append([]string{local}, hubs...)
	}
	byHub := map[string][]api.TraceEvent{}
	for _, e := range t.Events {
		if !slices.Contains(hubs, e.Hub) {
			hubs = append(hubs, e.Hub)
		}
		byHub[e.Hub] = append(byHub[e.Hub], e)
	}
	var out []hubTimeline
	for _, h := range hubs {
		evs := byHub[h]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		ht := hubTimeline{Hub: h, Local: h == local}
		groups := map[string]*eventGroup{"": {}}
		order := []string{""}
		if ht.Local {
			for _, o := range recipients {
				groups[o] = &eventGroup{Organ: o}
				order = append(order, o)
			}
		}
		var extra []string
		for _, e := range evs {
			key := ""
			if !docLevel[e.Event] && e.OrganID != "" && (isRecipient[e.OrganID] || e.OrganID != t.Document.From) {
				key = e.OrganID
			}
			g := groups[key]
			if g == nil {
				g = &eventGroup{Organ: key}
				groups[key] = g
				if isRecipient[key] {
					order = append(order, key)
				} else {
					extra = append(extra, key)
				}
			}
			g.Events = append(g.Events, e)
		}
		if !ht.Local { // other hubs: recipients in the document's order
			sort.SliceStable(order[1:], func(i, j int) bool {
				return slices.Index(recipients, order[1+i]) < slices.Index(recipients, order[1+j])
			})
		}
		for _, k := range append(order, extra...) {
			if k == "" && len(groups[k].Events) == 0 {
				continue
			}
			ht.Groups = append(ht.Groups, *groups[k])
		}
		out = append(out, ht)
	}
	return out
}

// ---- Bị kẹt ----------------------------------------------------------------

type stuckRow struct {
	record.StuckItem
	Age string
	// A held envelope's recipients, the first few of them and how many more.
	PendingShown []string
	PendingMore  int
}

// pendingShown bounds the recipients named in a held envelope's row.
const pendingShown = 3

type reasonCount struct {
	Reason string
	Count  int
	Active bool
}

type stuckBody struct {
	Rows    []stuckRow
	Total   int
	Capped  bool
	Hidden  int // matching items beyond stuckRows, counted but not shown
	Reasons []reasonCount
	Reason  string
	Organ   string // only this agency's items
	CSV     string // URL of the CSV export of the list as filtered
}

const stuckLimit = 1000

// stuckRows bounds the rows rendered: a page of a thousand rows took 44 ms
// on the million-document store (the list itself 17 ms); the counts per
// reason still cover stuckLimit, and the reason filters narrow the rows.
const stuckRows = 200

func (s *server) stuck(w http.ResponseWriter, r *http.Request, ss *session) {
	items, err := s.hub.Stuck(r.Context(), stuckLimit)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	reason, organ := r.URL.Query().Get("reason"), strings.TrimSpace(r.URL.Query().Get("organ"))
	if _, ok := reasonLabels[reason]; !ok {
		reason = ""
	}
	if organ != "" { // one agency's: what it waits for, and what it sent that waits
		items = slices.DeleteFunc(items, func(it record.StuckItem) bool {
			return it.OrganID != organ && it.From != organ && !slices.Contains(it.Pending, organ)
		})
	}
	now := s.hub.Now()
	if wantsCSV(r) {
		rows := [][]string{}
		for _, it := range items {
			if reason != "" && it.Reason != reason {
				continue
			}
			rows = append(rows, []string{label(reasonLabels, it.Reason), csvTime(it.Since), it.DocID, it.Code, it.Subject, it.From, it.OrganID,
				s.organName(it.OrganID), s.peerName(it.Peer), itoa(it.Attempts), it.DueDate, it.StatusCode, it.LastError})
		}
		s.writeCSV(w, r, "bi-ket-"+store.Day(now)+".csv", []string{"Lý do", "Từ lúc", "Mã văn bản", "Số ký hiệu", "Trích yếu", "Nơi gửi",
			"Mã nơi nhận", "Nơi nhận", "Trục", "Số lần thử", "Hạn xử lý", "Trạng thái xử lý", "Lỗi gần nhất (kỹ thuật)"}, rows)
		return
	}
	b := stuckBody{Total: len(items), Capped: len(items) >= stuckLimit, Reason: reason, Organ: organ, CSV: csvLink(r)}
	counts := map[string]int{}
	for _, it := range items {
		counts[it.Reason]++
		if reason == "" || it.Reason == reason {
			if len(b.Rows) == stuckRows {
				b.Hidden++
				continue
			}
			row := stuckRow{StuckItem: it, Age: ago(now, it.Since)}
			row.PendingShown = it.Pending[:min(len(it.Pending), pendingShown)]
			row.PendingMore = len(it.Pending) - len(row.PendingShown)
			b.Rows = append(b.Rows, row)
		}
	}
	for _, k := range reasonOrder {
		b.Reasons = append(b.Reasons, reasonCount{Reason: k, Count: counts[k], Active: k == reason})
	}
	s.render(w, r, http.StatusOK, "stuck", ss, page{Title: "Bị kẹt", Nav: "stuck", Body: b})
}

func (s *server) redrive(w http.ResponseWriter, r *http.Request, ss *session) {
	id := strings.ToLower(strings.TrimSpace(r.PostForm.Get("doc_id")))
	recipient := strings.TrimSpace(r.PostForm.Get("recipient"))
	if !api.IsDocID(id) {
		s.badRequest(w, r, ss, "Thiếu mã văn bản hoặc mã không hợp lệ.")
		return
	}
	if ss.caller.Viewer {
		s.message(w, r, http.StatusForbidden, ss, "Không được phép", "Tài khoản chỉ xem ("+ss.caller.Name+") không được gửi lại văn bản; cần tài khoản quản trị.")
		return
	}
	n, err := s.hub.Redrive(r.Context(), ss.caller, id, recipient)
	if s.documentFailed(w, r, ss, id, err) {
		return
	}
	s.log.Info("admin console: redrive", "doc_id", id, "recipient", recipient, "entries", n, "remote_ip", s.opt.ClientIP(r), "caller", ss.caller.String())
	http.Redirect(w, r, "/admin/documents/"+id+"?redriven="+strconv.Itoa(n), http.StatusSeeOther)
}

// ---- Cơ quan ---------------------------------------------------------------

type agencyRow struct {
	*axis.Agency
	Depth int
}

type agenciesBody struct {
	Rows       []agencyRow
	Total      int
	TotalDepth int
	Q          string
}

func (s *server) agencies(w http.ResponseWriter, r *http.Request, ss *session) {
	depths, err := s.hub.Store().QueueDepths(r.Context())
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	want := store.Fold(q)
	all := s.hub.Directory().Agencies()
	b := agenciesBody{Total: len(all), Q: q}
	for _, a := range all {
		if want != "" && !strings.Contains(store.Fold(a.Name), want) && !strings.Contains(store.Fold(a.OrganID), want) {
			continue
		}
		b.Rows = append(b.Rows, agencyRow{Agency: a, Depth: depths[a.OrganID]})
		b.TotalDepth += depths[a.OrganID]
	}
	s.render(w, r, http.StatusOK, "agencies", ss, page{Title: "Cơ quan", Nav: "agencies", Body: b})
}

type agencyBody struct {
	V        *axis.AgencyView
	Today    string
	Children []*axis.Agency
	Chart    template.HTML
	// Overdue are the documents overdue for processing at this agency
	// (the first agencyOverdue of OverdueTotal), oldest deadline first.
	Overdue      []record.StuckItem
	OverdueTotal int
}

// agencyOverdue bounds the overdue documents listed on an agency's page.
const agencyOverdue = 50

func (s *server) agency(w http.ResponseWriter, r *http.Request, ss *session) {
	organ := r.PathValue("organ")
	if _, ok := s.hub.Directory().Agency(organ); !ok {
		s.notFound(w, r, ss, "Trục "+s.hub.Name()+" không có cơ quan mã "+organ+".")
		return
	}
	v, err := s.hub.AgencyView(r.Context(), organ)
	if errors.Is(err, axis.ErrNotFound) {
		s.notFound(w, r, ss, "Trục "+s.hub.Name()+" không có cơ quan mã "+organ+".")
		return
	}
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	b := agencyBody{V: v, Today: store.Day(s.hub.Now())}
	vol, err := s.volume(r.Context(), organ)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	b.Chart = chartSVG(vol, true)
	over, err := s.hub.Store().OverdueProcessing(r.Context(), s.hub.Now(), axis.StuckCap)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	for _, it := range over {
		if it.OrganID == organ {
			if b.OverdueTotal++; len(b.Overdue) < agencyOverdue {
				b.Overdue = append(b.Overdue, it)
			}
		}
	}
	for _, a := range s.hub.Directory().Agencies() {
		if a.Parent == organ {
			b.Children = append(b.Children, a)
		}
	}
	s.render(w, r, http.StatusOK, "agency", ss, page{Title: v.Agency.Name, Nav: "agencies", Body: b})
}

// stateCounts counts deliveries by state, in stateOrder (a relayed copy
// by its reported state where it was delivered).
func stateCounts(dls []record.Delivery) []stateCount {
	n := map[string]int{}
	for _, dl := range dls {
		st := dl.State
		if dl.RemoteState != "" {
			st = dl.RemoteState
		}
		n[st]++
	}
	var out []stateCount
	for _, st := range stateOrder {
		if n[st] > 0 {
			out = append(out, stateCount{st, n[st]})
		}
	}
	return out
}
