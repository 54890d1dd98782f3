package store_test

import (
	"slices"
	"testing"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
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

func TestSearch(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db)
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
		{"sender and one day", store.Query{From: testgen.Commune, Since: store.Day(day2), Until: store.Day(day2)}, []string{x["d"]}},
		{"recipient", store.Query{To: testgen.Department}, []string{x["e"], x["d"], x["c"], x["a"]}},
		{"recipient since", store.Query{To: testgen.Department, Since: store.Day(day2)}, []string{x["e"], x["d"], x["c"]}},
		{"day range only", store.Query{Until: store.Day(day1)}, []string{x["b"], x["a"]}},
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

// SentOn lists what an organ sent on a day, oldest first, up to a limit,
// from the sender/day index.
func TestSentOn(t *testing.T) {
	db := storetest.Open(t)
	x := searchFixture(t, db)
	for _, c := range []struct {
		organ, day string
		limit      int
		want       []string
	}{
		{testgen.Commune, store.Day(day1), 10, []string{x["a"], x["b"]}},
		{testgen.Commune, store.Day(day1), 1, []string{x["a"]}},
		{testgen.Commune, store.Day(day2), 10, []string{x["d"]}},
		{testgen.District, store.Day(day2), 10, []string{x["c"]}},
		{testgen.Department, store.Day(day1), 10, nil},
		{testgen.Department, store.Day(at), 10, []string{x["f"]}},
	} {
		got, err := db.SentOn(ctx, c.organ, c.day, c.limit)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("SentOn(%s, %s, %d) = %v %v, want %v", c.organ, c.day, c.limit, got, err, c.want)
		}
	}
}
