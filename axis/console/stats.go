package console

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// ---- Thống kê --------------------------------------------------------------

type statsRow struct {
	record.DayStats      // Name: what the envelopes call an organ outside the directory
	Local           bool // an agency of this hub (else an organ elsewhere, a sender or recipient of the day)
}

type statsBody struct {
	Date, DayText string
	Prev, Next    string // the days before and after, "" past today
	Rows          []statsRow
	Chart         any
	CSV           string
	Quiet         int // agencies with nothing that day, not listed
}

// stats is a day's traffic per agency (GET /admin/v1/stats) and the hub's
// volume of the last 30 days.
func (s *server) stats(w http.ResponseWriter, r *http.Request, ss *session) {
	now := s.hub.Now()
	day := r.URL.Query().Get("date")
	if day == "" {
		day = store.Day(now)
	}
	t, err := time.ParseInLocation("2006-01-02", day, store.Zone)
	if err != nil {
		s.badRequest(w, r, ss, "Ngày phải có dạng năm-tháng-ngày, ví dụ 2026-06-01.")
		return
	}
	st, err := s.hub.Stats(r.Context(), day)
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	if wantsCSV(r) {
		rows := make([][]string, 0, len(st))
		for _, x := range st {
			rows = append(rows, []string{day, x.OrganID, cmp.Or(s.organName(x.OrganID), x.Name), itoa(x.Sent), itoa(x.Received), itoa(x.Fetched), itoa(x.AckedDone), itoa(x.AckedFail),
				itoa(x.Pending), itoa(x.Relayed), itoa(x.Relaying), itoa(x.Dead), itoa(x.SentRelayed), itoa(x.SentRelaying), itoa(x.SentDead)})
		}
		s.writeCSV(w, r, "thong-ke-"+day+".csv", []string{"Ngày", "Mã cơ quan", "Tên cơ quan", "Đã gửi", "Gửi đến", "Đã tải về", "Đã xác nhận", "Từ chối/lỗi",
			"Chờ xử lý", "Gửi đến đã chuyển tiếp", "Gửi đến đang chuyển tiếp", "Gửi đến chuyển tiếp thất bại",
			"Gửi đi đã chuyển tiếp", "Gửi đi đang chuyển tiếp", "Gửi đi chuyển tiếp thất bại"}, rows)
		return
	}
	vol, err := s.volume(r.Context(), "")
	if err != nil {
		s.internalError(w, r, ss, err)
		return
	}
	b := statsBody{Date: day, DayText: dayText(day), Prev: store.Day(t.AddDate(0, 0, -1)), Chart: chartSVG(vol, false), CSV: csvLink(r)}
	if next := store.Day(t.AddDate(0, 0, 1)); next <= store.Day(now) {
		b.Next = next
	}
	for _, x := range st {
		_, local := s.hub.Directory().Agency(x.OrganID)
		if x == (record.DayStats{OrganID: x.OrganID}) {
			b.Quiet++
			continue
		}
		b.Rows = append(b.Rows, statsRow{DayStats: x, Local: local})
	}
	s.render(w, r, http.StatusOK, "stats", ss, page{Title: "Thống kê", Nav: "stats", Body: b})
}

func itoa(n int) string { return strconv.Itoa(n) }
