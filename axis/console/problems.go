package console

import (
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/store"
)

// Technical messages in Vietnamese. What the hub records of a failure (a
// relay's last error, a refusal, a failed revocation fetch, an event's
// detail) is English and technical, made for logs and the API. The console
// shows a Vietnamese sentence chosen by the stable code the message
// carries, and the message itself folded under "Chi tiết kỹ thuật".

// problemTexts are the sentences of the codes: the hub's problem codes,
// the envelope's verification codes, VDXP's.
var problemTexts = map[string]string{
	"unauthorized":          "Trục kia không chấp nhận thông tin xác thực của trục này (mã thông báo sai hoặc chưa được cấp).",
	"forbidden":             "Trục kia không cho phép thao tác này.",
	"not_found":             "Trục kia không có văn bản hoặc địa chỉ được hỏi.",
	"unknown_recipient":     "Trục kia không biết nơi nhận này (mã cơ quan không có trong danh bạ của trục đó).",
	"sender_mismatch":       "Chứng thư số của người ký không thuộc cơ quan gửi ghi trong văn bản.",
	"bad_request":           "Trục kia cho rằng yêu cầu không hợp lệ.",
	"conflict":              "Trạng thái văn bản ở trục kia không cho phép thao tác này.",
	"unavailable":           "Trục kia đang tạm ngừng (khởi động lại hoặc bảo trì).",
	"internal":              "Trục kia gặp lỗi hệ thống.",
	"malformed_xml":         "Văn bản không phải XML hợp lệ.",
	"doctype_forbidden":     "Văn bản chứa khai báo DOCTYPE, không được phép.",
	"too_large":             "Văn bản vượt quá dung lượng cho phép.",
	"too_deep":              "Cấu trúc XML của văn bản lồng quá sâu.",
	"header_invalid":        "Phần đầu (edXMLHeader) của văn bản không hợp lệ.",
	"signature_missing":     "Văn bản không có chữ ký số.",
	"signature_invalid":     "Chữ ký số không hợp lệ.",
	"digest_mismatch":       "Nội dung văn bản đã bị thay đổi sau khi ký.",
	"algorithm_forbidden":   "Chữ ký dùng thuật toán không được phép.",
	"certificate_untrusted": "Chứng thư số không được tin cậy (không thuộc tổ chức cấp được công nhận).",
	"certificate_expired":   "Chứng thư số đã hết hạn hoặc chưa có hiệu lực.",
	"certificate_usage":     "Chứng thư số không được dùng để ký số.",
	"not_entitled":          "Cơ quan gửi không có quyền thực hiện thao tác này.",
	"certificate_revoked":   "Chứng thư số của người ký đã bị thu hồi.",
	"revocation_unknown":    "Chưa xác định được tình trạng thu hồi của chứng thư số.",
	"duplicate":             "Văn bản này đã được gửi trước đó.",
}

// networkTexts name failures that carry no code, by what the message says
// (Go's net, net/http and crypto/tls errors), first match wins.
var networkTexts = []struct {
	re   *regexp.Regexp
	code string
	text string
}{
	{regexp.MustCompile(`connection refused`), "connection_refused", "Không kết nối được: máy chủ bên kia không nhận kết nối (đang tắt hoặc sai địa chỉ)."},
	{regexp.MustCompile(`no such host|server misbehaving`), "no_such_host", "Không tìm thấy máy chủ bên kia theo tên đã cấu hình."},
	{regexp.MustCompile(`(?i)timeout|deadline exceeded|timed out`), "timeout", "Bên kia không trả lời trong thời hạn."},
	{regexp.MustCompile(`(?i)x509|tls|certificate`), "tls", "Lỗi kết nối bảo mật (TLS): chứng thư của máy chủ bên kia không được chấp nhận, hoặc bên kia không chấp nhận chứng thư của trục này."},
	{regexp.MustCompile(`connection reset|broken pipe|EOF`), "connection_reset", "Kết nối bị ngắt giữa chừng."},
	{regexp.MustCompile(`no route to host|network is unreachable`), "unreachable", "Không có đường mạng tới máy chủ bên kia."},
	{regexp.MustCompile(`answered 5\d\d|HTTP 5\d\d`), "peer_error", "Bên kia gặp lỗi hệ thống khi xử lý."},
	{regexp.MustCompile(`answered 429|HTTP 429`), "limited", "Bên kia tạm từ chối vì nhận quá nhiều yêu cầu; trục sẽ thử lại sau."},
	{regexp.MustCompile(`(?i)ocsp|crl`), "revocation_fetch", "Không lấy được thông tin thu hồi chứng thư (OCSP hoặc CRL) từ tổ chức cấp."},
}

// codeWord finds the words of a message that may be codes.
var codeWord = regexp.MustCompile(`[a-z][a-z_]+[a-z]`)

// explainCode returns the code a technical message carries and its
// Vietnamese sentence; "" and a general sentence when it names none known.
func explainCode(msg string) (string, string) {
	for _, w := range codeWord.FindAllString(msg, -1) {
		if t, ok := problemTexts[w]; ok {
			return w, t
		}
	}
	for _, n := range networkTexts {
		if n.re.MatchString(msg) {
			return n.code, n.text
		}
	}
	return "", "Lỗi kỹ thuật khi trao đổi với bên kia."
}

// explain renders a technical message: its sentence, and the message under
// a disclosure.
func explain(msg string) template.HTML {
	if strings.TrimSpace(msg) == "" {
		return ""
	}
	code, text := explainCode(msg)
	return template.HTML(`<span class="problem" data-code="` + template.HTMLEscapeString(code) + `">` + template.HTMLEscapeString(text) + `</span>` +
		string(technical(msg)))
}

// technical folds a technical text under "Chi tiết kỹ thuật".
func technical(msg string) template.HTML {
	return template.HTML(`<details class="tech"><summary>Chi tiết kỹ thuật</summary><code>` + string(detail(msg)) + `</code></details>`)
}

// problem answers a failed hub call: the page of its status with the
// Vietnamese sentence of its code, the hub's detail folded under it.
func (s *server) problem(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	status, code, det := axis.ProblemOf(err)
	if status >= 500 {
		s.internalError(w, r, ss, err)
		return
	}
	text, ok := consoleProblems[code]
	if !ok {
		_, text = explainCode(code + " " + det)
	}
	s.render(w, r, status, "message", ss, page{Title: "Không thực hiện được", Body: messageBody{Status: status, Text: text, Detail: det}})
}

// consoleProblems are the sentences of the codes a console action may get
// from the hub itself (not from a peer).
var consoleProblems = map[string]string{
	"forbidden":   "Tài khoản này không được phép thực hiện thao tác này.",
	"not_found":   "Không tìm thấy đối tượng được yêu cầu.",
	"bad_request": "Yêu cầu không hợp lệ.",
	"conflict":    "Trạng thái hiện tại không cho phép thao tác này.",
	"unavailable": "Trục đang tạm ngừng (khởi động lại); vui lòng thử lại sau.",
}

// eventSummary is what the timeline shows of an event's detail: a
// Vietnamese line where the detail has one (failures, status codes, who
// acted), the detail itself folded under it.
func (s *server) eventSummary(typ, det string) template.HTML {
	if det == "" {
		return ""
	}
	var line string
	switch typ {
	case store.EventRelayFailed, store.EventDead, store.EventPushFailed, store.EventRefused:
		return explain(det)
	case store.EventOutboxed, store.EventRelayed, store.EventRedriven, store.EventRequeued:
		if m := peerRe.FindStringSubmatch(det); m != nil {
			line = s.routeLabel(m[1])
		}
		if m := byRe.FindStringSubmatch(det); m != nil { // store.byWhom
			line += " · thực hiện bởi " + who(m[1])
		}
	case store.EventStatus:
		if m := statusRe.FindStringSubmatch(det); m != nil {
			line = "Mã " + m[1] + ": " + label(statusLabels, m[1])
		}
	case store.EventReported:
		if m := reportedRe.FindStringSubmatch(det); m != nil {
			line = "Tại trục " + m[2] + ": " + label(stateLabels, m[1])
		}
	case store.EventAdmin:
		if i := strings.Index(det, ": "); i > 0 {
			line = "Thực hiện bởi " + who(det[:i])
		}
	case store.EventQueued:
		line = "Vào hộp thư đến của nơi nhận"
	case store.EventFetched:
		line = "Hệ thống của nơi nhận đã tải văn bản về"
	}
	out := template.HTML("")
	if line != "" {
		out = template.HTML(`<span class="summary">` + template.HTMLEscapeString(line) + `</span>`)
	}
	return out + technical(det)
}

var (
	peerRe     = regexp.MustCompile(`\bpeer=([^\s:]+)`)
	byRe       = regexp.MustCompile(` by (\S+)$`)
	statusRe   = regexp.MustCompile(`\bstatus=(\d\d)\b`)
	reportedRe = regexp.MustCompile(`^([a-z_]+) at ([^\s:]+)`)
)
