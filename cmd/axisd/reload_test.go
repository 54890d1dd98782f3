package main

// Reloading the config (SIGHUP: Main.Reload, what main's SIGHUP loop
// calls) on a real axisd through the real wiring: agencies added while
// intakes go on, a broken file refused with its line and the running
// directory kept, peers added and removed (a removed peer's in-flight post
// finishes), admin tokens, and the keys that need a restart.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// reloadConfig writes the demo province's config into a temp folder, with
// absolute PKI paths, its own copy of the agencies file beside it (which
// the test edits), no peers, and edit's changes; it returns the config
// file and the agencies file.
func reloadConfig(t *testing.T, edit func(string) string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	ag := filepath.Join(dir, "agencies.yaml")
	if err := os.WriteFile(ag, fixture.ReadFile(t, fixture.Demo("agencies-h40.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(fixture.ReadFile(t, demoConfig)), "../pki/", fixture.PKIDir+"/")
	s = strings.Replace(s, "agencies_file: agencies-h40.yaml", "agencies_file: agencies.yaml", 1)
	i, j := strings.Index(s, "\npeers:\n"), strings.Index(s, "\nvdxp:\n")
	if i < 0 || j < i {
		t.Fatal("the demo config has no peers block before vdxp")
	}
	s = s[:i] + "\npeers: []" + s[j:]
	if edit != nil {
		s = edit(s)
	}
	cfg := filepath.Join(dir, "axisd.yaml")
	writeText(t, cfg, s)
	return cfg, ag
}

func writeText(t testing.TB, name, s string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startReloadable runs axisd on config (a file the test may rewrite: its
// reload reads the file, not m.Config) with the demo clock and a log the
// test reads.
func startReloadable(t *testing.T, config string, adjust func(*Main)) (*Main, *testhub.Log) {
	t.Helper()
	m := newMain(t, config, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	m.Options.Now = fixture.Now
	log := &testhub.Log{}
	m.Options.Logger = log.Logger()
	if adjust != nil {
		adjust(m)
	}
	return run(t, m), log
}

// reloads reads axis_config_reloads_total by result from /metrics.
func reloads(t testing.TB, m *Main) (ok, refused string) {
	t.Helper()
	r := call(t, m, "GET", "/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	get := func(result string) string {
		g := regexp.MustCompile(`(?m)^axis_config_reloads_total\{result="` + result + `"\} (\S+)$`).FindSubmatch(r.body)
		if g == nil {
			t.Fatalf("/metrics has no axis_config_reloads_total{result=%q}", result)
		}
		return string(g[1])
	}
	return get("ok"), get("refused")
}

// poster posts pre-signed envelopes from the commune, round and round
// (after the first round each is a duplicate: 200, through the same intake
// path), from two clients until stop, counting every answer by status.
type poster struct {
	n      atomic.Int64
	mu     sync.Mutex
	status map[int]int
	errs   []error
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startPoster(t *testing.T, m *Main, envelopes [][]byte) *poster {
	p := &poster{status: map[int]int{}, stop: make(chan struct{})}
	for c := range 2 {
		p.wg.Go(func() {
			hc := &http.Client{Timeout: 30 * time.Second}
			for i := c; ; i++ {
				select {
				case <-p.stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", m.URL()+"/api/v1/envelopes", bytes.NewReader(envelopes[i%len(envelopes)]))
				req.Header.Set("Authorization", "Bearer "+tok(testgen.Commune))
				r, err := roundTrip(hc, req)
				p.mu.Lock()
				if err != nil {
					p.errs = append(p.errs, err)
				} else {
					p.status[r.status]++
				}
				p.mu.Unlock()
				p.n.Add(1)
			}
		})
	}
	t.Cleanup(p.halt)
	return p
}

func (p *poster) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// TestReloadAddsAgency: while two clients post envelopes without pause, a
// commune is appended to the agencies file and the config reloaded: an
// envelope to it, unknown_recipient before, is accepted after and the new
// agency fetches it with its token; every concurrent intake answered 2xx.
// Then an agencies file with a YAML syntax error is refused with its file
// and line, counted as refused, and the directory in service stays (the new
// agency still fetches, an intake still works).
func TestReloadAddsAgency(t *testing.T) {
	const newOrgan = "000.99.35.H40"
	cfg, agencies := reloadConfig(t, nil)
	m, log := startReloadable(t, cfg, nil)

	var pool [][]byte
	for i := range 40 {
		pool = append(pool, fixture.Sign(t, fixture.Numbered(fmt.Sprint(1000+i))))
	}
	toNew := func(n string) []byte {
		msg := fixture.Numbered(n)
		msg.To = []envelope.Organization{{OrganID: newOrgan, OrganName: "UBND xã Hải Mới"}}
		return fixture.Sign(t, msg)
	}
	first, second := toNew("501"), toNew("502")

	// Before: the new agency is nobody.
	r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), first)
	if r.status != 422 || r.code(t) != "unknown_recipient" || !strings.Contains(string(r.body), newOrgan) {
		t.Fatalf("before the reload: %d %s", r.status, r.body)
	}
	if r := call(t, m, "GET", "/api/v1/inbox", tok(newOrgan), nil); r.status != 401 {
		t.Fatalf("the new agency's token before the reload: %d", r.status)
	}

	p := startPoster(t, m, pool)
	eventually(t, 20*time.Second, "20 intakes before the reload", func() bool { return p.n.Load() >= 20 })

	f, err := os.OpenFile(agencies, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "- organ_id: %s\n  name: \"UBND xã Hải Mới\"\n  parent: %s\n  token_sha256: %s\n", newOrgan, testgen.District, axis.TokenHash(tok(newOrgan)))
	f.Close()
	if err := m.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	at := p.n.Load()

	rc := intake(t, m, testgen.Commune, first)
	if len(rc.Recipients) != 1 || rc.Recipients[0].OrganID != newOrgan || rc.Recipients[0].Route != "local" {
		t.Fatalf("after the reload: %+v", rc)
	}
	page := inbox(t, m, newOrgan)
	if len(page.Items) != 1 || page.Items[0].DocID != rc.DocID {
		t.Fatalf("the new agency's inbox: %+v", page)
	}
	if got := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(newOrgan), nil); got.status != 200 || !bytes.Equal(got.body, first) {
		t.Fatalf("the new agency's fetch: %d, same bytes %v", got.status, bytes.Equal(got.body, first))
	}

	eventually(t, 20*time.Second, "20 intakes after the reload", func() bool { return p.n.Load() >= at+20 })
	p.halt()
	if len(p.errs) > 0 {
		t.Fatalf("concurrent intakes failed: %v", p.errs)
	}
	if total := p.status[200] + p.status[201]; total != int(p.n.Load()) || total < 40 || p.status[201] == 0 {
		t.Fatalf("concurrent intakes: %v of %d, want every one 200 or 201", p.status, p.n.Load())
	}
	if ok, refused := reloads(t, m); ok != "1" || refused != "0" {
		t.Fatalf("reloads: ok %s, refused %s; want 1, 0", ok, refused)
	}

	// A broken agencies file: line 3 holds a mapping value where none may be.
	good, err := os.ReadFile(agencies)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	broken := strings.Join(lines[:2], "") + "- organ_id: 000.00.00.H40 name: x\n" + strings.Join(lines[2:], "")
	writeText(t, agencies, broken)
	err = m.Reload()
	var ce *axis.ConfigError
	if err == nil || !errors.As(err, &ce) || ce.File != agencies || ce.Line != 3 || !strings.HasPrefix(err.Error(), agencies+":3: ") {
		t.Fatalf("a broken agencies file: %v, want %s:3: ...", err, agencies)
	}
	if ok, refused := reloads(t, m); ok != "1" || refused != "1" {
		t.Fatalf("reloads: ok %s, refused %s; want 1, 1", ok, refused)
	}
	refusedLine := false
	for _, l := range log.Lines(t) {
		refusedLine = refusedLine || (l["level"] == "ERROR" && strings.Contains(fmt.Sprint(l["err"]), agencies+":3:"))
	}
	if !refusedLine {
		t.Fatal("no error line in the log naming the file and line of the refused reload")
	}
	if page := inbox(t, m, newOrgan); len(page.Items) != 1 || page.Items[0].DocID != rc.DocID {
		t.Fatalf("after the refused reload, the new agency's inbox: %+v", page)
	}
	if rc := intake(t, m, testgen.Commune, second); rc.Recipients[0].OrganID != newOrgan {
		t.Fatalf("after the refused reload: %+v", rc)
	}
	intake(t, m, testgen.Commune, fixture.Sign(t, fixture.Numbered("503")))
}

// blockingPeer is a peer client whose Send waits for release and records
// whether its context was cancelled meanwhile.
type blockingPeer struct {
	sent      chan string // a doc id each time Send starts
	release   chan struct{}
	cancelled atomic.Bool
	calls     atomic.Int64
}

func (b *blockingPeer) Send(ctx context.Context, out axis.Outgoing) (string, error) {
	b.calls.Add(1)
	b.sent <- strings.Join(out.Organs, ",")
	select {
	case <-b.release:
	case <-ctx.Done():
		b.cancelled.Store(true)
		return "", ctx.Err()
	}
	return "peer-doc-1", nil
}

// TestReloadPeers: a peer added by a reload gets its relay loop (the
// envelope routed to it before was unknown_recipient); removed while its
// relay is in flight, the post finishes (its context is not cancelled by
// the stop) and is recorded relayed; after the removal the route is gone
// and what was queued for the peer stays in the store.
func TestReloadPeers(t *testing.T) {
	const remote = "000.00.11.H41"
	withPeer := func(s string) string {
		return strings.Replace(s, "\npeers: []", "\npeers:\n  - {name: national, url: \"http://127.0.0.1:1\", kind: axis, routes: [\"*.H41\"], token: x}", 1)
	}
	cfg, _ := reloadConfig(t, nil)
	peer := &blockingPeer{sent: make(chan string, 10), release: make(chan struct{})}
	m, _ := startReloadable(t, cfg, func(m *Main) { m.Options.PeerClients = map[string]axis.PeerClient{"national": peer} })
	toRemote := func(n string) []byte {
		msg := fixture.Numbered(n)
		msg.To = []envelope.Organization{{OrganID: remote, OrganName: "Sở TT&TT Nghệ An"}}
		return fixture.Sign(t, msg)
	}
	if r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), toRemote("601")); r.status != 422 || r.code(t) != "unknown_recipient" {
		t.Fatalf("before the peer: %d %s", r.status, r.body)
	}

	writeText(t, cfg, withPeer(string(fixture.ReadFile(t, cfg))))
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	rc := intake(t, m, testgen.Commune, toRemote("601"))
	if rc.Recipients[0].Route != "national" {
		t.Fatalf("after adding the peer: %+v", rc)
	}
	select {
	case organs := <-peer.sent:
		if organs != remote {
			t.Fatalf("relayed for %s", organs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the new peer's relay loop sent nothing")
	}

	// Removed while that post is in flight.
	writeText(t, cfg, strings.Replace(string(fixture.ReadFile(t, cfg)), withPeer("\npeers: []"), "\npeers: []", 1))
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), toRemote("602")); r.status != 422 || r.code(t) != "unknown_recipient" {
		t.Fatalf("after removing the peer: %d %s", r.status, r.body)
	}
	close(peer.release)
	waitRecipients(t, m, testgen.Commune, rc.DocID, 1, "the in-flight post of the removed peer recorded", relayedAs("national", "peer-doc-1"))
	if peer.cancelled.Load() {
		t.Fatal("the removed peer's in-flight post was cancelled")
	}
	if n := peer.calls.Load(); n != 1 {
		t.Fatalf("%d sends to the peer, want 1", n)
	}

	// Back with the peer: an envelope queued while it is there, held by a
	// failing client, stays in the outbox when the peer goes.
	stuck := &failingPeer{}
	m2cfg, _ := reloadConfig(t, withPeer)
	m2, _ := startReloadable(t, m2cfg, func(m *Main) { m.Options.PeerClients = map[string]axis.PeerClient{"national": stuck} })
	rc2 := intake(t, m2, testgen.Commune, toRemote("603"))
	eventually(t, 20*time.Second, "a failed send", func() bool { return stuck.calls.Load() > 0 })
	writeText(t, m2cfg, strings.Replace(string(fixture.ReadFile(t, m2cfg)), withPeer("\npeers: []"), "\npeers: []", 1))
	if err := m2.Reload(); err != nil {
		t.Fatal(err)
	}
	depth, err := m2.Hub.Store().OutboxDepths(context.Background())
	if err != nil || depth["national"] != 1 {
		t.Fatalf("the removed peer's outbox: %v %v, want 1 entry", depth, err)
	}
	if s := status(t, m2, testgen.Commune, rc2.DocID); s.Recipients[0].State != "relaying" || s.Recipients[0].Route != "national" || s.Recipients[0].LastError != "peer down" {
		t.Fatalf("the removed peer's delivery: %+v", s.Recipients[0])
	}
}

// failingPeer refuses every send with a retryable error.
type failingPeer struct{ calls atomic.Int64 }

func (f *failingPeer) Send(context.Context, axis.Outgoing) (string, error) {
	f.calls.Add(1)
	return "", errors.New("peer down")
}

// TestReloadTokensAndRestartKeys: admin users and an agency's token change
// with a reload (the old token is refused at once, the new one accepted);
// a key that needs a restart (listen) is not applied but warned about,
// and the rest of the reload applies.
func TestReloadTokensAndRestartKeys(t *testing.T) {
	cfg, agencies := reloadConfig(t, nil)
	m, log := startReloadable(t, cfg, nil)
	if r := call(t, m, "GET", "/admin/v1/stuck", "token-of-an", nil); r.status != 401 {
		t.Fatalf("a named admin before the reload: %d", r.status)
	}
	s := string(fixture.ReadFile(t, cfg))
	s = strings.Replace(s, "admin:\n", "admin:\n  users: [{name: \"Nguyễn Văn An\", token_sha256: "+axis.TokenHash("token-of-an")+"}]\n", 1)
	s = strings.Replace(s, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:8181", 1)
	writeText(t, cfg, s)
	ag := string(fixture.ReadFile(t, agencies))
	old := axis.TokenHash(tok(testgen.Department))
	if !strings.Contains(ag, old) {
		t.Fatal("the department's token is not in the agencies file")
	}
	writeText(t, agencies, strings.Replace(ag, old, axis.TokenHash("a-new-token"), 1))
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := call(t, m, "GET", "/admin/v1/stuck", "token-of-an", nil); r.status != 200 {
		t.Fatalf("the named admin after the reload: %d %s", r.status, r.body)
	}
	if r := call(t, m, "GET", "/api/v1/inbox", tok(testgen.Department), nil); r.status != 401 {
		t.Fatalf("the department's old token after the reload: %d", r.status)
	}
	var page api.InboxPage
	if r := call(t, m, "GET", "/api/v1/inbox", "a-new-token", nil); r.status != 200 {
		t.Fatalf("the department's new token: %d", r.status)
	} else {
		r.json(t, &page)
	}
	warned := false
	for _, l := range log.Lines(t) {
		warned = warned || (l["level"] == "WARN" && l["key"] == "listen")
	}
	if !warned {
		t.Fatal("no warning that listen needs a restart")
	}
	if ok, refused := reloads(t, m); ok != "1" || refused != "0" {
		t.Fatalf("reloads: ok %s, refused %s", ok, refused)
	}
}

// TestReloadKeepsVDXPRegistered: an agency registered over VDXP (kept in
// the store's registry, not in the file) stays in the directory through a
// reload; while the config lists the same code the configured entry is the
// one in service, and when the config drops it again the registered one is
// back.
func TestReloadKeepsVDXPRegistered(t *testing.T) {
	const code, name = "000.98.35.H40", "UBND xã Đăng Ký"
	cfg, agencies := reloadConfig(t, func(s string) string {
		return strings.Replace(s, "\n  systems:\n", "\n  systems:\n    - {id: "+vdxpAdminSystem+", secret_env: "+vdxpAdminEnv+", admin: true}\n", 1)
	})
	secrets := map[string]string{testgen.DemoVDXPSecretEnv: vdxpTestSecret, vdxpAdminEnv: vdxpAdminSecret}
	m, _ := startReloadable(t, cfg, func(m *Main) { m.Options.Getenv = func(k string) string { return secrets[k] } })
	sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, 0).registerAgency(t, code, name).ok(t)
	agency := func() *axis.Agency {
		a, ok := m.Hub.Directory().Agency(code)
		if !ok {
			t.Fatalf("%s is not in the directory", code)
		}
		return a
	}
	if a := agency(); a.Name != name || a.TokenSHA256 != "" {
		t.Fatalf("registered: %+v", a)
	}

	orig := string(fixture.ReadFile(t, agencies))
	writeText(t, agencies, orig+fmt.Sprintf("- {organ_id: %s, name: \"Cấu hình\", token_sha256: %s}\n", code, axis.TokenHash(tok(code))))
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if a := agency(); a.Name != "Cấu hình" || a.TokenSHA256 == "" {
		t.Fatalf("configured over the registered one: %+v", a)
	}
	if r := call(t, m, "GET", "/api/v1/inbox", tok(code), nil); r.status != 200 {
		t.Fatalf("the configured agency's token: %d", r.status)
	}

	writeText(t, agencies, orig)
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if a := agency(); a.Name != name || a.TokenSHA256 != "" {
		t.Fatalf("the config dropped it: %+v, want the registered one back", a)
	}
	if r := call(t, m, "GET", "/api/v1/inbox", tok(code), nil); r.status != 401 {
		t.Fatalf("the dropped configured token: %d", r.status)
	}
	msg := fixture.Numbered("701")
	msg.To = []envelope.Organization{{OrganID: code, OrganName: name}}
	if rc := intake(t, m, testgen.Commune, fixture.Sign(t, msg)); rc.Recipients[0].OrganID != code || rc.Recipients[0].Route != "local" {
		t.Fatalf("to the registered agency after the reloads: %+v", rc)
	}
	if n := len(m.Hub.Directory().Agencies()); n != 259 {
		t.Fatalf("%d agencies, want the 258 configured and the registered one", n)
	}
}
