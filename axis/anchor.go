package axis

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/store/record"
	"github.com/prometheus/client_golang/prometheus"
)

// Anchoring the event chain in time (README "Archives"): every
// archive.anchor_every, and at each daily seal, the hub asks the RFC 3161
// authority at archive.tsa_url for a token over the chain head's hash and
// appends it to the chain (store/anchor.go). A rewrite of any event before
// an anchor then changes the hash the token fixed. An authority that does
// not answer delays the anchor (tried again every archive.retry, counted in
// axis_archive_anchor_failures_total, alerted on by AxisAnchorLate); it
// never touches intake, which does not wait for it.

// anchoring is the hub's client of the authority; nil without tsa_url.
type anchoring struct {
	client   *tsa.Client
	roots    *x509.CertPool
	mu       sync.Mutex // one anchor at a time: two would stamp the same head
	failures prometheus.Counter
}

func (h *Hub) newAnchoring() (*anchoring, error) {
	a := h.cfg.Archive
	if a.TSAURL == "" {
		return nil, nil
	}
	files := make([]string, len(a.TSARoots))
	for i, f := range a.TSARoots {
		files[i] = h.cfg.Path(f)
	}
	roots, err := tsa.LoadRoots(files)
	if err != nil {
		return nil, fmt.Errorf("archive.tsa_roots: %w", err)
	}
	an := &anchoring{client: &tsa.Client{URL: a.TSAURL, HTTP: &http.Client{Timeout: 30 * time.Second}}, roots: roots,
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "axis_archive_anchor_failures_total",
			Help: "Anchors of the event chain that failed (the time-stamping authority did not answer, or answered a token that does not verify); each is tried again after archive.retry." + counterHelp})}
	h.metrics.reg.MustRegister(an.failures)
	return an, nil
}

// Anchor stamps the chain head now, unless the head is already the last
// anchor (nothing happened since), in which case it answers that anchor
// and false.
func (h *Hub) Anchor(ctx context.Context, why string) (*record.AnchorSummary, bool, error) {
	an := h.anchor
	if an == nil {
		return nil, false, Problemf(ErrBadRequest, "anchoring is off: archive.tsa_url is not set")
	}
	an.mu.Lock()
	defer an.mu.Unlock()
	seq, head, err := h.db.ChainHead(ctx)
	if err != nil {
		return nil, false, err
	}
	last, err := h.db.LastAnchor(ctx)
	if err != nil {
		return nil, false, err
	}
	if seq == 0 || (last != nil && last.EventSeq == seq) {
		return last, false, nil
	}
	sum, err := h.stamp(ctx, an, seq, head, why)
	if err != nil {
		an.failures.Inc()
		return nil, false, err
	}
	return sum, true, nil
}

func (h *Hub) stamp(ctx context.Context, an *anchoring, seq uint64, head, why string) (*record.AnchorSummary, error) {
	digest, err := hex.DecodeString(head)
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("anchor: chain head %q is not a SHA-256", head)
	}
	resp, tok, err := an.stamp(ctx, digest)
	if err != nil {
		return nil, err
	}
	return h.db.AppendAnchor(ctx, record.Anchor{Seq: seq, Hash: head, Time: tok.Time, Why: why, TSR: resp}, tok.Signer, h.now())
}

// stamp asks the authority for a token over digest and checks it against
// the roots before anything keeps it (an anchor, an archive's
// manifest.tsr).
func (an *anchoring) stamp(ctx context.Context, digest []byte) ([]byte, *tsa.Token, error) {
	resp, err := an.client.Stamp(ctx, digest)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tsa.Verify(resp, digest, an.roots)
	if err != nil {
		return nil, nil, fmt.Errorf("the token %s answered: %w", an.client.URL, err)
	}
	return resp, tok, nil
}

// anchorLoop anchors every archive.anchor_every, sooner after a failure
// (archive.retry).
func (h *Hub) anchorLoop(ctx context.Context) {
	a := h.cfg.Archive
	wait := a.AnchorEvery.Duration
	if last, err := h.db.LastAnchor(ctx); err == nil && last != nil {
		if d := a.AnchorEvery.Duration - h.now().Sub(last.Time); d < wait {
			wait = max(d, 0)
		}
	} else if err == nil {
		wait = 0 // never anchored: now
	}
	for {
		sleepCtx(ctx, wait, nil)
		if ctx.Err() != nil {
			return
		}
		wait = a.AnchorEvery.Duration
		sum, did, err := h.Anchor(ctx, "every "+a.AnchorEvery.String())
		switch {
		case err != nil:
			wait = min(a.Retry.Duration, a.AnchorEvery.Duration)
			if ctx.Err() == nil && h.workers.logs.allow("anchor", time.Now()) {
				h.log.Warn("anchor: the time-stamping authority did not give a token; anchoring later", "tsa", a.TSAURL, "retry", wait.String(), "err", err)
			}
		case did:
			h.log.Info("anchor: chain head stamped", "seq", sum.Seq, "time", sum.Time)
		}
	}
}
