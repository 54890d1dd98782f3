package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/internal/testgen"
)

// twoNodes are two axisd nodes (in this process) on one PostgreSQL
// database, as README "Past one machine" lays them out.
func twoNodes(t *testing.T, configure ...func(*axis.Config)) (*Main, *Main) {
	t.Helper()
	pg := pgtest.Start(t, pgtest.Options{Fast: true})
	pg.Exec(t, "CREATE DATABASE axis")
	t.Setenv("AXIS_NODES_DSN", pg.DSN("axis"))
	node := func(name string) *Main {
		return start(t, append([]func(*axis.Config){func(c *axis.Config) {
			c.Store = axis.StoreConfig{Engine: axis.EnginePostgres, DSNEnv: "AXIS_NODES_DSN"}
			c.Cluster = axis.ClusterConfig{Node: name, LeaseTTL: axis.Duration{Duration: time.Second}}
		}}, configure...)...)
	}
	return node("node-a"), node("node-b")
}

// A console session made on one node is served by the other, and
// signing out on either ends it on both: sessions are in the store.
func TestConsoleSessionOnAnyNode(t *testing.T) {
	a, b := twoNodes(t)
	hc := consoleAdmin(t, a) // signed in at node-a
	get := func(m *Main) response {
		return send(t, hc, newRequest(t, "GET", m.URL()+"/admin/", "", nil, nil))
	}
	if r := get(b); r.status != http.StatusOK || !strings.Contains(string(r.body), `name="csrf"`) {
		t.Fatalf("node-b with node-a's session: %d %s", r.status, r.header.Get("Location"))
	}
	// Sign out at node-b, with the CSRF token node-b's page carries.
	page := get(b)
	csrf := csrfField.FindSubmatch(page.body)
	if csrf == nil {
		t.Fatal("no csrf field at node-b")
	}
	req := newRequest(t, "POST", b.URL()+"/admin/logout", "", []byte(url.Values{"csrf": {string(csrf[1])}}.Encode()), nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := send(t, hc, req); r.status != http.StatusSeeOther {
		t.Fatalf("logout at node-b: %d", r.status)
	}
	// The cookie is gone from the browser; the session from the store: the
	// old cookie, sent again by hand, opens nothing at node-a.
	if r := get(a); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("node-a after signing out at node-b: %d %s", r.status, r.header.Get("Location"))
	}
}

// Each loop runs on one node: the peer's relay is leased to one of the
// two, and when that node stops, the other takes it within the lease's
// time to live and delivers what the first left.
func TestLeaseMovesWhenANodeStops(t *testing.T) {
	n := startNetwork(t)
	a, b := twoNodes(t, func(c *axis.Config) {
		c.Peers = []axis.Peer{{Name: "national", Kind: axis.PeerAxis, URL: n.urls[cfgNational], Routes: []string{"*"}, Token: testgen.PeerToken("nam-dinh")}}
		c.Relay.RetryMin.Duration, c.Relay.RetryMax.Duration = 20*time.Millisecond, 200*time.Millisecond
	})
	held := regexp.MustCompile(`(?m)^axis_lease_held\{lease="peer:national"\} 1$`)
	holder := func() []*Main {
		var out []*Main
		for _, m := range []*Main{a, b} {
			if held.Match(call(t, m, "GET", "/metrics", "", nil).body) {
				out = append(out, m)
			}
		}
		return out
	}
	eventually(t, 10*time.Second, "one node runs the relay to the national hub", func() bool { return len(holder()) == 1 })
	fixture.Consistently(t, 2*time.Second, "one node, not two", func() bool { return len(holder()) == 1 })
	first := holder()[0]
	other := map[*Main]*Main{a: b, b: a}[first]
	// The relay's own series come from the node that runs it alone.
	peerUp := regexp.MustCompile(`(?m)^axis_peer_up\{peer="national"\} 1$`)
	if !peerUp.Match(call(t, first, "GET", "/metrics", "", nil).body) || peerUp.Match(call(t, other, "GET", "/metrics", "", nil).body) {
		t.Fatal("axis_peer_up must come from the node that runs the relay, and from it alone")
	}

	// A document through the node that does not run the relay: the
	// holder is woken and relays it.
	d := fixture.Numbered("L1")
	d.To = organs(vpcp)
	rc := intake(t, other, testgen.Commune, fixture.Sign(t, d))
	eventually(t, 10*time.Second, "relayed by the lease holder", func() bool {
		_, err := n.national.Hub.Store().Document(context.Background(), rc.DocID)
		return err == nil
	})

	// The holder stops: the other node takes the lease and relays the next one.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	d = fixture.Numbered("L2")
	d.To = organs(vpcp)
	rc = intake(t, other, testgen.Commune, fixture.Sign(t, d))
	eventually(t, 10*time.Second, "the other node holds the lease and relayed", func() bool {
		_, err := n.national.Hub.Store().Document(context.Background(), rc.DocID)
		return err == nil && held.Match(call(t, other, "GET", "/metrics", "", nil).body)
	})
}
