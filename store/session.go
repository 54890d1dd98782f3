package store

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/axis-h40/axis/store/kv"
)

// Console sessions, kept in the store so that any node serves a signed-in
// administrator. The console owns what a session holds (an opaque value);
// the store keeps it under the SHA-256 of the session id with its expiry,
// and drops expired ones when a new one is put.

// maxSessionSweep bounds the expired sessions one PutSession removes.
const maxSessionSweep = 100

// PutSession stores a session's value under key until expires.
func (db *DB) PutSession(ctx context.Context, key string, value []byte, expires, now time.Time) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(expires.UnixNano()))
	v = append(v, value...)
	return db.batch(ctx, func(tx kv.Tx) error {
		b := tx.Bucket(bSessions)
		var gone [][]byte
		c := b.Cursor()
		for k, old := c.First(); k != nil && len(gone) < maxSessionSweep; k, old = c.Next() {
			if len(old) < 8 || !now.Before(time.Unix(0, int64(binary.BigEndian.Uint64(old)))) {
				gone = append(gone, append([]byte(nil), k...))
			}
		}
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put([]byte(key), v)
	})
}

// Session is the value of the session under key, nil when there is none
// or it expired by now.
func (db *DB) Session(ctx context.Context, key string, now time.Time) ([]byte, error) {
	var out []byte
	err := db.kv.View(func(tx kv.Tx) error {
		v := tx.Bucket(bSessions).Get([]byte(key))
		if len(v) < 8 || !now.Before(time.Unix(0, int64(binary.BigEndian.Uint64(v)))) {
			return nil
		}
		out = append([]byte(nil), v[8:]...)
		return nil
	})
	return out, err
}

// DeleteSession removes the session under key (signing out).
func (db *DB) DeleteSession(ctx context.Context, key string) error {
	return db.batch(ctx, func(tx kv.Tx) error { return tx.Bucket(bSessions).Delete([]byte(key)) })
}
