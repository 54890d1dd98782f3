// Package store keeps axis's records in one bbolt file: the envelope bytes
// (once, however many recipients), one FIFO queue per recipient agency, one
// outbox per peer route, per-(document, recipient) delivery state, indexes
// (content hash, sender/day, recipient/day, edXML DocumentId), and an
// append-only, hash-chained event log.
//
// # Basics
//
//	db, err := store.Open("var/axis.db", nil)
//	doc, created, err := db.PutEnvelope(ctx, verified, routes, time.Now())
//
// Only an *envelope.Verified can be stored: the store reads the header from
// it, never from bytes it would have to parse again.
//
// Intake returns only after the transaction holding the envelope, every
// recipient's queue entry, the indexes and the trace events has been committed
// and fsynced. Concurrent intakes share commits through bbolt's Batch (group
// commit); every function run inside a batch is idempotent, because bbolt may
// run it twice.
//
// # Caveats
//
// Document ids are derived from the envelope bytes (the first 16 bytes of
// their SHA-256, in hex), so the same envelope has the same id on every hub
// it crosses, and posting the same bytes twice stores nothing new.
//
// A "day" in indexes and statistics is a day in Asia/Ho_Chi_Minh; the zone is
// embedded (time/tzdata).
package store
