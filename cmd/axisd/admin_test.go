package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

// axisctl trace --follow on a document sent H40 → national → H41 prints
// one timeline with all three hubs: the demo configs follow each other
// out of the box (admin_token_env, set by make run to the demo admin token).
func TestTraceFollowAcrossThreeHubs(t *testing.T) {
	t.Setenv(testgen.DemoAdminTokenEnv, testgen.DemoAdminToken)
	n := startNetwork(t)
	rc := intake(t, n.h40, testgen.Commune, fixture.Sign(t, docTo(organs(deptH41)...)))
	eventually(t, 20*time.Second, "H41's department receives it", func() bool {
		p := inbox(t, n.h41, deptH41)
		return len(p.Items) == 1
	})
	if r := call(t, n.h41, "GET", "/api/v1/envelopes/"+rc.DocID, tok(deptH41), nil); r.status != 200 {
		t.Fatal(r.status)
	}
	call(t, n.h41, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(deptH41), []byte(`{"status":"done"}`))
	waitRecipients(t, n.h40, testgen.Commune, rc.DocID, 1, "H40 shows it acked at H41", ackedAt("national", rc.DocID, map[string]string{deptH41: "axis-h41"}))

	code, out, errOut := axisctl(t, "trace", "--follow", "--json", "--hub", n.h40.URL(), "--token", testgen.DemoAdminToken, rc.DocID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var tr struct {
		Hubs   []string         `json:"hubs"`
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Join(tr.Hubs, ",") != "axis-h40,axis-national,axis-h41" {
		t.Fatalf("hubs %v", tr.Hubs)
	}
	seen := map[string]bool{}
	var last time.Time
	for _, e := range tr.Events {
		for _, k := range []string{"hub", "at", "event", "organ_id", "detail"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("event without %s: %v", k, e)
			}
		}
		at, err := time.Parse(time.RFC3339Nano, e["at"].(string))
		if err != nil || at.Before(last) {
			t.Fatalf("events out of order at %v", e)
		}
		last = at
		seen[e["hub"].(string)+" "+e["event"].(string)] = true
	}
	for _, want := range []string{"axis-h40 received", "axis-h40 relayed", "axis-national received", "axis-national relayed",
		"axis-h41 received", "axis-h41 fetched", "axis-h41 acked"} {
		if !seen[want] {
			t.Errorf("timeline lacks %q; has %v", want, seen)
		}
	}
	// The same by notation, for people.
	code, out, errOut = axisctl(t, "trace", "--follow", "--hub", n.h40.URL(), "--token", testgen.DemoAdminToken, "15/UBND-VP")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"document " + rc.DocID, "hubs: axis-h40, axis-national, axis-h41"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^\S+\s+axis-h41\s+acked\s+000\.00\.11\.H41\s+acked_done$`).MatchString(out) {
		t.Errorf("text output lacks H41's ack line:\n%s", out)
	}
	// An agency token gets nothing from the admin API.
	if code, _, errOut := axisctl(t, "trace", "--hub", n.h40.URL(), "--token", tok(testgen.Commune), rc.DocID); code != 1 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("agency token: exit %d %s", code, errOut)
	}
}

// Editing one event's bytes in a copy of the store makes audit-verify name
// that event; the untouched store (and a streamed backup) verifies.
func TestAuditVerifyAndBackup(t *testing.T) {
	m := start(t)
	rc := intake(t, m, testgen.Commune, fixture.Sign(t, testgen.NewDocument()))
	call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(testgen.Department), nil)
	call(t, m, "POST", "/api/v1/envelopes/"+rc.DocID+"/ack", tok(testgen.Department), []byte(`{"status":"done"}`))
	admin := []string{"--hub", m.URL(), "--token", testgen.DemoAdminToken}

	code, out, errOut := axisctl(t, append([]string{"audit-verify"}, admin...)...)
	if code != 0 || !strings.Contains(out, "event chain verified: 5 events") {
		t.Fatalf("online: exit %d %s %s", code, out, errOut)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	code, out, errOut = axisctl(t, append([]string{"backup", backup}, admin...)...)
	if code != 0 || !strings.Contains(out, "5 events, chain verified") {
		t.Fatalf("backup: exit %d %s %s", code, out, errOut)
	}
	missing := filepath.Join(t.TempDir(), "no-such-folder", "backup.db")
	code, out, errOut = axisctl(t, append([]string{"backup", missing}, admin...)...)
	if want := "error: cannot write " + missing + ": folder " + filepath.Dir(missing) + " does not exist\n"; code != 1 || out != "" || errOut != want {
		t.Fatalf("backup into a missing folder: exit %d %q %q, want %q", code, out, errOut, want)
	}
	code, out, _ = axisctl(t, "audit-verify", "--db", backup)
	if code != 0 || !strings.Contains(out, "verified: 5 events") {
		t.Fatalf("backup verify: exit %d %s", code, out)
	}

	// Edit event 4 (the fetch) in a copy: its detail says something else.
	edited := filepath.Join(t.TempDir(), "edited.db")
	b, _ := os.ReadFile(backup)
	if err := os.WriteFile(edited, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(edited, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		ev := tx.Bucket([]byte("events"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 4}
		var e record.Event
		if err := json.Unmarshal(ev.Get(k), &e); err != nil {
			return err
		}
		if e.Type != store.EventFetched {
			t.Fatalf("event 4 is %s", e.Type)
		}
		e.Detail = "push" // was "pull"
		v, _ := json.Marshal(e)
		return ev.Put(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = axisctl(t, "audit-verify", "--db", edited)
	if code != 1 || !strings.Contains(out, "BROKEN at event 4: hash does not match the event's contents") {
		t.Fatalf("edited copy: exit %d %s", code, out)
	}
	code, out, _ = axisctl(t, "audit-verify", "--json", "--db", edited)
	var rep record.ChainReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.BrokenAt != 4 || rep.Broken == nil ||
		rep.Broken.DocID != rc.DocID || rep.Broken.Type != store.EventFetched || rep.Broken.OrganID != testgen.Department {
		t.Fatalf("json report: exit %d %+v %v: %s", code, rep, err, out)
	}
	// A file that is not a store: axisd's refusal, in axisctl's words.
	notStore := fixture.WriteTemp(t, "not.db", []byte("not a bbolt file"))
	code, out, errOut = axisctl(t, "audit-verify", "--db", notStore)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, "invalid") {
		t.Fatalf("not a store: exit %d %q %q", code, out, errOut)
	}
	// Without axisd to read the file, axisctl says what it needs.
	cmd := exec.Command(axisctlBin, "audit-verify", "--db", backup)
	var stderr strings.Builder
	cmd.Stderr, cmd.Env = &stderr, append(os.Environ(), "AXISD="+filepath.Join(t.TempDir(), "no-axisd"))
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "no-axisd audit-verify") {
		t.Fatalf("no axisd: %v %q", err, stderr.String())
	}
	// The hub's own store is untouched.
	if code, _, _ := axisctl(t, append([]string{"audit-verify"}, admin...)...); code != 0 {
		t.Fatal("the live store no longer verifies")
	}
}

// search, stuck, stats and redrive through axisctl, and the admin API's
// refusals.
func TestAdminCommands(t *testing.T) {
	var clock atomic.Int64 // minutes after the demo PKI's test time
	m := startWith(t, func(m *Main) {
		m.Options.Now = func() time.Time { return demopki.TestNow.Add(time.Duration(clock.Load()) * time.Minute) }
	}, func(c *axis.Config) { c.Admin.SLAFetch.Duration = time.Hour })
	rc := intake(t, m, testgen.Commune, fixture.Sign(t, testgen.NewDocument()))
	admin := []string{"--hub", m.URL(), "--token", testgen.DemoAdminToken}

	for _, q := range [][]string{{"--code", "15/ubnd-vp"}, {"--subject", "bao cao chuyen doi so"}, {"--from", testgen.Commune, "--since", "2026-06-01"}} {
		code, out, errOut := axisctl(t, append(append([]string{"search"}, admin...), q...)...)
		if code != 0 || !strings.Contains(out, rc.DocID) {
			t.Errorf("search %v: exit %d %s %s", q, code, out, errOut)
		}
	}
	if code, out, _ := axisctl(t, append([]string{"search", "--subject", "ngân sách"}, admin...)...); code != 0 || strings.Contains(out, rc.DocID) {
		t.Errorf("search for other words found it: %s", out)
	}
	if code, out, _ := axisctl(t, append([]string{"stuck", "--json"}, admin...)...); code != 0 || !strings.Contains(out, `"items": []`) {
		t.Fatalf("stuck before the SLA: %s", out)
	}
	clock.Store(61)
	code, out, errOut := axisctl(t, append([]string{"stuck", "--json"}, admin...)...)
	var st struct{ Items []record.StuckItem }
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st.Items) != 1 || st.Items[0].Reason != "not_fetched" || st.Items[0].DocID != rc.DocID {
		t.Fatalf("stuck: exit %d %s %s", code, out, errOut)
	}
	code, out, _ = axisctl(t, append([]string{"stats", "--date", "2026-06-01"}, admin...)...)
	if code != 0 || !strings.Contains(out, testgen.Commune) || !strings.Contains(out, "TOTAL") {
		t.Fatalf("stats: exit %d %s", code, out)
	}
	code, out, _ = axisctl(t, append([]string{"redrive", rc.DocID}, admin...)...)
	if code != 0 || !strings.Contains(out, "0 relay entries") {
		t.Fatalf("redrive: exit %d %s", code, out)
	}
	for _, c := range []struct {
		token, want string
		status      int
	}{{"", "unauthorized", 401}, {tok(testgen.Commune), "forbidden", 403}, {tok(testgen.Department), "forbidden", 403}} {
		for _, p := range []string{"/admin/v1/search?code=15/UBND-VP", "/admin/v1/documents/" + rc.DocID + "/trace", "/admin/v1/stuck", "/admin/v1/backup", "/admin/v1/stats"} {
			r := call(t, m, "GET", p, c.token, nil)
			if r.status != c.status || r.code(t) != c.want {
				t.Errorf("%s with %q: %d %s", p, c.token, r.status, r.body)
			}
		}
	}
	if r := call(t, m, "GET", "/admin/v1/search?since=yesterday", testgen.DemoAdminToken, nil); r.status != 400 || r.code(t) != "bad_request" {
		t.Errorf("bad date: %d %s", r.status, r.body)
	}
}

// Both binaries say which build they are, in the same form.
func TestVersion(t *testing.T) {
	code, out, errOut := axisctl(t, "version")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "axisctl ") || !strings.HasSuffix(out, " "+runtime.Version()+"\n") {
		t.Fatalf("axisctl version: exit %d %q %q", code, out, errOut)
	}
	b, err := exec.Command(filepath.Join(filepath.Dir(axisctlBin), "axisd"), "--version").Output()
	if err != nil || string(b) != "axisd"+strings.TrimPrefix(out, "axisctl") {
		t.Fatalf("axisd --version: %q %v, want the same build as %q", b, err, out)
	}
}
