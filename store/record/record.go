// Package record holds the records axis's store keeps and answers with —
// documents, deliveries, outbox entries, trace events — and the reports
// built from them (ChainReport, SearchResult, DayStats, StuckItem), with
// their JSON form.
//
// It imports no storage engine and no transport: package store keeps these
// records in bbolt, the hub
// answers them as JSON, and a client such as axisctl decodes that JSON into
// them without linking either.
//
// The values of the State and Type fields are package store's constants
// (store.StateQueued, store.EventReceived, ...): the states a delivery or a
// held document moves through are the store's business.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	_ "time/tzdata" // "a day" is a day in Asia/Ho_Chi_Minh, on any machine (Zone)

	"github.com/axis-h40/axis/envelope"
)

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
	// Names are the organ names the envelope gives (From, To OrganName),
	// by organ code: what a hub shows for an organ outside its directory.
	Names map[string]string `json:"names,omitempty"`
	// DueDate is the edXML DueDate (hạn xử lý), YYYY-MM-DD: the day by
	// which each recipient is to report status 06 (done).
	DueDate string `json:"due_date,omitempty"`
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
	// Archive is set when the document's day was retired to its archive
	// (archive.hot_days): the archive file, relative to archive.dir. Its
	// events up to the day's end are read from there, and so are its bytes
	// once it was settled (the store keeps them until then).
	Archive string `json:"archive,omitempty"`
}

// Sealed is a day's archive as the hub recorded it when it sealed it.
type Sealed struct {
	Day        string `json:"day"`
	File       string `json:"file"` // relative to archive.dir
	SHA256     string `json:"sha256"`
	Bytes      int64  `json:"bytes"`
	Documents  int    `json:"documents"`
	Forced     bool   `json:"forced,omitempty"`
	Expired    bool   `json:"expired,omitempty"`
	Unsettled  int    `json:"unsettled,omitempty"`
	ChainFirst uint64 `json:"chain_first,omitempty"`
	ChainLast  uint64 `json:"chain_last,omitempty"`
	// The segment's bounds as sealed, also for a day without events: it
	// follows event Start (hash StartHash) and ends with event End (hash
	// EndHash; Start when empty). The days around it take these, not a new
	// search, so that the segments join whatever the order of sealing.
	Start     uint64    `json:"start"`
	StartHash string    `json:"start_hash"`
	End       uint64    `json:"end"`
	EndHash   string    `json:"end_hash"`
	SealedAt  time.Time `json:"sealed_at"`
	By        string    `json:"by,omitempty"`
	// Retired is when the day's documents left the hot store for this
	// archive (zero while they are still there); Kept counts those that
	// were not settled then and kept their bytes (retired again later).
	Retired time.Time `json:"retired,omitzero"`
	Kept    int       `json:"kept,omitempty"`
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
	// For a copy relayed to a peer hub: the recipient's state where it was
	// delivered (delivered, acked_done, acked_fail, or dead where a later
	// hop gave up), which hub said so, and when, as delivery reports
	// brought them back.
	RemoteState string    `json:"remote_state,omitempty"`
	AtHub       string    `json:"at_hub,omitempty"`
	RemoteAt    time.Time `json:"remote_at,omitzero"`
}

// DeliveryReport is one recipient's new state, travelling back to the
// document's sender hop by hop: from the hub that delivered it (AtHub) to
// the peer the document came from, and on.
type DeliveryReport struct {
	DocID   string    `json:"doc_id"`
	OrganID string    `json:"organ_id"`
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	AtHub   string    `json:"at_hub"`
	At      time.Time `json:"at"`
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

// ChainHash is the event's link in the chain: the SHA-256 of Prev, Seq, At
// (RFC 3339, UTC), DocID, OrganID, Type and Detail, one per line. Hash must
// equal it, and the next event's Prev must equal Hash.
func (e *Event) ChainHash() string {
	// The bytes of fmt's "%s\n%d\n%s\n%s\n%s\n%s\n%s", without fmt.
	b := make([]byte, 0, 64+len(e.Prev)+len(e.DocID)+len(e.OrganID)+len(e.Type)+len(e.Detail))
	b = append(append(b, e.Prev...), '\n')
	b = append(strconv.AppendUint(b, e.Seq, 10), '\n')
	b = append(e.At.UTC().AppendFormat(b, time.RFC3339Nano), '\n')
	b = append(append(b, e.DocID...), '\n')
	b = append(append(b, e.OrganID...), '\n')
	b = append(append(b, e.Type...), '\n')
	b = append(b, e.Detail...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChainReport is the result of verifying the event log's hash chain.
type ChainReport struct {
	Events    uint64 `json:"events"`
	Head      string `json:"head"`
	BrokenAt  uint64 `json:"broken_at,omitempty"` // first event whose link does not hold
	BrokenWhy string `json:"broken_why,omitempty"`
	// Broken is the event at BrokenAt as stored (when readable): which
	// document and organ it claims to be about.
	Broken *Event `json:"broken_event,omitempty"`
	// Anchors counts the time-stamp tokens in the chain (events of type
	// "anchored"), each checked: the event it names still has the hash the
	// token covers, and the token's signature holds (against the TSA's
	// roots when AnchorRoots). LastAnchor is the latest.
	Anchors     int            `json:"anchors"`
	AnchorRoots bool           `json:"anchor_roots,omitempty"`
	LastAnchor  *AnchorSummary `json:"last_anchor,omitempty"`
	// Base is where the chain kept in the store starts when the events
	// before it left for the daily archives (archive.hot_days): the seq
	// and hash of the last archived event, which the first kept event's
	// Prev must equal. 0 when the store holds the chain from its start.
	BaseSeq  uint64 `json:"base_seq,omitempty"`
	BaseHash string `json:"base_hash,omitempty"`
}

// Anchor is a time-stamp token over one event's hash, kept as an event of
// the chain (type "anchored", its Detail this as JSON): whoever later
// rewrites any event up to Seq changes Seq's hash, and the token, signed by
// the time-stamping authority at Time, no longer matches it.
type Anchor struct {
	Seq  uint64    `json:"seq"`  // the event anchored (the chain head when asked)
	Hash string    `json:"hash"` // its hash, hex: the token's message imprint is these 32 bytes
	Time time.Time `json:"time"` // the token's genTime
	Why  string    `json:"why,omitempty"`
	TSR  []byte    `json:"tsr"` // the TimeStampResp, DER (openssl ts -verify -in)
}

// AnchorSummary is an anchor without its token, with where it is.
type AnchorSummary struct {
	EventSeq uint64    `json:"event_seq"` // the anchored event's own seq
	Seq      uint64    `json:"seq"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	Signer   string    `json:"signer,omitempty"`
}

// OK reports whether the chain held everywhere.
func (r *ChainReport) OK() bool { return r.BrokenAt == 0 }

// SearchResult is one page of matches, newest first.
type SearchResult struct {
	Docs []Document `json:"documents"`
	// Next is the cursor of the next page (Query.Before), 0 when this was
	// the last.
	Next uint64 `json:"next,omitempty"`
	// Scanned counts the index entries looked at; Truncated is set when the
	// scan stopped at maxScan before filling the page (narrow the query).
	Scanned   int  `json:"scanned"`
	Truncated bool `json:"truncated,omitempty"`
}

// Activity is when an agency last fetched and last acknowledged.
type Activity struct {
	LastFetch time.Time `json:"last_fetch,omitzero"`
	LastAck   time.Time `json:"last_ack,omitzero"`
}

// DayStats is one agency's traffic on one day.
type DayStats struct {
	OrganID string `json:"organ_id"`
	// Name is the organ's name as the day's envelopes give it (From or To
	// OrganName), for the organs no directory here knows.
	Name      string `json:"name,omitempty"`
	Sent      int    `json:"sent"`
	Received  int    `json:"received"`
	Fetched   int    `json:"fetched"` // of those received: delivered or acked
	AckedDone int    `json:"acked_done"`
	AckedFail int    `json:"acked_fail"`
	Pending   int    `json:"pending"` // queued or delivered, not acked
	Relayed   int    `json:"relayed"` // of those received: handed to a peer
	Relaying  int    `json:"relaying"`
	Dead      int    `json:"dead"`
	// Of the copies of what it sent that went through a peer (a recipient
	// of another hub): handed over, still being tried, given up on. A local
	// agency's own copies are never relayed, so these are its relay counts.
	SentRelayed  int `json:"sent_relayed"`
	SentRelaying int `json:"sent_relaying"`
	SentDead     int `json:"sent_dead"`
}

// StuckItem is one delivery or relay that has waited longer than it should.
type StuckItem struct {
	DocID     string    `json:"doc_id"`
	OrganID   string    `json:"organ_id"`
	Peer      string    `json:"peer,omitempty"`
	Reason    string    `json:"reason"` // not_fetched, not_acked, relay_retrying, relay_dead, held, overdue_processing
	Since     time.Time `json:"since"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"` // held: why the certificate's status is unknown
	From      string    `json:"from"`
	Code      string    `json:"code,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	// A held envelope is one item (OrganID empty): Pending are the
	// recipients it goes to once released; Cert and CertSerial the first
	// certificate of the signer's chain whose revocation status is unknown.
	// overdue_processing: the document's DueDate (YYYY-MM-DD) passed and
	// this recipient's latest status code is not 06 (done).
	DueDate    string   `json:"due_date,omitempty"`
	StatusCode string   `json:"status_code,omitempty"`
	Pending    []string `json:"pending,omitempty"`
	Cert       string   `json:"cert,omitempty"`
	CertSerial string   `json:"cert_serial,omitempty"`
}

// Zone is the time zone of days in indexes and statistics.
var Zone = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// Day formats t as the Asia/Ho_Chi_Minh date YYYY-MM-DD.
func Day(t time.Time) string { return t.In(Zone).Format("2006-01-02") }

// Lease says which node runs a loop that must run once among the nodes on
// one store (a peer's relay, an agency's pushes, the held re-checker, the
// scheduled reconciliation), and until when: past Expires without a
// renewal, any node may take it.
type Lease struct {
	Name    string    `json:"name"`
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"` // when Owner took it
	Expires time.Time `json:"expires"`
}
