// Package storetest opens real stores for tests: a bbolt file in a temp
// folder, or, when AXIS_TEST_STORE=postgres (the behaviour suite's second
// run, make test), a fresh schema of the PostgreSQL database in
// AXIS_TEST_PG_DSN (internal/pgtest: the package's TestMain starts one).
package storetest

import (
	"os"

	"context"
	"path/filepath"
	"testing"

	"github.com/axis-h40/axis/internal/pgtest"

	"github.com/axis-h40/axis/store"
)

// Open opens a store in a fresh temp folder and, at cleanup, runs the full
// consistency check (bbolt pages, axis invariants, event chain) and closes it.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenWith(tb, nil)
}

// OpenWith is Open with these options (nil: the defaults).
func OpenWith(tb testing.TB, opts *store.Options) *store.DB {
	tb.Helper()
	var db *store.DB
	var err error
	if Postgres() {
		db, err = store.OpenPostgres(context.Background(), pgtest.Schema(tb), opts)
	} else {
		db, err = store.Open(filepath.Join(tb.TempDir(), "axis.db"), opts)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Check(context.Background()); err != nil {
			tb.Errorf("store check at cleanup: %v", err)
		}
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// Postgres says whether this test run is on PostgreSQL
// (AXIS_TEST_STORE=postgres) rather than bbolt.
func Postgres() bool { return os.Getenv("AXIS_TEST_STORE") == "postgres" }
