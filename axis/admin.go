package axis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// The administrator's view: trace, search, stuck, re-drive, statistics,
// audit and backup. Everything here is read from indexes (by id, notation,
// Subject word, sender/recipient and day, queue and outbox heads), never by
// scanning every document.

// Trace returns a document's records and events at this hub.
func (h *Hub) Trace(ctx context.Context, id string) (*api.Trace, error) {
	d, dls, evs, err := h.db.Snapshot(ctx, id) // one read transaction: record, deliveries and events agree
	if err != nil {
		return nil, err
	}
	if d.Archive != "" { // its day retired: the events to its end are in the archive
		if evs, err = h.archivedEvents(d, evs); err != nil {
			return nil, err
		}
	}
	t := &api.Trace{Hub: h.cfg.Hub.Name, Document: d, Recipients: dls, Events: []api.TraceEvent{}, Hubs: []string{h.cfg.Hub.Name}}
	for _, e := range evs {
		t.Events = append(t.Events, api.TraceEvent{Hub: h.cfg.Hub.Name, At: e.At, Event: e.Type, OrganID: e.OrganID, Detail: e.Detail, Seq: e.Seq})
	}
	return t, nil
}

// MaxFollowHops bounds how far a followed trace travels.
const MaxFollowHops = 4

// TraceFollow is Trace plus the traces of the same document at the peers it
// was relayed to or came from, asked through their admin APIs, merged into
// one timeline. visited are the hubs already asked (no loops).
func (h *Hub) TraceFollow(ctx context.Context, id string, visited []string, hops int) (*api.Trace, error) {
	t, err := h.Trace(ctx, id)
	if err != nil {
		return nil, err
	}
	if hops <= 0 {
		return t, nil
	}
	visited = append(slices.Clone(visited), h.cfg.Hub.Name)
	for _, name := range peersOf(t.Document) {
		p, ok := h.dir.Peer(name)
		if !ok {
			continue
		}
		if name == t.Document.Via && len(visited) > 1 && !h.peerAdminConfigured(p) {
			// We were asked by another hub, most likely the one this
			// document came from, and cannot ask it back: its events are
			// already in the caller's timeline, so there is nothing to
			// report as unreachable.
			continue
		}
		pt, err := h.askPeerTrace(ctx, p, id, visited, hops-1)
		if err != nil {
			if t.Unreachable == nil {
				t.Unreachable = map[string]string{}
			}
			t.Unreachable[name] = err.Error()
			continue
		}
		if pt == nil {
			continue // already visited
		}
		for _, hub := range pt.Hubs {
			if !slices.Contains(t.Hubs, hub) {
				t.Hubs = append(t.Hubs, hub)
				visited = append(visited, hub)
			}
		}
		for _, e := range pt.Events {
			if slices.Contains(t.Hubs, e.Hub) {
				t.Events = append(t.Events, e)
			}
		}
		for k, v := range pt.Unreachable {
			if t.Unreachable == nil {
				t.Unreachable = map[string]string{}
			}
			t.Unreachable[k] = v
		}
	}
	t.Events = dedupeEvents(t.Events)
	sort.SliceStable(t.Events, func(i, j int) bool { return t.Events[i].At.Before(t.Events[j].At) })
	return t, nil
}

func dedupeEvents(evs []api.TraceEvent) []api.TraceEvent {
	seen := map[string]bool{}
	out := evs[:0]
	for _, e := range evs {
		k := fmt.Sprintf("%s/%d/%s/%s", e.Hub, e.Seq, e.Event, e.OrganID)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func (h *Hub) peerAdminConfigured(p *Peer) bool {
	return (p.AdminURL != "" || p.Kind == PeerAxis) && p.AdminTokenEnv != "" && h.getenv(p.AdminTokenEnv) != ""
}

// askPeerTrace asks a peer's admin API for its followed trace; nil when the
// peer says it was already visited.
func (h *Hub) askPeerTrace(ctx context.Context, p *Peer, id string, visited []string, hops int) (*api.Trace, error) {
	base := p.AdminURL
	if base == "" && p.Kind == PeerAxis {
		base = p.URL
	}
	token := h.getenv(p.AdminTokenEnv)
	if base == "" || p.AdminTokenEnv == "" || token == "" {
		return nil, fmt.Errorf("peer %s: no admin_url / admin_token_env (or the variable is empty)", p.Name)
	}
	u := fmt.Sprintf("%s/admin/v1/documents/%s/trace?follow=%d&visited=%s", strings.TrimRight(base, "/"), url.PathEscape(id), hops, url.QueryEscape(strings.Join(visited, ",")))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	status, body, err := h.peerCall(ctx, p, "GET", u, token, nil, 32<<20)
	if err != nil {
		return nil, err
	}
	switch status {
	case http.StatusOK:
	case http.StatusNoContent:
		return nil, nil
	case http.StatusNotFound:
		return nil, fmt.Errorf("peer %s does not have this document", p.Name)
	default:
		return nil, fmt.Errorf("peer %s answered %d: %.200s", p.Name, status, body)
	}
	var t api.Trace
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("peer %s: %v", p.Name, err)
	}
	return &t, nil
}

// Stuck lists what waited longer than the configured SLAs.
func (h *Hub) Stuck(ctx context.Context, limit int) ([]record.StuckItem, error) {
	a := h.cfg.Admin
	return h.db.Stuck(ctx, h.now(), store.SLA{Fetch: a.SLAFetch.Duration, Ack: a.SLAAck.Duration, Relay: a.SLARelay.Duration}, limit)
}

// Redrive puts a document's dead relays (for one recipient, or all) back in
// their outboxes and wakes the relays; the redriven events name who asked.
// A viewer may not.
func (h *Hub) Redrive(ctx context.Context, caller Caller, id, recipient string) (int, error) {
	if caller.Viewer {
		return 0, Problemf(ErrForbidden, "%s is a viewer: re-driving needs an administrator", caller)
	}
	d, err := h.db.Document(ctx, id)
	if err != nil {
		return 0, err
	}
	n, err := h.db.Redrive(ctx, id, recipient, caller.String(), h.now())
	if err != nil {
		return 0, err
	}
	if n > 0 {
		h.wakeFor(d.Recipients)
		h.log.Info("redrive", LogDocID, id, "recipient", recipient, "entries", n, LogCaller, caller.String())
	}
	return n, nil
}

// StuckCap bounds the stuck list the dashboard and /admin/v1/stuck read.
const StuckCap = 1000

// Overview gathers the dashboard.
func (h *Hub) Overview(ctx context.Context) (*api.Overview, error) {
	day := store.Day(h.now())
	o := &api.Overview{Hub: h.cfg.Hub.Name, Day: day, Peers: []api.PeerOverview{}}
	var err error
	if o.Documents, err = h.db.Count(ctx); err != nil {
		return nil, err
	}
	if o.Today, err = h.db.DayCount(ctx, day); err != nil {
		return nil, err
	}
	qd, err := h.db.QueueDepths(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range qd {
		o.QueueDepth += n
	}
	od, err := h.db.OutboxDepths(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range h.dir.Peers() {
		dead, err := h.db.Dead(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		po := api.PeerOverview{Name: p.Name, Kind: string(p.Kind), Outbox: od[p.Name], Dead: len(dead)}
		// The head of the outbox says whether the peer takes envelopes now:
		// a head that was tried and failed is a peer down since it was queued.
		if head, err := h.db.Outbox(ctx, p.Name, 0, 1); err == nil && len(head) == 1 && len(head[0].Organs) > 0 {
			if dl, err := h.db.Delivery(ctx, head[0].DocID, head[0].Organs[0]); err == nil && dl.Attempts > 0 && dl.LastError != "" {
				since := head[0].Created
				po.RetryingSince, po.LastError = &since, dl.LastError
			}
		}
		o.Peers = append(o.Peers, po)
	}
	st, err := h.Stuck(ctx, StuckCap)
	if err != nil {
		return nil, err
	}
	o.Stuck, o.StuckCapped = len(st), len(st) == StuckCap
	if o.Held, err = h.db.HeldCount(ctx); err != nil {
		return nil, err
	}
	o.IntakeErrors = h.metrics.intakeErrors()
	return o, nil
}

// AgencyView is one agency's page.
type AgencyView struct {
	Agency     Agency          `json:"agency"`
	InboxDepth int             `json:"inbox_depth"`
	LastFetch  *time.Time      `json:"last_fetch,omitempty"`
	LastAck    *time.Time      `json:"last_ack,omitempty"`
	Today      record.DayStats `json:"today"`
}

// AgencyView returns an agency's inbox depth, last fetch and ack, and
// today's counts.
func (h *Hub) AgencyView(ctx context.Context, organ string) (*AgencyView, error) {
	a, ok := h.dir.Agency(organ)
	if !ok {
		return nil, Problemf(ErrNotFound, "%s is not an agency of this hub", organ)
	}
	v := &AgencyView{Agency: *a}
	v.Agency.TokenSHA256 = ""
	qd, err := h.db.QueueDepths(ctx)
	if err != nil {
		return nil, err
	}
	v.InboxDepth = qd[organ]
	act, err := h.db.ActivityOf(ctx, organ)
	if err != nil {
		return nil, err
	}
	if !act.LastFetch.IsZero() {
		v.LastFetch = &act.LastFetch
	}
	if !act.LastAck.IsZero() {
		v.LastAck = &act.LastAck
	}
	st, err := h.db.Stats(ctx, store.Day(h.now()), organ)
	if err != nil {
		return nil, err
	}
	v.Today = record.DayStats{OrganID: organ}
	if s := st[organ]; s != nil {
		v.Today = *s
	}
	return v, nil
}

// Stats is per-agency traffic of one day, agencies of the directory first
// (in directory order, zero rows included), then any other organ seen.
func (h *Hub) Stats(ctx context.Context, day string) ([]record.DayStats, error) {
	st, err := h.db.Stats(ctx, day)
	if err != nil {
		return nil, err
	}
	out := []record.DayStats{}
	for _, a := range h.dir.Agencies() {
		s := record.DayStats{OrganID: a.OrganID}
		if x := st[a.OrganID]; x != nil {
			s = *x
			delete(st, a.OrganID)
		}
		out = append(out, s)
	}
	rest := make([]string, 0, len(st))
	for o := range st {
		rest = append(rest, o)
	}
	sort.Strings(rest)
	for _, o := range rest {
		out = append(out, *st[o])
	}
	return out, nil
}

// Search answers a search (ParseQuery). State overdue_processing asks
// which documents are overdue for processing at some recipient (To: at
// that one; From: sent by that one): those of the stuck list's
// overdue_processing items (store.OverdueProcessing, due dates of the
// last 90 days), oldest deadline first, in one page (StuckCap items at
// most, Truncated beyond); the other criteria filter them.
func (h *Hub) Search(ctx context.Context, q store.Query) (*record.SearchResult, error) {
	if q.State != store.ReasonOverdueProcessing {
		return h.db.Search(ctx, q)
	}
	items, err := h.db.OverdueProcessing(ctx, h.now(), StuckCap)
	if err != nil {
		return nil, err
	}
	res := &record.SearchResult{Docs: []record.Document{}, Truncated: len(items) >= StuckCap}
	seen := map[string]bool{}
	for _, it := range items {
		res.Scanned++
		if seen[it.DocID] || q.To != "" && it.OrganID != q.To || q.From != "" && it.From != q.From {
			continue
		}
		d, err := h.db.Document(ctx, it.DocID)
		if err != nil {
			return nil, err
		}
		day := store.Day(d.ReceivedAt)
		if q.Since != "" && day < q.Since || q.Until != "" && day > q.Until || q.Kind != "" && d.Kind != q.Kind ||
			q.Code != "" && store.FoldCode(d.Code) != store.FoldCode(q.Code) {
			continue
		}
		seen[it.DocID] = true
		res.Docs = append(res.Docs, *d)
	}
	return res, nil
}

// ParseQuery reads a search from URL parameters (code, subject, from, to,
// since, until, kind, state, limit, before).
func ParseQuery(v url.Values) (store.Query, error) {
	q := store.Query{Code: v.Get("code"), Subject: v.Get("subject"), From: v.Get("from"), To: v.Get("to"),
		Since: v.Get("since"), Until: v.Get("until"), Kind: v.Get("kind"), State: v.Get("state")}
	for _, d := range []string{q.Since, q.Until} {
		if d != "" {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return q, Problemf(ErrBadRequest, "date %q is not YYYY-MM-DD", d)
			}
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return q, Problemf(ErrBadRequest, "limit must be 1..500")
		}
		q.Limit = n
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return q, Problemf(ErrBadRequest, "before is a cursor from a previous page")
		}
		q.Before = n
	}
	switch q.State {
	case "", store.StateQueued, store.StateDelivered, store.StateAckedDone, store.StateAckedFail, store.StateRelaying, store.StateRelayed, store.StateDead,
		store.ReasonOverdueProcessing:
	default:
		return q, Problemf(ErrBadRequest, "state %q is not a delivery state (or overdue_processing)", q.State)
	}
	switch q.Kind {
	case "", "document", "status":
	default:
		return q, Problemf(ErrBadRequest, "kind is document or status")
	}
	return q, nil
}

// Name is the hub's name (hub.name in the config).
func (h *Hub) Name() string { return h.cfg.Hub.Name }

// Logger is the hub's structured logger.
func (h *Hub) Logger() *slog.Logger { return h.log }

// Now is the hub's clock.
func (h *Hub) Now() time.Time { return h.now() }

// HoldMax is how long an envelope may be held before it is refused
// (trust.revocation.hold_max).
func (h *Hub) HoldMax() time.Duration { return h.cfg.Trust.Revocation.HoldMax.Duration }

// Config is the hub's configuration, as loaded; not to be modified.
func (h *Hub) Config() *Config { return h.cfg }

// Authenticate returns the caller a bearer token belongs to.
func (h *Hub) Authenticate(token string) (Caller, bool) { return h.dir.Authenticate(token) }

// AdminAction records an administrator's action on the hub (a
// reconciliation, a console sign-in) in the event chain, with its name.
func (h *Hub) AdminAction(ctx context.Context, caller Caller, action string) error {
	return h.db.AdminAction(ctx, caller.String(), action, "", h.now())
}
