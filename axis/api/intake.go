package api

import (
	"time"

	"github.com/axis-h40/axis/store/record"
)

// Receipt is intake's answer.
type Receipt struct {
	DocID      string          `json:"doc_id"`
	SHA256     string          `json:"sha256"`
	ReceivedAt time.Time       `json:"received_at"`
	Recipients []RecipientInfo `json:"recipients"`
	// State is "held" (answered 202: stored, routed once the revocation
	// status of the signer's chain is known; Reason says why) or "refused"
	// (Code says why); empty for a document routed at intake.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
}

// RecipientInfo is one recipient and its route.
type RecipientInfo struct {
	OrganID string `json:"organ_id"`
	Route   string `json:"route"`
}

// DocStatus is a document's per-recipient state.
type DocStatus struct {
	DocID      string            `json:"doc_id"`
	Recipients []RecipientStatus `json:"recipients"`
	// Related lists later revokes (1), updates (2) and replacements (3).
	Related []record.Relation `json:"related,omitempty"`
	// State is "held" (stored, not yet routed: the revocation status of the
	// signer's chain is not known yet) or "refused" (Code and Detail say
	// why); empty once routed.
	State  string `json:"state,omitempty"`
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// RecipientStatus is one recipient's state and latest processing status.
type RecipientStatus struct {
	OrganID    string     `json:"organ_id"`
	Route      string     `json:"route"`
	State      string     `json:"state"`
	StatusCode string     `json:"status_code,omitempty"`
	StatusAt   *time.Time `json:"status_at,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
	PeerDocID  string     `json:"peer_doc_id,omitempty"`
	// AtHub is the hub where a relayed copy was delivered, when it has
	// reported back: State and UpdatedAt are then the recipient's there.
	AtHub     string `json:"at_hub,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// RecipientsHeader is set by a relaying hub: the recipients (comma-separated
// organ codes) the receiving hub is to take care of.
const RecipientsHeader = "X-Axis-Recipients"

// InboxItem is one entry of GET /api/v1/inbox.
type InboxItem struct {
	DocID      string    `json:"doc_id"`
	From       string    `json:"from"`
	Kind       string    `json:"kind"`
	Code       string    `json:"code,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	StatusCode string    `json:"status_code,omitempty"`
	RespondsTo string    `json:"responds_to,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// InboxPage is the answer of GET /api/v1/inbox.
type InboxPage struct {
	Items []InboxItem `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// AckRequest is the body of POST /api/v1/envelopes/{id}/ack.
type AckRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// DeliveryReports is the body of POST /api/v1/peer/delivery-reports: a
// peer hub's reports of recipients' states, about documents this hub
// relayed to it.
type DeliveryReports struct {
	Reports []record.DeliveryReport `json:"reports"`
}

// DeliveryReportsAnswer says how many reports moved a delivery forward;
// the others were duplicates, late, or not about a copy relayed to the
// asking peer.
type DeliveryReportsAnswer struct {
	Applied int `json:"applied"`
	Ignored int `json:"ignored"`
}
