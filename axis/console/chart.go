package console

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/axis-h40/axis/store"
)

// The volume chart: documents a day over the last chartDays days, for the
// hub or one agency, drawn on the server as an inline SVG (no JavaScript).
// A past day's count never changes (a document's day is the day it was
// stored), so past days are counted once and kept; today is counted on
// every view.

const chartDays = 30

// volumes keeps the counts of past days, per scope ("" the hub, else an
// organ) and day.
type volumes struct {
	mu sync.Mutex
	m  map[string]store.DayVolume // scope \x00 day
}

// maxVolumes bounds what is kept: 30 days of every agency of a province
// several times over.
const maxVolumes = 50_000

// volume returns the volume of the chartDays days up to today, oldest first.
func (s *server) volume(ctx context.Context, organ string) ([]store.DayVolume, error) {
	now := s.hub.Now()
	days := make([]string, chartDays)
	for i := range days {
		days[i] = store.Day(now.AddDate(0, 0, i-chartDays+1))
	}
	today := days[len(days)-1]
	out := make([]store.DayVolume, len(days))
	var missing []string
	var at []int
	s.vol.mu.Lock()
	for i, d := range days {
		if v, ok := s.vol.m[organ+"\x00"+d]; ok && d != today {
			out[i] = v
			continue
		}
		missing, at = append(missing, d), append(at, i)
	}
	s.vol.mu.Unlock()
	got, err := s.hub.Store().Volume(ctx, organ, missing)
	if err != nil {
		return nil, err
	}
	s.vol.mu.Lock()
	defer s.vol.mu.Unlock()
	if s.vol.m == nil || len(s.vol.m) > maxVolumes {
		s.vol.m = map[string]store.DayVolume{}
	}
	for j, v := range got {
		out[at[j]] = v
		if v.Day != today {
			s.vol.m[organ+"\x00"+v.Day] = v
		}
	}
	return out, nil
}

// Geometry of the chart, in SVG user units.
const (
	chartW, chartH      = 720, 200
	chartLeft, chartTop = 44, 12
	chartBottom         = 28
)

// chartSVG draws the volume as bars, one a day; with sent and received
// (an agency) each bar is the two stacked. Every bar has a <title> with
// its day and counts, and the figure a text summary for screen readers.
func chartSVG(v []store.DayVolume, agency bool) template.HTML {
	top, total := 0, 0
	for _, d := range v {
		top = max(top, d.Documents)
		total += d.Documents
	}
	top = niceCeil(top)
	plotW, plotH := float64(chartW-chartLeft-8), float64(chartH-chartTop-chartBottom)
	bw := plotW / float64(len(v))
	var b strings.Builder
	what := "văn bản trục đã nhận"
	if agency {
		what = "văn bản đã gửi và nhận"
	}
	fmt.Fprintf(&b, `<svg class="chart" id="volume-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="volume-title" data-days="%d" data-total="%d">`, chartW, chartH, len(v), total)
	fmt.Fprintf(&b, `<title id="volume-title">Số %s mỗi ngày trong %d ngày qua: tổng %s</title>`, what, len(v), number(total))
	// Grid lines at 0, half and the top.
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(chartTop) + plotH*(1-f)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, chartLeft, y, chartW-8, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, y+4, number(int(float64(top)*f)))
	}
	for i, d := range v {
		x := float64(chartLeft) + float64(i)*bw
		day, _ := time.Parse("2006-01-02", d.Day)
		label := day.Format("02/01")
		tip := fmt.Sprintf("%s: %s văn bản", day.Format("02/01/2006"), number(d.Documents))
		if agency {
			tip = fmt.Sprintf("%s: gửi %s, nhận %s", day.Format("02/01/2006"), number(d.Sent), number(d.Received))
		}
		fmt.Fprintf(&b, `<g class="day" data-day="%s" data-count="%d"><title>%s</title>`, d.Day, d.Documents, template.HTMLEscapeString(tip))
		y := float64(chartTop) + plotH
		parts := []struct {
			n   int
			cls string
		}{{d.Documents, "bar"}}
		if agency {
			parts = []struct {
				n   int
				cls string
			}{{d.Sent, "bar sent"}, {d.Received, "bar received"}}
		}
		for _, p := range parts {
			if p.n == 0 || top == 0 {
				continue
			}
			h := plotH * float64(p.n) / float64(top)
			y -= h
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, p.cls, x+1, y, bw-2, h)
		}
		if i%5 == (len(v)-1)%5 { // a date every five days, ending today
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+bw/2, chartH-8, label)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (the chart's top).
func niceCeil(n int) int {
	if n <= 0 {
		return 0
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
