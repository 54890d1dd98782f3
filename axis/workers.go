package axis

import (
	"context"
	"math/rand/v2"
	"net/http"
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

// workers runs one relay loop per peer and one push loop per agency with a
// push_url.
type workers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   map[string]chan struct{} // peer name or "push:"+organ
	// reportWake nudges each peer's report loop (deliveryreport.go).
	reportWake map[string]chan struct{}
	logs       *logLimiter
}

func (h *Hub) startWorkers() error {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workers{cancel: cancel, wake: map[string]chan struct{}{}, reportWake: map[string]chan struct{}{}, logs: &logLimiter{last: map[string]time.Time{}, every: time.Minute}}
	h.workers = w // before any goroutine reads it
	for _, p := range h.dir.Peers() {
		if p.Kind == PeerPull {
			continue // it collects its envelopes from us over VDXP
		}
		client := h.peerClients[p.Name]
		if client == nil {
			c, err := h.newPeerClient(p)
			if err != nil {
				cancel()
				return err
			}
			client = c
		}
		h.clients[p.Name] = client // the reconciliation asks VDXP peers with the same client
		if v, ok := client.(*vdxpPeer); ok {
			w.wg.Add(2)
			go func() {
				defer w.wg.Done()
				h.pollLoop(ctx, p, v)
			}()
			go func() {
				defer w.wg.Done()
				h.stateLoop(ctx, p, v) // vdxp_peer.go
			}()
		}
		ch := make(chan struct{}, 1)
		w.wake[p.Name] = ch
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.relayLoop(ctx, p, client, ch)
		}()
		if h.reportsTo(p.Name) {
			rch := make(chan struct{}, 1)
			w.reportWake[p.Name] = rch
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				h.reportLoop(ctx, p, rch) // deliveryreport.go
			}()
		}
	}
	if h.cfg.Trust.Revocation.Mode == envelope.RevocationHold {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.holdLoop(ctx) // hold.go
		}()
	}
	if h.cfg.Reconcile.At != "" {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.reconcileLoop(ctx)
		}()
	}
	pushClient := &http.Client{Timeout: h.cfg.Relay.Timeout.Duration}
	for _, a := range h.dir.Agencies() {
		if a.PushURL == "" {
			continue
		}
		ch := make(chan struct{}, 1)
		w.wake["push:"+a.OrganID] = ch
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.pushLoop(ctx, a, pushClient, ch)
		}()
	}
	return nil
}

func (h *Hub) stopWorkers() {
	if h.workers != nil {
		h.workers.cancel()
		h.workers.wg.Wait()
	}
}

// wakeFor nudges the workers that have new work after an intake.
func (h *Hub) wakeFor(routes []record.Route) {
	if h.workers == nil {
		return
	}
	for _, r := range routes {
		k := r.Peer
		if k == "" {
			k = "push:" + r.OrganID
		}
		if ch, ok := h.workers.wake[k]; ok {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
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
