package axis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
)

// The VDXP server: the national SDK's protocol (VDXP.md) in front of the
// same hub. A system id maps to a caller: a document system acting for its
// agencies (`from` must be one of them), a peer hub (intake as that peer;
// what is routed to a `kind: pull` peer is listed to it and confirmed by its
// updateStatus), or an administrator's system (registerAgency,
// deleteAgency). Every answer is HTTP 200 with JSON (downloadEdoc's success
// excepted), ErrorCode "0" for success and the hub's stable problem codes
// otherwise, never a JSON null, non-ASCII escaped as \uXXXX.
//
// Decisions where VDXP.md is silent:
//   - DocId is this hub's document id (the same id on every axis hub).
//   - messagetype says which list to read (edoc or status); on sendEdoc the
//     envelope itself says what it is.
//   - A document for two agencies of one system is listed once; getEdoc
//     marks it fetched and updateStatus acks it for each of them.
//   - Times are Asia/Ho_Chi_Minh, "dd/MM/yyyy HH:mm:ss".

type vdxpSystem struct {
	VDXPSystem
	secret string
	guard  vdxpGuard // max_age and allow_from (vdxp_guard.go)
}

// loadVDXPSystems reads each system's secret from its environment variable.
func (h *Hub) loadVDXPSystems() error {
	h.vdxpSystems = map[string]*vdxpSystem{}
	for _, s := range h.cfg.VDXP.Systems {
		secret := h.getenv(s.SecretEnv)
		if secret == "" {
			// One vendor's missing secret does not stop the province's hub:
			// that system is refused (unknown system id) and this says why.
			h.log.Error("vdxp: system disabled: its secret variable is empty", "system", s.ID, "secret_env", s.SecretEnv)
			continue
		}
		g, err := newVDXPGuard(s)
		if err != nil {
			// Config.check refuses this; fail closed for a config made in code.
			h.log.Error("vdxp: system disabled", "system", s.ID, "err", err)
			continue
		}
		h.vdxpSystems[s.ID] = &vdxpSystem{VDXPSystem: s, secret: secret, guard: g}
	}
	return nil
}

func (h *Hub) vdxpSecret(id string) (string, bool) {
	s, ok := h.vdxpSystems[id]
	if !ok {
		return "", false
	}
	return s.secret, true
}

// vdxpTime formats a time as VDXP lists show it.
func vdxpTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(store.Zone).Format("02/01/2006 15:04:05")
}

// vdxpOK and vdxpFail are the answer shapes.
func vdxpOK(fields map[string]any) map[string]any {
	out := map[string]any{"status": "OK", "ErrorCode": "0", "ErrorDesc": "Thành công"}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

func (h *Hub) vdxpFail(op string, err error, fields map[string]any) map[string]any {
	_, code, detail := ProblemOf(err)
	if code == ErrInternal.Code {
		h.log.Error("vdxp: internal error", "op", op, "err", err)
	}
	out := map[string]any{"status": "FAIL", "ErrorCode": code, "ErrorDesc": detail}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

// writeVDXP answers v: HTTP 200, JSON with non-ASCII escaped.
func writeVDXP(w http.ResponseWriter, v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil { // the answers are maps of strings, numbers and lists of them
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBlob(w, "application/json; charset=utf-8", vdxp.ASCIIJSON(b))
}

func writeBlob(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var errVDXPAuth = &Problem{"unauthorized", http.StatusUnauthorized, "VDXP authentication failed"}

// ServeVDXP answers every operation under vdxp.base_path, matching on the
// last path segment (a base with a trailing slash gives "//sendEdoc").
func (h *Hub) ServeVDXP(w http.ResponseWriter, r *http.Request) {
	op := path.Base(r.URL.Path)
	ctx := r.Context()
	fields := map[string]any{}
	if op == "sendEdoc" {
		fields["DocId"] = "" // always present
	}
	// The HMAC, then the system's max_age and allow_from; only a failure
	// meets the auth-failure limiter (authlimit.go).
	req, err := vdxp.Verify(r.Header, h.vdxpSecret)
	if err == nil {
		err = h.vdxpAdmit(r, h.vdxpSystems[req.SystemID], req)
	}
	if err != nil {
		h.metrics.intake.WithLabelValues("vdxp_unauthorized").Inc()
		h.vdxpRefused(w, r, op, err, fields)
		return
	}
	sys := h.vdxpSystems[req.SystemID]
	NoteCaller(ctx, Caller{Agency: strings.Join(sys.Agencies, ","), Peer: sys.Peer, Admin: sys.Admin})
	var out map[string]any
	switch op {
	case "sendEdoc":
		out, err = h.vdxpSend(w, r, sys, req)
	case "getReceivedEdocList":
		out, err = h.vdxpReceived(ctx, sys, req.Get("messagetype"))
	case "countReceiveEdoc", "countReceiveStatus":
		out, err = h.vdxpReceived(ctx, sys, map[string]string{"countReceiveEdoc": "edoc", "countReceiveStatus": "status"}[op])
		if err == nil {
			out = map[string]any{"count": len(out["data"].([]map[string]string))}
		}
	case "getEdoc", "downloadEdoc":
		var raw []byte
		if raw, err = h.vdxpFetch(ctx, sys, req.Get("docId")); err == nil {
			if op == "downloadEdoc" {
				writeBlob(w, "application/xml", raw)
				return
			}
			out = map[string]any{"data": base64.StdEncoding.EncodeToString(raw)}
		}
	case "updateStatus":
		err = h.vdxpUpdateStatus(ctx, sys, req)
	case "getSentEdocList":
		out, err = h.vdxpSent(ctx, sys, req)
	case "getAgenciesList", "getAgenciesListQD20", "getSynchronizeUnit":
		out, err = h.vdxpAgencies(ctx, op)
	case "registerAgency", "deleteAgency":
		if !sys.Admin {
			err = Problemf(ErrForbidden, "system %s may not %s", sys.ID, op)
		} else if op == "registerAgency" {
			err = h.vdxpRegister(r, sys.ID)
		} else {
			err = h.vdxpDelete(ctx, sys.ID, req.Get("AgencyCode"))
		}
	default:
		err = Problemf(ErrNotFound, "no VDXP operation %q", op)
	}
	if err != nil {
		writeVDXP(w, h.vdxpFail(op, err, fields))
		return
	}
	for k, v := range out {
		fields[k] = v
	}
	writeVDXP(w, vdxpOK(fields))
}

func (h *Hub) vdxpSend(w http.ResponseWriter, r *http.Request, sys *vdxpSystem, req *vdxp.Request) (map[string]any, error) {
	limit := h.cfg.Limits.MaxEnvelopeBytes + 2
	if r.ContentLength > limit {
		return nil, &Problem{"too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("envelope larger than %d bytes", limit-2)}
	}
	body, err := h.receiveBody(w, r, limit) // in memory or spooled (body.go)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if body.Len() > limit {
		return nil, &Problem{"too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("envelope larger than %d bytes", limit-2)}
	}
	if err := body.trimCRLF(); err != nil {
		return nil, err
	}
	if hf := req.Get("hash-file"); hf == "" || !body.hashFileMatches(hf) {
		h.metrics.intake.WithLabelValues("hash_mismatch").Inc()
		return nil, &Problem{"hash_mismatch", http.StatusBadRequest, "hash-file does not match the body (SHA-256 of the edXML without the trailing CRLF)"}
	}
	var caller Caller
	var forRecipients []string
	from := req.Get("from")
	switch {
	case slices.Contains(sys.Agencies, from):
		caller = Caller{Agency: from}
	case sys.Peer != "":
		caller = Caller{Peer: sys.Peer}
		if to := req.Get("to"); to != "" {
			var codes []struct {
				Code string `json:"code"`
			}
			if err := json.Unmarshal([]byte(to), &codes); err != nil {
				return nil, Problemf(ErrBadRequest, "to: %v", err)
			}
			for _, c := range codes {
				forRecipients = append(forRecipients, c.Code)
			}
		}
	default:
		return nil, Problemf(ErrCallerMismatch, "system %s does not act for %q", sys.ID, from)
	}
	rc, _, err := h.intakeCounted(r.Context(), caller, body.Len(), body.Bytes, forRecipients)
	if err != nil {
		return nil, err
	}
	NoteDocID(r.Context(), rc.DocID)
	return map[string]any{"DocId": rc.DocID}, nil
}

func kindOf(messageType string) (string, error) {
	switch strings.ToLower(messageType) {
	case "", "edoc":
		return string(envelope.KindDocument), nil
	case "status":
		return string(envelope.KindStatus), nil
	}
	return "", Problemf(ErrBadRequest, "messagetype %q (want edoc or status)", messageType)
}

// vdxpListLimit bounds one getReceivedEdocList answer; the caller confirms
// and asks again.
const vdxpListLimit = 500

func (h *Hub) vdxpReceived(ctx context.Context, sys *vdxpSystem, messageType string) (map[string]any, error) {
	kind, err := kindOf(messageType)
	if err != nil {
		return nil, err
	}
	data := []map[string]string{}
	seen := map[string]int{}
	add := func(d *record.Document, to, state string, updated time.Time) {
		if d.Kind != kind {
			return
		}
		if i, ok := seen[d.ID]; ok {
			data[i]["to"] += "," + to
			return
		}
		seen[d.ID] = len(data)
		data = append(data, map[string]string{"docId": d.ID, "serviceType": "eDoc", "messageType": map[bool]string{true: "status", false: "edoc"}[kind == string(envelope.KindStatus)],
			"created_time": vdxpTime(d.ReceivedAt), "updated_time": vdxpTime(updated), "from": d.From, "to": to,
			"status": state, "status_desc": stateDesc[state]})
	}
	for _, a := range sys.Agencies {
		var after uint64
		for len(data) < vdxpListLimit {
			items, more, err := h.db.Inbox(ctx, a, after, vdxpListLimit)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				after = it.Seq
				if dl, err := h.db.Delivery(ctx, it.Doc.ID, a); err == nil && len(data) < vdxpListLimit {
					add(&it.Doc, a, dl.State, dl.UpdatedAt)
				}
			}
			if !more {
				break
			}
		}
	}
	if p, ok := h.dir.Peer(sys.Peer); ok && p.Kind == PeerPull {
		var after uint64
		for len(data) < vdxpListLimit {
			entries, err := h.db.Outbox(ctx, p.Name, after, vdxpListLimit)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				after = e.Seq
				d, err := h.db.Document(ctx, e.DocID)
				if err != nil {
					return nil, err
				}
				if len(data) < vdxpListLimit {
					add(d, strings.Join(e.Organs, ","), store.StateRelaying, e.Created)
				}
			}
			if len(entries) < vdxpListLimit {
				break
			}
		}
	}
	return map[string]any{"data": data}, nil
}

var stateDesc = map[string]string{
	store.StateQueued:    "Chờ nhận",
	store.StateDelivered: "Đã nhận, đang xử lý",
	store.StateAckedDone: "Đã nhận thành công",
	store.StateAckedFail: "Nhận lỗi",
	store.StateRelaying:  "Đang chuyển tiếp",
	store.StateRelayed:   "Đã chuyển tiếp",
	store.StateDead:      "Chuyển tiếp thất bại",
}

// vdxpCallers are the callers a system acts as.
func vdxpCallers(sys *vdxpSystem) []Caller {
	var out []Caller
	for _, a := range sys.Agencies {
		out = append(out, Caller{Agency: a})
	}
	if sys.Peer != "" {
		out = append(out, Caller{Peer: sys.Peer})
	}
	return out
}

func (h *Hub) vdxpFetch(ctx context.Context, sys *vdxpSystem, id string) ([]byte, error) {
	if id == "" {
		return nil, Problemf(ErrBadRequest, "docId is required")
	}
	var raw []byte
	for _, c := range vdxpCallers(sys) {
		b, err := h.Fetch(ctx, c, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		raw = b
	}
	if raw == nil {
		return nil, ErrNotFound
	}
	return raw, nil
}

func (h *Hub) vdxpUpdateStatus(ctx context.Context, sys *vdxpSystem, req *vdxp.Request) error {
	id, status := req.Get("docId"), strings.ToLower(req.Get("status"))
	reason := req.Get("description")
	if id == "" {
		return Problemf(ErrBadRequest, "docId is required")
	}
	if status != "done" && status != "fail" && status != "processing" {
		return Problemf(ErrBadRequest, "status %q (want done, fail or processing)", status)
	}
	found := false
	for _, a := range sys.Agencies {
		if _, err := h.db.Delivery(ctx, id, a); err != nil {
			continue
		}
		found = true
		var err error
		if status == "processing" {
			_, err = h.db.MarkFetched(ctx, id, a, h.now())
		} else {
			_, err = h.Ack(ctx, Caller{Agency: a}, id, status == "done", reason)
		}
		if err != nil {
			return err
		}
	}
	if p, ok := h.dir.Peer(sys.Peer); ok && p.Kind == PeerPull {
		e, err := h.db.OutboxEntryOf(ctx, p.Name, id, 10*vdxpListLimit)
		if err == nil {
			found = true
			switch status {
			case "done":
				err = h.db.MarkRelayed(ctx, p.Name, *e, id, h.now())
				h.metrics.relayed.WithLabelValues(p.Name, "relayed").Inc()
			case "fail":
				if reason == "" {
					reason = "the peer refused it (updateStatus fail)"
				}
				err = h.db.RelayFailed(ctx, p.Name, *e, reason, true, h.now())
				h.metrics.relayed.WithLabelValues(p.Name, "dead").Inc()
			}
			if err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if !found {
		return ErrNotFound
	}
	return nil
}

func (h *Hub) vdxpSent(ctx context.Context, sys *vdxpSystem, req *vdxp.Request) (map[string]any, error) {
	var ids []string
	if id := req.Get("docId"); id != "" {
		ids = []string{id}
	} else {
		for _, a := range sys.Agencies {
			got, err := h.db.SentOn(ctx, a, store.Day(h.now()), vdxpListLimit)
			if err != nil {
				return nil, err
			}
			ids = append(ids, got...)
		}
	}
	data := []map[string]string{}
	for _, id := range ids {
		d, err := h.db.Document(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(sys.Agencies, d.From) && (sys.Peer == "" || d.Via != sys.Peer) {
			continue
		}
		dls, err := h.db.Deliveries(ctx, id)
		if err != nil {
			return nil, err
		}
		mt := "edoc"
		if d.Kind == string(envelope.KindStatus) {
			mt = "status"
		}
		for _, dl := range dls {
			recv := dl.PeerDocID
			if recv == "" {
				recv = d.ID
			}
			// A relayed copy whose hub reported back: the recipient's
			// state there (delivery reports, deliveryreport.go).
			state, at := dl.State, dl.UpdatedAt
			if dl.RemoteState != "" {
				state, at = dl.RemoteState, dl.RemoteAt
			}
			received := ""
			if state != store.StateQueued && state != store.StateRelaying {
				received = vdxpTime(at)
			}
			desc := stateDesc[state]
			if dl.StatusCode != "" {
				desc += " (" + dl.StatusCode + ")"
			}
			data = append(data, map[string]string{"senderDocId": d.ID, "receiverDocId": recv, "fromCode": d.From, "toCode": dl.OrganID,
				"sendStatus": "done", "sendStatusDesc": "Đã gửi", "receiveStatus": state, "receiveStatusDesc": desc,
				"title": d.Subject, "notation": d.Code, "sentTime": vdxpTime(d.ReceivedAt), "receivedTime": received,
				"serviceType": "eDoc", "messageType": mt})
		}
	}
	return map[string]any{"data": data}, nil
}

func (h *Hub) vdxpAgencies(ctx context.Context, op string) (map[string]any, error) {
	data := []map[string]any{}
	deleted := map[string]registered{}
	recs, err := h.db.Registry(ctx, registryAgencyPrefix)
	if err != nil {
		return nil, err
	}
	extra := map[string]registered{}
	for _, v := range recs {
		var r registered
		if json.Unmarshal(v, &r) == nil {
			extra[r.OrganID] = r
			if r.Deleted {
				deleted[r.OrganID] = r
			}
		}
	}
	row := func(a *Agency, del bool, mod time.Time) {
		mail := extra[a.OrganID].Mail
		switch op {
		case "getAgenciesList":
			if !del {
				data = append(data, map[string]any{"id": a.OrganID, "pid": a.Parent, "code": a.OrganID, "name": a.Name, "mail": mail, "oldCode": ""})
			}
		case "getAgenciesListQD20":
			if !del {
				data = append(data, map[string]any{"id": a.OrganID, "code": a.OrganID, "name": a.Name, "mail": mail, "code102": a.OrganID})
			}
		case "getSynchronizeUnit":
			data = append(data, map[string]any{"id": a.OrganID, "pid": a.Parent, "code": a.OrganID, "name": a.Name, "mail": mail,
				"version": 1, "centerCode": h.cfg.Hub.Name, "deleted": del, "modifyDate": vdxpTime(mod), "isAgency": true})
		}
	}
	for _, a := range h.dir.Agencies() {
		row(a, false, extra[a.OrganID].Modified)
	}
	for _, r := range deleted {
		a := r.Agency
		row(&a, true, r.Modified)
	}
	return map[string]any{"data": data}, nil
}
