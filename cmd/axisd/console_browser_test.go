package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/browser"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// An administrator in a real browser: signs in to H40's console, finds a
// document by its notation and by Subject words typed without diacritics,
// opens its timeline, re-drives its dead relay from the stuck list and sees
// it relayed. Each page is kept as a screenshot in the test's artifact
// folder (go test -artifacts).
func TestConsoleInBrowser(t *testing.T) {
	b := browser.ForTest(t)
	n := startNetwork(t, func(cfg string, c *axis.Config) {
		if cfg == cfgH40 {
			c.Relay.DeadAfter.Duration = time.Millisecond // the first failure is final: dead, visible, re-drivable
		}
	})
	n.national.Close() // the national axis is down for maintenance
	const vpcp = "000.00.00.G22"
	d := testgen.NewDocument()
	d.To = []envelope.Organization{{OrganID: vpcp, OrganName: "Văn phòng Chính phủ"}}
	r := call(t, n.h40, "POST", "/api/v1/envelopes", tok(testgen.Commune), fixture.Sign(t, d))
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var rc axis.Receipt
	r.json(t, &rc)
	eventually(t, 20*time.Second, "the relay is dead", func() bool {
		s := status(t, n.h40, testgen.Commune, rc.DocID)
		return len(s.Recipients) == 1 && s.Recipients[0].State == "dead"
	})
	n.national = n.start(t, cfgNational) // back

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.ArtifactDir()
	shot := func(name string) {
		t.Helper()
		if err := p.Screenshot(ctx, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func(sel string) int {
		t.Helper()
		var n int
		must(p.Eval(ctx, fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n))
		return n
	}
	base := n.h40.URL()

	// Sign in.
	must(p.Navigate(ctx, base+"/admin/"))
	if u, _ := p.URL(ctx); !strings.HasSuffix(u, "/admin/login") {
		t.Fatalf("not sent to the sign-in page: %s", u)
	}
	shot("1-login.png")
	must(p.Fill(ctx, "#login-token", tok(testgen.Commune))) // an agency's token is refused
	must(p.ClickAndWait(ctx, "#login-submit"))
	if count("#dashboard") != 0 {
		t.Fatal("an agency token opened the console")
	}
	must(p.Fill(ctx, "#login-token", testgen.DemoAdminToken))
	must(p.ClickAndWait(ctx, "#login-submit"))
	must(p.WaitFor(ctx, "#dashboard"))
	shot("2-dashboard.png")

	// Find it by notation, then by Subject words without diacritics.
	must(p.Navigate(ctx, base+"/admin/search"))
	must(p.Fill(ctx, `#search-form [name="code"]`, "15/UBND-VP"))
	must(p.ClickAndWait(ctx, "#search-submit"))
	if count("#results tr.result") != 1 || count(`a.doc-link[href="/admin/documents/`+rc.DocID+`"]`) != 1 {
		t.Fatal("search by notation did not find exactly the document")
	}
	shot("3-search-notation.png")
	must(p.Navigate(ctx, base+"/admin/search"))
	must(p.Fill(ctx, `#search-form [name="subject"]`, "bao cao chuyen doi so"))
	must(p.ClickAndWait(ctx, "#search-submit"))
	if count("#results tr.result") != 1 || count(`a.doc-link[href="/admin/documents/`+rc.DocID+`"]`) != 1 {
		t.Fatal("search by Subject words without diacritics did not find exactly the document")
	}
	shot("4-search-subject.png")

	// Its timeline: the relay to the national axis is dead.
	must(p.ClickAndWait(ctx, "a.doc-link"))
	must(p.WaitFor(ctx, "#timeline"))
	if count(`tr.recipient[data-organ="`+vpcp+`"][data-state="dead"]`) != 1 {
		t.Fatal("the document page does not show the dead relay")
	}
	shot("5-document-dead.png")

	// The stuck list, and its re-drive button.
	must(p.Navigate(ctx, base+"/admin/stuck"))
	if count(`#stuck tr.stuck[data-reason="relay_dead"]`) != 1 {
		t.Fatal("the stuck list does not show the dead relay")
	}
	shot("6-stuck.png")
	must(p.ClickAndWait(ctx, `#stuck tr.stuck[data-reason="relay_dead"] button.redrive`))
	flash, err := p.Text(ctx, "#flash")
	if err != nil || !strings.Contains(flash, "Đã đưa lại 1 mục") {
		t.Fatalf("flash %q %v", flash, err)
	}
	// And it is delivered: relayed to the national axis, in the national inbox.
	deadline := time.Now().Add(20 * time.Second)
	for count(`tr.recipient[data-organ="`+vpcp+`"][data-state="relayed"]`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the re-driven relay did not reach the national axis")
		}
		time.Sleep(200 * time.Millisecond)
		must(p.Navigate(ctx, base+"/admin/documents/"+rc.DocID))
	}
	shot("7-document-relayed.png")
	if it := inbox(t, n.national, vpcp).Items; len(it) != 1 || it[0].DocID != rc.DocID {
		t.Fatalf("national inbox %+v", it)
	}
	t.Logf("screenshots in %s", dir)
}
