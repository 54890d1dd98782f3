package main

import (
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
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
	rc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, docTo(vpcpOrgan)))
	waitRecipients(t, n.h40, testgen.Commune, rc.DocID, 1, "the relay is dead", inState("dead"))
	n.national = n.start(t, cfgNational) // back

	p := newPage(t, b, 2*time.Minute)
	base := n.h40.URL()

	// Sign in.
	p.open(base + "/admin/")
	if u := p.url(); !strings.HasSuffix(u, "/admin/login") {
		t.Fatalf("not sent to the sign-in page: %s", u)
	}
	p.shot("1-login.png")
	p.fill("#login-token", tok(testgen.Commune)) // an agency's token is refused
	p.click("#login-submit")
	if p.count("#dashboard") != 0 {
		t.Fatal("an agency token opened the console")
	}
	p.fill("#login-token", testgen.DemoAdminToken)
	p.click("#login-submit")
	p.waitFor("#dashboard")
	p.shot("2-dashboard.png")

	// Find it by notation, then by Subject words without diacritics.
	for _, q := range []struct{ field, value, what, shot string }{
		{"code", "15/UBND-VP", "notation", "3-search-notation.png"},
		{"subject", "bao cao chuyen doi so", "Subject words without diacritics", "4-search-subject.png"},
	} {
		p.open(base + "/admin/search")
		p.fill(`#search-form [name="`+q.field+`"]`, q.value)
		p.click("#search-submit")
		if p.count("#results tr.result") != 1 || p.count(`a.doc-link[href="/admin/documents/`+rc.DocID+`"]`) != 1 {
			t.Fatalf("search by %s did not find exactly the document", q.what)
		}
		p.shot(q.shot)
	}

	// Its timeline: the relay to the national axis is dead.
	p.click("a.doc-link")
	p.waitFor("#timeline")
	if p.count(`tr.recipient[data-organ="`+vpcp+`"][data-state="dead"]`) != 1 {
		t.Fatal("the document page does not show the dead relay")
	}
	p.shot("5-document-dead.png")

	// The stuck list, and its re-drive button.
	p.open(base + "/admin/stuck")
	if p.count(`#stuck tr.stuck[data-reason="relay_dead"]`) != 1 {
		t.Fatal("the stuck list does not show the dead relay")
	}
	p.shot("6-stuck.png")
	p.click(`#stuck tr.stuck[data-reason="relay_dead"] button.redrive`)
	if flash := p.text("#flash"); !strings.Contains(flash, "Đã đưa lại 1 mục") {
		t.Fatalf("flash %q", flash)
	}
	// And it is delivered: relayed to the national axis, in the national inbox.
	eventually(t, 20*time.Second, "the re-driven relay reaches the national axis", func() bool {
		p.open(base + "/admin/documents/" + rc.DocID)
		return p.count(`tr.recipient[data-organ="`+vpcp+`"][data-state="relayed"]`) == 1
	})
	p.shot("7-document-relayed.png")
	if it := inbox(t, n.national, vpcp).Items; len(it) != 1 || it[0].DocID != rc.DocID {
		t.Fatalf("national inbox %+v", it)
	}
	t.Logf("screenshots in %s", t.ArtifactDir())
}
