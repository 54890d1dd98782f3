// Package storetest opens real store files for tests.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

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
	db, err := store.Open(filepath.Join(tb.TempDir(), "axis.db"), opts)
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
