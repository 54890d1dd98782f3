package kv

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bolt is the bbolt engine: bbolt's own types, wrapped one to one.
type Bolt struct{ DB *bolt.DB }

// NewBolt wraps an open bbolt file.
func NewBolt(db *bolt.DB) *Bolt { return &Bolt{DB: db} }

func (b *Bolt) View(fn func(Tx) error) error {
	return b.DB.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b *Bolt) Update(fn func(Tx) error) error {
	return b.DB.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b *Bolt) Engine() string { return "bbolt" }
func (b *Bolt) Close() error   { return b.DB.Close() }

// BoltTx is the bbolt transaction under tx, nil when tx is another
// engine's (for what only bbolt has: WriteTo, the page check).
func BoltTx(tx Tx) *bolt.Tx {
	if t, ok := tx.(boltTx); ok {
		return t.Tx
	}
	return nil
}

type boltTx struct{ *bolt.Tx }

func (t boltTx) Bucket(name []byte) Bucket { return wrapBucket(t.Tx.Bucket(name)) }

func (t boltTx) CreateBucketIfNotExists(name []byte) (Bucket, error) {
	b, err := t.Tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, readOnly(err)
	}
	return boltBucket{b}, nil
}

func (t boltTx) ForEachBucket(fn func(name []byte) error) error {
	return t.Tx.ForEach(func(name []byte, _ *bolt.Bucket) error { return fn(name) })
}

func wrapBucket(b *bolt.Bucket) Bucket {
	if b == nil {
		return nil // an untyped nil: callers compare with nil
	}
	return boltBucket{b}
}

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Get(k []byte) []byte        { return b.b.Get(k) }
func (b boltBucket) Put(k, v []byte) error      { return readOnly(b.b.Put(k, v)) }
func (b boltBucket) Delete(k []byte) error      { return readOnly(b.b.Delete(k)) }
func (b boltBucket) Cursor() Cursor             { return b.b.Cursor() }
func (b boltBucket) Bucket(name []byte) Bucket  { return wrapBucket(b.b.Bucket(name)) }
func (b boltBucket) KeyN() int                  { return b.b.Stats().KeyN }
func (b boltBucket) Sequence() uint64           { return b.b.Sequence() }
func (b boltBucket) SetSequence(v uint64) error { return readOnly(b.b.SetSequence(v)) }

func (b boltBucket) NextSequence() (uint64, error) {
	n, err := b.b.NextSequence()
	return n, readOnly(err)
}

// readOnly is err, as ErrTxReadOnly (wrapping bbolt's) when it is a write
// in a read transaction.
func readOnly(err error) error {
	if errors.Is(err, bolterrors.ErrTxNotWritable) {
		return fmt.Errorf("%w (%w)", ErrTxReadOnly, err)
	}
	return err
}

func (b boltBucket) CreateBucketIfNotExists(name []byte) (Bucket, error) {
	nb, err := b.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, readOnly(err)
	}
	return boltBucket{nb}, nil
}

// ForEach walks keys only (see the package doc): nested buckets, which
// bbolt lists with a nil value, are skipped.
func (b boltBucket) ForEach(fn func(k, v []byte) error) error {
	return b.b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil
		}
		return fn(k, v)
	})
}

func (b boltBucket) ForEachBucket(fn func(name []byte) error) error { return b.b.ForEachBucket(fn) }

// Wrap runs fn on a bbolt transaction begun by hand (bbolt's page check
// wants a writable one that is rolled back).
func (*Bolt) Wrap(tx *bolt.Tx, fn func(Tx) error) error { return fn(boltTx{tx}) }

// FillPercent sets how full bbolt fills b's pages when it splits them
// (1.0 for keys appended in order); other engines have no pages.
func FillPercent(b Bucket, f float64) {
	if bb, ok := b.(boltBucket); ok {
		bb.b.FillPercent = f
	}
}
