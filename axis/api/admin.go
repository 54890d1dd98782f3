package api

import (
	"encoding/hex"
	"time"

	"github.com/axis-h40/axis/store/record"
)

// TraceEvent is one step of a document's life at one hub.
type TraceEvent struct {
	Hub     string    `json:"hub"`
	At      time.Time `json:"at"`
	Event   string    `json:"event"`
	OrganID string    `json:"organ_id"`
	Detail  string    `json:"detail"`
	Seq     uint64    `json:"seq,omitempty"` // the event's place in that hub's hash chain
}

// Trace is a document as one hub (or, followed, every hub) knows it.
type Trace struct {
	Hub        string            `json:"hub"`
	Document   *record.Document  `json:"document"`
	Recipients []record.Delivery `json:"recipients"`
	Events     []TraceEvent      `json:"events"`
	// Hubs lists the hubs whose events are included; Unreachable the peers
	// that could not be asked, with why.
	Hubs        []string          `json:"hubs"`
	Unreachable map[string]string `json:"unreachable,omitempty"`
}

// Overview is the dashboard: today's traffic, queues, relays, failures.
type Overview struct {
	Hub          string         `json:"hub"`
	Day          string         `json:"day"`
	Documents    int            `json:"documents"`
	Today        int            `json:"today"`
	QueueDepth   int            `json:"queue_depth"` // not-yet-acked local deliveries
	Stuck        int            `json:"stuck"`
	StuckCapped  bool           `json:"stuck_capped,omitempty"`
	Held         int            `json:"held"` // envelopes held until their signer's revocation status is known
	Peers        []PeerOverview `json:"peers"`
	IntakeErrors int            `json:"intake_errors"` // refusals since the hub started
}

// PeerOverview is one peer's relay state.
type PeerOverview struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Outbox int    `json:"outbox"`
	Dead   int    `json:"dead"`
	// RetryingSince is when the entry at the head of the outbox was
	// queued, while sending it is failing (LastError says why): the peer
	// is not taking envelopes now. Absent: the last send worked, or none
	// was tried.
	RetryingSince *time.Time `json:"retrying_since,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
}

// IsDocID reports whether s looks like a document id (32 hex digits).
func IsDocID(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16
}
