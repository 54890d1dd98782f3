package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
)

var outboxDepth = regexp.MustCompile(`axis_outbox_depth\{peer="national"\} (\d+)`)

// TestCrashDuringRelay: H40 runs as its own process with a backlog for the
// national hub, is SIGKILLed twice while relaying it and restarted; the
// national hub ends with every envelope exactly once.
func TestCrashDuringRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildAxisd(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natAddr := ln.Addr().String()
	ln.Close() // down until the backlog is built
	cfg := processConfig(t, cfgH40, func(s string) string {
		return strings.ReplaceAll(s, "http://127.0.0.1:9090", "http://"+natAddr) + "relay: {retry_min: 20ms, retry_max: 300ms}\n"
	})
	dataDir := t.TempDir()

	h40, url := startProcessWith(t, bin, cfg, dataDir)
	const count = 600
	pool := make([][]byte, count)
	signPool(t, pool, func(i int) *envelope.Message {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("CR%d", i)
		m.To = []envelope.Organization{{OrganID: vpcp}}
		return m
	})
	for _, raw := range pool {
		intakeWant(t, url, testgen.Commune, raw, http.StatusCreated)
	}

	n := &network{urls: map[string]string{cfgNational: "http://" + natAddr, cfgH40: url},
		dirs: map[string]string{cfgNational: t.TempDir()}, listeners: map[string]net.Listener{}}
	national := n.start(t, cfgNational)
	for kill := 0; kill < 2; kill++ {
		eventually(t, 30*time.Second, "relaying has started", func() bool {
			c, _ := national.Hub.Store().Count(context.Background())
			return c > (kill+1)*count/4
		})
		h40.Process.Signal(syscall.SIGKILL)
		h40.Wait()
		c, _ := national.Hub.Store().Count(context.Background())
		t.Logf("kill %d: H40 killed with %d of %d at the national hub", kill+1, c, count)
		h40, url = startProcessWith(t, bin, cfg, dataDir)
	}
	eventually(t, 60*time.Second, "H40's outbox drains", func() bool {
		m := outboxDepth.FindStringSubmatch(string(callURL(t, url, "GET", "/metrics", "", nil).body))
		return m == nil || m[1] == "0"
	})
	h40.Process.Signal(syscall.SIGTERM)
	h40.Wait()

	if c, _ := national.Hub.Store().Count(context.Background()); c != count {
		t.Fatalf("national stores %d documents, want %d", c, count)
	}
	p := inbox(t, national, vpcp)
	seen := map[string]int{}
	for _, it := range p.Items {
		seen[it.DocID]++
	}
	if len(p.Items) != count || len(seen) != count {
		t.Fatalf("national inbox: %d items, %d distinct, want %d", len(p.Items), len(seen), count)
	}
	if err := national.Hub.Store().Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}
