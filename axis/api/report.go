package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html/template"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/axis-h40/axis/store/record"
)

// ReportFiles are the files of a reconciliation report, as WriteReportFiles
// writes them.
var ReportFiles = []string{"report.json", "report.csv", "report.html", ReportSummaryFile}

// ReportSummaryFile is the report without its lists (agencies, peers,
// discrepancies): what a list of runs reads.
const ReportSummaryFile = "summary.json"

// WriteReportFiles writes report.json, report.csv, report.html and
// summary.json of a reconciliation into dir (created), each replaced
// atomically.
func WriteReportFiles(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	sum := *r
	sum.Agencies, sum.Peers, sum.Discrepancies = nil, nil, nil
	sj, err := json.Marshal(&sum)
	if err != nil {
		return err
	}
	var cs bytes.Buffer
	if err := writeReportCSV(&cs, r); err != nil {
		return err
	}
	var hs bytes.Buffer
	if err := reportHTML.Execute(&hs, r); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"report.json": append(js, '\n'), "report.csv": cs.Bytes(), "report.html": hs.Bytes(), ReportSummaryFile: append(sj, '\n')} {
		if err := writeAtomic(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// writeReportCSV: UTF-8 with a byte order mark (so that Excel reads the
// Vietnamese right), one header line, one row per discrepancy. The totals
// are in report.json and report.html.
func writeReportCSV(b *bytes.Buffer, r *Report) error {
	b.WriteString("\ufeff")
	w := csv.NewWriter(b)
	if err := w.Write([]string{"kind", "doc_id", "code", "subject", "organ_id", "peer", "reason", "detail", "repaired"}); err != nil {
		return err
	}
	for _, d := range r.Discrepancies {
		if err := w.Write([]string{d.Kind, d.DocID, d.Code, d.Subject, d.OrganID, d.Peer, r.Reason(d), d.Detail, strconv.FormatBool(d.Repaired)}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// PeerName is a peer as people call it (peers[].display_name), else its name.
func (r *Report) PeerName(name string) string {
	for _, p := range r.Peers {
		if p.Peer == name && p.DisplayName != "" {
			return p.DisplayName
		}
	}
	return name
}

// peerKindVI names the kinds of peers.
var peerKindVI = map[string]string{"axis": "trục axis", "vdxp": "VDXP (trục quốc gia)", "pull": "tự lấy qua VDXP"}

// Reason says in Vietnamese what a discrepancy means; Detail keeps the
// technical account.
func (r *Report) Reason(d Discrepancy) string {
	peer := r.PeerName(d.Peer)
	switch d.Kind {
	case KindMissingAtPeer:
		return "Trục " + peer + " không có văn bản này, dù trục này đã chuyển tiếp cho " + d.OrganID
	case KindUnknownAtPeer:
		return "Trục " + peer + " đã nhận văn bản này qua trục này, nhưng trục này không có bản ghi"
	case KindMissingDelivery:
		return "Thiếu bản ghi chuyển phát cho " + d.OrganID
	case KindHashMismatch:
		return "Nội dung đang lưu không khớp mã băm đã ghi khi tiếp nhận"
	case KindChainBroken:
		return "Nhật ký sự kiện bị sửa hoặc bị đứt"
	case KindOverdue:
		return d.OrganID + " chưa tải hoặc chưa xác nhận văn bản quá thời hạn"
	case KindDeadRelay:
		return "Đã ngừng chuyển tiếp tới trục " + peer + " sau nhiều lần thất bại"
	case KindOverdueProcessing:
		return d.OrganID + " chưa báo hoàn thành xử lý (trạng thái 06) dù đã quá hạn xử lý"
	}
	return d.Kind
}

var kindVI = map[string]string{
	KindMissingAtPeer:     "Trục bạn không có",
	KindUnknownAtPeer:     "Trục bạn có, trục này không biết",
	KindMissingDelivery:   "Thiếu bản ghi chuyển phát",
	KindHashMismatch:      "Dữ liệu bị thay đổi",
	KindChainBroken:       "Nhật ký bị sửa",
	KindOverdue:           "Quá hạn",
	KindDeadRelay:         "Chuyển tiếp thất bại",
	KindOverdueProcessing: "Quá hạn xử lý",
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"kindVI": func(k string) string { return kindVI[k] },
	"peerKindVI": func(k string) string {
		if v, ok := peerKindVI[k]; ok {
			return v
		}
		return k
	},
	"local": func(t time.Time) template.HTML {
		return template.HTML(t.In(record.Zone).Format("2006-01-02 15:04:05 (-07:00)"))
	}, // digits and signs only
}).Parse(`<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Đối soát {{.Date}} — {{.Hub}}</title>
<style>
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2433;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:2px solid #d5dbe6;padding-bottom:.25rem}
.sub{color:#5a6478;margin:0 0 1.25rem}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.ok{background:#e3f5e8;color:#175c2c;border:1px solid #9fd5ad}.bad{background:#fdecea;color:#8a1c12;border:1px solid #f0aaa1}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.35rem .55rem;border-bottom:1px solid #e2e6ee;vertical-align:top}
th{background:#f2f4f8;font-weight:600}tr:nth-child(even) td{background:#fafbfd}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
.card{border:1px solid #e2e6ee;border-radius:6px;padding:.6rem .8rem}.card b{display:block;font-size:1.4rem}.card span{color:#5a6478;font-size:.85rem}
code{font:12px ui-monospace,monospace;white-space:nowrap}code.id{display:block;color:#5a6478;font-size:11px}details summary{color:#5a6478;font-size:.85rem;cursor:pointer}
.tag{display:inline-block;padding:.05rem .45rem;border-radius:4px;font-size:.8rem;background:#eef1f6}
.rep{color:#175c2c;font-weight:600}.rem{color:#8a1c12;font-weight:600}
</style></head><body>
<h1>Báo cáo đối soát ngày {{.Date}}</h1>
<p class="sub">Trục {{.Hub}} · chạy lúc {{local .StartedAt}}{{if .Repair}} · có sửa chữa (--repair){{end}}</p>
{{if eq .Totals.Remaining 0}}<div class="verdict ok" id="verdict">Không còn sai lệch: mọi văn bản tiếp nhận trong ngày đã đến nơi nhận hoặc đang chờ với lý do rõ ràng.{{if .Totals.Repaired}} Đã sửa {{.Totals.Repaired}} sai lệch.{{end}}</div>
{{else}}<div class="verdict bad" id="verdict">Còn {{.Totals.Remaining}} sai lệch cần xem xét{{if .Totals.Repaired}} (đã sửa {{.Totals.Repaired}}){{end}}.</div>{{end}}
<h2>Tổng số</h2>
<div class="grid" id="totals">
<div class="card"><b>{{.Totals.Accepted}}</b><span>văn bản tiếp nhận</span></div>
<div class="card"><b>{{.Totals.Deliveries}}</b><span>lượt chuyển phát</span></div>
<div class="card"><b>{{.Totals.AckedDone}}</b><span>đã xác nhận</span></div>
<div class="card"><b>{{.Totals.AckedFail}}</b><span>từ chối / lỗi</span></div>
<div class="card"><b>{{.Totals.Pending}}</b><span>đang chờ</span></div>
<div class="card"><b>{{.Totals.Overdue}}</b><span>quá hạn</span></div>
<div class="card"><b>{{.Totals.Relayed}}</b><span>đã chuyển tiếp ({{.Totals.Confirmed}} được xác nhận)</span></div>
<div class="card"><b>{{.Totals.Retrying}}</b><span>đang thử lại</span></div>
<div class="card"><b>{{.Totals.Dead}}</b><span>chuyển tiếp thất bại</span></div>
<div class="card"><b>{{if .Totals.ChainOK}}toàn vẹn{{else}}BỊ SỬA{{end}}</b><span>nhật ký ({{.Totals.ChainEvents}} sự kiện)</span></div>
</div>
<h2>Sai lệch ({{.Totals.Discrepancies}})</h2>
{{if .Discrepancies}}<table id="discrepancies"><tr><th>Loại</th><th>Văn bản</th><th>Nơi nhận</th><th>Trục</th><th>Lý do</th><th>Xử lý</th></tr>
{{range .Discrepancies}}<tr class="discrepancy" data-kind="{{.Kind}}"><td>{{kindVI .Kind}}</td><td>{{if .Code}}<b>{{.Code}}</b>{{end}}{{if .Subject}}<div>{{.Subject}}</div>{{end}}<code class="id">{{.DocID}}</code></td><td>{{.OrganID}}</td><td>{{$.PeerName .Peer}}</td><td>{{$.Reason .}}<details><summary>Chi tiết kỹ thuật</summary><span class="tag">{{.Kind}}</span> {{.Detail}}</details></td><td>{{if .Repaired}}<span class="rep">đã sửa</span>{{else}}<span class="rem">còn lại</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p>Không có.</p>{{end}}
<h2>Trục liên thông</h2>
<table id="peers"><tr><th>Trục</th><th>Loại</th><th class="n">Đã chuyển</th><th class="n">Được xác nhận</th><th class="n">Đang thử lại</th><th class="n">Thất bại</th><th class="n">Trục bạn thiếu</th><th class="n">Không rõ</th><th>Ghi chú</th></tr>
{{range .Peers}}<tr><td>{{if .DisplayName}}{{.DisplayName}} <code>{{.Peer}}</code>{{else}}{{.Peer}}{{end}}</td><td>{{peerKindVI .Kind}}</td><td class="n">{{.Relayed}}</td><td class="n">{{.Confirmed}}</td><td class="n">{{.Retrying}}</td><td class="n">{{.Dead}}</td><td class="n">{{.MissingAtPeer}}</td><td class="n">{{.UnknownAtPeer}}</td><td>{{if .Checked}}đã đối chiếu{{else}}chưa đối chiếu{{end}}{{if .Note}}<details><summary>Chi tiết kỹ thuật</summary>{{.Note}}</details>{{end}}</td></tr>
{{end}}</table>
<h2>Theo cơ quan</h2>
<table id="agencies"><tr><th>Mã</th><th>Cơ quan</th><th class="n">Gửi</th><th class="n">Nhận</th><th class="n">Đã tải</th><th class="n">Đã xác nhận</th><th class="n">Lỗi</th><th class="n">Đang chờ</th><th class="n">Quá hạn</th></tr>
{{range .Agencies}}<tr><td>{{.OrganID}}</td><td>{{.Name}}</td><td class="n">{{.Sent}}</td><td class="n">{{.Received}}</td><td class="n">{{.Fetched}}</td><td class="n">{{.AckedDone}}</td><td class="n">{{.AckedFail}}</td><td class="n">{{.Pending}}</td><td class="n">{{.Overdue}}</td></tr>
{{end}}</table>
</body></html>
`))
