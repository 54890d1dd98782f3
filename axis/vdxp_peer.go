package axis

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/envelope"
)

// vdxpPeer relays to a hub that speaks VDXP (the national axis): sendEdoc
// out, and a poller that collects what waits for this hub there.
type vdxpPeer struct {
	c *vdxp.Client
}

// newVDXPPeer speaks VDXP to p over hc, the peer's client (peerHTTPClient).
func newVDXPPeer(p *Peer, secret string, hc *http.Client) *vdxpPeer {
	return &vdxpPeer{c: &vdxp.Client{BaseURL: p.URL, SystemID: p.SystemID, Secret: secret, HTTP: hc}}
}

// permanentVDXP are the ErrorCodes retrying cannot fix: the peer refused
// the envelope itself.
var permanentVDXP = map[string]bool{"unknown_recipient": true, "bad_request": true}

// Send reads the message type and the sender from the hub's record of the
// envelope (made from the verified element), never from the bytes again.
func (v *vdxpPeer) Send(ctx context.Context, out Outgoing) (string, error) {
	mt := "edoc"
	if out.Kind == string(envelope.KindStatus) {
		mt = "status"
	}
	id, err := v.c.SendEdoc(ctx, out.Raw, out.From, mt, out.Organs)
	var re *vdxp.RemoteError
	if errors.As(err, &re) && (permanentVDXP[re.Code] || envelopeStatus[re.Code] != 0) {
		return "", &PermanentError{err}
	}
	return id, err
}

// pollLoop collects what the VDXP peer holds for this hub: list, fetch,
// store through normal intake, and only then confirm with updateStatus
// done (or fail with the reason when intake refuses the envelope). An
// envelope fetched but not committed is not confirmed, so it is listed
// again on the next poll; intake de-duplicates by content.
func (h *Hub) pollLoop(ctx context.Context, p *Peer, v *vdxpPeer) {
	bo := &backoff{min: h.cfg.Relay.RetryMin.Duration, max: h.cfg.Relay.RetryMax.Duration}
	for ctx.Err() == nil {
		full, err := h.pollOnce(ctx, p, v)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if h.workers.logs.allow("poll:"+p.Name, time.Now()) {
				h.log.Warn("vdxp poll failed", "peer", p.Name, "err", err)
			}
			sleepCtx(ctx, bo.next(), nil)
		case full:
			bo.reset() // more is waiting: poll again at once
		default:
			bo.reset()
			sleepCtx(ctx, p.PollInterval.Duration, nil)
		}
	}
}

// pollOnce takes up to PollBatch envelopes of each message type and
// reports whether a list was longer than that.
func (h *Hub) pollOnce(ctx context.Context, p *Peer, v *vdxpPeer) (bool, error) {
	full := false
	for _, mt := range []string{"edoc", "status"} {
		items, err := v.c.ReceivedList(ctx, mt)
		if err != nil {
			return false, err
		}
		if len(items) > p.PollBatch {
			items, full = items[:p.PollBatch], true
		}
		for _, it := range items {
			raw, err := v.c.GetEdoc(ctx, it.DocID)
			if err != nil {
				return false, err
			}
			r, created, err := h.IntakeFor(ctx, Caller{Peer: p.Name}, raw, nil)
			if err != nil {
				status, code, detail := ProblemOf(err)
				if status >= 500 || ctx.Err() != nil {
					return false, err // ours to fix: not confirmed, listed again next time
				}
				h.metrics.intake.WithLabelValues(code).Inc()
				h.log.Warn("vdxp: refused an envelope from the peer", "peer", p.Name, "peer_doc_id", it.DocID, "code", code, "err", err)
				if err := v.c.UpdateStatus(ctx, it.DocID, "fail", code+": "+detail); err != nil {
					return false, err
				}
				continue
			}
			if created {
				h.metrics.intake.WithLabelValues("created").Inc()
			}
			h.log.Debug("vdxp: collected", "peer", p.Name, "peer_doc_id", it.DocID, LogDocID, r.DocID)
			if err := v.c.UpdateStatus(ctx, it.DocID, "done", ""); err != nil {
				return false, err
			}
		}
	}
	return full, nil
}
