package console

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/store"
)

// CSV exports of the search, the statistics and the stuck list: UTF-8
// with a byte order mark (so that Excel opens the Vietnamese right), one
// header line (Vietnamese, for the people who open it), one row per
// line of the page; times in Asia/Ho_Chi_Minh with their offset.

// csvMaxRows bounds an export of the search (its pages read one after the
// other); the stuck list is bounded by axis.StuckCap.
const csvMaxRows = 10_000

// wantsCSV reports whether the request asks for the page as CSV.
func wantsCSV(r *http.Request) bool { return r.URL.Query().Get("format") == "csv" }

// csvTime is a time for a spreadsheet: local time with its offset.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(store.Zone).Format("2006-01-02 15:04:05 -07:00")
}

// writeCSV answers the rows as a download named name.
func (s *server) writeCSV(w http.ResponseWriter, r *http.Request, name string, header []string, rows [][]string) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true // what Excel writes
	cw.Write(header)
	cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		s.internalError(w, r, nil, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// csvLink is the URL of the page's CSV export: the page's own query with
// format=csv (and without its pager).
func csvLink(r *http.Request) string {
	q := r.URL.Query()
	q.Del("before")
	q.Del("back")
	q.Set("format", "csv")
	return r.URL.Path + "?" + q.Encode()
}

// joinStates is a result's recipients by state, for a cell.
func joinStates(sc []stateCount) string {
	parts := make([]string, 0, len(sc))
	for _, c := range sc {
		parts = append(parts, strconv.Itoa(c.Count)+" "+label(stateLabels, c.State))
	}
	return strings.Join(parts, "; ")
}
