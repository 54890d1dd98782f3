package store

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"
)

// The registry: small named records the hub keeps for itself.

// SetRegistry stores (or, with a nil value, deletes) a small record of the
// hub's own, such as an agency registered over VDXP.
func (db *DB) SetRegistry(ctx context.Context, name string, value []byte) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bRegistry)
		if value == nil {
			return b.Delete([]byte(name))
		}
		return b.Put([]byte(name), value)
	})
}

// Registry returns the records whose names start with prefix, by name.
func (db *DB) Registry(ctx context.Context, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRegistry).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			out[string(k)] = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}
