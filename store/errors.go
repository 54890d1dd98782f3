package store

import "errors"

// The store's errors, grouped by the operations that return them. An error
// a caller has a decision to make on wraps one of these (check with
// errors.Is); the others are bbolt's or the file system's, wrapped with
// what was being done (Open: "store: open <path>: ..."), or the context's
// error.

// Open errors.
var (
	// ErrLocked: another process (another axisd) holds the file's lock,
	// still after Options.Timeout.
	ErrLocked = errors.New("store: locked by another process")
)

// Lookup errors: Document, DocumentFor, Blob, Snapshot, Delivery,
// Evidence, OutboxEntryOf, and the changes that name a document or a
// delivery (MarkFetched, Ack, Requeue, RestoreBlob).
var (
	// ErrNotFound: no such document, or no delivery of it to that organ.
	ErrNotFound = errors.New("store: not found")
	// ErrArchived: the document's bytes left the hot store for its day's
	// archive (Document.Archive; Retire): read them there.
	ErrArchived = errors.New("store: the envelope's bytes are in its archive")
)

// Lifecycle errors: every write (intake, fetch, ack, relay, push, hold
// decisions, registry, reconciliation repairs) once Close has begun.
var (
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store: closed")
)

// State-change errors: Ack with the other outcome than a first ack,
// Release or Refuse of a document no longer held, RestoreBlob with bytes
// that are not the recorded envelope.
var (
	// ErrConflict: the change does not apply to the current state (for
	// example acking a delivery twice with different outcomes).
	ErrConflict = errors.New("store: state conflict")
)

// Integrity errors: Check and VerifyChainFile, and any read or change that
// finds a record missing where an index or a queue promises one (a
// document's chunks out of order or short, a recipient without its
// delivery, an event the trace index names but the log lacks).
var (
	// ErrCorrupt: a consistency check failed; the detail says where.
	ErrCorrupt = errors.New("store: consistency check failed")
)
