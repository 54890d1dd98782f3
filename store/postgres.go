package store

import (
	"context"
	"fmt"

	"github.com/axis-h40/axis/store/kv/pgkv"
)

// OpenPostgres opens the store on the PostgreSQL database of dsn (a libpq
// DSN; several hosts with target_session_attrs=read-write find the
// primary after a failover). Several axisd nodes may open one database:
// their writes are serialised by the engine (pgkv), the commit loop of
// each node batching its own.
func OpenPostgres(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	o := options(opts)
	k, err := pgkv.Open(ctx, dsn, &pgkv.Options{})
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	db, err := openOn(k, o)
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	return db, nil
}

// announcer is an engine that can tell the other nodes on it something
// (PostgreSQL's NOTIFY).
type announcer interface {
	Notify(ctx context.Context, key string) error
	Listen(ctx context.Context, fn func(key string))
}

// Announce tells the other nodes on this store that key has work (a
// peer's outbox, an agency's pushes), so that whichever of them runs its
// loop wakes it; on bbolt there are no other nodes and it does nothing.
func (db *DB) Announce(ctx context.Context, key string) error {
	if a, ok := db.kv.(announcer); ok {
		return a.Notify(ctx, key)
	}
	return nil
}

// Listen calls fn with every key another node (or this one) announces,
// until ctx is done; on bbolt it returns at once.
func (db *DB) Listen(ctx context.Context, fn func(key string)) {
	if a, ok := db.kv.(announcer); ok {
		a.Listen(ctx, fn)
	}
}

// Unavailable says whether err is the store's engine being out of reach
// (PostgreSQL's primary down, a failover under way, a commit whose outcome
// is unknown): the request may be tried again. Always false on bbolt.
func Unavailable(err error) bool { return pgkv.Unavailable(err) }
