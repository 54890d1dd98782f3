package axis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// The nightly reconciliation: for one day (Asia/Ho_Chi_Minh), evidence that
// every envelope accepted that day reached every recipient or is pending
// for a stated reason, that the stored bytes are intact, the event chain
// holds, and each peer has what this hub relayed to it.

// Reconcile runs the reconciliation of day (YYYY-MM-DD). With repair, a
// relay missing at its peer is queued again and altered bytes are restored
// from a peer's copy (content-addressed, so the copy is checked against
// the recorded SHA-256).
func (h *Hub) Reconcile(ctx context.Context, day string, repair bool) (*api.Report, error) {
	return h.reconcile(ctx, day, repair, "")
}

// ReconcileAs is Reconcile asked by an administrator (the API, the
// console): the run is an event in the chain with the caller's name, and
// so is each repair. A viewer may reconcile but not repair.
func (h *Hub) ReconcileAs(ctx context.Context, caller Caller, day string, repair bool) (*api.Report, error) {
	if repair && caller.Viewer {
		return nil, Problemf(ErrForbidden, "%s is a viewer: repairing needs an administrator", caller)
	}
	action := "reconcile " + day
	if repair {
		action += " with repair"
	}
	if _, err := time.Parse("2006-01-02", day); err == nil {
		if err := h.AdminAction(ctx, caller, action); err != nil {
			return nil, err
		}
	}
	return h.reconcile(ctx, day, repair, caller.String())
}

func (h *Hub) reconcile(ctx context.Context, day string, repair bool, by string) (*api.Report, error) {
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return nil, Problemf(ErrBadRequest, "date %q is not YYYY-MM-DD", day)
	}
	t0 := time.Now()
	r := &api.Report{Date: day, Hub: h.cfg.Hub.Name, StartedAt: h.now().UTC(), Repair: repair, By: by, Agencies: []api.AgencyTotals{}, Peers: []api.PeerTotals{}, Discrepancies: []api.Discrepancy{}}
	a, err := h.db.AuditDay(ctx, day)
	if err != nil {
		return nil, err
	}
	if len(a.Retired) > 0 {
		if err := h.auditRetired(ctx, a, r); err != nil {
			return nil, err
		}
	}
	docs := make(map[string]*record.Document, len(a.Docs))
	for i := range a.Docs {
		docs[a.Docs[i].Doc.ID] = &a.Docs[i].Doc
	}
	add := func(d api.Discrepancy) {
		if doc := docs[d.DocID]; doc != nil {
			d.Code, d.Subject = doc.Code, doc.Subject
		}
		r.Discrepancies = append(r.Discrepancies, d)
	}

	// b) internal consistency.
	r.Totals.ChainEvents, r.Totals.ChainOK = a.Chain.Events, a.Chain.OK()
	if !a.Chain.OK() {
		d := api.Discrepancy{Kind: api.KindChainBroken, Detail: fmt.Sprintf("event %d: %s", a.Chain.BrokenAt, a.Chain.BrokenWhy)}
		if e := a.Chain.Broken; e != nil {
			d.DocID, d.OrganID = e.DocID, e.OrganID
		}
		add(d)
	}
	for _, m := range a.MissingDelivery {
		add(api.Discrepancy{Kind: api.KindMissingDelivery, DocID: m.DocID, OrganID: m.OrganID, Detail: m.Detail})
	}
	for _, m := range a.DanglingQueue {
		add(api.Discrepancy{Kind: api.KindMissingDelivery, DocID: m.DocID, OrganID: m.OrganID, Detail: m.Detail})
	}
	docByID := map[string]*record.Document{}
	for i := range a.Docs {
		docByID[a.Docs[i].Doc.ID] = &a.Docs[i].Doc
	}
	for _, m := range a.HashMismatch {
		d := api.Discrepancy{Kind: api.KindHashMismatch, DocID: m.DocID, Detail: m.Detail}
		if doc := docByID[m.DocID]; doc != nil {
			d.OrganID = doc.From
			if repair {
				if from, err := h.restoreFromPeers(ctx, doc, by); err != nil {
					d.Detail += "; not repaired: " + err.Error()
				} else {
					d.Repaired, d.Peer = true, from
					d.Detail += "; restored from " + from
				}
			}
		}
		add(d)
	}

	// a) per agency, and c) per peer, from the day's deliveries.
	agencies := map[string]*api.AgencyTotals{}
	agency := func(o string) *api.AgencyTotals {
		t := agencies[o]
		if t == nil {
			t = &api.AgencyTotals{OrganID: o}
			if ag, ok := h.dir.Agency(o); ok {
				t.Name = ag.Name
			}
			agencies[o] = t
		}
		return t
	}
	peers := map[string]*api.PeerTotals{}
	for _, p := range h.dir.Peers() {
		peers[p.Name] = &api.PeerTotals{Peer: p.Name, DisplayName: p.DisplayName, Kind: string(p.Kind)}
	}
	relayedTo := map[string][]relayFact{} // peer → relays believed done
	now := h.now()
	sla := h.cfg.Admin
	// pending counts a delivery of d to organ not acknowledged yet; once d
	// is older than limit it is overdue too, the discrepancy saying what
	// has not happened.
	pending := func(t *api.AgencyTotals, d *record.Document, organ string, limit time.Duration, what string) {
		t.Pending++
		r.Totals.Pending++
		if age := now.Sub(d.ReceivedAt); age > limit {
			t.Overdue++
			r.Totals.Overdue++
			add(api.Discrepancy{Kind: api.KindOverdue, DocID: d.ID, OrganID: organ, Detail: fmt.Sprintf("%s %s after it was accepted (SLA %s)", what, age.Round(time.Minute), limit)})
		}
	}
	for _, ad := range a.Docs {
		d := &ad.Doc
		r.Totals.Accepted++
		agency(d.From).Sent++
		for _, dl := range ad.Deliveries {
			if store.OverdueFor(d, &dl, now) {
				add(api.Discrepancy{Kind: api.KindOverdueProcessing, DocID: d.ID, OrganID: dl.OrganID,
					Detail: fmt.Sprintf("due %s, no status 06 (latest %q)", d.DueDate, dl.StatusCode)})
			}
			r.Totals.Deliveries++
			if dl.Route == "local" || dl.Route == "" {
				t := agency(dl.OrganID)
				t.Received++
				switch dl.State {
				case store.StateQueued:
					pending(t, d, dl.OrganID, sla.SLAFetch.Duration, "not fetched")
				case store.StateDelivered:
					t.Fetched++
					r.Totals.Fetched++
					pending(t, d, dl.OrganID, sla.SLAAck.Duration, "fetched but not acknowledged")
				case store.StateAckedDone:
					t.Fetched++
					t.AckedDone++
					r.Totals.Fetched++
					r.Totals.AckedDone++
				case store.StateAckedFail:
					t.Fetched++
					t.AckedFail++
					r.Totals.Fetched++
					r.Totals.AckedFail++
				}
				continue
			}
			p := peers[dl.Route]
			if p == nil {
				p = &api.PeerTotals{Peer: dl.Route, Note: "no longer configured"}
				peers[dl.Route] = p
			}
			switch dl.State {
			case store.StateRelayed:
				p.Relayed++
				r.Totals.Relayed++
				relayedTo[dl.Route] = append(relayedTo[dl.Route], relayFact{doc: d, organ: dl.OrganID, peerDocID: dl.PeerDocID})
			case store.StateRelaying:
				p.Retrying++
				r.Totals.Retrying++
			case store.StateDead:
				p.Dead++
				r.Totals.Dead++
				add(api.Discrepancy{Kind: api.KindDeadRelay, DocID: d.ID, OrganID: dl.OrganID, Peer: dl.Route, Detail: "relay gave up: " + dl.LastError})
			}
		}
	}

	// d) cross-check with each peer.
	for _, p := range h.dir.Peers() {
		pt := peers[p.Name]
		facts := relayedTo[p.Name]
		pctx, cancel := context.WithTimeout(ctx, peerCheckDeadline)
		have, received, note, err := h.askPeer(pctx, p, day, facts)
		cancel()
		if err != nil {
			pt.Note = "could not ask the peer: " + err.Error()
			continue
		}
		pt.Note = note
		if have == nil {
			continue
		}
		pt.Checked = true
		missing := map[string][]string{}
		var order []string
		for _, f := range facts {
			if have[f.doc.ID] {
				pt.Confirmed++
				r.Totals.Confirmed++
				continue
			}
			if _, ok := missing[f.doc.ID]; !ok {
				order = append(order, f.doc.ID)
			}
			missing[f.doc.ID] = append(missing[f.doc.ID], f.organ)
		}
		for _, id := range order {
			pt.MissingAtPeer++
			d := api.Discrepancy{Kind: api.KindMissingAtPeer, DocID: id, OrganID: strings.Join(missing[id], ","), Peer: p.Name,
				Detail: fmt.Sprintf("relayed to %s but %s does not have it", p.Name, p.Name)}
			if repair {
				if err := h.db.Requeue(ctx, id, p.Name, missing[id], "reconcile "+day+": missing at the peer", by, h.now()); err != nil {
					d.Detail += "; not repaired: " + err.Error()
				} else {
					d.Repaired = true
					d.Detail += "; queued again"
					h.wakeFor([]record.Route{{OrganID: missing[id][0], Peer: p.Name}})
				}
			}
			add(d)
		}
		if len(received) > 0 {
			ours, err := h.db.Have(ctx, received)
			if err != nil {
				return nil, err
			}
			for _, id := range received {
				if _, ok := ours[id]; ok {
					if dls, err := h.db.Deliveries(ctx, id); err == nil && slices.ContainsFunc(dls, func(dl record.Delivery) bool { return dl.Route == p.Name }) {
						continue
					}
				}
				pt.UnknownAtPeer++
				add(api.Discrepancy{Kind: api.KindUnknownAtPeer, DocID: id, Peer: p.Name,
					Detail: fmt.Sprintf("%s received it from this hub on %s; this hub has no relay of it to %s", p.Name, day, p.Name)})
			}
		}
	}

	for _, t := range agencies {
		r.Agencies = append(r.Agencies, *t)
	}
	sort.Slice(r.Agencies, func(i, j int) bool { return r.Agencies[i].OrganID < r.Agencies[j].OrganID })
	for _, p := range h.dir.Peers() {
		r.Peers = append(r.Peers, *peers[p.Name])
		delete(peers, p.Name)
	}
	for _, p := range peers {
		r.Peers = append(r.Peers, *p)
	}
	rank := map[string]int{}
	for i, k := range api.DiscrepancyKinds {
		rank[k] = i
	}
	sort.SliceStable(r.Discrepancies, func(i, j int) bool { return rank[r.Discrepancies[i].Kind] < rank[r.Discrepancies[j].Kind] })
	for _, d := range r.Discrepancies {
		r.Totals.Discrepancies++
		if d.Repaired {
			r.Totals.Repaired++
		}
	}
	r.Totals.Remaining = r.Totals.Discrepancies - r.Totals.Repaired
	r.FinishedAt = h.now().UTC()
	h.metrics.reconciled(r, time.Since(t0))
	h.log.Info("reconciliation", "date", day, "repair", repair, "accepted", r.Totals.Accepted, "discrepancies", r.Totals.Discrepancies,
		"repaired", r.Totals.Repaired, "duration_ms", time.Since(t0).Milliseconds())
	h.keepReport(r)
	return r, nil
}

// ReportsDir is where the hub keeps every reconciliation's report, one
// folder a day (YYYY-MM-DD/report.{json,csv,html} and summary.json):
// reconcile.out_dir, default DATA_DIR/reconcile. The console's reports
// page lists it.
func (h *Hub) ReportsDir() string {
	if d := h.cfg.Reconcile.OutDir; d != "" {
		return h.cfg.Path(d)
	}
	return filepath.Join(h.cfg.Path(h.cfg.DataDir), "reconcile")
}

// keepReport writes r under ReportsDir: the latest run of a day replaces
// the one before. A failure is logged, not returned: whoever asked has the
// report itself.
func (h *Hub) keepReport(r *api.Report) {
	dir := filepath.Join(h.ReportsDir(), r.Date)
	if err := api.WriteReportFiles(dir, r); err != nil {
		h.log.Error("keeping the reconciliation report", "dir", dir, "err", err)
		return
	}
	level := slog.LevelInfo
	if !r.Clean() {
		level = slog.LevelWarn
	}
	h.log.Log(context.Background(), level, "reconciliation report kept", "date", r.Date, "dir", dir, "remaining", r.Totals.Remaining)
}

// ReportRuns lists the kept reconciliation reports, newest day first, at
// most limit: each day's summary (the report without its lists).
func (h *Hub) ReportRuns(limit int) ([]api.Report, error) {
	ents, err := os.ReadDir(h.ReportsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []api.Report
	for i := len(ents) - 1; i >= 0 && len(out) < limit; i-- {
		e := ents[i]
		if _, err := time.Parse("2006-01-02", e.Name()); err != nil || !e.IsDir() {
			continue
		}
		var r api.Report
		b, err := os.ReadFile(filepath.Join(h.ReportsDir(), e.Name(), api.ReportSummaryFile))
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			h.log.Warn("reconciliation report without a readable summary", "date", e.Name(), "err", err)
			r = api.Report{Date: e.Name()}
		}
		out = append(out, r)
	}
	return out, nil
}

// ReportFile opens one file of a kept report: day YYYY-MM-DD, name one of
// api.ReportFiles. ErrNotFound when there is none.
func (h *Hub) ReportFile(day, name string) (*os.File, error) {
	if _, err := time.Parse("2006-01-02", day); err != nil || !slices.Contains(api.ReportFiles, name) {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(h.ReportsDir(), day, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

type relayFact struct {
	doc       *record.Document
	organ     string
	peerDocID string
}

// peerCheckDeadline bounds one peer's cross-check (each call is bounded
// by relay.timeout too): a peer that hangs, or answers a VDXP peer's
// per-document questions slowly, is reported as not asked instead of
// holding the nightly job.
const peerCheckDeadline = 10 * time.Minute

// askPeer returns which relayed documents the peer has (nil map when it
// cannot be asked) and what it received from this hub that day.
func (h *Hub) askPeer(ctx context.Context, p *Peer, day string, facts []relayFact) (map[string]bool, []string, string, error) {
	ids := []string{}
	seen := map[string]bool{}
	for _, f := range facts {
		if !seen[f.doc.ID] {
			seen[f.doc.ID] = true
			ids = append(ids, f.doc.ID)
		}
	}
	switch p.Kind {
	case PeerPull:
		return nil, nil, "collects from this hub over VDXP and confirms each envelope with updateStatus: relayed means confirmed by the peer", nil
	case PeerVDXP:
		c, ok := h.peerClient(p.Name).(*vdxpPeer)
		if !ok {
			return nil, nil, "", fmt.Errorf("peer %s has no VDXP client", p.Name)
		}
		have := map[string]bool{}
		for _, f := range facts {
			id := f.peerDocID
			if id == "" {
				id = f.doc.ID
			}
			r, err := c.c.Do(ctx, http.MethodPost, "getSentEdocList", []vdxp.Param{{Key: "servicetype", Value: "eDoc"}, {Key: "messagetype", Value: "edoc"}, {Key: "docId", Value: id}}, nil, "application/json")
			if err != nil {
				return nil, nil, "", err
			}
			var rows []map[string]any
			if len(r.Data) > 0 && json.Unmarshal(r.Data, &rows) == nil && len(rows) > 0 {
				have[f.doc.ID] = true
			}
		}
		return have, nil, "checked with getSentEdocList per document; VDXP cannot list what the peer received from this hub", nil
	}
	token := h.peerToken(p)
	have := map[string]bool{}
	var received []string
	for i := 0; i == 0 || i < len(ids); i += 1000 {
		body, _ := json.Marshal(api.PeerReconcileRequest{Date: day, IDs: ids[i:min(i+1000, len(ids))]})
		status, b, err := h.peerCall(ctx, p, "POST", strings.TrimRight(p.URL, "/")+"/api/v1/peer/reconcile", token, body, 64<<20)
		if err != nil {
			return nil, nil, "", err
		}
		if status != http.StatusOK {
			return nil, nil, "", fmt.Errorf("peer answered %d: %.200s", status, b)
		}
		var a api.PeerReconcileAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, nil, "", err
		}
		for _, id := range a.Have {
			have[id] = true
		}
		if i == 0 {
			received = a.Received
		}
	}
	return have, received, "", nil
}

// PeerReconcile answers a peer hub's reconciliation: which of its ids are
// here, and what came here through that peer on the date.
func (h *Hub) PeerReconcile(ctx context.Context, peer string, req *api.PeerReconcileRequest) (*api.PeerReconcileAnswer, error) {
	have, err := h.db.Have(ctx, req.IDs)
	if err != nil {
		return nil, err
	}
	a := &api.PeerReconcileAnswer{Have: []string{}, Received: []string{}}
	for _, id := range req.IDs {
		if _, ok := have[id]; ok {
			a.Have = append(a.Have, id)
		}
	}
	if a.Received, err = h.db.ReceivedVia(ctx, req.Date, peer); err != nil {
		return nil, err
	}
	if a.Received == nil {
		a.Received = []string{}
	}
	return a, nil
}

// restoreFromPeers fetches a good copy of a document from a peer that
// holds it (the one it came from, or one it was relayed to).
func (h *Hub) restoreFromPeers(ctx context.Context, d *record.Document, by string) (string, error) {
	var errs []error
	for _, name := range peersOf(d) {
		p, ok := h.dir.Peer(name)
		if !ok || p.Kind != PeerAxis {
			continue
		}
		status, raw, err := h.peerCall(ctx, p, "GET", strings.TrimRight(p.URL, "/")+"/api/v1/envelopes/"+d.ID, h.peerToken(p), nil, h.cfg.Limits.MaxEnvelopeBytes+1)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if status != http.StatusOK {
			errs = append(errs, fmt.Errorf("%s answered %d", name, status))
			continue
		}
		if err := h.db.RestoreBlob(ctx, d.ID, raw, "peer "+name, by, h.now()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		return name, nil
	}
	if len(errs) == 0 {
		return "", errors.New("no peer holds a copy (the document did not travel between hubs)")
	}
	return "", errors.Join(errs...)
}

// nextRun is the next time at "HH:MM" in Asia/Ho_Chi_Minh strictly after now.
func nextRun(now time.Time, at string) time.Time {
	hm, _ := time.Parse("15:04", at)
	local := now.In(store.Zone)
	t := time.Date(local.Year(), local.Month(), local.Day(), hm.Hour(), hm.Minute(), 0, 0, store.Zone)
	if !t.After(local) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// reconcileLoop runs the reconciliation of the previous day every day at
// reconcile.at; its report is kept under ReportsDir like every run's.
func (h *Hub) reconcileLoop(ctx context.Context) {
	rc := h.cfg.Reconcile
	for {
		next := nextRun(h.now(), rc.At)
		h.log.Info("reconciliation scheduled", "at", next)
		sleepCtx(ctx, next.Sub(h.now()), nil) // one clock: next came from h.now too
		if ctx.Err() != nil {
			return
		}
		day := store.Day(next.Add(-24 * time.Hour))
		if _, err := h.reconcile(ctx, day, rc.Repair, "schedule"); err != nil { // reconcile keeps the report
			h.log.Error("scheduled reconciliation failed", "date", day, "err", err)
		}
	}
}
