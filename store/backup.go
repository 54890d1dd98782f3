package store

import (
	"context"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup: a consistent copy of the file while the store serves.

// Backup writes a consistent copy of the whole file to w while the store
// keeps serving (bbolt Tx.WriteTo). Restore = start on the copy.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
