package store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/store/kv"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Options tune Open; nil means defaults.
type Options struct {
	// MaxBatchDelay is how long a lone write waits for others to share its
	// commit; default 0 (while a commit is on its way to disk, the writes
	// that arrive form the next batch anyway).
	MaxBatchDelay time.Duration
	// MaxBatchSize caps the intakes in one commit; default 256.
	MaxBatchSize int
	// Timeout waits for the file lock; default 5s.
	Timeout time.Duration
	// OnBatch, when set, is told how many intakes or acks each commit held.
	OnBatch func(n int)
	// ReportTo says which peers get delivery reports (deliveryreport.go) about the
	// documents that came through them; nil: none.
	ReportTo func(peer string) bool
	// PollStates says which peers send no delivery reports and are asked
	// for the states of what was relayed to them instead: their relays are
	// kept in the awaiting index (awaiting.go) until final; nil: none.
	PollStates func(peer string) bool
	// OnMigrate is told, before a schema migration changes anything, the
	// versions and where the copy of the store taken first is (the hub
	// logs it); nil: not told, the copy is taken all the same.
	OnMigrate func(from, to, backup string)
}

// DB is the store.
type DB struct {
	kv         kv.DB    // the engine every method runs on
	bolt       *bolt.DB // the bbolt file, nil on another engine
	path       string   // the bbolt file's path, or the engine's name
	onBatch    func(int)
	reportTo   func(string) bool
	pollStates func(string) bool
	maxDelay   time.Duration
	maxBatch   int
	writes     chan writeReq
	closing    chan struct{}
	loopDone   chan struct{}
	closeOnce  sync.Once
	tsaRoots   atomic.Pointer[x509.CertPool] // SetTSARoots
}

// Open opens or creates the store file.
func Open(path string, opts *Options) (*DB, error) {
	o := options(opts)
	// NoFreelistSync: the freelist is rebuilt from the pages at open instead
	// of being written at every commit (as etcd does); durability of data is
	// unchanged.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is locked: another axisd holds it (waited %s); stop that one first: %w", path, o.Timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := backupBeforeMigration(bdb, path, o.OnMigrate); err != nil {
		bdb.Close()
		return nil, err
	}
	db, err := openOn(kv.NewBolt(bdb), o)
	if err != nil {
		bdb.Close()
		return nil, err
	}
	db.bolt, db.path = bdb, path
	return db, nil
}

// options are opts with the defaults filled in.
func options(opts *Options) Options {
	o := Options{MaxBatchSize: 256, Timeout: 5 * time.Second}
	if opts != nil {
		if opts.MaxBatchDelay > 0 {
			o.MaxBatchDelay = opts.MaxBatchDelay
		}
		if opts.MaxBatchSize > 0 {
			o.MaxBatchSize = opts.MaxBatchSize
		}
		if opts.Timeout > 0 {
			o.Timeout = opts.Timeout
		}
		o.OnBatch, o.ReportTo, o.PollStates, o.OnMigrate = opts.OnBatch, opts.ReportTo, opts.PollStates, opts.OnMigrate
	}
	return o
}

// openOn brings engine k's schema to this program's and starts the
// commit loop.
func openOn(k kv.DB, o Options) (*DB, error) {
	if err := k.Update(initSchema); err != nil {
		return nil, err
	}
	db := &DB{kv: k, path: k.Engine(), onBatch: o.OnBatch, reportTo: o.ReportTo, pollStates: o.PollStates, maxDelay: o.MaxBatchDelay, maxBatch: o.MaxBatchSize,
		writes: make(chan writeReq), closing: make(chan struct{}), loopDone: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// Close stops the commit loop (writes already handed to it finish first) and
// closes the file.
//
// A graceful close writes bbolt's freelist once: commits skip it
// (NoFreelistSync), so without it the next open rebuilds the freelist by
// walking every page of the file (measured on a million documents, 8.6 GB:
// 13-15 s with the file in the page cache, over 2 minutes without). After a
// crash there is no freelist and the next open rebuilds it, as before.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closing) })
	<-db.loopDone
	if db.bolt == nil {
		return db.kv.Close()
	}
	if !db.bolt.IsReadOnly() {
		db.bolt.NoFreelistSync = false // the commit loop has stopped: this is the last writer
		err := db.kv.Update(func(tx kv.Tx) error {
			m := tx.Bucket(bMeta)
			return m.Put(kSchema, m.Get(kSchema)) // a commit, to carry the freelist
		})
		if err != nil {
			db.bolt.Close()
			return fmt.Errorf("store: writing the freelist at close: %w", err)
		}
	}
	return db.bolt.Close()
}

// Path is the bbolt file's path, or on another engine its name.
func (db *DB) Path() string { return db.path }

// Engine names the store's engine: "bbolt" or "postgres".
func (db *DB) Engine() string { return db.kv.Engine() }

// batch runs fn in a shared commit and returns when that commit is on disk.
// fn may run more than once (a failed shared commit is retried one function
// at a time), so it must reset whatever it reports and be idempotent.
func (db *DB) batch(ctx context.Context, fn func(tx kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.closing:
		return ErrClosed
	}
	return <-req.done
}

type writeReq struct {
	fn   func(tx kv.Tx) error
	done chan error
}

// commitLoop is the store's only writer of batched work: it takes every
// request that is waiting, runs them in one transaction and one fsync, and
// answers them all. While a commit is on its way to disk, new requests queue
// up and form the next batch, so batches grow with load and with disk
// latency, without a fixed delay. MaxBatchDelay adds an optional wait for
// more requests when a batch would otherwise hold one.
func (db *DB) commitLoop() {
	defer close(db.loopDone)
	for {
		var first writeReq
		select {
		case first = <-db.writes:
		case <-db.closing:
			return
		}
		reqs := append(make([]writeReq, 0, 16), first)
		reqs = db.drain(reqs)
		if len(reqs) == 1 && db.maxDelay > 0 {
			t := time.NewTimer(db.maxDelay)
		wait:
			for len(reqs) < db.maxBatch {
				select {
				case r := <-db.writes:
					reqs = append(reqs, r)
					reqs = db.drain(reqs)
				case <-t.C:
					break wait
				}
			}
			t.Stop()
		}
		err := db.kv.Update(func(tx kv.Tx) error {
			if b, ok := tx.(beginner); ok {
				if err := b.Begin(); err != nil {
					return err
				}
				reqs = db.drain(reqs) // what came while another node held the writer lock joins this commit
			}
			for _, r := range reqs {
				if err := r.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && len(reqs) > 1 {
			// One function failed the shared commit: run each alone so
			// only the failing one sees its error.
			for _, r := range reqs {
				r.done <- db.kv.Update(r.fn)
			}
			continue
		}
		if err == nil && db.onBatch != nil {
			db.onBatch(len(reqs))
		}
		for _, r := range reqs {
			r.done <- err
		}
	}
}

// beginner is an engine's transaction that can take the writer lock
// before its first statement (pgkv: the lock is shared with other nodes).
type beginner interface{ Begin() error }

func (db *DB) drain(reqs []writeReq) []writeReq {
	for len(reqs) < db.maxBatch {
		select {
		case r := <-db.writes:
			reqs = append(reqs, r)
		default:
			return reqs
		}
	}
	return reqs
}
