package axis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/prometheus/client_golang/prometheus"
)

// Revocation inside the hub: the checker (envelope.RevocationChecker) is
// built from trust.revocation and handed to the verifier; in mode hold an
// envelope whose chain's status is unknown is stored durably and answered
// 202 held (store.PutHeld), and the hold worker re-checks the held ones
// every trust.revocation.retry (and at start, so a restart loses nothing):
// each is released (routed exactly as its intake would have been) once its
// status is good, refused once revoked or past hold_max. A refusal keeps
// the document and its trace; the sender's status says "refused" with the
// code, and a status message 02 from the hub goes to the sender's inbox.

// Revocation defaults.
const (
	DefaultRevocationRefresh = time.Hour
	DefaultRevocationTimeout = 5 * time.Second
	DefaultRevocationRetry   = time.Minute
	DefaultRevocationHoldMax = 72 * time.Hour
)

func (h *Hub) newRevocationChecker() *envelope.RevocationChecker {
	rc := h.cfg.Trust.Revocation
	if rc.Mode == envelope.RevocationOff {
		return nil
	}
	var files []string
	for _, f := range rc.CRLFiles {
		files = append(files, h.cfg.Path(f))
	}
	return envelope.NewRevocationChecker(envelope.RevocationOptions{
		CRLFiles: files, CRLURLs: rc.CRLURLs, OCSP: rc.OCSP == nil || *rc.OCSP,
		Refresh: rc.Refresh.Duration, Timeout: rc.Timeout.Duration, Retry: rc.Retry.Duration,
		Now: h.now, Logger: h.log.With("component", "revocation"),
	})
}

// holds reports whether a verified envelope is to be held.
func (h *Hub) holds(v *envelope.Verified) bool {
	return h.verifier.Load().RevocationMode() == envelope.RevocationHold && v.Revocation().Status() == envelope.StatusUnknown
}

// wakeHold nudges the hold worker (a new held envelope: its status may be
// known by the next round already).
func (h *Hub) wakeHold() {
	select {
	case h.holdWake <- struct{}{}:
	default:
	}
}

// holdLoop re-checks held envelopes at start and every retry.
func (h *Hub) holdLoop(ctx context.Context) {
	t := time.NewTicker(h.cfg.Trust.Revocation.Retry.Duration)
	defer t.Stop()
	for {
		if err := h.recheckHeld(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("hold: re-check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.holdWake:
			// A fresh hold: its sources were just found down; wait for
			// the next tick unless they answer by then.
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// recheckHeld decides what it can about every held envelope.
func (h *Hub) recheckHeld(ctx context.Context) error {
	held, err := h.db.Held(ctx, 0)
	if err != nil || len(held) == 0 {
		return err
	}
	if h.revocation != nil {
		h.revocation.Retry() // ask the sources that were down again now
	}
	for _, hd := range held {
		if ctx.Err() != nil {
			return nil
		}
		if err := h.recheckOne(ctx, hd); err != nil {
			h.log.Error("hold: re-check", LogDocID, hd.Doc.ID, "err", err)
		}
	}
	return nil
}

func (h *Hub) recheckOne(ctx context.Context, hd store.HeldDoc) error {
	d := hd.Doc
	raw, err := h.envelopeBytes(ctx, d)
	if err != nil {
		return err
	}
	now := h.now()
	v, verr := h.verifier.Load().Verify(raw)
	switch {
	case verr != nil:
		// Revoked (or no longer valid at all): refused with its code, and
		// with the answer that proved the revocation kept as evidence.
		var re *envelope.RevocationError
		var rev *envelope.Revocation
		if errors.As(verr, &re) {
			rev = re.Revocation
		}
		return h.refuseHeld(ctx, d, envelope.CodeOf(verr), verr.Error(), rev, now)
	case v.Revocation().Status() == envelope.StatusGood:
		rd, err := h.db.Release(ctx, d.ID, v.Revocation(), now)
		if errors.Is(err, store.ErrConflict) {
			return nil // decided meanwhile
		}
		if err != nil {
			return err
		}
		h.metrics.holdDecisions.WithLabelValues("released").Inc()
		h.log.Info("hold: released", LogDocID, d.ID, "held_for", now.Sub(hd.Since).String())
		h.wakeFor(rd.Recipients)
		return nil
	case now.Sub(hd.Since) >= h.cfg.Trust.Revocation.HoldMax.Duration:
		return h.refuseHeld(ctx, d, envelope.ErrRevocationUnknown.Code(),
			fmt.Sprintf("revocation status still unknown after %s: %s", h.cfg.Trust.Revocation.HoldMax.Duration, unknownReason(v.Revocation())),
			v.Revocation(), now)
	}
	return nil // still unknown: next round
}

func unknownReason(r *envelope.Revocation) string {
	for _, c := range r.Certs {
		if c.Status == envelope.StatusUnknown {
			return c.Subject + ": " + c.Reason
		}
	}
	return ""
}

// refuseHeld ends a held envelope and, in the same transaction, puts a
// status message 02 from the hub where its sender collects its statuses.
func (h *Hub) refuseHeld(ctx context.Context, d *record.Document, code, detail string, rev *envelope.Revocation, now time.Time) error {
	notice, err := h.refusalNotice(d, code, detail, now)
	if err != nil {
		h.log.Error("hold: no refusal notice for the sender", LogDocID, d.ID, "err", err)
	}
	_, err = h.db.Refuse(ctx, d.ID, code, detail, rev, now, notice)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	h.metrics.holdDecisions.WithLabelValues("refused").Inc()
	h.log.Warn("hold: refused", LogDocID, d.ID, LogCode, code, "detail", detail)
	if notice != nil {
		h.wakeFor([]record.Route{notice.Route})
	}
	return nil
}

// hubOrgan is the organ code the hub speaks as in the status messages it
// makes: the first organ code among its certificate's subject OUs, else its
// name.
func (h *Hub) hubOrgan() string {
	if h.signer != nil {
		for _, ou := range h.signer.Leaf().Subject.OrganizationalUnit {
			if _, err := envelope.ParseOrganID(ou); err == nil {
				return ou
			}
		}
	}
	return h.cfg.Hub.Name
}

// refusalNotice is a status message 02 (refused) answering d, from the
// hub, signed with its key, for d's sender.
func (h *Hub) refusalNotice(d *record.Document, code, detail string, now time.Time) (*store.Notice, error) {
	m := &envelope.Message{
		Kind:        envelope.KindStatus,
		From:        envelope.Organization{OrganID: h.hubOrgan(), OrganName: "Trục liên thông văn bản " + h.cfg.Hub.Name},
		ResponseFor: []envelope.ResponseFor{{OrganID: d.From, Code: d.Code, DocumentID: d.DocumentID}},
		StaffInfo:   &envelope.StaffInfo{Department: h.cfg.Hub.Name},
		StatusCode:  "02",
		Description: fmt.Sprintf("Trục liên thông từ chối văn bản (%s): %s", code, detail),
		Timestamp:   now.In(store.Zone).Format("2006/01/02 15:04:05"),
	}
	raw, err := envelope.Encode(m)
	if err != nil {
		return nil, err
	}
	if h.signer != nil {
		if raw, err = h.signer.Sign(raw); err != nil {
			return nil, err
		}
	}
	route, err := h.dir.Route(d.From, "")
	if err != nil {
		return nil, fmt.Errorf("no route to the sender %s: %w", d.From, err)
	}
	return &store.Notice{Raw: raw, Message: m, Route: route}, nil
}

// holdMetrics are the hold worker's counters; the held count is a gauge
// read from the store at scrape time.
func (m *metrics) watchHeld(db *store.DB) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "axis_held_documents",
		Help: "Envelopes held until the revocation status of their signer's chain is known."}, func() float64 {
		n, _ := db.HeldCount(context.Background())
		return float64(n)
	}))
}

// RevocationEvidence returns the DER that proved the status of certificate
// i of a document's signer chain (0 is the signer) and how it was checked
// ("ocsp": an OCSP response, for openssl ocsp -respin; "crl": a CRL).
func (h *Hub) RevocationEvidence(ctx context.Context, id string, i int) (der []byte, method string, err error) {
	d, err := h.db.Document(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if d.Revocation == nil || i < 0 || i >= len(d.Revocation.Certs) || d.Revocation.Certs[i].EvidenceSHA256 == "" {
		return nil, "", Problemf(ErrNotFound, "no revocation evidence for certificate %d of this document", i)
	}
	cr := d.Revocation.Certs[i]
	der, err = h.db.Evidence(ctx, cr.EvidenceSHA256)
	if err != nil {
		return nil, "", err
	}
	return der, cr.Method, nil
}
