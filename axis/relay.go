package axis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// PeerClient delivers envelopes, unchanged, to one peer hub. Each peer kind
// (the native axis API today, VDXP next) is one implementation.
type PeerClient interface {
	// Send posts the envelope's exact bytes and returns the peer's id for
	// them. Peers de-duplicate by content, so sending again after a crash is
	// harmless.
	Send(ctx context.Context, out Outgoing) (peerDocID string, err error)
}

// Outgoing is one envelope on its way to a peer: its exact bytes and what
// the hub's record (made from the verified element at intake) says of it,
// so no peer client reads the bytes again unverified.
type Outgoing struct {
	Raw    []byte
	Kind   string   // envelope.KindDocument or KindStatus
	From   string   // From/OrganId
	Organs []string // the recipients this peer is to take care of
}

// PermanentError marks a refusal that retrying cannot fix (the peer refused
// the envelope itself): the entry goes dead at once, visibly.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// axisClient speaks the native API of another axis hub.
type axisClient struct {
	url, token string
	http       *http.Client
}

// newPeerClient is the relay's client of p, over the peer's one HTTP
// client (peerHTTPClient, tls.go: its timeout, connections and TLS).
func (h *Hub) newPeerClient(p *Peer) (PeerClient, error) {
	switch p.Kind {
	case PeerVDXP:
		secret := h.getenv(p.SecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("peer %s: $%s is empty", p.Name, p.SecretEnv)
		}
		return newVDXPPeer(p, secret, h.peerHTTPClient(p)), nil
	case PeerAxis:
		return &axisClient{url: strings.TrimRight(p.URL, "/"), token: h.peerToken(p), http: h.peerHTTPClient(p)}, nil
	}
	return nil, fmt.Errorf("peer %s: kind %q has no client", p.Name, p.Kind)
}

func (c *axisClient) Send(ctx context.Context, out Outgoing) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.url+"/api/v1/envelopes", bytes.NewReader(out.Raw))
	if err != nil {
		return "", &PermanentError{err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(api.RecipientsHeader, strings.Join(out.Organs, ","))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	// 202: the peer holds it durably until its signer's revocation status
	// is known (its mode hold); it has taken it over as much as with 201.
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted {
		var r api.Receipt
		if err := json.Unmarshal(body, &r); err != nil || r.DocID == "" {
			return "", fmt.Errorf("peer answered %d without a doc id", resp.StatusCode)
		}
		return r.DocID, nil
	}
	var p api.Problem
	_ = json.Unmarshal(body, &p)
	err = fmt.Errorf("peer answered %d %s: %s", resp.StatusCode, p.Code, p.Detail)
	switch {
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return "", err // a configuration or availability problem: keep retrying
	}
	return "", &PermanentError{err}
}

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
	logs   *logLimiter
}

func (h *Hub) startWorkers() error {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workers{cancel: cancel, wake: map[string]chan struct{}{}, logs: &logLimiter{last: map[string]time.Time{}, every: time.Minute}}
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
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				h.pollLoop(ctx, p, v)
			}()
		}
		ch := make(chan struct{}, 1)
		w.wake[p.Name] = ch
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			h.relayLoop(ctx, p, client, ch)
		}()
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

// relayLoop sends a peer's outbox in order, keeping Concurrency envelopes in
// flight, and keeps retrying while the peer is down (store-and-forward). After
// a failure it lets the flight land, waits (capped exponential backoff with
// jitter, or a wake-up) and starts again from the head of the outbox: what is
// still there is what was not relayed. An entry that fails after DeadAfter
// (or is refused outright) goes dead, visibly; an administrator's re-drive
// puts it back.
func (h *Hub) relayLoop(ctx context.Context, p *Peer, client PeerClient, wake <-chan struct{}) {
	rc := h.cfg.Relay
	bo := &backoff{min: rc.RetryMin.Duration, max: rc.RetryMax.Duration}
	slots := make(chan struct{}, rc.Concurrency)
	var failed atomic.Bool
	var cursor uint64 // the last entry handed to a sender
	marks := &marker{h: h, peer: p.Name, kick: make(chan struct{}, 1), flush: make(chan struct{}), stop: make(chan struct{})}
	go marks.run()
	defer marks.close()
	drain := func() { // wait until nothing is in flight and every mark landed
		for i := 0; i < cap(slots); i++ {
			slots <- struct{}{}
		}
		for i := 0; i < cap(slots); i++ {
			<-slots
		}
		marks.wait()
	}
	defer drain()
	for ctx.Err() == nil {
		if failed.Load() {
			drain()
			failed.Store(false)
			cursor = 0
			sleepCtx(ctx, bo.next(), nil)
			continue
		}
		entries, err := h.db.Outbox(ctx, p.Name, cursor, 4*rc.Concurrency)
		if err != nil {
			h.log.Error("relay: reading outbox", "peer", p.Name, "err", err)
			sleepCtx(ctx, bo.next(), nil)
			continue
		}
		if len(entries) == 0 {
			if len(slots) == 0 {
				drain() // nothing in flight: this returns at once, after the marks landed (the next read from the head must not see them)
				bo.reset()
				cursor = 0
				sleepCtx(ctx, 5*time.Second, wake)
			} else {
				sleepCtx(ctx, 20*time.Millisecond, wake) // the flight is landing
			}
			continue
		}
		for _, e := range entries {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if failed.Load() {
				<-slots
				break
			}
			cursor = e.Seq
			go func() {
				defer func() { <-slots }()
				if err := h.relayOne(ctx, p, client, e, marks); err != nil {
					failed.Store(true)
				}
			}()
		}
	}
}

// relayOne sends one entry. On success the peer's id is recorded in the
// background (marks), so the slot is free for the next send while the commit
// is on its way to disk; a re-send of an entry whose mark has not landed yet
// is harmless, since peers de-duplicate by content.
func (h *Hub) relayOne(ctx context.Context, p *Peer, client PeerClient, e record.OutboxEntry, marks *marker) error {
	d, err := h.db.Document(ctx, e.DocID)
	var raw []byte
	if err == nil {
		raw, err = h.db.BlobOf(ctx, d)
	}
	if err == nil {
		var peerID string
		if peerID, err = client.Send(ctx, Outgoing{Raw: raw, Kind: d.Kind, From: d.From, Organs: e.Organs}); err == nil {
			h.metrics.relayed.WithLabelValues(p.Name, "relayed").Inc()
			marks.add(store.Relayed{Entry: e, PeerDocID: peerID, At: h.now()})
			return nil
		}
	}
	if ctx.Err() != nil {
		return err // shutting down: not a failure of the entry
	}
	var perm *PermanentError
	dead := errors.As(err, &perm) || h.now().Sub(e.Created) > h.cfg.Relay.DeadAfter.Duration
	result := "retry"
	if dead {
		result = "dead"
	}
	h.metrics.relayed.WithLabelValues(p.Name, result).Inc()
	if h.workers.logs.allow("relay:"+p.Name, time.Now()) || dead {
		h.log.Warn("relay failed", "peer", p.Name, LogDocID, e.DocID, "dead", dead, "err", err)
	}
	if rerr := h.db.RelayFailed(context.WithoutCancel(ctx), p.Name, e, err.Error(), dead, h.now()); rerr != nil {
		h.log.Error("relay: recording a failure", "peer", p.Name, "err", rerr)
	}
	return err
}

// marker records relays in batches: one commit for whatever accumulated
// while the previous one was on its way to disk, instead of one per envelope
// (fewer fsyncs at the relaying hub, which shares the disk with everything
// else it does).
type marker struct {
	h       *Hub
	peer    string
	mu      sync.Mutex
	pending []store.Relayed
	pendWG  sync.WaitGroup
	kick    chan struct{}
	flush   chan struct{} // closed: stop spacing commits
	stop    chan struct{}
}

func (m *marker) add(r store.Relayed) {
	m.pendWG.Add(1)
	m.mu.Lock()
	m.pending = append(m.pending, r)
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// wait returns when every added mark is committed.
func (m *marker) wait() { m.pendWG.Wait() }

// markEvery spaces the relaying hub's commits of relay marks. Each commit is
// an fsync on a disk the relaying hub often shares with the peer it is
// feeding (and always with its own intake). Measured with
// scripts/relay-bench.sh (2,000 × 20 KB, H40 → national on one machine):
// committing whatever landed as soon as the previous commit was done, the
// drain ran at 0.71× the national hub's axisctl bench rate (median of 3
// rounds); spaced by 250 ms, 0.85× (median of 5). A crash loses at most
// this much of marks, and re-sending those is harmless (peers de-duplicate
// by content).
const markEvery = 250 * time.Millisecond

func (m *marker) run() {
	var last time.Time
	for {
		select {
		case <-m.kick:
		case <-m.stop:
			return
		}
		if d := markEvery - time.Since(last); d > 0 {
			select { // let more marks accumulate
			case <-time.After(d):
			case <-m.flush:
			}
		}
		last = time.Now()
		m.mu.Lock()
		batch := m.pending
		m.pending = nil
		m.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if err := m.h.db.MarkRelayedMany(context.Background(), m.peer, batch); err != nil {
			m.h.log.Error("relay: recording relays", "peer", m.peer, "n", len(batch), "err", err)
		}
		m.pendWG.Add(-len(batch))
	}
}

// close commits what is pending now and stops the marker.
func (m *marker) close() {
	close(m.flush)
	select {
	case m.kick <- struct{}{}:
	default:
	}
	m.wait()
	close(m.stop)
}

// DocIDHeader carries the hub's document id on push deliveries.
const DocIDHeader = "X-Axis-Doc-Id"

// pushLoop POSTs each queued envelope of an agency to its push_url; 2xx
// means delivered. Failures retry with backoff. Pull keeps working.
func (h *Hub) pushLoop(ctx context.Context, a *Agency, client *http.Client, wake <-chan struct{}) {
	rc := h.cfg.Relay
	bo := &backoff{min: rc.RetryMin.Duration, max: rc.RetryMax.Duration}
	for ctx.Err() == nil {
		items, err := h.db.Queued(ctx, a.OrganID, 0, 32)
		if err != nil || len(items) == 0 {
			sleepCtx(ctx, 5*time.Second, wake)
			continue
		}
		failed := false
		for _, it := range items {
			if err := h.pushOne(ctx, a, client, &it.Doc); err != nil {
				failed = true
				break // in order: retry the head first
			}
		}
		if failed {
			sleepCtx(ctx, bo.next(), nil)
		} else {
			bo.reset()
		}
	}
}

func (h *Hub) pushOne(ctx context.Context, a *Agency, client *http.Client, d *record.Document) error {
	raw, err := h.db.BlobOf(ctx, d)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", a.PushURL, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(DocIDHeader, d.ID)
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("push endpoint answered %d", resp.StatusCode)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	why := ""
	if err != nil {
		why = err.Error()
		if h.workers.logs.allow("push:"+a.OrganID, time.Now()) {
			h.log.Warn("push failed", "organ_id", a.OrganID, LogDocID, d.ID, "err", err)
		}
	}
	if rerr := h.db.PushResult(context.WithoutCancel(ctx), d.ID, a.OrganID, err == nil, why, h.now()); rerr != nil {
		return rerr
	}
	return err
}
