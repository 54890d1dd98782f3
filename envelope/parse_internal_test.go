package envelope

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// treeText is a document as etree writes it back (every token, attribute
// and text), or the error's code.
func treeText(doc *etree.Document, err error) string {
	if err != nil {
		return "error: " + CodeOf(err)
	}
	s, werr := doc.WriteToString()
	if werr != nil {
		return "write error: " + werr.Error()
	}
	return s
}

// sameTree fails t unless parseTree's copy-and-restore (readTree with
// scan's runs) and a plain etree parse of the whole input read raw alike,
// and returns how many runs scan found.
func sameTree(t *testing.T, name string, raw []byte) int {
	t.Helper()
	lim := (*Limits)(nil).withDefaults()
	runs, err := scan(raw, lim)
	if err != nil {
		return 0 // parseTree stops at scan: nothing to compare
	}
	fast := treeText(readTree(raw, runs, lim.MaxDepth+1))
	plain := treeText(readEtree(withoutBOM(raw), lim.MaxDepth+1))
	if fast != plain {
		t.Fatalf("%s: %d runs; readTree gives\n%.300s\nplain etree gives\n%.300s", name, len(runs), fast, plain)
	}
	return len(runs)
}

var base64Run = strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLz0=\n", 100) // 4,900 bytes

// TestReadTreeMatchesEtree: every envelope of testdata, hostile ones
// included, and hand-made documents with runs where they may be taken
// (element text, mixed content, beside comments) and where they must not
// (inside comments, CDATA, processing instructions and attribute values,
// or with a reference, a carriage return or a character outside base64),
// and text that looks like readTree's own marker.
func TestReadTreeMatchesEtree(t *testing.T) {
	files, _ := filepath.Glob("../testdata/envelopes/*.xml")
	hostile, _ := filepath.Glob("../testdata/hostile/*/*")
	if len(files) < 5 || len(hostile) < 20 {
		t.Fatalf("%d envelopes, %d hostile files", len(files), len(hostile))
	}
	withRuns := 0
	for _, f := range append(files, hostile...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if sameTree(t, f, raw) > 0 {
			withRuns++
		}
	}
	r := base64Run
	for name, c := range map[string]struct {
		doc  string
		runs int
	}{
		"element text":           {"<a><b>" + r + "</b></a>", 1},
		"mixed content":          {"<a>" + r + "<b/>" + r + "<c>x</c>" + r + "</a>", 3},
		"beside a comment":       {"<a>" + r + "<!-- c -->" + r + "</a>", 2},
		"with a BOM":             {"\xEF\xBB\xBF<a>" + r + "</a>", 1},
		"with a declaration":     {`<?xml version="1.0" encoding="UTF-8"?>` + "\n<a>" + r + "</a>", 1},
		"inside a comment":       {"<a><!-- >" + r + "< --></a>", 0},
		"inside CDATA":           {"<a><![CDATA[>" + r + "<]]></a>", 0},
		"inside a PI":            {"<a><?p >" + r + "< ?></a>", 0},
		"in an attribute":        {`<a b=">` + r + `"/>`, 0},
		"with a reference":       {"<a>" + r + "&amp;</a>", 0},
		"with a carriage return": {"<a>" + r + "\r\n</a>", 0},
		"with a quote":           {"<a>" + r + "\"</a>", 0},
		"spaces only":            {"<a>" + strings.Repeat(" \n", 3000) + "</a>", 0},
		"looks like the marker":  {"<a><b>" + runMarker + "0.</b><c>" + r + "</c></a>", 1},
		"the marker alone":       {"<a><b>" + runMarker + "0.</b></a>", 0},
		"a later marker first":   {"<a><b>" + runMarker + "1.</b><c>" + r + "</c><d>" + r + "</d></a>", 2},
		"malformed after a run":  {"<a><b>" + r + "</c></a>", 1},
	} {
		if got := sameTree(t, name, []byte(c.doc)); got != c.runs {
			t.Errorf("%s: scan found %d runs, want %d", name, got, c.runs)
		}
	}
	if withRuns == 0 {
		t.Fatal("no envelope of testdata has a run: the corpus no longer exercises readTree's restore")
	}
}

// FuzzReadTree holds readTree to a plain etree parse on every input,
// seeded from testdata and the documents above.
func FuzzReadTree(f *testing.F) {
	files, _ := filepath.Glob("../testdata/envelopes/*.xml")
	for _, file := range files {
		if raw, err := os.ReadFile(file); err == nil && len(raw) < 1<<20 {
			f.Add(raw)
		}
	}
	r := base64Run
	for _, s := range []string{"<a>" + r + "</a>", "<a>" + r + "<!---->" + r + "<b>" + runMarker + "0.</b></a>", "<a><![CDATA[" + r + "]]>" + r + "</a>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Small mutations rarely make a 4 KB run; grow one where the
		// input has a long enough stretch of text.
		sameTree(t, "input", raw)
		if i := bytes.Index(raw, []byte(">QUJD")); i >= 0 {
			grown := append(append(bytes.Clone(raw[:i+1]), r...), raw[i+1:]...)
			sameTree(t, "input with a run", grown)
		}
	})
}
