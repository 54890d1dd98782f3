package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/kv/pgkv"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Migrate: a whole store copied from one engine to the other (a bbolt
// hub moving to PostgreSQL, a PostgreSQL store into a file), or between
// two of one engine, offline: no axisd may run on either.

// Location is a store: a bbolt file (File) or a PostgreSQL database (DSN).
type Location struct {
	File string
	DSN  string
}

func (l Location) String() string {
	if l.File != "" {
		return l.File
	}
	return "postgres"
}

// MigrateReport is what Migrate copied and found on both sides.
type MigrateReport struct {
	Documents int                // in the source, and the same in the target
	Keys      int                // key-value pairs copied (every bucket)
	Elapsed   time.Duration      // the copy and the checks
	Source    record.ChainReport // the source's event chain
	Target    record.ChainReport // the target's, the same
}

// ErrNotEmpty is a migration into a store that already holds documents.
var ErrNotEmpty = errors.New("store: the target already holds documents")

// Migrate copies every bucket of from into to, which must be empty (a new
// file, or a database without axis's tables or with no document), then
// opens the target as a store and checks it (Check: every document's
// bytes, queues, the chain) and that its document count and event chain
// are the source's. progress, when set, is told the keys copied so far.
func Migrate(ctx context.Context, from, to Location, progress func(keys int)) (*MigrateReport, error) {
	t0 := time.Now()
	src, err := openRaw(ctx, from, true)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	r := &MigrateReport{}
	err = src.View(func(tx kv.Tx) error {
		if tx.Bucket(bDocs) == nil || tx.Bucket(bEvents) == nil {
			return fmt.Errorf("%w: %s is not an axis store", ErrCorrupt, from)
		}
		r.Documents = int(tx.Bucket(bDocs).Sequence())
		return verifyChainRoots(ctx, tx, &r.Source, nil)
	})
	if err != nil {
		return nil, err
	}
	if !r.Source.OK() {
		return r, fmt.Errorf("store: %s: the event chain is broken at event %d (%s): repair or restore it before migrating", from, r.Source.BrokenAt, r.Source.BrokenWhy)
	}
	if to.File != "" {
		if _, err := os.Stat(to.File); err == nil {
			return nil, fmt.Errorf("%w: %s exists", ErrNotEmpty, to.File)
		}
	}
	dst, err := openRaw(ctx, to, false)
	if err != nil {
		return nil, err
	}
	err = dst.View(func(tx kv.Tx) error {
		if b := tx.Bucket(bDocs); b != nil && b.Sequence() > 0 {
			return fmt.Errorf("%w: %s has %d", ErrNotEmpty, to, b.Sequence())
		}
		return nil
	})
	if err == nil {
		err = kv.Copy(dst, src, 5000, func(n int) error {
			r.Keys = n
			if progress != nil {
				progress(n)
			}
			return ctx.Err()
		})
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r, fmt.Errorf("store: copying %s into %s: %w", from, to, err)
	}
	db, err := OpenAt(ctx, to, nil)
	if err != nil {
		return r, err
	}
	defer db.Close()
	if err := db.Check(ctx); err != nil {
		return r, fmt.Errorf("store: %s after the copy: %w", to, err)
	}
	rep, err := db.VerifyChain(ctx)
	if err != nil {
		return r, err
	}
	r.Target = *rep
	n, err := db.Count(ctx)
	if err != nil {
		return r, err
	}
	if n != r.Documents || r.Target.Events != r.Source.Events || r.Target.Head != r.Source.Head {
		return r, fmt.Errorf("%w: %s after the copy: %d documents, %d events, head %s; the source: %d, %d, %s",
			ErrCorrupt, to, n, r.Target.Events, r.Target.Head, r.Documents, r.Source.Events, r.Source.Head)
	}
	r.Elapsed = time.Since(t0)
	return r, nil
}

// OpenAt opens the store at l (Open or OpenPostgres).
func OpenAt(ctx context.Context, l Location, opts *Options) (*DB, error) {
	if l.File != "" {
		return Open(l.File, opts)
	}
	return OpenPostgres(ctx, l.DSN, opts)
}

// openRaw opens l's engine without the store on top (no schema change):
// a file read-only when it is the source, created when it is the target.
func openRaw(ctx context.Context, l Location, source bool) (kv.DB, error) {
	switch {
	case l.File != "" && source:
		bdb, err := bolt.Open(l.File, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked: stop the axisd that holds it first: %w", l.File, ErrLocked)
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", l.File, err)
		}
		return kv.NewBolt(bdb), nil
	case l.File != "":
		bdb, err := bolt.Open(l.File, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			return nil, fmt.Errorf("store: create %s: %w", l.File, err)
		}
		return syncedBolt{kv.NewBolt(bdb)}, nil
	case l.DSN != "":
		k, err := pgkv.Open(ctx, l.DSN, &pgkv.Options{})
		if err != nil {
			return nil, fmt.Errorf("store: postgres: %w", err)
		}
		return k, nil
	}
	return nil, errors.New("store: no file and no DSN")
}

// syncedBolt is a bbolt target written without an fsync per transaction
// (a copy that fails is thrown away), synced once at close.
type syncedBolt struct{ *kv.Bolt }

func (s syncedBolt) Close() error {
	err := s.DB.Sync()
	if cerr := s.DB.Close(); err == nil {
		err = cerr
	}
	return err
}
