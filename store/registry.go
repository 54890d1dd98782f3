package store

import (
	"bytes"
	"context"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// The registry: small named records the hub keeps for itself.

// SetRegistry stores (or, with a nil value, deletes) a small record of the
// hub's own, such as an agency registered over VDXP.
func (db *DB) SetRegistry(ctx context.Context, name string, value []byte) error {
	return db.batch(ctx, func(tx kv.Tx) error { return setRegistry(tx, name, value) })
}

// AdminSetRegistry is SetRegistry done by someone (by: a VDXP admin
// system registering or deleting an agency), recorded as an admin event
// on no document ("by: action", as AdminAction) in the same transaction:
// the directory's changes are in the hash chain with who made them.
func (db *DB) AdminSetRegistry(ctx context.Context, by, action, name string, value []byte, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		if err := setRegistry(tx, name, value); err != nil {
			return err
		}
		return appendEvent(tx, record.Event{At: at, Type: EventAdmin, Detail: by + ": " + action})
	})
}

func setRegistry(tx kv.Tx, name string, value []byte) error {
	b := tx.Bucket(bRegistry)
	if value == nil {
		return b.Delete([]byte(name))
	}
	return b.Put([]byte(name), value)
}

// Registry returns the records whose names start with prefix, by name.
func (db *DB) Registry(ctx context.Context, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.kv.View(func(tx kv.Tx) error {
		c := tx.Bucket(bRegistry).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			out[string(k)] = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}
