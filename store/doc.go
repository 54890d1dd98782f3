// Package store keeps axis's records, in one bbolt file (Open) or in a
// PostgreSQL database that several axisd nodes share (OpenPostgres; the
// logic runs over package kv, which both engines implement): the envelope bytes
// (once, however many recipients), one FIFO queue per recipient agency, one
// outbox per peer route, per-(document, recipient) delivery state, indexes
// (content hash, sender/day, recipient/day, edXML DocumentId, notation,
// Subject words, day), and an append-only, hash-chained event log.
//
// # Basics
//
//	db, err := store.Open("var/axis.db", nil) // nil Options: defaults
//	defer db.Close()
//	doc, created, err := db.PutEnvelope(ctx, verified, routes, time.Now(), "")
//
// Only an *envelope.Verified can be stored: the store reads the header from
// it, never from bytes it would have to parse again.
//
// The store is one file, opened by one process at a time (Open waits
// Options.Timeout for bbolt's file lock). Reads are bbolt read
// transactions: they run next to writes, and each method answers from one
// consistent view (Snapshot gives a document's record, deliveries and
// trace from one).
//
// Every write goes through one commit loop (db.go): a write method returns
// only after the transaction holding its change — for an intake the
// envelope, every recipient's queue or outbox entry, the indexes and the
// trace events — has been committed and fsynced. Concurrent writes share
// commits (group commit): while one commit is on its way to disk the writes
// that arrive form the next, so commits grow with load, not with a fixed
// delay (Options.MaxBatchDelay adds one; Options.OnBatch reports sizes).
//
// Documents and events are never deleted; queue and outbox entries go when
// acked or relayed. Backup writes a consistent copy while the store serves;
// Check verifies bbolt's pages, axis's invariants and the event chain.
//
// Tests open a real store with storetest.Open (a file, or with
// AXIS_TEST_STORE=postgres a fresh PostgreSQL schema), which runs Check at cleanup;
// storetest.LoadSynthetic fills a store without signed envelopes for
// benchmarks and internal/cmd/genstore.
//
// # Schema
//
// schema.go lists every bucket with its keys and values, the key helpers,
// the schema version (3) and its migrations (a schema-2 store is migrated
// at open). In short: docs (id → record), blobs (the bytes, in chunks),
// deliveries, queues, outboxes, dead, held, the indexes, events with
// doc_events (the chain and each document's place in it), evidence,
// activity, registry and meta.
//
// # Caveats
//
// A function run in the commit loop may run twice: when one function of a
// shared commit fails, the commit is retried one function at a time, so
// every write resets what it reports and is idempotent (a relay marked
// twice, an entry already moved, changes nothing). A new write method must
// be written the same way.
//
// Commits do not write bbolt's freelist (NoFreelistSync, as etcd does);
// Close writes it once. After a crash there is none, and the next Open
// rebuilds it by reading every page of the file: on a million documents
// (8.6 GB) 13-15 s with the file in the page cache, minutes without.
// Durability of committed data is not affected.
//
// A bbolt key is at most 32 KiB. Keys are built from header fields that
// envelope bounds before anything is stored (DocumentId 256 bytes, a
// notation 64+128, organ codes 35 characters; Subject words are cut to 64
// bytes, 48 per Subject), so none comes near. Values are not bounded that
// way: envelope bytes are stored in 1984-byte chunks so that appending one
// does not rewrite the one before it.
//
// Check runs in a writable transaction that is rolled back (bbolt's page
// check is not safe in a read transaction next to writers): writes wait
// while it runs (here about a second per 20 000 documents).
//
// Document ids are derived from the envelope bytes (the first 16 bytes of
// their SHA-256, in hex), so the same envelope has the same id on every hub
// it crosses, and posting the same bytes twice stores nothing new (but a
// "duplicate" event, in a commit of its own).
//
// A "day" in indexes and statistics is a day in Asia/Ho_Chi_Minh; the zone is
// embedded (time/tzdata).
package store
