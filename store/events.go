package store

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The trace: an append-only event log, one hash chain over every event
// (each event's hash covers the previous one's), indexed by document.

// appendEvent adds e to the chain inside tx.
func appendEvent(tx kv.Tx, e record.Event) error {
	return appendEvents(tx, []record.Event{e})
}

// appendEvents appends es in order, reading and writing the chain head
// once (a directive's 240 "queued" events are one call).
func appendEvents(tx kv.Tx, es []record.Event) error {
	if len(es) == 0 {
		return nil
	}
	eb := tx.Bucket(bEvents)
	kv.FillPercent(eb, 1.0) // append-only: full pages, not the half-empty ones a split leaves
	de := tx.Bucket(bDocEvents)
	prev := string(tx.Bucket(bMeta).Get(kChainHead))
	for _, e := range es {
		seq, err := eb.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		e.Prev = prev
		e.Hash = e.ChainHash()
		v, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		if err := eb.Put(u64(seq), v); err != nil {
			return err
		}
		if err := de.Put(key([]byte(e.DocID), u64(seq)), nil); err != nil {
			return err
		}
		prev = e.Hash
	}
	return tx.Bucket(bMeta).Put(kChainHead, []byte(prev))
}

// Events returns a document's trace, oldest first.
func (db *DB) Events(ctx context.Context, id string) ([]record.Event, error) {
	var out []record.Event
	err := db.kv.View(func(tx kv.Tx) error {
		var err error
		out, err = eventsOf(tx, id)
		return err
	})
	return out, err
}

// eventsOf reads document id's events, oldest first, inside tx.
func eventsOf(tx kv.Tx, id string) ([]record.Event, error) {
	var out []record.Event
	c := tx.Bucket(bDocEvents).Cursor()
	prefix := append([]byte(id), 0)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var e record.Event
		if err := getJSON(tx.Bucket(bEvents), k[len(prefix):], &e); err != nil {
			return out, fmt.Errorf("%w: event %x: %v", ErrCorrupt, k[len(prefix):], err)
		}
		out = append(out, e)
	}
	return out, nil
}

// VerifyChain walks the whole event log and reports the first broken link,
// checking each anchor's token against the roots SetTSARoots gave.
func (db *DB) VerifyChain(ctx context.Context) (*record.ChainReport, error) {
	r := &record.ChainReport{}
	err := db.kv.View(func(tx kv.Tx) error { return db.verifyChain(ctx, tx, r) })
	return r, err
}

// SetTSARoots are the time-stamping authority's roots (archive.tsa_roots)
// the anchors' tokens are checked against; nil: each token's signature is
// checked against the certificate it carries only.
func (db *DB) SetTSARoots(roots *x509.CertPool) { db.tsaRoots.Store(roots) }

func (db *DB) verifyChain(ctx context.Context, tx kv.Tx, r *record.ChainReport) error {
	return verifyChainRoots(ctx, tx, r, db.tsaRoots.Load())
}

// VerifyChainFile verifies the event chain of a store file opened
// read-only (a backup, or a copy), without a running hub; roots, when not
// nil, are the TSA's the anchors must chain to.
func VerifyChainFile(ctx context.Context, path string, roots ...*x509.CertPool) (*record.ChainReport, error) {
	bdb, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is locked: a running axisd holds it; verify a backup of it (axisctl backup FILE), or ask that hub (audit-verify without --db): %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	defer bdb.Close()
	var pool *x509.CertPool
	if len(roots) > 0 {
		pool = roots[0]
	}
	r := &record.ChainReport{}
	err = kv.NewBolt(bdb).View(func(tx kv.Tx) error {
		if tx.Bucket(bEvents) == nil || tx.Bucket(bMeta) == nil {
			return fmt.Errorf("%w: %s is not an axis store", ErrCorrupt, path)
		}
		return verifyChainRoots(ctx, tx, r, pool)
	})
	return r, err
}

// kChainBase (meta) is "SEQ HASH" of the last event that left the store
// for the archives (retention): the kept chain starts after it.
var kChainBase = []byte("chain_base")

func chainBase(tx kv.Tx) (uint64, string) {
	var seq uint64
	var hash string
	if v := tx.Bucket(bMeta).Get(kChainBase); v != nil {
		fmt.Sscanf(string(v), "%d %s", &seq, &hash)
	}
	return seq, hash
}

func verifyChainRoots(ctx context.Context, tx kv.Tx, r *record.ChainReport, roots *x509.CertPool) error {
	base, prev := chainBase(tx)
	r.BaseSeq, r.BaseHash = base, prev
	r.AnchorRoots = roots != nil
	want := base + 1
	eb := tx.Bucket(bEvents)
	hashOf := func(seq uint64) (string, bool) {
		if seq == base && base > 0 {
			return r.BaseHash, true
		}
		var e record.Event
		if seq < base || getJSON(eb, u64(seq), &e) != nil {
			return "", false
		}
		return e.Hash, true
	}
	c := eb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if r.Events%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r.Events++
		seq := binary.BigEndian.Uint64(k)
		var e record.Event
		broken := func(why string) error {
			r.BrokenAt, r.BrokenWhy = seq, why
			if e.Type != "" {
				ev := e
				r.Broken = &ev
			}
			return nil
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return broken("unreadable event: " + err.Error())
		}
		switch {
		case seq != want:
			return broken(fmt.Sprintf("sequence gap: want %d", want))
		case e.Seq != seq:
			return broken("event seq differs from its key")
		case e.Prev != prev:
			return broken("prev does not match the previous event's hash")
		case e.ChainHash() != e.Hash:
			return broken("hash does not match the event's contents")
		}
		if e.Type == EventAnchored {
			sum, err := tsa.CheckAnchor(&e, roots, hashOf)
			if err != nil {
				return broken(err.Error())
			}
			r.Anchors++
			r.LastAnchor = sum
		}
		prev = e.Hash
		want++
	}
	if head := string(tx.Bucket(bMeta).Get(kChainHead)); head != prev {
		r.BrokenAt, r.BrokenWhy = want, "chain head does not match the last event"
	}
	r.Head = prev
	return nil
}

// byWhom is the " by NAME" of an event an administrator caused ("" when
// no one is named).
func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// AdminAction records an administrator's action in the event chain: on
// the document it was about (docID), or on no document ("") for an action
// on the hub (a reconciliation, a console sign-in). Events(ctx, "") lists
// the latter.
func (db *DB) AdminAction(ctx context.Context, by, action, docID string, at time.Time) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		return appendEvent(tx, record.Event{At: at, DocID: docID, Type: EventAdmin, Detail: by + ": " + action})
	})
}
