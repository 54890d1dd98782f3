package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/internal/tsatest"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

// anchored is configure for start: anchoring to a TSA every every.
func anchored(a *tsatest.TSA, every time.Duration) func(*axis.Config) {
	return func(c *axis.Config) {
		c.Archive.TSAURL = a.URL
		c.Archive.TSARoots = []string{a.RootPEM}
		c.Archive.AnchorEvery.Duration = every
		c.Archive.Retry.Duration = every / 2
	}
}

// Issue 18 #2: the hub anchors its chain at every interval at a TSA run by
// the test (openssl ts -reply); audit-verify checks every token and says
// when the chain was last anchored; a TSA that is down delays anchoring
// (counted) and never intake; and a copy whose events before an anchor
// were edited, with the chain after them recomputed so that every link
// holds again, is caught by the anchor.
func TestAnchors(t *testing.T) {
	ts := tsatest.Start(t)
	m := start(t, anchored(ts, 300*time.Millisecond))
	lastAnchor := func() *record.AnchorSummary {
		a, err := m.Hub.Store().LastAnchor(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// A chain with events is anchored within an interval; nothing new, no
	// new anchor: the head is the last anchor.
	for i := range 3 {
		intake(t, m, testgen.Commune, fixture.Sign(t, fixture.Numbered(fmt.Sprint(100+i))))
		seq, _, _ := m.Hub.Store().ChainHead(t.Context())
		eventually(t, 10*time.Second, "an anchor past event "+fmt.Sprint(seq), func() bool {
			a := lastAnchor()
			return a != nil && a.Seq >= seq
		})
	}
	idle := ts.Requests()
	time.Sleep(time.Second) // three intervals with nothing new
	if n := ts.Requests(); n != idle {
		t.Errorf("%d tokens asked for with nothing new in the chain", n-idle)
	}
	rep, err := m.Hub.Store().VerifyChain(t.Context())
	if err != nil || !rep.OK() || rep.Anchors < 3 || !rep.AnchorRoots || rep.LastAnchor == nil {
		t.Fatalf("chain: %+v %v", rep, err)
	}
	admin := []string{"--hub", m.URL(), "--token", testgen.DemoAdminToken}
	code, out, errOut := axisctl(t, append([]string{"audit-verify"}, admin...)...)
	wantLine := fmt.Sprintf("anchors: %d time-stamp tokens checked against the TSA's roots; last anchored %s (event %d, by ",
		rep.Anchors, rep.LastAnchor.Time.Format(time.RFC3339), rep.LastAnchor.Seq)
	if code != 0 || !strings.Contains(out, wantLine) || !strings.Contains(out, "axis test TSA") {
		t.Fatalf("audit-verify: exit %d\n%s%s\nwant %q", code, out, errOut, wantLine)
	}
	if v := metric(t, m, "axis_archive_last_anchor_timestamp_seconds"); v != float64(rep.LastAnchor.Time.UnixNano())/1e9 {
		t.Errorf("axis_archive_last_anchor_timestamp_seconds %v, want %v", v, rep.LastAnchor.Time)
	}
	if v := metric(t, m, "axis_archive_anchor_every_seconds"); v != 0.3 {
		t.Errorf("axis_archive_anchor_every_seconds %v", v)
	}
	// openssl ts -verify, independently: the last token covers the hash
	// of the event it names.
	var e record.Event
	evs, _ := m.Hub.Store().Events(t.Context(), "")
	for _, ev := range evs {
		if ev.Type == store.EventAnchored {
			e = ev
		}
	}
	var a record.Anchor
	if err := json.Unmarshal([]byte(e.Detail), &a); err != nil {
		t.Fatal(err)
	}
	tsr := fixture.WriteTemp(t, "anchor.tsr", a.TSR)
	if ok, out := ts.VerifyDigest(t, tsr, a.Hash); !ok {
		t.Fatalf("openssl ts -verify: %s", out)
	}

	// The TSA goes down: intake answers as before, the failures count,
	// and anchoring resumes when it is back.
	ts.SetDown(true)
	failed := metric(t, m, "axis_archive_anchor_failures_total")
	t0 := time.Now()
	intake(t, m, testgen.Commune, fixture.Sign(t, fixture.Numbered("200")))
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("intake took %s with the TSA down", d)
	}
	seq, _, _ := m.Hub.Store().ChainHead(t.Context())
	eventually(t, 10*time.Second, "anchor failures counted", func() bool {
		return metric(t, m, "axis_archive_anchor_failures_total") >= failed+2
	})
	if a := lastAnchor(); a.Seq >= seq {
		t.Fatalf("anchored at %d with the TSA down", a.Seq)
	}
	if r := call(t, m, "POST", "/admin/v1/anchor", testgen.DemoAdminToken, nil); r.status != http.StatusConflict || !strings.Contains(string(r.body), "503") {
		t.Errorf("anchor now, TSA down: %d %s", r.status, r.body)
	}
	if code, out, errOut := axisctl(t, append([]string{"archive", "anchor"}, admin...)...); code != 1 || out != "" || !strings.Contains(errOut, "the time-stamping authority gave no token") {
		t.Errorf("axisctl archive anchor, TSA down: exit %d %q %q", code, out, errOut)
	}
	ts.SetDown(false)
	eventually(t, 10*time.Second, "anchored again after the TSA came back", func() bool { return lastAnchor().Seq >= seq })
	// Nothing new since: axisctl says so and asks for no token.
	eventually(t, 10*time.Second, "the head anchored", func() bool {
		h, _, _ := m.Hub.Store().ChainHead(t.Context())
		return lastAnchor().EventSeq == h
	})
	before := ts.Requests()
	if code, out, _ := axisctl(t, append([]string{"archive", "anchor"}, admin...)...); code != 0 || !strings.HasPrefix(out, "nothing new since the last anchor: event ") || ts.Requests() != before {
		t.Errorf("axisctl archive anchor, nothing new: exit %d %q, %d tokens asked for", code, out, ts.Requests()-before)
	}

	// A copy, edited before the last anchor, the chain after recomputed.
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, out, errOut := axisctl(t, append([]string{"backup", backup}, admin...)...); code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	if code, out, _ := axisctl(t, "audit-verify", "--db", backup, "--tsa-roots", ts.RootPEM); code != 0 || !strings.Contains(out, "checked against the TSA's roots") {
		t.Fatalf("backup: exit %d %s", code, out)
	}
	rewriteFrom(t, backup, 2, func(e *record.Event) { // event 2: the first document's verification
		e.Detail = "rewritten"
	})
	code, out, _ = axisctl(t, "audit-verify", "--json", "--db", backup)
	var broken record.ChainReport
	if err := json.Unmarshal([]byte(out), &broken); err != nil || code != 1 {
		t.Fatalf("edited copy: exit %d %s", code, out)
	}
	if broken.Broken == nil || broken.Broken.Type != store.EventAnchored || !strings.Contains(broken.BrokenWhy, "anchor no longer matches") {
		t.Fatalf("edited copy: broken at %d (%s), want the first anchor after event 2", broken.BrokenAt, broken.BrokenWhy)
	}
	// Every link up to the anchor holds (the rewrite recomputed them):
	// the anchor is what catches it.
	if !strings.Contains(broken.BrokenWhy, "event ") || broken.BrokenAt <= 2 {
		t.Errorf("why: %s at %d", broken.BrokenWhy, broken.BrokenAt)
	}
}

// rewriteFrom edits event from in a bbolt store file and recomputes every
// link after it, and the chain head, as someone holding the file could.
func rewriteFrom(t *testing.T, file string, from uint64, edit func(*record.Event)) {
	t.Helper()
	db, err := bolt.Open(file, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		ev := tx.Bucket([]byte("events"))
		c := ev.Cursor()
		prev := ""
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e record.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Seq < from {
				prev = e.Hash
				continue
			}
			if e.Seq == from {
				edit(&e)
			}
			e.Prev = prev
			e.Hash = e.ChainHash()
			prev = e.Hash
			b, _ := json.Marshal(e)
			if err := ev.Put(k, b); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("chain_head"), []byte(prev))
	})
	if err != nil {
		t.Fatal(err)
	}
}
