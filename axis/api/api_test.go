package api

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIsDocID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"00000000000000000000000000000000", true},
		{"0123456789abcdef0123456789abcde", false},    // 31 digits
		{"0123456789abcdef0123456789abcdef0", false},  // 33 digits
		{"0123456789abcdef0123456789abcdef01", false}, // 34 digits: 17 bytes
		{"0123456789abcdef0123456789abcdeg", false},   // 'g' is not hex
		{"0123456789abcdef-123456789abcdef", false},
		{"0123456789abcdef 123456789abcdef", false},
		// hex.DecodeString accepts upper-case digits, so IsDocID does too.
		{"0123456789ABCDEF0123456789ABCDEF", true},
		{"0123456789abcdefABCDEF0123456789", true},
		{"", false},
	} {
		if got := IsDocID(tc.in); got != tc.want {
			t.Errorf("IsDocID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReportClean(t *testing.T) {
	for _, tc := range []struct {
		name   string
		totals Totals
		want   bool
	}{
		{"zero", Totals{}, true},
		{"all repaired", Totals{Discrepancies: 3, Repaired: 3, Remaining: 0}, true},
		{"one remaining", Totals{Discrepancies: 3, Repaired: 2, Remaining: 1}, false},
		{"none repaired", Totals{Discrepancies: 2, Remaining: 2}, false},
		// Clean looks at Remaining only, not at the chain or the other counts.
		{"chain broken, nothing remaining", Totals{ChainOK: false, Overdue: 4, Dead: 1}, true},
	} {
		r := &Report{Totals: tc.totals}
		if got := r.Clean(); got != tc.want {
			t.Errorf("%s: Clean() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

const (
	docA = "0123456789abcdef0123456789abcdef"
	docB = "fedcba9876543210fedcba9876543210"
)

func sampleReport() *Report {
	return &Report{
		Date:       "2026-03-01",
		Hub:        "axis-h40",
		StartedAt:  time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 3, 2, 1, 0, 7, 0, time.UTC),
		Repair:     true,
		Totals: Totals{
			Accepted: 12, Deliveries: 20, Fetched: 18, AckedDone: 16, AckedFail: 1,
			Pending: 3, Overdue: 1, Relayed: 5, Confirmed: 4, Retrying: 1,
			ChainEvents: 140, ChainOK: true, Discrepancies: 2, Repaired: 1, Remaining: 1,
		},
		Agencies: []AgencyTotals{
			{OrganID: "000.00.01.H40", Name: "Sở Nội vụ", Sent: 7, Received: 9, Fetched: 9, AckedDone: 8, Pending: 1},
			{OrganID: "000.00.02.H40", Sent: 5, Received: 11, Fetched: 9, AckedDone: 8, AckedFail: 1, Pending: 2, Overdue: 1},
		},
		Peers: []PeerTotals{
			{Peer: "axis-h41", Kind: "native", Relayed: 5, Confirmed: 4, Retrying: 1, MissingAtPeer: 1, Checked: true, Note: "asked at 01:00"},
		},
		Discrepancies: []Discrepancy{
			{Kind: KindMissingAtPeer, DocID: docA, Code: "15/UBND-VP", Subject: "Về việc báo cáo, năm 2026", OrganID: "000.00.09.H41", Peer: "axis-h41",
				Detail: `relayed, peer says "no", <script>alert(1)</script>`, Repaired: true},
			{Kind: KindOverdue, DocID: docB, OrganID: "000.00.02.H40", Detail: "not fetched after 48h"},
		},
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names // os.ReadDir sorts by name
}

func TestWriteReportFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub") // does not exist yet
	r := sampleReport()
	if err := WriteReportFiles(dir, r); err != nil {
		t.Fatal(err)
	}
	want := []string{"report.csv", "report.html", "report.json", "summary.json"}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("dir holds %q, want %q", got, want)
	}
	// summary.json is the report without its lists.
	var sum Report
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, ReportSummaryFile))), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Date != r.Date || sum.Totals != r.Totals || sum.Discrepancies != nil || sum.Agencies != nil || sum.Peers != nil {
		t.Fatalf("summary %+v", sum)
	}

	// report.json decodes back to the same Report.
	js := readFile(t, filepath.Join(dir, "report.json"))
	if !strings.HasSuffix(js, "}\n") {
		t.Errorf("report.json does not end in a newline after the object")
	}
	var back Report
	if err := json.Unmarshal([]byte(js), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("report.json round trip:\n got %+v\nwant %+v", back, *r)
	}

	// report.csv: UTF-8 with a BOM (Excel), one header line, one row per
	// discrepancy with its notation, subject and Vietnamese reason.
	cs := readFile(t, filepath.Join(dir, "report.csv"))
	body, bom := strings.CutPrefix(cs, "\ufeff")
	if !bom {
		t.Errorf("report.csv starts with %q, not the UTF-8 byte order mark", cs[:min(len(cs), 8)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"kind", "doc_id", "code", "subject", "organ_id", "peer", "reason", "detail", "repaired"},
		{"missing_at_peer", docA, "15/UBND-VP", "Về việc báo cáo, năm 2026", "000.00.09.H41", "axis-h41",
			"Trục axis-h41 không có văn bản này, dù trục này đã chuyển tiếp cho 000.00.09.H41", `relayed, peer says "no", <script>alert(1)</script>`, "true"},
		{"overdue", docB, "", "", "000.00.02.H40", "", "000.00.02.H40 chưa tải hoặc chưa xác nhận văn bản quá thời hạn", "not fetched after 48h", "false"},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("report.csv rows:\n got %q\nwant %q", rows, wantRows)
	}

	// report.html: hub, date, every doc id; the detail escaped.
	hs := readFile(t, filepath.Join(dir, "report.html"))
	for _, s := range []string{
		"axis-h40",
		"Báo cáo đối soát ngày 2026-03-01",
		"2026-03-02 08:00:00 (+07:00)", // local time, with the offset
		"<b>15/UBND-VP</b><div>Về việc báo cáo, năm 2026</div><code class=\"id\">" + docA + "</code>",
		"<code class=\"id\">" + docB + "</code>",
		"Trục axis-h41 không có văn bản này, dù trục này đã chuyển tiếp cho 000.00.09.H41<details><summary>Chi tiết kỹ thuật</summary>",
		`data-kind="missing_at_peer"`,
		`data-kind="overdue"`,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`id="verdict">Còn 1 sai lệch`,
		"Sở Nội vụ",
	} {
		if !strings.Contains(hs, s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	if strings.Contains(hs, "<script>") {
		t.Errorf("report.html holds an unescaped <script>")
	}

	// A second run on the same dir replaces all three files, leaving no
	// temporary file behind.
	r2 := sampleReport()
	r2.Date = "2026-03-02"
	r2.Hub = "axis-h40b"
	r2.Totals.Repaired, r2.Totals.Remaining = 2, 0
	r2.Discrepancies = r2.Discrepancies[:1]
	r2.Discrepancies[0].Detail = "second run"
	if err := WriteReportFiles(dir, r2); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after the second run dir holds %q, want %q", got, want)
	}
	back = Report{}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "report.json"))), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r2) {
		t.Errorf("second report.json:\n got %+v\nwant %+v", back, *r2)
	}
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(readFile(t, filepath.Join(dir, "report.csv")), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][1] != docA || rows[1][7] != "second run" {
		t.Errorf("second report.csv rows = %q", rows)
	}
	hs = readFile(t, filepath.Join(dir, "report.html"))
	for _, s := range []string{"axis-h40b", "2026-03-02", `id="verdict">Không còn sai lệch`, "second run"} {
		if !strings.Contains(hs, s) {
			t.Errorf("second report.html lacks %q", s)
		}
	}
	if strings.Contains(hs, docB) || strings.Contains(hs, "alert(1)") {
		t.Errorf("second report.html still holds the first run's discrepancies")
	}
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The JSON names are the API: these pin them.
func TestWireNames(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)

	rc := Receipt{
		DocID:      docA,
		SHA256:     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		ReceivedAt: at,
		Recipients: []RecipientInfo{{OrganID: "000.00.01.H40", Route: "pull"}},
		State:      "held",
		Reason:     "x",
	}
	want := `{"doc_id":"0123456789abcdef0123456789abcdef",` +
		`"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",` +
		`"received_at":"2026-03-01T08:30:00Z",` +
		`"recipients":[{"organ_id":"000.00.01.H40","route":"pull"}],` +
		`"state":"held","reason":"x"}`
	if got := marshal(t, rc); got != want {
		t.Errorf("Receipt:\n got %s\nwant %s", got, want)
	}

	page := InboxPage{
		Items: []InboxItem{{
			DocID: docB, From: "000.00.02.H40", Kind: "edoc", Code: "12/UBND-VP",
			Subject: "Về việc họp", StatusCode: "03", RespondsTo: docA, ReceivedAt: at,
		}},
		Next: "c2Vjb25k",
	}
	want = `{"items":[{"doc_id":"fedcba9876543210fedcba9876543210","from":"000.00.02.H40",` +
		`"kind":"edoc","code":"12/UBND-VP","subject":"Về việc họp","status_code":"03",` +
		`"responds_to":"0123456789abcdef0123456789abcdef","received_at":"2026-03-01T08:30:00Z"}],` +
		`"next":"c2Vjb25k"}`
	if got := marshal(t, page); got != want {
		t.Errorf("InboxPage:\n got %s\nwant %s", got, want)
	}
	// The last page: no next; the optional item fields are left out.
	last := InboxPage{Items: []InboxItem{{DocID: docB, From: "000.00.02.H40", Kind: "edoc", ReceivedAt: at}}}
	want = `{"items":[{"doc_id":"fedcba9876543210fedcba9876543210","from":"000.00.02.H40",` +
		`"kind":"edoc","received_at":"2026-03-01T08:30:00Z"}]}`
	if got := marshal(t, last); got != want {
		t.Errorf("last InboxPage:\n got %s\nwant %s", got, want)
	}

	if got, want := marshal(t, AckRequest{Status: "done", Reason: "filed"}), `{"status":"done","reason":"filed"}`; got != want {
		t.Errorf("AckRequest: got %s, want %s", got, want)
	}
	if got, want := marshal(t, AckRequest{Status: "done"}), `{"status":"done"}`; got != want {
		t.Errorf("AckRequest without reason: got %s, want %s", got, want)
	}
}
