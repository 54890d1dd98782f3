package axis

import "github.com/axis-h40/axis/axis/api"

// The hub's answers are the wire types of package api, which imports no
// server code (axisctl decodes them without linking the hub). These aliases
// keep the hub's method signatures short, as os.FileMode does for
// fs.FileMode.
type (
	AckRequest           = api.AckRequest
	AgencyTotals         = api.AgencyTotals
	Discrepancy          = api.Discrepancy
	DocStatus            = api.DocStatus
	InboxItem            = api.InboxItem
	InboxPage            = api.InboxPage
	Overview             = api.Overview
	PeerOverview         = api.PeerOverview
	PeerReconcileAnswer  = api.PeerReconcileAnswer
	PeerReconcileRequest = api.PeerReconcileRequest
	PeerTotals           = api.PeerTotals
	Receipt              = api.Receipt
	RecipientInfo        = api.RecipientInfo
	RecipientStatus      = api.RecipientStatus
	Report               = api.Report
	Totals               = api.Totals
	Trace                = api.Trace
	TraceEvent           = api.TraceEvent
)

// RecipientsHeader is set by a relaying hub: the recipients (comma-separated
// organ codes) the receiving hub is to take care of.
const RecipientsHeader = api.RecipientsHeader

// Discrepancy kinds, in report order in DiscrepancyKinds.
const (
	KindMissingAtPeer   = api.KindMissingAtPeer
	KindUnknownAtPeer   = api.KindUnknownAtPeer
	KindMissingDelivery = api.KindMissingDelivery
	KindHashMismatch    = api.KindHashMismatch
	KindChainBroken     = api.KindChainBroken
	KindOverdue         = api.KindOverdue
	KindDeadRelay       = api.KindDeadRelay
)

// DiscrepancyKinds lists every kind, in report order.
var DiscrepancyKinds = api.DiscrepancyKinds

// IsDocID reports whether s looks like a document id (32 hex digits).
func IsDocID(s string) bool { return api.IsDocID(s) }
