package axis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

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
	h.metrics.watchRelay(p.Name)
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
		raw, err = h.envelopeBytes(ctx, d)
	}
	sent := false // the peer was asked: its failure says whether it is up
	if err == nil {
		var peerID string
		sent = true
		if peerID, err = client.Send(ctx, Outgoing{Raw: raw, Kind: d.Kind, From: d.From, Organs: e.Organs}); err == nil {
			h.metrics.relayed.WithLabelValues(p.Name, "relayed").Inc()
			h.metrics.relayAttempt(p.Name, h.now(), true)
			marks.add(store.Relayed{Entry: e, PeerDocID: peerID, At: h.now()})
			return nil
		}
	}
	if ctx.Err() != nil {
		return err // shutting down: not a failure of the entry
	}
	var perm *PermanentError
	dead := errors.As(err, &perm) || h.now().Sub(e.Created) > h.cfg.Relay.DeadAfter.Duration
	if sent && perm == nil { // a refusal for good is the peer answering: not down
		h.metrics.relayAttempt(p.Name, h.now(), false)
	}
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
	if dead {
		h.wakeReports() // the sender's side hears that this hop gave up
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
