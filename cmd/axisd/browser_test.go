package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/browser"
)

// page is a browser page of a test: each step fails the test on an error;
// screenshots go to the test's artifact folder (go test -artifacts).
type page struct {
	t   *testing.T
	ctx context.Context
	p   *browser.Page
}

// newPage opens a page in b (browser.ForTest) for at most within.
func newPage(t *testing.T, b *browser.Browser, within time.Duration) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &page{t: t, ctx: ctx, p: p}
}

func (p *page) must(err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) open(url string)             { p.t.Helper(); p.must(p.p.Navigate(p.ctx, url)) }
func (p *page) fill(sel, value string)      { p.t.Helper(); p.must(p.p.Fill(p.ctx, sel, value)) }
func (p *page) click(sel string)            { p.t.Helper(); p.must(p.p.ClickAndWait(p.ctx, sel)) }
func (p *page) waitFor(sel string)          { p.t.Helper(); p.must(p.p.WaitFor(p.ctx, sel)) }
func (p *page) eval(js string, out any)     { p.t.Helper(); p.must(p.p.Eval(p.ctx, js, out)) }
func (p *page) shot(name string)            { p.t.Helper(); p.must(p.p.Screenshot(p.ctx, p.artifact(name))) }
func (p *page) artifact(name string) string { return filepath.Join(p.t.ArtifactDir(), name) }

// count is how many elements sel selects.
func (p *page) count(sel string) int {
	p.t.Helper()
	var n int
	p.eval(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n)
	return n
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := p.p.Text(p.ctx, sel)
	p.must(err)
	return s
}

func (p *page) url() string {
	p.t.Helper()
	u, err := p.p.URL(p.ctx)
	p.must(err)
	return u
}
