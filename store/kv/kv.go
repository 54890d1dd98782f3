// Package kv is the ordered, transactional key-value interface the store's
// logic runs on, so that every key layout and every store algorithm is
// written once and runs on either engine:
//
//   - bbolt (Bolt, this package): the embedded default, one file, whose
//     own types are wrapped one to one;
//   - PostgreSQL (package pgkv): one table of (bucket, key) → value and
//     one of buckets with their sequences, for hubs that must survive the
//     loss of a machine (several axisd nodes on one primary with a
//     synchronous standby).
//
// The model is bbolt's: named buckets, nested one level or more, each an
// ordered map of byte keys (bytes.Compare order) to byte values, with a
// sequence; a read transaction sees one consistent snapshot; one writable
// transaction at a time commits or leaves nothing behind.
//
// Two rules hold on both engines and are what the store may rely on:
//
//   - ForEach and cursors walk a bucket's keys only. A bucket holds either
//     keys or nested buckets, never both (bbolt would list nested buckets
//     with a nil value; nothing in the store mixes them).
//   - Slices returned by Get and cursors are valid until the transaction
//     ends and must not be changed.
//
// An engine error inside a transaction (a PostgreSQL connection lost under
// a Get) cannot be returned by Get: the transaction remembers it, every
// later operation is a no-op (a bucket looked up is then an inert one,
// not nil, so that code that knows a bucket exists goes on), and View or
// Update returns it. A function that decided something on a failed read
// therefore never commits.
package kv

import "errors"

// DB is an engine.
type DB interface {
	// View runs fn in a read-only transaction over one snapshot.
	View(fn func(Tx) error) error
	// Update runs fn in a writable transaction and commits it if fn
	// returns nil; it returns nil only once the commit is durable.
	Update(fn func(Tx) error) error
	// Engine names the engine ("bbolt", "postgres").
	Engine() string
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket is the top-level bucket name, nil when there is none.
	Bucket(name []byte) Bucket
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// ForEachBucket calls fn with each top-level bucket's name, in order.
	ForEachBucket(fn func(name []byte) error) error
	Writable() bool
}

// Bucket is an ordered map of keys to values, or of names to nested
// buckets.
type Bucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() Cursor
	// ForEach calls fn with every key and value, in key order.
	ForEach(fn func(k, v []byte) error) error
	// Bucket is the nested bucket name, nil when there is none.
	Bucket(name []byte) Bucket
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// ForEachBucket calls fn with each nested bucket's name, in order.
	ForEachBucket(fn func(name []byte) error) error
	// NextSequence increments the bucket's sequence and returns it.
	NextSequence() (uint64, error)
	Sequence() uint64
	SetSequence(v uint64) error
	// KeyN counts the bucket's keys.
	KeyN() int
}

// Cursor walks a bucket's keys in order. Each move returns the key and
// value it lands on, nil and nil past either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Seek lands on key, or the first key after it.
	Seek(key []byte) (k, v []byte)
}

// ErrTxReadOnly is a write in a View.
var ErrTxReadOnly = errors.New("kv: write in a read-only transaction")

// ErrBucketNotFound is a sequence or key operation on a bucket that is gone.
var ErrBucketNotFound = errors.New("kv: bucket not found")

// Copy copies every bucket of src, nested ones too, with their keys,
// values and sequences, into dst (a backup, a migration from one engine
// to the other). dst's buckets of the same names are written over key by
// key, in transactions of at most batch keys (src is read from one
// snapshot); progress, when set, is told the keys copied so far after
// each transaction, and an error from it stops the copy.
func Copy(dst, src DB, batch int, progress func(keys int) error) error {
	if batch <= 0 {
		batch = 10000
	}
	type item struct {
		path [][]byte
		k, v []byte
		seq  uint64
		mark bool // a bucket with its sequence, no key
	}
	var pending []item
	total := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := dst.Update(func(tx Tx) error {
			for _, it := range pending {
				b, err := tx.CreateBucketIfNotExists(it.path[0])
				if err != nil {
					return err
				}
				for _, n := range it.path[1:] {
					if b, err = b.CreateBucketIfNotExists(n); err != nil {
						return err
					}
				}
				if it.mark {
					if err := b.SetSequence(it.seq); err != nil {
						return err
					}
					continue
				}
				if err := b.Put(it.k, it.v); err != nil {
					return err
				}
			}
			return nil
		})
		total += len(pending)
		pending = pending[:0]
		if err == nil && progress != nil {
			err = progress(total)
		}
		return err
	}
	err := src.View(func(tx Tx) error {
		return Walk(tx, func(path [][]byte, b Bucket) error {
			pending = append(pending, item{path: path, seq: b.Sequence(), mark: true})
			return b.ForEach(func(k, v []byte) error {
				pending = append(pending, item{path: path, k: clone(k), v: clone(v)})
				if len(pending) >= batch {
					return flush()
				}
				return nil
			})
		})
	})
	if err != nil {
		return err
	}
	return flush()
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Walk calls fn with every bucket of tx, nested ones too, each with its
// path (the names from the top, copies that fn may keep): a bucket before
// the buckets it holds, and buckets of one parent in name order.
func Walk(tx Tx, fn func(path [][]byte, b Bucket) error) error {
	var walk func(path [][]byte, b Bucket) error
	walk = func(path [][]byte, b Bucket) error {
		if err := fn(path, b); err != nil {
			return err
		}
		return b.ForEachBucket(func(name []byte) error {
			return walk(append(append([][]byte{}, path...), clone(name)), b.Bucket(name))
		})
	}
	return tx.ForEachBucket(func(name []byte) error { return walk([][]byte{clone(name)}, tx.Bucket(name)) })
}
