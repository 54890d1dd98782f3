package axis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/record"
)

// The background workers: one relay loop per peer, one push loop per
// pushing agency, the VDXP poller and state poller, the hold loop and the
// reconciliation schedule, started by Open and stopped by Close; and what
// their retries share (capped exponential backoff with jitter, a log
// limiter).

// backoff is a capped exponential wait with jitter.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min << min(b.n, 30)
	if d <= 0 || d > b.max {
		d = b.max
	}
	b.n++
	return d/2 + rand.N(d/2+1) // half fixed, half jitter
}

func (b *backoff) reset() { b.n = 0 }

// logLimiter lets one error line through per interval per key.
type logLimiter struct {
	mu    sync.Mutex
	last  map[string]time.Time
	every time.Duration
}

func (l *logLimiter) allow(k string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last[k]) < l.every {
		return false
	}
	l.last[k] = now
	return true
}

// workers runs the hub's loops. Those of one peer (its relay loop, its
// VDXP pollers, its delivery-report loop) and the push loop of one agency
// are a unit: started together, stopped together, and replaced by a
// reload whose config changed what they were started with (unitSpec.sig).
type workers struct {
	ctx    context.Context // the hub's: every loop's parent, cancelled by stopWorkers
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.RWMutex             // wake, reportWake and units change on reload
	wake map[string]chan struct{} // peer name or "push:"+organ
	// reportWake nudges each peer's report loop (deliveryreport.go).
	reportWake map[string]chan struct{}
	units      map[string]*unit // "peer:"+name, "push:"+organ

	pushClient *http.Client
	logs       *logLimiter
}

// unit is one running set of loops.
type unit struct {
	sig    string // what it was started with (unitSpec.sig)
	cancel context.CancelFunc
	done   chan struct{} // closed when all its loops returned
}

// unitSpec is a unit as a config wants it: its key, the signature of what
// its loops read at start (a peer's url, kind, token, secrets, tls files,
// poll settings; an agency's push_url), and for a peer unit its client.
type unitSpec struct {
	key    string
	sig    string
	peer   *Peer
	agency *Agency
	client PeerClient // the relay's (unwrapped: the reconciliation asks a VDXP peer with it)
}

func (h *Hub) startWorkers() error {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workers{ctx: ctx, cancel: cancel, wake: map[string]chan struct{}{}, reportWake: map[string]chan struct{}{},
		units: map[string]*unit{}, pushClient: &http.Client{Timeout: h.cfg.Relay.Timeout.Duration},
		logs: &logLimiter{last: map[string]time.Time{}, every: time.Minute}}
	h.workers = w // before any goroutine reads it
	sigs := map[string]string{}
	for _, p := range h.dir.Peers() {
		sigs[p.Name] = h.peerSig(h.cfg, p)
	}
	h.reload.sigs = sigs // what a reload compares with (reload.go)
	specs, err := h.unitSpecs(h.dir.Peers(), h.dir.Agencies(), h.peerHTTPMap(), sigs, nil)
	if err != nil {
		cancel()
		return err
	}
	h.setClients(specs)
	h.applyUnits(specs)
	if h.cfg.Trust.Revocation.Mode == envelope.RevocationHold {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.leased(ctx, "hold", h.holdLoop) // hold.go
		}()
	}
	if h.db.Engine() == EnginePostgres {
		w.wg.Go(func() { h.db.Listen(ctx, func(k string) { h.wakeKey(k) }) }) // other nodes' intakes
	}
	if h.anchor != nil {
		w.wg.Go(func() { h.leased(ctx, "anchor", h.anchorLoop) }) // anchor.go
	}
	if h.archive != nil {
		w.wg.Go(func() { h.leased(ctx, "archive", h.archiveLoop) }) // archive.go
	}
	if h.cfg.Reconcile.At != "" {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.leased(ctx, "reconcile", h.reconcileLoop)
		}()
	}
	return nil
}

// unitSpecs are the units a config's peers and agencies want: one per
// peer that is not a pull peer, one per agency with a push_url. sigs are
// the peers' signatures (peerSig). A peer unit whose signature is that of
// the running one keeps its client; a new or changed one gets a new client
// over hc's (its one HTTP client), or Options.PeerClients'.
func (h *Hub) unitSpecs(peers []*Peer, agencies []*Agency, hc peerHTTP, sigs map[string]string, running map[string]*unit) ([]unitSpec, error) {
	var specs []unitSpec
	for i, p := range peers {
		if p.Kind == PeerPull {
			continue // it collects its envelopes from us over VDXP
		}
		sp := unitSpec{key: "peer:" + p.Name, sig: sigs[p.Name], peer: p}
		if u := running[sp.key]; u != nil && u.sig == sp.sig {
			sp.client = h.peerClient(p.Name)
		}
		if sp.client == nil {
			sp.client = h.peerClients[p.Name]
		}
		if sp.client == nil {
			c, err := h.newPeerClient(p, hc[p.Name])
			if err != nil {
				return nil, errAt(key("peers", i), err)
			}
			sp.client = c
		}
		specs = append(specs, sp)
	}
	for _, a := range agencies {
		if a.PushURL != "" {
			specs = append(specs, unitSpec{key: "push:" + a.OrganID, sig: a.PushURL, agency: a})
		}
	}
	return specs, nil
}

// peerSig is what a peer's loops read when they start: a change restarts
// them. Routes, token_sha256, client_cert_sha256, display_name and the
// admin keys are read from the directory at each use and restart nothing.
func (h *Hub) peerSig(cfg *Config, p *Peer) string {
	s := sha256.New()
	fmt.Fprintf(s, "%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%d\x00", p.Kind, p.URL, h.peerToken(p), p.SystemID, h.getenv(p.SecretEnv), p.PollInterval, p.PollBatch)
	if t := p.TLS; t != nil {
		for _, f := range append(append([]string{}, t.CA...), "", t.Cert, t.Key) {
			fmt.Fprintf(s, "%s\x00", f)
			if f != "" {
				b, err := os.ReadFile(cfg.Path(f))
				fmt.Fprintf(s, "%x\x00%v\x00", sha256.Sum256(b), err)
			}
		}
	}
	return hex.EncodeToString(s.Sum(nil))
}

// peerClient is the client the relay loop of peer name uses, nil for none.
func (h *Hub) peerClient(name string) PeerClient {
	h.clientsMu.RLock()
	defer h.clientsMu.RUnlock()
	return h.clients[name]
}

// setClients makes specs' clients the peers' clients.
func (h *Hub) setClients(specs []unitSpec) {
	m := map[string]PeerClient{}
	for _, sp := range specs {
		if sp.peer != nil {
			m[sp.peer.Name] = sp.client
		}
	}
	h.clientsMu.Lock()
	h.clients = m
	h.clientsMu.Unlock()
}

// applyUnits makes the running units those of specs: a unit no longer
// wanted is stopped (its in-flight sends finish: the relay's posts are not
// cut by the stop, only by the hub's Close); a changed one is stopped and
// its replacement starts once the old one's loops returned (so an outbox
// is never sent by two loops at once); a new one starts. What the store
// holds for a removed peer (its outbox, dead list, reports) stays there.
func (h *Hub) applyUnits(specs []unitSpec) (started, stopped []string) {
	w := h.workers
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]bool{}
	for _, sp := range specs {
		want[sp.key] = true
	}
	for k, u := range w.units {
		if !want[k] {
			u.cancel()
			delete(w.units, k)
			stopped = append(stopped, k)
			name := strings.TrimPrefix(k, "peer:")
			if name != k {
				delete(w.wake, name)
				delete(w.reportWake, name)
			} else {
				delete(w.wake, k)
			}
		}
	}
	for _, sp := range specs {
		prev := w.units[sp.key]
		if prev != nil && prev.sig == sp.sig {
			continue
		}
		if prev != nil {
			prev.cancel()
			stopped = append(stopped, sp.key)
		}
		started = append(started, sp.key)
		w.units[sp.key] = h.startUnit(prev, sp)
	}
	sort.Strings(started)
	sort.Strings(stopped)
	return started, stopped
}

// startUnit starts sp's loops, once prev's (the unit it replaces, or nil)
// have returned. Called with w.mu held.
func (h *Hub) startUnit(prev *unit, sp unitSpec) *unit {
	w := h.workers
	ctx, cancel := context.WithCancel(w.ctx)
	u := &unit{sig: sp.sig, cancel: cancel, done: make(chan struct{})}
	var run func(context.Context)
	switch {
	case sp.peer != nil:
		p := sp.peer
		wake := w.wake[p.Name]
		if wake == nil {
			wake = make(chan struct{}, 1)
			w.wake[p.Name] = wake
		}
		var rwake chan struct{}
		if p.getsReports() {
			if rwake = w.reportWake[p.Name]; rwake == nil {
				rwake = make(chan struct{}, 1)
				w.reportWake[p.Name] = rwake
			}
		} else {
			delete(w.reportWake, p.Name)
		}
		client := sp.client
		run = func(ctx context.Context) {
			var wg sync.WaitGroup
			if v, ok := client.(*vdxpPeer); ok {
				wg.Go(func() { h.pollLoop(ctx, p, v) })
				wg.Go(func() { h.stateLoop(ctx, p, v) }) // vdxp_peer.go
			}
			wg.Go(func() { h.relayLoop(ctx, p, detachedClient{client, w.ctx}, wake) })
			if rwake != nil {
				wg.Go(func() { h.reportLoop(ctx, p, rwake) }) // deliveryreport.go
			}
			wg.Wait()
		}
	default:
		a := sp.agency
		ch := w.wake["push:"+a.OrganID]
		if ch == nil {
			ch = make(chan struct{}, 1)
			w.wake["push:"+a.OrganID] = ch
		}
		run = func(ctx context.Context) { h.pushLoop(ctx, a, w.pushClient, ch) }
	}
	w.wg.Go(func() {
		defer close(u.done)
		if prev != nil {
			<-prev.done // its in-flight sends landed, its marks committed
		}
		if ctx.Err() == nil {
			h.leased(ctx, sp.key, run) // lease.go: on one node of a shared store
		}
	})
	return u
}

// detachedClient sends with a context that the unit's stop does not
// cancel (a removed or changed peer's in-flight posts finish, bounded by
// relay.timeout), only the hub's Close.
type detachedClient struct {
	PeerClient
	hub context.Context
}

func (c detachedClient) Send(ctx context.Context, out Outgoing) (string, error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(c.hub, cancel)()
	return c.PeerClient.Send(sctx, out)
}

func (h *Hub) stopWorkers() {
	if h.workers != nil {
		h.workers.cancel()
		h.workers.wg.Wait()
	}
}

// wakeFor nudges the workers that have new work after an intake: here,
// and on a shared store the other nodes too (one of them may run the
// loop: lease.go), with one announcement (store.Announce) per key.
func (h *Hub) wakeFor(routes []record.Route) {
	if h.workers == nil {
		return
	}
	var keys []string
	for _, r := range routes {
		k := r.Peer
		if k == "" {
			k = "push:" + r.OrganID
		}
		if h.wakeKey(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 && h.db.Engine() == EnginePostgres {
		go func() { // best effort: an idle loop looks again within 5 s anyway
			ctx, cancel := context.WithTimeout(h.workers.ctx, 2*time.Second)
			defer cancel()
			for _, k := range keys {
				if err := h.db.Announce(ctx, k); err != nil {
					return
				}
			}
		}()
	}
}

// wakeKey nudges the loop of key (a peer's name, "push:"+organ) if this
// node knows it; it says whether it does.
func (h *Hub) wakeKey(k string) bool {
	h.workers.mu.RLock()
	defer h.workers.mu.RUnlock()
	ch, ok := h.workers.wake[k]
	if ok {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return ok
}

func sleepCtx(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}
