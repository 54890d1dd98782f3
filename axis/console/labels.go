package console

import (
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
)

// Vietnamese labels of the hub's codes. An unknown code is shown as is.

var stateLabels = map[string]string{
	store.StateQueued:    "Chờ nhận",
	store.StateDelivered: "Đã nhận",
	store.StateAckedDone: "Đã xác nhận",
	store.StateAckedFail: "Từ chối/lỗi",
	store.StateRelaying:  "Đang chuyển tiếp",
	store.StateRelayed:   "Đã chuyển tiếp",
	store.StateDead:      "Chuyển tiếp thất bại",
	// a recipient of a held or refused document (record.Document.Pending)
	store.StateHeld:    "Chưa chuyển (tạm giữ)",
	store.StateRefused: "Không chuyển (bị từ chối)",
}

// stateOrder is the order of the state filter of the search form.
var stateOrder = []string{store.StateQueued, store.StateDelivered, store.StateAckedDone, store.StateAckedFail,
	store.StateRelaying, store.StateRelayed, store.StateDead}

var eventLabels = map[string]string{
	store.EventReceived:    "Đã tiếp nhận",
	store.EventVerified:    "Đã xác thực chữ ký",
	store.EventQueued:      "Vào hàng đợi",
	store.EventOutboxed:    "Chờ chuyển tiếp",
	store.EventRelayed:     "Đã chuyển tiếp",
	store.EventRelayFailed: "Chuyển tiếp lỗi",
	store.EventDead:        "Thất bại",
	store.EventRedriven:    "Gửi lại",
	store.EventFetched:     "Đã tải về",
	store.EventAcked:       "Đã xác nhận",
	store.EventStatus:      "Trạng thái xử lý",
	store.EventRelated:     "Liên quan",
	store.EventPushed:      "Đã đẩy",
	store.EventPushFailed:  "Đẩy lỗi",
	store.EventDuplicate:   "Trùng lặp",
	store.EventHeld:        "Tạm giữ",
	store.EventReleased:    "Hết tạm giữ",
	store.EventRefused:     "Bị từ chối",
	store.EventReported:    "Trục nơi nhận báo trạng thái",
	store.EventAdmin:       "Thao tác quản trị",
	store.EventRequeued:    "Đưa lại vào hàng chuyển tiếp (đối soát)",
	store.EventRestored:    "Khôi phục nội dung từ bản sao của trục khác (đối soát)",
}

// eventTone is the colour family of an event's badge.
var eventTone = map[string]string{
	store.EventReceived:    "info",
	store.EventVerified:    "info",
	store.EventQueued:      "wait",
	store.EventOutboxed:    "wait",
	store.EventRelayed:     "ok",
	store.EventRelayFailed: "warn",
	store.EventDead:        "bad",
	store.EventRedriven:    "wait",
	store.EventFetched:     "info",
	store.EventAcked:       "ok",
	store.EventStatus:      "info",
	store.EventRelated:     "info",
	store.EventPushed:      "ok",
	store.EventPushFailed:  "warn",
	store.EventDuplicate:   "muted",
	store.EventHeld:        "warn",
	store.EventReleased:    "ok",
	store.EventRefused:     "bad",
}

var reasonLabels = map[string]string{
	"not_fetched":    "Chưa tải về",
	"not_acked":      "Chưa xác nhận",
	"relay_retrying": "Đang thử chuyển lại",
	"relay_dead":     "Chuyển tiếp thất bại",
	"held":           "Chờ kiểm tra thu hồi chứng thư",
	// store.ReasonOverdueProcessing
	"overdue_processing": "Quá hạn xử lý",
}

var reasonOrder = []string{"not_fetched", "not_acked", "relay_retrying", "relay_dead", "held", store.ReasonOverdueProcessing}

// docStateLabels are the states of a document itself (record.Document.State;
// "" is a document routed at intake).
var docStateLabels = map[string]string{
	store.StateHeld:    "Tạm giữ",
	store.StateRefused: "Bị từ chối",
}

// revStatusLabels are the revocation statuses of a certificate.
var revStatusLabels = map[string]string{
	envelope.StatusGood:    "Còn hiệu lực",
	envelope.StatusRevoked: "Đã bị thu hồi",
	envelope.StatusUnknown: "Chưa xác định",
}

var revStatusTone = map[string]string{
	envelope.StatusGood:    "ok",
	envelope.StatusRevoked: "bad",
	envelope.StatusUnknown: "warn",
}

var revMethodLabels = map[string]string{
	"ocsp": "OCSP",
	"crl":  "CRL (danh sách chứng thư bị thu hồi)",
}

// revReasonLabels are the revocation reasons of RFC 5280 (CRLReason).
var revReasonLabels = map[string]string{
	"unspecified":          "không nêu lý do",
	"keyCompromise":        "lộ khóa bí mật",
	"cACompromise":         "lộ khóa của tổ chức cấp chứng thư",
	"affiliationChanged":   "thay đổi thông tin đơn vị",
	"superseded":           "đã được thay thế",
	"cessationOfOperation": "ngừng hoạt động",
	"certificateHold":      "tạm dừng",
	"removeFromCRL":        "gỡ khỏi danh sách thu hồi",
	"privilegeWithdrawn":   "rút quyền",
	"aACompromise":         "lộ khóa của tổ chức cấp thuộc tính",
}

// refusalLabels are the codes a held envelope may be refused with.
var refusalLabels = map[string]string{
	"certificate_revoked":   "Chứng thư số của người ký đã bị thu hồi",
	"revocation_unknown":    "Quá thời hạn tạm giữ mà vẫn chưa xác định được tình trạng thu hồi chứng thư số",
	"certificate_expired":   "Chứng thư số đã hết hạn hoặc chưa có hiệu lực",
	"certificate_untrusted": "Chứng thư số không được tin cậy",
	"signature_invalid":     "Chữ ký số không hợp lệ",
}

// statusLabels are the processing statuses of edXML status messages.
var statusLabels = map[string]string{
	"01": "Đã đến",
	"02": "Từ chối tiếp nhận",
	"03": "Đã tiếp nhận",
	"04": "Đã phân công",
	"05": "Đang xử lý",
	"06": "Hoàn thành",
	"13": "Đề nghị lấy lại",
	"15": "Đồng ý cập nhật/lấy lại",
	"16": "Từ chối cập nhật/lấy lại",
}

var kindLabels = map[string]string{
	"document": "Văn bản",
	"status":   "Thông báo trạng thái",
}

var businessLabels = map[int]string{
	0: "Văn bản mới",
	1: "Thu hồi",
	2: "Cập nhật",
	3: "Thay thế",
}

var peerKindLabels = map[string]string{
	"axis": "Trục axis",
	"vdxp": "VDXP (trục quốc gia)",
	"pull": "Tự lấy qua VDXP",
}

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

var weekdays = [...]string{"CN", "T2", "T3", "T4", "T5", "T6", "T7"}

// fmtTime is a time in Asia/Ho_Chi_Minh with its weekday and offset:
// "T2 01/06/2026 16:00:05 GMT+7".
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "chưa có"
	}
	t = t.In(store.Zone)
	_, off := t.Zone()
	tz := fmt.Sprintf("GMT%+d", off/3600)
	if m := off % 3600 / 60; m != 0 {
		tz += fmt.Sprintf(":%02d", max(m, -m))
	}
	return weekdays[t.Weekday()] + " " + t.Format("02/01/2006 15:04:05") + " " + tz
}

// timeTag is fmtTime in a <time> element with the exact instant.
func timeTag(t time.Time) template.HTML {
	if t.IsZero() {
		return template.HTML(`<span class="muted">chưa có</span>`)
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`,
		template.HTMLEscapeString(t.In(store.Zone).Format(time.RFC3339)), template.HTMLEscapeString(fmtTime(t))))
}

// optTime is timeTag of an optional time.
func optTime(t *time.Time) template.HTML {
	if t == nil {
		return timeTag(time.Time{})
	}
	return timeTag(*t)
}

// ago says how long ago t was, coarsely: "3 ngày 2 giờ trước", "vừa xong".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < time.Minute {
		return "vừa xong"
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%d ngày %d giờ trước", days, hours)
	case days > 0:
		return fmt.Sprintf("%d ngày trước", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%d giờ %d phút trước", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%d giờ trước", hours)
	}
	return fmt.Sprintf("%d phút trước", mins)
}

// docRef is a document id named in an event's detail (a status message, a
// revoke or update).
var docRef = regexp.MustCompile(`\b(message|by)=([0-9a-f]{32})\b`)

// detail is an event's detail text, escaped, with the documents it names
// linked to their pages.
func detail(s string) template.HTML {
	return template.HTML(docRef.ReplaceAllString(template.HTMLEscapeString(s), `$1=<a href="/admin/documents/$2">$2</a>`))
}

// number groups digits the Vietnamese way: 1.234.567.
func number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// size is a byte count for people: "1.234 byte (1,2 KB)".
func size(n int) string {
	out := number(n) + " byte"
	switch {
	case n >= 1<<20:
		out += " (" + strings.Replace(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".", ",", 1) + " MB)"
	case n >= 1<<10:
		out += " (" + strings.Replace(strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64), ".", ",", 1) + " KB)"
	}
	return out
}

// who names the caller an event or a report records (axis.Caller.String):
// "admin:Trần Văn An" is Trần Văn An, a bare "admin" the unnamed
// administrator (admin.token_sha256), "schedule" the nightly schedule.
func who(by string) string {
	switch {
	case by == "admin":
		return "quản trị viên (mã chung)"
	case by == "schedule":
		return "theo lịch"
	case strings.HasPrefix(by, "admin:"):
		return strings.TrimPrefix(by, "admin:")
	case strings.HasPrefix(by, "viewer:"):
		return strings.TrimPrefix(by, "viewer:") + " (chỉ xem)"
	case strings.HasPrefix(by, "peer:"):
		return "trục " + strings.TrimPrefix(by, "peer:")
	}
	return by
}

// redrive is what the "redrive" template (a dead relay's button) needs.
type redrive struct{ CSRF, DocID, OrganID string }

var funcs = template.FuncMap{
	"redriveForm": func(csrf, docID, organ string) redrive { return redrive{csrf, docID, organ} },
	"stateLabel":  func(s string) string { return label(stateLabels, s) },
	"eventLabel":  func(s string) string { return label(eventLabels, s) },
	"eventTone":   func(s string) string { return label(eventTone, s) },
	"reasonLabel": func(s string) string { return label(reasonLabels, s) },
	"statusLabel": func(s string) string { return label(statusLabels, s) },
	"kindLabel":   func(s string) string { return label(kindLabels, s) },
	"peerKind":    func(s string) string { return label(peerKindLabels, s) },
	"docState":    func(s string) string { return label(docStateLabels, s) },
	"revStatus":   func(s string) string { return label(revStatusLabels, s) },
	"revTone":     func(s string) string { return label(revStatusTone, s) },
	"revMethod":   func(s string) string { return label(revMethodLabels, s) },
	"revReason": func(s string) string {
		if v, ok := revReasonLabels[s]; ok {
			return v + " (" + s + ")"
		}
		return s
	},
	"refusalLabel": func(s string) string { return refusalLabels[s] },
	"businessLabel": func(n int) string {
		if v, ok := businessLabels[n]; ok {
			return v
		}
		return strconv.Itoa(n)
	},
	// routeLabel and peerName need the hub's config: console.go adds them.
	"routeLabel": func(r string) string { return r },
	"peerName":   func(r string) string { return r },
	"time":       timeTag,
	"detail":     detail,
	"explain":    explain,
	"technical":  technical,
	"optTime":    optTime,
	"number":     number,
	"minus":      func(a, b int) int { return a - b },
	"who":        who,
	"size":       size,
}
