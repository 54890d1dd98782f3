package axis

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Leases (store/lease.go) make each loop that must run once among several
// axisd nodes on one PostgreSQL store run on one node at a time: a
// peer's unit (its relay, VDXP pollers, delivery reports), an agency's
// push loop, the held re-checker and the scheduled reconciliation. On
// bbolt the store is one process's (its file lock), so every loop runs
// here without a lease.
//
// A node runs a loop from the moment it takes the loop's lease until it
// fails to renew it: renewals come every lease_ttl/3, and a node that
// cannot renew (the store is unreachable, another node took the lease)
// stops the loop before its lease could have expired, so that another
// node's taking over never overlaps it. A relay in flight when its loop
// stops finishes its post (bounded by relay.timeout): a peer de-duplicates
// by content, so that post, if repeated by the next owner, stores
// nothing twice.

// nodeName is cluster.node, or the host name and process id.
func nodeName(cfg *Config) string {
	if cfg.Cluster.Node != "" {
		return cfg.Cluster.Node
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// runsHere says whether this node runs the loop of lease name: always on
// bbolt; on a shared store while it holds the lease. The metrics of a
// loop (axis_peer_up, ...) come only from the node that runs it.
func (h *Hub) runsHere(name string) bool {
	if h.db == nil || h.db.Engine() != EnginePostgres {
		return true
	}
	_, ok := h.leases.Load(name)
	return ok
}

// Node is this node's name among the nodes of one store.
func (h *Hub) Node() string { return h.node }

// leased runs run while this node holds lease name, taking it again
// whenever it is free, until ctx is done. With the bbolt engine it just
// runs run(ctx).
func (h *Hub) leased(ctx context.Context, name string, run func(ctx context.Context)) {
	if h.db.Engine() != EnginePostgres {
		run(ctx)
		return
	}
	ttl := h.cfg.Cluster.LeaseTTL.Duration
	for ctx.Err() == nil {
		l, err := h.db.AcquireLease(ctx, name, h.node, time.Now(), ttl)
		if err != nil || l.Owner != h.node {
			if err != nil && ctx.Err() == nil && h.workers.logs.allow("lease:"+name, time.Now()) {
				h.log.Warn("lease: cannot take it", "lease", name, "err", err)
			}
			sleepCtx(ctx, ttl/3, nil)
			continue
		}
		h.log.Info("lease: taken; running the loop here", "lease", name, "node", h.node)
		h.metrics.leaseHeld.WithLabelValues(name).Set(1)
		h.leases.Store(name, true)
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			run(lctx)
		}()
		h.keepLease(lctx, name, l.Expires, cancel)
		<-done
		h.metrics.leaseHeld.WithLabelValues(name).Set(0)
		h.leases.Delete(name)
		if ctx.Err() != nil {
			// Stopping: hand it over now rather than after it expires.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := h.db.ReleaseLease(rctx, name, h.node); err != nil {
				h.log.Warn("lease: release at stop", "lease", name, "err", err)
			}
			rcancel()
			return
		}
		h.log.Warn("lease: lost; the loop stopped here", "lease", name, "node", h.node)
	}
}

// keepLease renews lease name every ttl/3 while lctx lasts; when a
// renewal is refused, or none succeeded for long enough that the lease
// might expire within a third of its time to live, it cancels the loop
// (stop) and returns.
func (h *Hub) keepLease(lctx context.Context, name string, expires time.Time, stop context.CancelFunc) {
	ttl := h.cfg.Cluster.LeaseTTL.Duration
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-lctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(lctx, ttl/3)
		l, err := h.db.AcquireLease(rctx, name, h.node, time.Now(), ttl)
		cancel()
		switch {
		case err == nil && l.Owner == h.node:
			expires = l.Expires
		case err == nil: // another node has it: we lost it (a pause longer than the ttl)
			stop()
			return
		case time.Until(expires) < ttl/3:
			stop()
			return
		}
	}
}
