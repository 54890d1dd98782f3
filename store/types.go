package store

import (
	"time"

	"github.com/axis-h40/axis/store/record"
)

// The records the store keeps live in package record, which imports no
// storage engine: a client (axisctl) decodes the hub's JSON into them
// without linking bbolt, and a second engine keeps the same records. These
// aliases keep store's API whole, as os.FileMode does for fs.FileMode.
// record's doc says what each record's fields mean.

// Route says where one recipient's copy goes: Peer "" is local delivery.
type Route = record.Route

// Document is the hub's record of one envelope, from its verified header.
type Document = record.Document

// Relation is a later envelope that revokes, updates or replaces a document.
type Relation = record.Relation

// Delivery is one recipient's copy of a document.
type Delivery = record.Delivery

// OutboxEntry is one envelope waiting to be relayed to a peer.
type OutboxEntry = record.OutboxEntry

// Event is one line of the trace: append-only and hash-chained.
type Event = record.Event

// ChainReport is the result of verifying the event log's hash chain.
type ChainReport = record.ChainReport

// SearchResult is one page of matches, newest first.
type SearchResult = record.SearchResult

// Activity is when an agency last fetched and last acknowledged.
type Activity = record.Activity

// DayStats is one agency's traffic on one day.
type DayStats = record.DayStats

// StuckItem is one delivery or relay that has waited longer than it should.
type StuckItem = record.StuckItem

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
)
