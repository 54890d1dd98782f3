package axis

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// vdxpPeer relays to a hub that speaks VDXP (the national axis): sendEdoc
// out, a poller that collects what waits for this hub there, and one that
// asks what became of what was sent (stateLoop).
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
	h.metrics.vdxpPolls().watch(p.Name)
	for ctx.Err() == nil {
		full, err := h.pollOnce(ctx, p, v)
		if ctx.Err() == nil {
			h.metrics.vdxpPolls().count(p.Name, err == nil)
		}
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

// Delivery states from a VDXP peer. The national axis sends no delivery
// reports (deliveryreport.go), so the hub asks it: every delivery relayed
// to a VDXP peer is kept in the store's awaiting index (pollsStates,
// store/awaiting.go) until its state there is final, and stateLoop asks
// getSentEdocList about it. What the peer says becomes a delivery report
// from that peer, applied as a native peer's are (ApplyReports: forward
// only, idempotent, passed on toward the sender's hub), so Status, the
// console and getSentEdocList show it the same way.

// pollsStates is the store's Options.PollStates: peers of kind vdxp.
func (h *Hub) pollsStates(peer string) bool {
	p, ok := h.dir.Peer(peer)
	return ok && p.Kind == PeerVDXP
}

// stateLoop asks the VDXP peer about the deliveries relayed to it, a batch
// (poll_batch awaiting deliveries) every poll_interval, going round the
// awaiting index so that a large one is covered in turn. A peer that is
// down is retried with backoff and logged at most once a minute; a
// document the peer refuses to answer about is skipped until the next
// round.
func (h *Hub) stateLoop(ctx context.Context, p *Peer, v *vdxpPeer) {
	bo := &backoff{min: h.cfg.Relay.RetryMin.Duration, max: h.cfg.Relay.RetryMax.Duration}
	var after store.Awaiting
	for ctx.Err() == nil {
		next, err := h.pollStates(ctx, p, v, after)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if h.workers.logs.allow("states:"+p.Name, time.Now()) {
				h.log.Warn("vdxp: asking the peer for delivery states failed", "peer", p.Name, "err", err)
			}
			sleepCtx(ctx, bo.next(), nil)
		default:
			bo.reset()
			after = next
			sleepCtx(ctx, p.PollInterval.Duration, nil)
		}
	}
}

// pollStates asks about the batch of awaiting deliveries after the cursor,
// one getSentEdocList per peer doc id (with the messagetype Send used),
// applies what moved, and returns the cursor of the next batch (the zero
// Awaiting, from the start again, when this one reached the end). On a
// failure it applies what it learnt and keeps the cursor.
func (h *Hub) pollStates(ctx context.Context, p *Peer, v *vdxpPeer, after store.Awaiting) (store.Awaiting, error) {
	batch, err := h.db.AwaitingStates(ctx, p.Name, after, p.PollBatch)
	if err != nil {
		return after, err
	}
	next := store.Awaiting{}
	if len(batch) == p.PollBatch {
		next = batch[len(batch)-1]
	}
	type copyAt struct{ docID, peerDocID string }
	var order []copyAt
	organs := map[copyAt][]string{} // the recipients each peer doc id was relayed for
	for _, a := range batch {
		c := copyAt{a.DocID, a.PeerDocID}
		if organs[c] == nil {
			order = append(order, c)
		}
		organs[c] = append(organs[c], a.OrganID)
	}
	now := h.now()
	var reports []record.DeliveryReport
	var failed error
	for _, c := range order {
		d, err := h.db.Document(ctx, c.docID)
		if err != nil {
			failed = err
			break
		}
		mt := "edoc"
		if d.Kind == string(envelope.KindStatus) {
			mt = "status"
		}
		rows, err := v.c.SentList(ctx, mt, c.peerDocID)
		var re *vdxp.RemoteError
		if errors.As(err, &re) { // about this document only: the others may still be answered
			if h.workers.logs.allow("states:"+p.Name+":refused", time.Now()) {
				h.log.Warn("vdxp: the peer did not answer about a document", "peer", p.Name, LogDocID, c.docID, "peer_doc_id", c.peerDocID, "err", err)
			}
			continue
		}
		if err != nil {
			failed = err
			break
		}
		for _, row := range rows {
			state := vdxpReportState(row.ReceiveStatus)
			if state == "" || !slices.Contains(organs[c], row.ToCode) {
				continue // not received yet, or a recipient this copy was not for
			}
			reports = append(reports, record.DeliveryReport{DocID: c.docID, OrganID: row.ToCode, State: state, AtHub: p.Name,
				At: parseVDXPTime(row.ReceivedTime, now)})
		}
	}
	if len(reports) > 0 {
		n, err := h.db.ApplyReports(context.WithoutCancel(ctx), p.Name, reports, now)
		if err != nil {
			return after, err
		}
		if n > 0 {
			h.wakeReports() // pass them on toward the sender's hub
		}
	}
	if failed != nil {
		return after, failed
	}
	return next, nil
}

// vdxpReportState maps a getSentEdocList receiveStatus to the state a
// delivery report carries, "" for none. An axis hub's VDXP server answers
// with our own states (vdxpSent), which pass through; the national SDK
// says what updateStatus was told: done, fail, processing. Anything else
// (queued, relaying, relayed, initial, empty) means the recipient has not
// got it yet: not a report.
func vdxpReportState(receiveStatus string) string {
	switch s := strings.ToLower(strings.TrimSpace(receiveStatus)); s {
	case store.StateDelivered, store.StateAckedDone, store.StateAckedFail, store.StateDead:
		return s
	case "done":
		return store.StateAckedDone
	case "fail":
		return store.StateAckedFail
	case "processing":
		return store.StateDelivered
	}
	return ""
}

// parseVDXPTime reads a VDXP time (vdxpTime's "dd/MM/yyyy HH:mm:ss" in
// Asia/Ho_Chi_Minh); empty or unreadable, it is otherwise.
func parseVDXPTime(s string, otherwise time.Time) time.Time {
	t, err := time.ParseInLocation("02/01/2006 15:04:05", strings.TrimSpace(s), store.Zone)
	if err != nil {
		return otherwise
	}
	return t
}
