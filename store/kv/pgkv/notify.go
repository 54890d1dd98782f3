package pgkv

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify sends key to every Listen on this schema, on any process
// (NOTIFY: delivered once the statement commits, to the listeners
// connected to the same server). A failure to reach the primary is
// retried within the retry budget.
func (db *DB) Notify(ctx context.Context, key string) error {
	err := db.retry(func() (error, bool) {
		_, err := db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", db.channel, key)
		if err != nil && ctx.Err() == nil {
			return err, retryable(err, true)
		}
		return err, false
	})
	if err != nil {
		return fmt.Errorf("pgkv: notify: %w", err)
	}
	return nil
}

// Listen calls fn with each key that Notify sends on this schema until ctx
// is done or the DB is closed; it blocks, and fn runs on its goroutine. It
// keeps a connection of its own and connects again after a failure (the
// primary lost, another promoted). Notifications sent while it was not
// connected are lost: each time it starts listening, the first time
// included, it calls fn with "" ("anything may have changed"), so a
// caller that keeps state rereads it then.
func (db *DB) Listen(ctx context.Context, fn func(key string)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(db.ctx, cancel)
	defer stop()
	wait := 50 * time.Millisecond
	for ctx.Err() == nil {
		if db.listen(ctx, fn) {
			wait = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// listen is one connection's life: it tells whether LISTEN succeeded.
func (db *DB) listen(ctx context.Context, fn func(string)) bool {
	conn, err := pgx.ConnectConfig(ctx, db.connCfg.Copy())
	if err != nil {
		return false
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return false
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		fn(n.Payload)
	}
}

// Size is the bytes the engine's tables take on disk, indexes and TOAST
// included.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, "SELECT pg_total_relation_size('axis_kv'::regclass) + pg_total_relation_size('axis_buckets'::regclass)").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgkv: size: %w", err)
	}
	return n, nil
}

// Ping checks that a connection to the database can be had and answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgkv: ping: %w", err)
	}
	return nil
}
