package axis

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// Delivery reports (store/deliveryreport.go): a recipient's state travels back to
// the sender's hub along the path its document came. This hub sends what
// its store queued for each native peer (reportLoop) to the peer's
// POST /api/v1/peer/delivery-reports, and takes what its peers send
// (ApplyDeliveryReports). A report waits in the store until the peer took
// it, so a peer that is down gets it once it is back; applying is
// idempotent, so a report sent twice (a crash between send and removal)
// changes nothing the second time.

// reportsTo is the store's Options.ReportTo: native peers with a URL (a
// VDXP or pull peer learns states its own way).
func (h *Hub) reportsTo(peer string) bool {
	p, ok := h.dir.Peer(peer)
	return ok && p.getsReports()
}

// getsReports: the peer is sent delivery reports (a native peer with a URL).
func (p *Peer) getsReports() bool { return p.Kind == PeerAxis && p.URL != "" }

// reportBatch bounds one POST of reports.
const reportBatch = 200

// reportLoop sends the reports waiting for peer p, oldest first, retrying
// with backoff while it is down.
func (h *Hub) reportLoop(ctx context.Context, p *Peer, wake <-chan struct{}) {
	rc := h.cfg.Relay
	bo := &backoff{min: rc.RetryMin.Duration, max: rc.RetryMax.Duration}
	url := strings.TrimRight(p.URL, "/") + "/api/v1/peer/delivery-reports"
	for ctx.Err() == nil {
		qs, err := h.db.Reports(ctx, p.Name, reportBatch)
		if err != nil {
			h.log.Error("reports: reading the queue", "peer", p.Name, "err", err)
			sleepCtx(ctx, bo.next(), nil)
			continue
		}
		if len(qs) == 0 {
			bo.reset()
			sleepCtx(ctx, 5*time.Second, wake)
			continue
		}
		req := api.DeliveryReports{Reports: make([]record.DeliveryReport, len(qs))}
		seqs := make([]uint64, len(qs))
		for i, q := range qs {
			r := q.Report
			if r.AtHub == "" { // delivered here
				r.AtHub = h.cfg.Hub.Name
			}
			req.Reports[i], seqs[i] = r, q.Seq
		}
		body, _ := json.Marshal(req)
		status, answer, err := h.peerCall(ctx, p, http.MethodPost, url, h.peerToken(p), body, 1<<20)
		switch {
		case err == nil && status == http.StatusOK:
			bo.reset()
		case err == nil && status >= 400 && status < 500 && !retryLater(status):
			// Refused for good (a peer without delivery reports answers
			// 404): retrying cannot help, and they are not worth holding
			// the queue for.
			h.log.Warn("reports: refused by the peer; dropped", "peer", p.Name, "status", status, "answer", string(answer), "reports", len(qs))
		default:
			if ctx.Err() != nil {
				return
			}
			if h.workers.logs.allow("reports:"+p.Name, time.Now()) {
				h.log.Warn("reports: peer unreachable, will retry", "peer", p.Name, "status", status, "err", err)
			}
			sleepCtx(ctx, bo.next(), nil)
			continue
		}
		if err := h.db.ReportsSent(context.WithoutCancel(ctx), p.Name, seqs); err != nil {
			h.log.Error("reports: removing sent reports", "peer", p.Name, "err", err)
		}
	}
}

// wakeReports nudges every report loop: a delivery changed state.
func (h *Hub) wakeReports() {
	if h.workers == nil {
		return
	}
	h.workers.mu.RLock() // a reload changes the map (workers.go)
	defer h.workers.mu.RUnlock()
	for _, ch := range h.workers.reportWake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ApplyDeliveryReports takes reports from a peer hub about recipients this
// hub relayed to it (others are ignored), and passes on to the sender's
// side what moved a delivery forward.
func (h *Hub) ApplyDeliveryReports(ctx context.Context, caller Caller, req *api.DeliveryReports) (*api.DeliveryReportsAnswer, error) {
	if caller.Peer == "" {
		return nil, Problemf(ErrForbidden, "peer hubs only")
	}
	if len(req.Reports) > 10*reportBatch {
		return nil, Problemf(ErrBadRequest, "at most %d reports at once", 10*reportBatch)
	}
	for i, r := range req.Reports {
		switch {
		case !api.IsDocID(r.DocID):
			return nil, Problemf(ErrBadRequest, "report %d: doc_id is not a document id", i)
		case !store.ReportableState(r.State):
			return nil, Problemf(ErrBadRequest, "report %d: state %q is not reported (delivered, acked_done, acked_fail, dead)", i, r.State)
		case r.AtHub == "" || r.OrganID == "" || r.At.IsZero():
			return nil, Problemf(ErrBadRequest, "report %d: organ_id, at_hub and at are required", i)
		}
	}
	n, err := h.db.ApplyReports(ctx, caller.Peer, req.Reports, h.now())
	if err != nil {
		return nil, err
	}
	if n > 0 {
		h.wakeReports()
	}
	return &api.DeliveryReportsAnswer{Applied: n, Ignored: len(req.Reports) - n}, nil
}
