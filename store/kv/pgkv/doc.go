// Package pgkv is the PostgreSQL engine of store/kv: every bucket's keys
// are rows of one table, axis_kv(b, k, v) with b the bucket's path, and
// the buckets with their sequences rows of axis_buckets(path, parent,
// name, seq). A path is its segments, each its length (uvarint) then its
// bytes; a top-level bucket's parent is the empty bytea. bytea compares
// as memcmp does, the order of bytes.Compare, so keys walk in bbolt's
// order. The tables are unqualified: the connection's search_path picks
// the schema (several hubs, or tests, side by side in one database).
//
// # One writer at a time
//
// bbolt has one writer at a time, and the store's logic is written for
// that (read a counter, write it back). So does this engine, across every
// process on the schema: an Update takes a session-level advisory lock
// (pg_advisory_lock, a key derived from the schema) on its connection,
// then BEGIN ISOLATION LEVEL SERIALIZABLE, runs fn, COMMITs and unlocks.
// The lock is taken before BEGIN because a SERIALIZABLE transaction's
// snapshot is taken at its first statement: taken inside, the lock would
// be waited for with a snapshot from before the previous writer's commit.
// (The lock is sent in the same pipelined batch as BEGIN, in a READ
// COMMITTED transaction of its own that a COMMIT ends before the BEGIN.)
// SERIALIZABLE is then a second guard, not the mechanism. Within one
// process, writers also queue on a mutex before taking a connection, so
// that waiting writers do not hold the pool's connections. A View is a
// REPEATABLE READ READ ONLY transaction whose snapshot is taken before fn
// runs: one consistent snapshot, like a bbolt read transaction, that
// never blocks and is never blocked by the writer.
//
// # Few round trips
//
// Inside an Update, Put and Delete are buffered in the transaction (which
// answers Get and cursors from them, so a transaction reads its own
// writes) and sent as one pipelined batch with the next round trip that
// has to go to the server anyway (a Get of another key, a cursor's page,
// KeyN, ForEachBucket, a bucket lookup), or with COMMIT. A typical Update
// costs one round trip per read that it cannot answer itself (the first
// one also carries the lock and BEGIN) and one for [writes, sequences,
// COMMIT, unlock]; an Update that only writes costs two, because the
// COMMIT's batch is never a transaction's first contact with the server
// (a connection that died in the pool then fails before COMMIT is sent,
// and the Update is retried instead of ending with ErrCommitUnknown).
//
// A bucket's sequence is read once per transaction, counted locally and
// written back at commit (safe: writers are serialized). Each commit also
// writes a fresh random commit token (the seq of axis_buckets' reserved
// row with the empty path, which no bucket has and no listing shows), and
// each Update reads it with its lock: when it is still the one this
// process wrote, no other process has committed since, and the sequences
// this process committed are still the table's, so they are not read
// again. The buckets known to exist are cached process-wide (buckets are
// never deleted; the cache learns of a creation only once it is
// committed, and a View trusts only what was learned before it began).
// Cursors read pages (16 rows, doubling to 1000 while the walk goes on in
// one direction) and merge them with the transaction's own writes.
//
// # Errors
//
// Get and cursor moves cannot return errors: the first engine error is
// kept, every later operation is a no-op, and View or Update returns it;
// an Update that saw one never commits. Update runs fn again (callers'
// fns must be idempotent, as with any retrying database) after failures
// known not to have committed: a serialization failure or deadlock, a
// connection lost before COMMIT was sent, no primary reachable during a
// failover, within Options.RetryBudget. A connection lost while COMMIT was
// in flight is different: the transaction may have committed, and Update
// returns an error wrapping ErrCommitUnknown without retrying. A caller
// that must know reads back what it wrote (a document's id, an outbox
// entry) and decides; an idempotent fn may simply be run again.
//
// # Failover
//
// The DSN may list several hosts with target_session_attrs=read-write
// ("postgres://h1,h2/axis?target_session_attrs=read-write"): each new
// connection tries them in order and keeps the one that accepts writes,
// so once a standby is promoted, new connections reach it. Connections to
// the lost primary fail on their next use and are dropped (pgxpool pings
// a connection idle for a second before handing it out; an error that
// closed a connection destroys it); an Update that met one is retried on
// a new connection within its budget. TCP keepalives notice a host that
// vanished without closing its connections. What a synchronous standby
// acknowledged survives the failover; with asynchronous replication the
// last commits may not.
//
// Notify and Listen carry LISTEN/NOTIFY on a channel derived from the
// schema; Listen keeps its own connection and reconnects (to the new
// primary after a failover), telling its caller with an empty key that
// notifications may have been missed.
//
// Differences from bbolt that the store must not rely on either way: a
// cursor that ran off one end and is moved back lands on the end key
// (bbolt's lands one further); Put with a nil value stores an empty value
// (bbolt's own transaction then reads nil); KeyN counts a transaction's
// own writes (bbolt's, the committed keys only); sequences are stored as
// bigint (the same 64 bits); keys and bucket paths are limited by
// PostgreSQL's btree to about 2.7 kB together. A View holds a connection
// and a snapshot until it returns: long ones keep VACUUM from cleaning up.
package pgkv
