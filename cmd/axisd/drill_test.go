package main

// The high-availability drill (README, "Past one machine"): three axisd
// processes on one PostgreSQL primary with a synchronous standby, six
// clients posting through all three, one node SIGKILLed, then the primary
// SIGKILLed and the standby promoted. Every acknowledged envelope must
// survive both, once.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// attempt is one client's post and what it got.
type attempt struct {
	start, end time.Time
	ok         bool
}

// outage is how long intake was unavailable after a failure at t: from t
// to the end of the first post, started after t, that got a 2xx.
func outage(attempts []attempt, t time.Time) time.Duration {
	best := time.Duration(-1)
	for _, a := range attempts {
		if a.ok && !a.start.Before(t) {
			if d := a.end.Sub(t); best < 0 || d < best {
				best = d
			}
		}
	}
	return best
}

func TestDrillHA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds axisd and runs three of them on two PostgreSQL clusters")
	}
	bin := buildAxisdRace(t, false)

	// The database: a primary and a synchronous standby made with
	// pg_basebackup; the nodes are told both hosts and look for the
	// writable one.
	primary := pgtest.Start(t, pgtest.Options{})
	primary.Exec(t, "CREATE DATABASE axis")
	standby := primary.Standby(t, "standby1")
	primary.SetSynchronous(t, "standby1")
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/axis?sslmode=disable&target_session_attrs=read-write&connect_timeout=2", primary.Port(), standby.Port())
	t.Setenv("AXIS_DRILL_DSN", dsn) // the nodes inherit it

	// The peer the relay delivers to: the national hub, in this process.
	n := startNetwork(t)
	nationalURL := n.urls[cfgNational]

	// Three nodes of H40 on the one database.
	type node struct {
		name string
		cmd  interface{ Wait() error }
		pid  int
		url  string
	}
	var nodes []*node
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("node-%d", i)
		cfg := processConfig(t, cfgH40, func(s string) string {
			s = strings.ReplaceAll(s, "http://127.0.0.1:9090", nationalURL)
			return s + "\nstore: {engine: postgres, dsn_env: AXIS_DRILL_DSN}\ncluster: {node: " + name + ", lease_ttl: 3s}\n"
		})
		cmd, url := startProcessWith(t, bin, cfg, t.TempDir())
		nodes = append(nodes, &node{name: name, cmd: cmd, pid: cmd.Process.Pid, url: url})
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}

	// Envelopes from a commune to a department here and to the Government
	// Office at the national hub (relayed).
	const poolSize = 360
	pool := make([][]byte, poolSize)
	signPool(t, pool, func(i int) *envelope.Message {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("HA%d", i)
		m.To = []envelope.Organization{testgen.Organ(testgen.Department), vpcpOrgan}
		return m
	})

	var (
		mu       sync.Mutex
		acked    = map[string][]byte{} // doc id → bytes that got a 2xx
		attempts []attempt
		next     int
		failures []string // the first failed posts, for a failing drill's log
	)
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("first failed posts: %q", failures)
			mu.Unlock()
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(url string, raw []byte) (string, int, error) {
		req, _ := http.NewRequest("POST", url+"/api/v1/envelopes", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+testgen.DemoToken(testgen.Commune))
		resp, err := client.Do(req)
		if err != nil {
			return "", 0, err
		}
		defer resp.Body.Close()
		var rc api.Receipt
		err = json.NewDecoder(resp.Body).Decode(&rc)
		return rc.DocID, resp.StatusCode, err
	}
	var cw sync.WaitGroup
	for c := 0; c < 6; c++ {
		cw.Go(func() {
			for {
				mu.Lock()
				if next >= poolSize {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				raw := pool[i]
				// Through every node in turn, from the one this envelope's
				// number picks, until one answers 2xx: the client retries.
				deadline := time.Now().Add(90 * time.Second)
				for k := i; time.Now().Before(deadline); k++ {
					nd := nodes[k%len(nodes)]
					a := attempt{start: time.Now()}
					id, code, err := post(nd.url, raw)
					a.end = time.Now()
					a.ok = err == nil && code/100 == 2
					mu.Lock()
					attempts = append(attempts, a)
					if a.ok {
						acked[id] = raw
					}
					mu.Unlock()
					if a.ok {
						break
					}
					if err == nil && code/100 == 4 {
						t.Errorf("envelope %d: %d from %s", i, code, nd.name)
						return
					}
					mu.Lock()
					if len(failures) < 20 {
						failures = append(failures, fmt.Sprintf("%s: %d %v", nd.name, code, err))
					}
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	waitAcked := func(n int) {
		t.Helper()
		eventually(t, 60*time.Second, fmt.Sprintf("%d acknowledged", n), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= n
		})
	}

	// Failure 1: a node dies.
	waitAcked(poolSize / 4)
	killNode := time.Now()
	syscall.Kill(nodes[0].pid, syscall.SIGKILL)
	nodes[0].cmd.Wait()

	// Failure 2: the primary dies; the standby is promoted.
	waitAcked(poolSize / 2)
	killPrimary := time.Now()
	primary.Kill()
	standby.Promote(t)
	promoted := time.Now()
	clientsDone := make(chan struct{})
	go func() { cw.Wait(); close(clientsDone) }()
	select {
	case <-clientsDone:
	case <-time.After(120 * time.Second):
		t.Fatal("the clients did not get every envelope acknowledged within 2 minutes of the promotion")
	}
	if t.Failed() {
		return
	}

	// Every acknowledged envelope reaches the national hub.
	ctx := context.Background()
	natDB := n.national.Hub.Store()
	eventually(t, 120*time.Second, "every acknowledged envelope relayed to the national hub", func() bool {
		for id := range acked {
			if _, err := natDB.Document(ctx, id); err != nil {
				return false
			}
		}
		return true
	})
	for _, nd := range nodes[1:] {
		syscall.Kill(nd.pid, syscall.SIGTERM)
		nd.cmd.Wait()
	}

	// The store after both failures: every acknowledged envelope, byte for
	// byte, queued once for the department, relayed once; consistent.
	db, err := store.OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, raw := range acked {
		got, err := db.Blob(ctx, id)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("%s acknowledged but not stored byte for byte: %v", id, err)
		}
	}
	queued := inboxCounts(t, db, testgen.Department)
	atNational := inboxCounts(t, natDB, vpcp)
	duplicates := 0
	for id := range acked {
		if queued[id] != 1 {
			t.Errorf("%s queued %d times for the department", id, queued[id])
		}
		if atNational[id] != 1 {
			t.Errorf("%s queued %d times at the national hub", id, atNational[id])
		}
		evs, err := natDB.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type == store.EventDuplicate {
				duplicates++
			}
		}
		ds, err := db.Deliveries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		relayed := 0
		for _, d := range ds {
			if d.OrganID == vpcp && d.PeerDocID != "" {
				relayed++
			}
		}
		if relayed != 1 {
			t.Errorf("%s: %d relayed deliveries to the national hub, want 1", id, relayed)
		}
	}
	if err := db.Check(ctx); err != nil {
		t.Fatalf("store check after the drill: %v", err)
	}
	chain, err := db.VerifyChain(ctx)
	if err != nil || !chain.OK() {
		t.Fatalf("event chain after the drill: %+v %v", chain, err)
	}
	stored, _ := db.Count(ctx)
	nat, _ := natDB.Count(ctx)
	mu.Lock()
	failedPosts := 0
	for _, a := range attempts {
		if !a.ok {
			failedPosts++
		}
	}
	t.Logf("drill: %d envelopes, %d acknowledged, %d stored, %d at the national hub (%d re-sent there as duplicates); %d posts refused or cut and retried; chain %d events",
		poolSize, len(acked), stored, nat, duplicates, failedPosts, chain.Events)
	t.Logf("drill: intake unavailable %s after node-1's SIGKILL; %s after the primary's SIGKILL (promotion took %s)",
		outage(attempts, killNode).Round(time.Millisecond), outage(attempts, killPrimary).Round(time.Millisecond), promoted.Sub(killPrimary).Round(time.Millisecond))
	mu.Unlock()
	if len(acked) != poolSize {
		t.Fatalf("%d of %d envelopes acknowledged: clients retry until one is", len(acked), poolSize)
	}
}

// inboxCounts is how many times each document is queued for organ.
func inboxCounts(t *testing.T, db *store.DB, organ string) map[string]int {
	t.Helper()
	items, _, err := db.Inbox(context.Background(), organ, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, it := range items {
		out[it.Doc.ID]++
	}
	return out
}
