package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

func TestOneRecipientEndToEnd(t *testing.T) {
	m := start(t)
	raw := fixture.Sign(t, testgen.NewDocument())

	rc := intake(t, m, testgen.Commune, raw)
	if len(rc.Recipients) != 1 || rc.Recipients[0].OrganID != testgen.Department || rc.Recipients[0].Route != "local" ||
		!rc.ReceivedAt.Equal(demopki.TestNow) || len(rc.DocID) != 32 || len(rc.SHA256) != 64 {
		t.Fatalf("receipt %+v", rc)
	}

	var page api.InboxPage
	call(t, m, "GET", "/api/v1/inbox", tok(testgen.Department), nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].DocID != rc.DocID || page.Items[0].Code != "15/UBND-VP" ||
		page.Items[0].From != testgen.Commune || page.Items[0].Kind != "document" || page.Next != "" {
		t.Fatalf("inbox %+v", page)
	}
	got := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(testgen.Department), nil)
	if got.status != 200 || !bytes.Equal(got.body, raw) {
		t.Fatalf("fetch: %d, bytes equal %v", got.status, bytes.Equal(got.body, raw))
	}
	var st api.DocStatus
	call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
	if st.Recipients[0].State != "delivered" {
		t.Fatalf("after fetch: %+v", st)
	}
	if r := call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Department), []byte(`{"status":"done"}`)); r.status != 200 {
		t.Fatalf("ack: %d %s", r.status, r.body)
	}
	call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
	if st.Recipients[0].State != "acked_done" {
		t.Fatalf("after ack: %+v", st)
	}
	call(t, m, "GET", "/api/v1/inbox", tok(testgen.Department), nil).json(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("inbox after ack: %+v", page)
	}

	// The status message comes back to the commune and shows on the document.
	intake(t, m, testgen.Department, fixture.Sign(t, testgen.Status("03", "Đã vào sổ")))
	call(t, m, "GET", "/api/v1/inbox", tok(testgen.Commune), nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].Kind != "status" || page.Items[0].StatusCode != "03" || page.Items[0].RespondsTo != rc.DocID {
		t.Fatalf("commune inbox %+v", page)
	}
	call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
	if st.Recipients[0].StatusCode != "03" || st.Recipients[0].StatusAt == nil {
		t.Fatalf("status code not attached: %+v", st)
	}

	// The receipt is signed by the hub and verifies with xmlsec1 against the demo root.
	rec := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/receipt", tok(testgen.Commune), nil)
	if rec.status != 200 || !bytes.Contains(rec.body, []byte(rc.SHA256)) || !bytes.Contains(rec.body, []byte("<DocId>"+rc.DocID+"</DocId>")) {
		t.Fatalf("receipt: %d %s", rec.status, rec.body)
	}
	again := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/receipt", tok(testgen.Commune), nil)
	if !bytes.Equal(again.body, rec.body) {
		t.Fatal("receipts made on demand differ")
	}
	xmlsecVerify(t, rec.body, true)
	xmlsecVerify(t, bytes.Replace(rec.body, []byte(testgen.Department), []byte("000.00.12.H40"), 1), false)
}

func xmlsecVerify(t *testing.T, doc []byte, want bool) {
	t.Helper()
	if ok, out := fixture.XmlsecVerify(t, fixture.WriteTemp(t, "receipt.xml", doc)); ok != want {
		t.Fatalf("xmlsec1 verify = %v, want %v: %s", ok, want, out)
	}
}

func TestProvinceWideDirective(t *testing.T) {
	m := start(t)
	msg := testgen.NewDocument()
	msg.From = testgen.Organ(testgen.Province)
	msg.Subject = "Chỉ thị về việc triển khai chuyển đổi số toàn tỉnh"
	msg.To = nil
	var offices []string
	for _, a := range testgen.DemoProvince() {
		if a.Parent != "" && a.Parent != testgen.Province || strings.HasPrefix(a.OrganID, "000.00.3") || a.OrganID == "000.00.40.H40" {
			offices = append(offices, a.OrganID)
			msg.To = append(msg.To, envelope.Organization{OrganID: a.OrganID})
		}
	}
	if len(offices) != 239 {
		t.Fatalf("%d district and commune offices", len(offices))
	}
	rc := intake(t, m, testgen.Province, fixture.Sign(t, msg))
	if len(rc.Recipients) != 239 {
		t.Fatalf("%d recipients", len(rc.Recipients))
	}
	for _, o := range offices {
		var page api.InboxPage
		call(t, m, "GET", "/api/v1/inbox", tok(o), nil).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].DocID != rc.DocID {
			t.Fatalf("%s inbox: %+v", o, page)
		}
	}
	var page api.InboxPage
	call(t, m, "GET", "/api/v1/inbox", tok("000.00.11.H40"), nil).json(t, &page)
	if len(page.Items) != 0 {
		t.Fatal("a department got the district directive")
	}
	if n, _ := m.Hub.Store().Count(context.Background()); n != 1 {
		t.Fatalf("%d documents stored", n)
	}
	var backup bytes.Buffer
	m.Hub.Store().Backup(context.Background(), &backup)
	if n := bytes.Count(backup.Bytes(), []byte(msg.Subject)); n != 2 {
		// once in the blob, once in the document record; not once per recipient
		t.Fatalf("the subject appears %d times in the store file", n)
	}
}

func TestRefusals(t *testing.T) {
	m := start(t)
	raw := fixture.Sign(t, testgen.NewDocument())
	first := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), raw)
	if first.status != 201 {
		t.Fatal(first.status)
	}
	var rc api.Receipt
	first.json(t, &rc)

	t.Run("duplicate", func(t *testing.T) {
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), raw)
		if r.status != 200 || !bytes.Equal(r.body, first.body) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if n, _ := m.Hub.Store().Count(context.Background()); n != 1 {
			t.Fatal(n)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		for _, token := range []string{"", "nope", tok("000.00.00.H99")} {
			r := call(t, m, "POST", "/api/v1/envelopes", token, raw)
			if r.status != 401 || r.code(t) != "unauthorized" {
				t.Fatalf("%q: %d", token, r.status)
			}
		}
	})
	t.Run("sender mismatch", func(t *testing.T) {
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.District), fixture.Sign(t, testgen.Status("01", "đã đến")))
		if r.status != 403 || r.code(t) != "sender_mismatch" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("unknown recipient", func(t *testing.T) {
		before := storeBytes(t, m)
		msg := testgen.NewDocument()
		msg.To = append(msg.To, envelope.Organization{OrganID: "000.00.00.H99"})
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), fixture.Sign(t, msg))
		if r.status != 422 || r.code(t) != "unknown_recipient" || !strings.Contains(string(r.body), "000.00.00.H99") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if !bytes.Equal(before, storeBytes(t, m)) {
			t.Fatal("the store changed")
		}
	})
	t.Run("another agency's document", func(t *testing.T) {
		for _, p := range []string{"", "/status", "/receipt"} {
			if r := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+p, tok(testgen.District), nil); r.status != 404 || r.code(t) != "not_found" {
				t.Fatalf("GET %s: %d", p, r.status)
			}
		}
		if r := call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.District), []byte(`{"status":"done"}`)); r.status != 404 {
			t.Fatalf("ack: %d", r.status)
		}
		// The sender cannot ack its own document, and a recipient cannot read its status.
		if r := call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Commune), []byte(`{"status":"done"}`)); r.status != 404 {
			t.Fatalf("sender ack: %d", r.status)
		}
		if r := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Department), nil); r.status != 404 {
			t.Fatalf("recipient status: %d", r.status)
		}
		var st api.DocStatus
		call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/status", tok(testgen.Commune), nil).json(t, &st)
		if st.Recipients[0].State != "queued" {
			t.Fatalf("a refused read changed the state: %+v", st)
		}
	})
	t.Run("bad ack", func(t *testing.T) {
		for _, body := range []string{``, `{"status":"maybe"}`, `{"status":"done","extra":1}`} {
			if r := call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Department), []byte(body)); r.status != 400 || r.code(t) != "bad_request" {
				t.Fatalf("%q: %d", body, r.status)
			}
		}
	})
}

// storeBytes reads the bbolt file as it is on disk.
func storeBytes(t testing.TB, m *Main) []byte {
	t.Helper()
	if m.Hub.Store().Engine() == axis.EnginePostgres {
		d, err := m.Hub.Store().Digest(context.Background()) // every key and value
		if err != nil {
			t.Fatal(err)
		}
		return []byte(d)
	}
	b, err := os.ReadFile(m.Hub.Store().Path())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHostileOverHTTP(t *testing.T) {
	m := start(t)
	before := storeBytes(t, m)
	var accepted []fixture.HostileCase
	for _, c := range fixture.HostileCases(t) {
		if c.Code == "ok" {
			accepted = append(accepted, c)
			continue // posted last, below
		}
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), c.Raw)
		if r.status >= 500 || r.status < 400 {
			t.Errorf("%s: status %d", c.Name, r.status)
			continue
		}
		if got := r.code(t); got != c.Code {
			t.Errorf("%s: code %s, want %s", c.Name, got, c.Code)
		}
	}
	if !bytes.Equal(before, storeBytes(t, m)) {
		t.Fatal("hostile posts changed the store file")
	}
	if len(accepted) == 0 {
		t.Fatal("no case that must verify")
	}
	for _, c := range accepted {
		r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), c.Raw)
		var rc api.Receipt
		r.json(t, &rc)
		if r.status != 201 || rc.Recipients[0].OrganID != testgen.Department {
			t.Errorf("%s: %d %s", c.Name, r.status, r.body)
		}
	}
}
