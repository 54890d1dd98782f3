package store_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Công văn về việc Đôn đốc": "cong van ve viec don doc",
		"CÔNG VĂN":                 "cong van",
		"Co\u0302ng va\u0306n":     "cong van", // decomposed: combining marks
		"Quyết định số 15/QĐ-UBND": "quyet dinh so 15/qd-ubnd",
		"Ỷ Ỳ ữ ợ":                  "y y u o",
		"plain ascii 2026":         "plain ascii 2026",
		"ảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệ": "aaaaaaaaaaaaaaadeeeeeeeeeee",
	} {
		if got := store.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := store.Words("Công văn: báo cáo, công văn số 15"); !slices.Equal(got, []string{"cong", "van", "bao", "cao", "so", "15"}) {
		t.Errorf("Words = %q", got)
	}
	if got := store.FoldCode(" 15 / UBND-VP "); got != "15/ubnd-vp" {
		t.Errorf("FoldCode = %q", got)
	}
}

// searchFixture stores six documents over three days.
func searchFixture(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ids := map[string]string{}
	put := func(name, from, to, number, subject string, when time.Time) {
		m := testgen.NewDocument()
		m.From = envelope.Organization{OrganID: from}
		m.To = []envelope.Organization{{OrganID: to}}
		m.Code.CodeNumber = number
		m.DocumentID = from + ",2026/05/28," + number + "/UBND-VP"
		m.Subject = subject
		d, _, err := db.PutEnvelope(ctx, fixture.Verified(t, m), local(to), when, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = d.ID
	}
	day1 := at.Add(-48 * time.Hour)
	day2 := at.Add(-24 * time.Hour)
	put("a", testgen.Commune, testgen.Department, "15", "Công văn về việc báo cáo chuyển đổi số", day1)
	put("b", testgen.Commune, testgen.District, "16", "Kế hoạch phòng chống lụt bão", day1)
	put("c", testgen.District, testgen.Department, "15", "Công văn đôn đốc nộp báo cáo", day2)
	put("d", testgen.Commune, testgen.Department, "17", "Giấy mời họp", day2)
	put("e", testgen.Commune, testgen.Department, "18", "CONG VAN khong dau", at)
	put("f", testgen.Department, testgen.Commune, "19", "Thông báo kết luận", at)
	return ids
}

func ids(r *store.SearchResult) []string {
	var out []string
	for _, d := range r.Docs {
		out = append(out, d.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db)
	day := func(t time.Time) string { return store.Day(t) }
	for _, c := range []struct {
		name string
		q    store.Query
		want []string // newest first
	}{
		{"notation, exact and folded", store.Query{Code: "15/ubnd-vp"}, []string{x["c"], x["a"]}},
		{"notation with spaces and case", store.Query{Code: " 16 / UBND-VP"}, []string{x["b"]}},
		{"notation prefix is not a match", store.Query{Code: "1"}, nil},
		{"subject without diacritics finds both forms", store.Query{Subject: "cong van"}, []string{x["e"], x["c"], x["a"]}},
		{"subject with diacritics", store.Query{Subject: "Công văn báo cáo"}, []string{x["c"], x["a"]}},
		{"subject and sender", store.Query{Subject: "cong van", From: testgen.District}, []string{x["c"]}},
		{"sender and one day", store.Query{From: testgen.Commune, Since: day(at.Add(-24 * time.Hour)), Until: day(at.Add(-24 * time.Hour))}, []string{x["d"]}},
		{"recipient", store.Query{To: testgen.Department}, []string{x["e"], x["d"], x["c"], x["a"]}},
		{"recipient since", store.Query{To: testgen.Department, Since: day(at.Add(-24 * time.Hour))}, []string{x["e"], x["d"], x["c"]}},
		{"day range only", store.Query{Until: day(at.Add(-48 * time.Hour))}, []string{x["b"], x["a"]}},
		{"no match", store.Query{Subject: "ngân sách"}, nil},
		{"state", store.Query{State: store.StateAckedDone}, []string{x["d"]}},
	} {
		if c.name == "state" {
			if _, err := db.Ack(ctx, x["d"], testgen.Department, true, "", at); err != nil {
				t.Fatal(err)
			}
		}
		r, err := db.Search(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// Paging with the cursor: two by two, newest first, nothing twice.
	var all []string
	q := store.Query{Limit: 2}
	for range 10 {
		r, err := db.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(r)...)
		if r.Next == 0 {
			break
		}
		q.Before = r.Next
	}
	if want := []string{x["f"], x["e"], x["d"], x["c"], x["b"], x["a"]}; !slices.Equal(all, want) {
		t.Fatalf("pages: %v, want %v", all, want)
	}
}

// A schema-2 store (no search indexes) is indexed when opened.
func TestMigrateSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axis.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := searchFixture(t, db)
	db.Close()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, n := range []string{"by_code", "by_word", "by_day", "activity"} {
			if err := tx.DeleteBucket([]byte(n)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("2"))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Search(ctx, store.Query{Subject: "cong van"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(r), []string{x["e"], x["c"], x["a"]}; !slices.Equal(got, want) {
		t.Fatalf("after migration: %v, want %v", got, want)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStuckAndStats(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db)
	now := at.Add(time.Hour)
	// a (day1) fetched, not acked; b (day1) not fetched; c (day2) acked.
	if _, err := db.MarkFetched(ctx, x["a"], testgen.Department, at.Add(-47*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ack(ctx, x["c"], testgen.Department, true, "", at.Add(-23*time.Hour)); err != nil {
		t.Fatal(err)
	}
	stuck, err := db.Stuck(ctx, now, store.SLA{Fetch: 36 * time.Hour, Ack: 36 * time.Hour, Relay: time.Hour}, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range stuck {
		got[s.DocID+" "+s.OrganID] = s.Reason
	}
	want := map[string]string{x["a"] + " " + testgen.Department: "not_acked", x["b"] + " " + testgen.District: "not_fetched"}
	if len(got) != len(want) || got[x["a"]+" "+testgen.Department] != "not_acked" || got[x["b"]+" "+testgen.District] != "not_fetched" {
		t.Fatalf("stuck = %v, want %v", got, want)
	}
	// A dead relay comes before the slow readers, so a cap never hides it.
	m := testgen.NewDocument()
	m.To = []envelope.Organization{{OrganID: "000.00.00.G22"}}
	m.Code.CodeNumber = "99"
	rd, _, err := db.PutEnvelope(ctx, fixture.Verified(t, m), []store.Route{{OrganID: "000.00.00.G22", Peer: "national"}}, at, "")
	if err != nil {
		t.Fatal(err)
	}
	ob, err := db.Outbox(ctx, "national", 0, 10)
	if err != nil || len(ob) != 1 {
		t.Fatal(ob, err)
	}
	if err := db.RelayFailed(ctx, "national", ob[0], "refused", true, at); err != nil {
		t.Fatal(err)
	}
	first, err := db.Stuck(ctx, now, store.SLA{Fetch: 36 * time.Hour, Ack: 36 * time.Hour, Relay: time.Hour}, 1)
	if err != nil || len(first) != 1 || first[0].Reason != "relay_dead" || first[0].DocID != rd.ID || first[0].Peer != "national" || first[0].LastError != "refused" {
		t.Fatalf("capped at 1: %+v %v", first, err)
	}
	if _, err := db.Redrive(ctx, rd.ID, "", at); err != nil {
		t.Fatal(err)
	}
	// With a longer SLA nothing is stuck (the re-driven relay is younger
	// than its SLA).
	if stuck, _ := db.Stuck(ctx, now, store.SLA{Fetch: 72 * time.Hour, Ack: 72 * time.Hour, Relay: time.Hour}, 100); len(stuck) != 0 {
		t.Fatalf("stuck with 72h SLA: %+v", stuck)
	}

	st, err := db.Stats(ctx, store.Day(at.Add(-48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if s := st[testgen.Commune]; s == nil || s.Sent != 2 || s.Received != 0 {
		t.Fatalf("commune on day1: %+v", s)
	}
	if s := st[testgen.Department]; s == nil || s.Received != 1 || s.Fetched != 1 || s.Pending != 1 || s.AckedDone != 0 {
		t.Fatalf("department on day1: %+v", s)
	}
	if s := st[testgen.District]; s == nil || s.Received != 1 || s.Pending != 1 || s.Fetched != 0 {
		t.Fatalf("district on day1: %+v", s)
	}
	act, err := db.ActivityOf(ctx, testgen.Department)
	if err != nil || !act.LastFetch.Equal(at.Add(-47*time.Hour)) || !act.LastAck.Equal(at.Add(-23*time.Hour)) {
		t.Fatalf("activity %+v %v", act, err)
	}
	if n, _ := db.DayCount(ctx, store.Day(at)); n != 3 { // e, f and the relayed one
		t.Fatalf("DayCount today = %d, want 3", n)
	}
}
