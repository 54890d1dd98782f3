package store

import (
	"time"

	"github.com/axis-h40/axis/envelope"
)

// The records the store keeps, and the values of their State and Type
// fields.
//
// States and event types are untyped string constants, not named types:
// the hub copies State fields into string fields of its own wire types
// (Receipt, DocStatus, RecipientStatus), keys a map[string]string with them
// (the VDXP state descriptions), and the query's State is a string from a
// URL. A named type would break those call sites; untyped, the constants
// already compare with and assign to a string field of any kind.

// Route says where one recipient's copy goes: Peer "" is local delivery.
type Route struct {
	OrganID string `json:"organ_id"`
	Peer    string `json:"peer,omitempty"`
}

// Name is "local" or the peer's name.
func (r Route) Name() string {
	if r.Peer == "" {
		return "local"
	}
	return r.Peer
}

// Document is the hub's record of one envelope, from its verified header.
type Document struct {
	ID           string     `json:"id"`
	Seq          uint64     `json:"seq"`
	SHA256       string     `json:"sha256"`
	Size         int        `json:"size"`
	Kind         string     `json:"kind"`
	From         string     `json:"from"`
	To           []string   `json:"to,omitempty"`
	DocumentID   string     `json:"document_id,omitempty"`
	Code         string     `json:"code,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	BusinessType int        `json:"business_type"`
	StatusCode   string     `json:"status_code,omitempty"`
	RespondsTo   string     `json:"responds_to,omitempty"` // our id of the document a status or revoke/update/replace targets
	Recipients   []Route    `json:"recipients"`
	ReceivedAt   time.Time  `json:"received_at"`
	Via          string     `json:"via,omitempty"` // peer hub it came through
	Signer       string     `json:"signer"`
	SignerSHA256 string     `json:"signer_sha256"`
	Related      []Relation `json:"related,omitempty"` // later revokes, updates, replacements of this document
	// Revocation is what the revocation check established about the
	// signer's chain at intake (its evidence, by SHA-256, in Evidence).
	Revocation *envelope.Revocation `json:"revocation,omitempty"`
	// State is "" for a document routed at intake, "held" while the
	// revocation status of its chain is unknown (Pending lists where it will
	// go; Recipients is empty until it is released), "refused" when a
	// re-check refused it (RefusedCode, RefusedDetail).
	State         string    `json:"state,omitempty"`
	Pending       []Route   `json:"pending,omitempty"`
	RefusedCode   string    `json:"refused_code,omitempty"`
	RefusedDetail string    `json:"refused_detail,omitempty"`
	DecidedAt     time.Time `json:"decided_at,omitzero"` // when a held document was released or refused
}

// Relation is a later envelope that revokes (1), updates (2) or replaces (3)
// a document.
type Relation struct {
	DocID        string    `json:"doc_id"`
	BusinessType int       `json:"business_type"`
	From         string    `json:"from"`
	At           time.Time `json:"at"`
}

// Delivery is one recipient's copy of a document.
type Delivery struct {
	DocID      string    `json:"doc_id"`
	OrganID    string    `json:"organ_id"`
	Route      string    `json:"route"`
	State      string    `json:"state"`
	QueueSeq   uint64    `json:"queue_seq"`
	StatusCode string    `json:"status_code,omitempty"`
	StatusAt   time.Time `json:"status_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	PeerDocID  string    `json:"peer_doc_id,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// OutboxEntry is one envelope waiting to be relayed to a peer.
type OutboxEntry struct {
	Seq     uint64    `json:"seq"`
	DocID   string    `json:"doc_id"`
	Organs  []string  `json:"organs"`
	Created time.Time `json:"created"`
}

// Event is one line of the trace: append-only and hash-chained (Hash is the
// SHA-256 of Prev and the event's other fields).
type Event struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	DocID   string    `json:"doc_id"`
	OrganID string    `json:"organ_id,omitempty"`
	Type    string    `json:"type"`
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"`
	Hash    string    `json:"hash"`
}

// Delivery states.
const (
	StateQueued    = "queued"
	StateDelivered = "delivered"
	StateAckedDone = "acked_done"
	StateAckedFail = "acked_fail"
	StateRelaying  = "relaying"
	StateRelayed   = "relayed"
	StateDead      = "dead"
)

// Document states beyond the per-recipient ones.
const (
	StateHeld    = "held"
	StateRefused = "refused"
)

// Event types.
const (
	EventReceived  = "received"
	EventVerified  = "verified"
	EventQueued    = "queued"
	EventOutboxed  = "outboxed"
	EventFetched   = "fetched"
	EventAcked     = "acked"
	EventStatus    = "status"
	EventRelated   = "related"
	EventDuplicate = "duplicate"
)

// Events of held documents.
const (
	EventHeld     = "held"
	EventReleased = "released"
	EventRefused  = "refused"
)

// Relay and push event types.
const (
	EventRelayed     = "relayed"
	EventRelayFailed = "relay_failed"
	EventDead        = "dead"
	EventRedriven    = "redriven"
	EventPushed      = "pushed"
	EventPushFailed  = "push_failed"
	EventRequeued    = "requeued" // the reconciliation found the relay missing at the peer
	EventRestored    = "restored" // the reconciliation restored altered bytes from a peer's copy
)
