package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// provinceDoc is 7/UBND-VP from the province to the department.
func provinceDoc() *envelope.Message {
	m := testgen.NewDocument()
	m.From = testgen.Organ(testgen.Province)
	m.To = []envelope.Organization{testgen.Organ(testgen.Department)}
	m.Code = envelope.Code{CodeNumber: "7", CodeNotation: "UBND-VP"}
	m.DocumentID = testgen.Province + ",2026/05/20,7/UBND-VP"
	m.Subject = "Quyết định về việc giao chỉ tiêu chuyển đổi số năm 2026"
	m.TraceHeaders = []envelope.TraceHeader{{OrganID: testgen.Province, Timestamp: "2026/05/20 08:00:00"}}
	return m
}

// targetOf is a ResponseFor naming m.
func targetOf(m *envelope.Message) envelope.ResponseFor {
	return envelope.ResponseFor{OrganID: m.From.OrganID, Code: m.Code.String(), DocumentID: m.DocumentID, PromulgationDate: "2026/05/20"}
}

// business is m's sender (or another agency) acting on m: a revoke, update
// or replace from `from` to the department, naming m the way field systems
// do for that type.
func business(from string, docType int, target envelope.ResponseFor) *envelope.Message {
	b := testgen.NewDocument()
	b.From = testgen.Organ(from)
	b.Code = envelope.Code{CodeNumber: "8", CodeNotation: "UBND-VP"}
	b.DocumentID = from + ",2026/05/21,8/UBND-VP"
	b.Business.DocType = docType
	switch docType {
	case envelope.BusinessRevoke:
		b.ResponseFor = []envelope.ResponseFor{target}
	case envelope.BusinessUpdate:
		b.Business.DocumentID = target.DocumentID
	case envelope.BusinessReplace:
		b.Business.Replacements = []envelope.ReplacementInfo{{DocumentID: target.DocumentID, OrganIDs: []string{testgen.Department}}}
	}
	return b
}

func statusFrom(from string, target envelope.ResponseFor, code string) *envelope.Message {
	s := testgen.Status(code, "Đã tiếp nhận")
	s.From = testgen.Organ(from)
	s.ResponseFor = []envelope.ResponseFor{target}
	return s
}

func problemDetail(t *testing.T, r response) string {
	t.Helper()
	var p struct{ Code, Detail string }
	r.json(t, &p)
	return p.Detail
}

// TestAuthority: a third party's revoke, update and replace and a
// non-recipient's status answer 403 not_entitled and change nothing (not
// the target's status or trace, not the sender's inbox: not one byte of the
// store); the sender's own revoke and a recipient's status work; a link is
// made only between documents of the same parties.
func TestAuthority(t *testing.T) {
	m := start(t)
	doc := provinceDoc()
	rc := intake(t, m, testgen.Province, fixture.Sign(t, doc))
	target := targetOf(doc)
	adminTrace := func() []byte {
		return call(t, m, "GET", "/admin/v1/documents/"+rc.DocID, testgen.DemoAdminToken, nil).body
	}
	statusBefore := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Province), nil).body
	traceBefore := adminTrace()
	before := storeBytes(t, m)

	// The commune acts on the province's document: each refused by rule.
	for _, c := range []struct {
		name    string
		docType int
		rule    string
	}{
		{"revoke", envelope.BusinessRevoke, "only a document's sender may revoke it: ResponseFor[1]/OrganId names " + testgen.Province},
		{"update", envelope.BusinessUpdate, "only a document's sender may update it: Bussiness/DocumentId names " + testgen.Province},
		{"replace", envelope.BusinessReplace, "only a document's sender may replace it: ReplacementInfoList[1]/DocumentId names " + testgen.Province},
	} {
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), fixture.Sign(t, business(testgen.Commune, c.docType, target)))
		if r.status != 403 || r.code(t) != "not_entitled" {
			t.Fatalf("third party's %s: %d %s", c.name, r.status, r.body)
		}
		if d := problemDetail(t, r); !strings.Contains(d, c.rule) {
			t.Errorf("%s: detail %q does not say the rule %q", c.name, d, c.rule)
		}
	}
	// The district never received the document: its status is refused,
	// with the same words as a status about a document that does not exist.
	r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.District), fixture.Sign(t, statusFrom(testgen.District, target, "03")))
	if r.status != 403 || r.code(t) != "not_entitled" {
		t.Fatalf("non-recipient's status: %d %s", r.status, r.body)
	}
	held := problemDetail(t, r)
	ghost := target
	ghost.DocumentID = testgen.Province + ",2026/05/20,999/UBND-VP"
	r = call(t, m, "POST", "/api/v1/envelopes", tok(testgen.District), fixture.Sign(t, statusFrom(testgen.District, ghost, "03")))
	if r.status != 403 || r.code(t) != "not_entitled" {
		t.Fatalf("status about no document: %d %s", r.status, r.body)
	}
	if notHeld := problemDetail(t, r); strings.ReplaceAll(notHeld, ghost.DocumentID, target.DocumentID) != held {
		t.Errorf("the refusals tell a held document from a missing one:\n%s\n%s", held, notHeld)
	}
	if !bytes.Equal(before, storeBytes(t, m)) {
		t.Fatal("refused envelopes changed the store")
	}
	if got := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Province), nil).body; !bytes.Equal(got, statusBefore) {
		t.Errorf("the target's status changed:\n%s\n%s", statusBefore, got)
	}
	if got := adminTrace(); !bytes.Equal(got, traceBefore) {
		t.Errorf("the target's trace changed")
	}
	if in := inbox(t, m, testgen.Province); len(in.Items) != 0 {
		t.Errorf("the sender's inbox: %+v", in.Items)
	}

	// The rightful ones: the department's status and the province's revoke.
	intake(t, m, testgen.Department, fixture.Sign(t, statusFrom(testgen.Department, target, "03"))) // the recipient's status
	in := inbox(t, m, testgen.Province)
	if len(in.Items) != 1 || in.Items[0].StatusCode != "03" || in.Items[0].RespondsTo != rc.DocID || in.Items[0].From != testgen.Department {
		t.Fatalf("the sender's inbox after the recipient's status: %+v", in.Items)
	}
	rv := intake(t, m, testgen.Province, fixture.Sign(t, business(testgen.Province, envelope.BusinessRevoke, target))) // the sender's revoke
	st := status(t, m, testgen.Province, rc.DocID)
	if len(st.Related) != 1 || st.Related[0].DocID != rv.DocID || st.Related[0].BusinessType != envelope.BusinessRevoke {
		t.Fatalf("the revoke is not on the original: %+v", st.Related)
	}
	var deptItem *api.InboxItem
	for _, it := range inbox(t, m, testgen.Department).Items {
		if it.DocID == rv.DocID {
			deptItem = &it
		}
	}
	if deptItem == nil || deptItem.RespondsTo != rc.DocID {
		t.Fatalf("the department's inbox does not link the revoke: %+v", deptItem)
	}

	// The province's own revoke sent to the district, who was no party to
	// the original: delivered, but the district learns no doc id of it.
	toDistrict := business(testgen.Province, envelope.BusinessRevoke, target)
	toDistrict.DocumentID = testgen.Province + ",2026/05/22,9/UBND-VP"
	toDistrict.To = []envelope.Organization{testgen.Organ(testgen.District)}
	rd := intake(t, m, testgen.Province, fixture.Sign(t, toDistrict)) // a revoke to a non-party
	di := inbox(t, m, testgen.District)
	if len(di.Items) != 1 || di.Items[0].DocID != rd.DocID || di.Items[0].RespondsTo != "" {
		t.Fatalf("the district's inbox: %+v", di.Items)
	}
	if st := status(t, m, testgen.Province, rc.DocID); len(st.Related) != 1 {
		t.Fatalf("a revoke to a non-party was linked to the original: %+v", st.Related)
	}
}
