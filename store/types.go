package store

import (
	"time"

	"github.com/axis-h40/axis/store/record"
)

// The records the store keeps live in package record, which imports no
// storage engine: a client (axisctl) decodes the hub's JSON into them
// without linking bbolt, and a second engine keeps the same records. These
// aliases keep store's API whole, as os.FileMode does for fs.FileMode.
// record's doc says what each record and state means.

// Records.
type (
	Route        = record.Route
	Document     = record.Document
	Relation     = record.Relation
	Delivery     = record.Delivery
	OutboxEntry  = record.OutboxEntry
	Event        = record.Event
	ChainReport  = record.ChainReport
	SearchResult = record.SearchResult
	Activity     = record.Activity
	DayStats     = record.DayStats
	StuckItem    = record.StuckItem
)

// Zone is the time zone of days in indexes and statistics.
var Zone = record.Zone

// Day formats t as the Asia/Ho_Chi_Minh date YYYY-MM-DD.
func Day(t time.Time) string { return record.Day(t) }

// States and event types (record's doc lists them with their meaning).
const (
	StateQueued      = record.StateQueued
	StateDelivered   = record.StateDelivered
	StateAckedDone   = record.StateAckedDone
	StateAckedFail   = record.StateAckedFail
	StateRelaying    = record.StateRelaying
	StateRelayed     = record.StateRelayed
	StateDead        = record.StateDead
	StateHeld        = record.StateHeld
	StateRefused     = record.StateRefused
	EventReceived    = record.EventReceived
	EventVerified    = record.EventVerified
	EventQueued      = record.EventQueued
	EventOutboxed    = record.EventOutboxed
	EventFetched     = record.EventFetched
	EventAcked       = record.EventAcked
	EventStatus      = record.EventStatus
	EventRelated     = record.EventRelated
	EventDuplicate   = record.EventDuplicate
	EventHeld        = record.EventHeld
	EventReleased    = record.EventReleased
	EventRefused     = record.EventRefused
	EventRelayed     = record.EventRelayed
	EventRelayFailed = record.EventRelayFailed
	EventDead        = record.EventDead
	EventRedriven    = record.EventRedriven
	EventPushed      = record.EventPushed
	EventPushFailed  = record.EventPushFailed
	EventRequeued    = record.EventRequeued
	EventRestored    = record.EventRestored
)
