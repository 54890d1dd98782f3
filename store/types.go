package store

import (
	"time"

	"github.com/axis-h40/axis/store/record"
)

// The records the store keeps are package record's (record.Document,
// record.Delivery, record.Event, ...), which imports no storage engine: a
// client (axisctl) decodes the hub's JSON into them without linking bbolt,
// and a second engine keeps the same records.

// Zone is the time zone of days in indexes and statistics.
var Zone = record.Zone

// Day formats t as the Asia/Ho_Chi_Minh date YYYY-MM-DD.
func Day(t time.Time) string { return record.Day(t) }

// The values of State and Type fields.
//
// States and event types are untyped string constants, not named types:
// the hub copies State fields into string fields of its own wire types
// (api.Receipt, api.DocStatus, api.RecipientStatus), keys a
// map[string]string with them (the VDXP state descriptions), and the
// query's State is a string from a URL. A named type would break those
// call sites; untyped, the constants already compare with and assign to a
// string field of any kind.

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
	EventReported    = "reported" // a peer hub reported the recipient's state where it was delivered
	EventAdmin       = "admin"    // an administrator's action (AdminAction)
)

// StatusDone is the edXML processing status "06": the recipient finished
// processing the document (hoàn thành).
const StatusDone = "06"

// ReasonOverdueProcessing is the stuck reason of a recipient that has not
// reported StatusDone by the document's DueDate.
const ReasonOverdueProcessing = "overdue_processing"
