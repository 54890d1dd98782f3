package pgkv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axis-h40/axis/store/kv"
)

// ErrCommitUnknown is an Update whose connection failed while its COMMIT
// was in flight: the transaction may have committed or not, and nothing
// on this side can tell which. Update does not retry it. A caller that
// must know reads back what it wrote (an idempotent fn may simply be run
// again).
var ErrCommitUnknown = errors.New("pgkv: connection lost during COMMIT: the transaction may or may not have committed")

// ErrKeyRequired is a Put or Delete with an empty key (bbolt: "key
// required").
var ErrKeyRequired = errors.New("pgkv: key required")

// ErrBucketNameRequired is a bucket created with an empty name.
var ErrBucketNameRequired = errors.New("pgkv: bucket name required")

var errTxClosed = errors.New("pgkv: transaction used after it ended")

// Options tune an engine; the zero value (or nil) is the defaults.
type Options struct {
	// RetryBudget is how long Update keeps retrying a transaction that
	// failed in a way known not to have committed (a serialization
	// failure, a deadlock, a connection lost before COMMIT was sent, no
	// primary reachable during a failover), counted from the first
	// failure. Default 3s.
	RetryBudget time.Duration
	// ConnectTimeout bounds one connection attempt to one host, when the
	// DSN has no connect_timeout. Default 5s.
	ConnectTimeout time.Duration
	// MaxConns is the pool's size. Default pgxpool's (4 or the number of
	// CPUs, whichever is more).
	MaxConns int32
}

// DB is the PostgreSQL engine: a kv.DB over the tables axis_kv and
// axis_buckets of the connection's current schema.
type DB struct {
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for Listen's own connections
	opts    Options
	schema  string
	channel string // NOTIFY channel

	ctx    context.Context // ends at Close (Listen)
	cancel context.CancelFunc

	// wmu serializes this process's writers before they take a
	// connection: one writer at a time holds or waits for the database's
	// writer lock, the others wait here without holding a connection.
	wmu sync.Mutex

	// The bucket paths known to exist (committed; buckets are never
	// deleted), each with the generation at which it was learned: a View
	// trusts the entries learned before it began.
	bmu     sync.Mutex
	buckets map[string]uint64
	gen     uint64

	// The sequences as this process last committed them, valid while
	// the commit token it wrote is still the table's (no other process
	// committed since). Used by writers only, under wmu.
	token int64
	seqs  map[string]int64
}

var _ kv.DB = (*DB)(nil)

const schemaDDL = `
CREATE TABLE IF NOT EXISTS axis_kv (
	b bytea NOT NULL,
	k bytea NOT NULL,
	v bytea NOT NULL,
	PRIMARY KEY (b, k)
);
CREATE TABLE IF NOT EXISTS axis_buckets (
	path bytea PRIMARY KEY,
	parent bytea NOT NULL,
	name bytea NOT NULL,
	seq bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS axis_buckets_parent_name ON axis_buckets (parent, name);
INSERT INTO axis_buckets (path, parent, name) VALUES ('', '\x00', '') ON CONFLICT (path) DO NOTHING;
`

// testShouldPing replaces pgxpool's choice of the connections to ping
// before handing them out (those idle for a second), for tests.
var testShouldPing func(context.Context, pgxpool.ShouldPingParams) bool

// preload is how many bucket paths Open reads into the cache.
const preload = 10000

// Open connects to dsn (a libpq/pgx connection string, possibly with
// several hosts and target_session_attrs=read-write, so that the primary
// is found after a failover) and creates the tables in the connection's
// current schema if they are missing.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RetryBudget <= 0 {
		o.RetryBudget = 3 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgkv: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	}
	// TCP keepalives that notice a vanished host within ~20s, even on a
	// connection blocked waiting for the writer lock or a COMMIT.
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cfg.ConnConfig.DialFunc = d.DialContext
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if testShouldPing != nil {
		cfg.ShouldPing = testShouldPing
	}

	schema, err := ensureSchema(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgkv: %w", err)
	}
	sum := sha256.Sum256([]byte("axis:" + schema))
	dctx, cancel := context.WithCancel(context.Background())
	db := &DB{
		pool: pool, connCfg: cfg.ConnConfig.Copy(), opts: o, schema: schema,
		channel: "axis_" + hex.EncodeToString(sum[:12]),
		ctx:     dctx, cancel: cancel, buckets: map[string]uint64{}, gen: 1, seqs: map[string]int64{},
	}
	rows, err := pool.Query(ctx, "SELECT path FROM axis_buckets WHERE path <> '' LIMIT "+fmt.Sprint(preload))
	if err == nil {
		var p []byte
		_, err = pgx.ForEachRow(rows, []any{&p}, func() error {
			db.buckets[string(p)] = 0
			return nil
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("pgkv: %w", err)
	}
	return db, nil
}

// ensureSchema creates the tables if missing, under a transaction-level
// advisory lock so that processes opening at once do not race on the
// catalog, and returns the current schema's name.
func ensureSchema(ctx context.Context, cfg *pgx.ConnConfig) (string, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("pgkv: %w", err)
	}
	defer conn.Close(context.Background())
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("pgkv: %w", err)
	}
	if schema == nil {
		return "", errors.New("pgkv: no current schema (does the search_path name an existing schema?)")
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('axis-schema:' || current_schema())::bigint)"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schemaDDL)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("pgkv: creating the tables: %w", err)
	}
	return *schema, nil
}

// Engine is "postgres".
func (db *DB) Engine() string { return "postgres" }

// Close closes the pool and ends Listen.
func (db *DB) Close() error {
	db.cancel()
	db.pool.Close()
	return nil
}

// Schema is the schema the tables are in.
func (db *DB) Schema() string { return db.schema }

// known tells whether path is a bucket known to exist for a transaction:
// any known one for a writer (whose snapshot is taken after every commit
// it could learn of), one learned before the View began for a View.
func (db *DB) known(path string, writable bool, viewGen uint64) bool {
	db.bmu.Lock()
	defer db.bmu.Unlock()
	g, ok := db.buckets[path]
	return ok && (writable || g <= viewGen)
}

// learn records committed bucket paths.
func (db *DB) learn(paths ...string) {
	db.bmu.Lock()
	defer db.bmu.Unlock()
	db.gen++
	for _, p := range paths {
		if _, ok := db.buckets[p]; !ok {
			db.buckets[p] = db.gen
		}
	}
}

func (db *DB) generation() uint64 {
	db.bmu.Lock()
	defer db.bmu.Unlock()
	return db.gen
}

// Statements. Table names are unqualified: the search_path chooses the
// schema.
const (
	sqlLock      = "SELECT pg_advisory_lock(hashtext('axis:' || current_schema())::bigint)"
	sqlUnlock    = "SELECT pg_advisory_unlock(hashtext('axis:' || current_schema())::bigint)"
	sqlBeginW    = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	sqlBeginLock = "BEGIN ISOLATION LEVEL READ COMMITTED"
	sqlBeginR    = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	sqlSnapshot  = "SELECT 1" // takes the transaction's snapshot
	sqlCommit    = "COMMIT"
	sqlRollback  = "ROLLBACK"
	sqlGet       = "SELECT v FROM axis_kv WHERE b = $1 AND k = $2"
	sqlFirst     = "SELECT k, v FROM axis_kv WHERE b = $1 ORDER BY k LIMIT $2"
	sqlLast      = "SELECT k, v FROM axis_kv WHERE b = $1 ORDER BY k DESC LIMIT $2"
	sqlAfter     = "SELECT k, v FROM axis_kv WHERE b = $1 AND k > $2 ORDER BY k LIMIT $3"
	sqlFrom      = "SELECT k, v FROM axis_kv WHERE b = $1 AND k >= $2 ORDER BY k LIMIT $3"
	sqlBefore    = "SELECT k, v FROM axis_kv WHERE b = $1 AND k < $2 ORDER BY k DESC LIMIT $3"
	sqlCount     = "SELECT count(*) FROM axis_kv WHERE b = $1"
	sqlBucket    = "SELECT seq FROM axis_buckets WHERE path = $1"
	sqlChildren  = "SELECT name FROM axis_buckets WHERE parent = $1 ORDER BY name"
	sqlPut       = "INSERT INTO axis_kv (b, k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[]) ON CONFLICT (b, k) DO UPDATE SET v = EXCLUDED.v"
	sqlDelete    = "DELETE FROM axis_kv WHERE (b, k) IN (SELECT * FROM unnest($1::bytea[], $2::bytea[]))"
	sqlMkBucket  = "INSERT INTO axis_buckets (path, parent, name) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[]) ON CONFLICT (path) DO NOTHING"
	sqlSetSeq    = "UPDATE axis_buckets SET seq = u.seq FROM unnest($1::bytea[], $2::bigint[]) AS u(path, seq) WHERE axis_buckets.path = u.path"
)

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot,
// taken before fn runs. A failure to begin it (no server reachable during
// a failover) is retried within the retry budget; fn itself runs once.
func (db *DB) View(fn func(kv.Tx) error) error {
	t := &tx{db: db, ctx: context.Background(), viewGen: db.generation()}
	defer t.finish()
	err := db.retry(func() (error, bool) {
		conn, err := db.pool.Acquire(t.ctx)
		if err != nil {
			return err, acquireRetryable(err)
		}
		b := &pgx.Batch{}
		b.Queue(sqlBeginR)
		b.Queue(sqlSnapshot)
		if err := conn.SendBatch(t.ctx, b).Close(); err != nil {
			destroy(conn)
			return err, retryable(err, true)
		}
		t.conn, t.begun = conn, true
		return nil, false
	})
	if err != nil {
		return fmt.Errorf("pgkv: begin: %w", err)
	}
	ferr := fn(t)
	if t.err != nil {
		return t.err
	}
	// Read-only: the reads are done whatever happens to the ROLLBACK,
	// whose failure only costs the connection.
	if _, err := t.conn.Exec(t.ctx, sqlRollback); err != nil {
		destroy(t.conn)
	} else {
		t.conn.Release()
	}
	t.conn = nil
	return ferr
}

// Update runs fn in a writable transaction and commits it if fn returns
// nil. Writers are serialized across every process on the schema (a
// session advisory lock taken before BEGIN ISOLATION LEVEL SERIALIZABLE).
// A failure known not to have committed is retried, fn running again,
// within the retry budget; a connection lost during COMMIT returns an
// error wrapping ErrCommitUnknown. Update returns nil only once COMMIT
// succeeded.
func (db *DB) Update(fn func(kv.Tx) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	return db.retry(func() (error, bool) { return db.update(fn) })
}

// retry runs attempt until it succeeds, fails for good, or the retry
// budget (from the first failure) is spent.
func (db *DB) retry(attempt func() (err error, again bool)) error {
	var first time.Time
	wait := 5 * time.Millisecond
	for n := 1; ; n++ {
		err, again := attempt()
		if err == nil || !again {
			return err
		}
		if first.IsZero() {
			first = time.Now()
		}
		if time.Since(first) >= db.opts.RetryBudget {
			return fmt.Errorf("%w (gave up after %d attempts in %v)", err, n, time.Since(first).Round(time.Millisecond))
		}
		select {
		case <-time.After(wait/2 + rand.N(wait)):
		case <-db.ctx.Done():
			return err
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

func (db *DB) update(fn func(kv.Tx) error) (error, bool) {
	t := &tx{db: db, ctx: context.Background(), writable: true}
	defer t.finish()
	ferr := fn(t)
	if t.err != nil {
		// Something fn read or wrote failed: whatever fn decided on it,
		// nothing is committed.
		err, again := t.err, t.retry
		t.rollback()
		return err, again
	}
	if ferr != nil {
		t.rollback()
		return ferr, false
	}
	return t.commit()
}

// retryable tells whether err, from a round trip before COMMIT was sent,
// is worth running the transaction again for. connDead is whether the
// connection was lost.
func retryable(err error, connDead bool) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", // serialization failure, deadlock
			"57P01", "57P02", "57P03", // admin or crash shutdown, cannot connect now
			"25006": // read-only transaction: a standby (after a failover)
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exception
	}
	return connDead
}

// acquireRetryable tells whether a failure to get a connection may pass:
// no server reachable, or none writable yet (a failover), but not a
// refusal such as a bad password or a missing database.
func acquireRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return retryable(err, false)
	}
	return !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "closed pool")
}

// destroy closes a pooled connection (ending its session, so its advisory
// lock and transaction with it) and gives it back to be discarded.
func destroy(c *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Conn().Close(ctx)
	c.Release()
}
