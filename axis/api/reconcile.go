package api

import (
	"time"
)

// Discrepancy kinds.
const (
	KindMissingAtPeer   = "missing_at_peer"
	KindUnknownAtPeer   = "unknown_at_peer"
	KindMissingDelivery = "missing_delivery"
	KindHashMismatch    = "hash_mismatch"
	KindChainBroken     = "chain_broken"
	KindOverdue         = "overdue"
	KindDeadRelay       = "dead_relay"
	// KindOverdueProcessing: the document's DueDate passed and this
	// recipient has not reported status 06 (done).
	KindOverdueProcessing = "overdue_processing"
)

// DiscrepancyKinds lists every kind, in report order.
var DiscrepancyKinds = []string{KindHashMismatch, KindChainBroken, KindMissingDelivery, KindMissingAtPeer, KindUnknownAtPeer, KindDeadRelay, KindOverdue, KindOverdueProcessing}

// Report is one reconciliation run.
type Report struct {
	Date          string         `json:"date"`
	Hub           string         `json:"hub"`
	StartedAt     time.Time      `json:"started_at"`
	FinishedAt    time.Time      `json:"finished_at"`
	Repair        bool           `json:"repair"`
	By            string         `json:"by,omitempty"` // who asked: an administrator's name, "schedule" (reconcile.at)
	Totals        Totals         `json:"totals"`
	Agencies      []AgencyTotals `json:"agencies"`
	Peers         []PeerTotals   `json:"peers"`
	Discrepancies []Discrepancy  `json:"discrepancies"`
	// Archive is the day's archive file when some of its documents were
	// read from it (retired from the hot store: FromArchive of them).
	Archive     string `json:"archive,omitempty"`
	FromArchive int    `json:"from_archive,omitempty"`
}

// Totals are the day's counts; Remaining is the discrepancies not repaired.
type Totals struct {
	Accepted      int    `json:"accepted"`
	Deliveries    int    `json:"deliveries"`
	Fetched       int    `json:"fetched"`
	AckedDone     int    `json:"acked_done"`
	AckedFail     int    `json:"acked_fail"`
	Pending       int    `json:"pending"`
	Overdue       int    `json:"overdue"`
	Relayed       int    `json:"relayed"`
	Confirmed     int    `json:"confirmed"`
	Retrying      int    `json:"retrying"`
	Dead          int    `json:"dead"`
	ChainEvents   uint64 `json:"chain_events"`
	ChainOK       bool   `json:"chain_ok"`
	Discrepancies int    `json:"discrepancies"`
	Repaired      int    `json:"repaired"`
	Remaining     int    `json:"remaining"`
}

// AgencyTotals is one agency's day.
type AgencyTotals struct {
	OrganID   string `json:"organ_id"`
	Name      string `json:"name,omitempty"`
	Sent      int    `json:"sent"`
	Received  int    `json:"received"`
	Fetched   int    `json:"fetched"`
	AckedDone int    `json:"acked_done"`
	AckedFail int    `json:"acked_fail"`
	Pending   int    `json:"pending"`
	Overdue   int    `json:"overdue"`
}

// PeerTotals is one peer's share of the day.
type PeerTotals struct {
	Peer          string `json:"peer"`
	DisplayName   string `json:"display_name,omitempty"` // peers[].display_name`
	Kind          string `json:"kind"`
	Relayed       int    `json:"relayed"`
	Confirmed     int    `json:"confirmed"` // relayed, and the peer says it has it
	Retrying      int    `json:"retrying"`
	Dead          int    `json:"dead"`
	MissingAtPeer int    `json:"missing_at_peer"`
	UnknownAtPeer int    `json:"unknown_at_peer"`
	Checked       bool   `json:"checked"` // the peer was asked
	Note          string `json:"note,omitempty"`
}

// Discrepancy is one finding.
type Discrepancy struct {
	Kind  string `json:"kind"`
	DocID string `json:"doc_id"`
	// Code and Subject are the document's notation and subject, when this
	// hub holds it: what a person looks for.
	Code     string `json:"code,omitempty"`
	Subject  string `json:"subject,omitempty"`
	OrganID  string `json:"organ_id"`
	Peer     string `json:"peer"`
	Detail   string `json:"detail"`
	Repaired bool   `json:"repaired"`
}

// Clean reports whether nothing remains to look at.
func (r *Report) Clean() bool { return r.Totals.Remaining == 0 }

// PeerReconcileRequest asks a native peer what it has of ours.
type PeerReconcileRequest struct {
	Date string   `json:"date"`
	IDs  []string `json:"ids"`
}

// PeerReconcileAnswer says which of the ids the peer has, and which
// documents it accepted on the date through the asking hub.
type PeerReconcileAnswer struct {
	Have     []string `json:"have"`
	Received []string `json:"received"`
}
