package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/axis-h40/axis/store/kv"
	bolt "go.etcd.io/bbolt"
)

// Backup: a consistent copy of the store while it serves, always as a
// bbolt file, whatever the engine, so that one restore path serves both:
// start a bbolt hub on the file, or copy it into PostgreSQL with
// `axisctl migrate-store` (Migrate).

// Backup writes a consistent copy of the whole store to w, as a bbolt
// file, while the store keeps serving. On bbolt it is the file itself
// (Tx.WriteTo, one read transaction); on PostgreSQL every bucket is
// copied from one snapshot into a bbolt file made in TMPDIR, then sent.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if db.bolt != nil {
		var n int64
		err := db.bolt.View(func(tx *bolt.Tx) error {
			var err error
			n, err = tx.WriteTo(w)
			return err
		})
		return n, err
	}
	dir, err := os.MkdirTemp("", "axis-backup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "axis.db")
	if err := copyInto(ctx, db.kv, path); err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// copyInto copies src into a new bbolt file at path (Migrate's target,
// without its checks: the source is a live store's snapshot).
func copyInto(ctx context.Context, src kv.DB, path string) error {
	dst, err := openRaw(ctx, Location{File: path}, false)
	if err != nil {
		return err
	}
	err = kv.Copy(dst, src, 20000, func(int) error { return ctx.Err() })
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: copying into %s: %w", path, err)
	}
	return nil
}

// Digest is the SHA-256 of everything the store holds, every bucket with
// its sequence and every key and value in order, from one snapshot: two
// digests are equal exactly when nothing changed in between (a refused
// intake leaves nothing behind), on either engine. The leases bucket is
// left out: the nodes renew their leases by themselves, every few
// seconds, whatever the requests do. It reads the whole store: for tests
// and small stores.
func (db *DB) Digest(ctx context.Context) (string, error) {
	h := sha256.New()
	put := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	err := db.kv.View(func(tx kv.Tx) error {
		return kv.Walk(tx, func(path [][]byte, b kv.Bucket) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if bytes.Equal(path[0], bLeases) {
				return nil
			}
			put(bytes.Join(path, []byte("/")))
			put(binary.BigEndian.AppendUint64(nil, b.Sequence()))
			return b.ForEach(func(k, v []byte) error { put(k); put(v); return nil })
		})
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
