package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Leases: which node runs each loop that must run once when several axisd
// nodes share one store. A lease is a record (owner, expiry) in the
// leases bucket, taken and renewed in the commit loop like any write, so
// two nodes never both see themselves as owner of a lease that has not
// expired: the engine serialises the writers (bbolt's file lock, one
// PostgreSQL writer at a time). Expiry is by the nodes' clocks, which
// must agree to well within the lease's time to live (NTP does).

// AcquireLease takes or renews lease name for owner until now+ttl: it
// succeeds when the lease is free, expired, or already owner's. It
// returns the lease as it now is: Owner is owner when taken, another
// node's name otherwise.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (record.Lease, error) {
	var out record.Lease
	err := db.batch(ctx, func(tx kv.Tx) error {
		b := tx.Bucket(bLeases)
		cur, err := lease(b, name)
		if err != nil {
			return err
		}
		if cur.Owner != "" && cur.Owner != owner && now.Before(cur.Expires) {
			out = cur
			return nil
		}
		l := record.Lease{Name: name, Owner: owner, Since: cur.Since, Expires: now.Add(ttl)}
		if cur.Owner != owner || !now.Before(cur.Expires) {
			l.Since = now
		}
		v, err := json.Marshal(l)
		if err != nil {
			return err
		}
		out = l
		return b.Put([]byte(name), v)
	})
	return out, err
}

// ReleaseLease gives lease name up if owner holds it (a node stopping
// cleanly), so that another node takes it at once rather than after it
// expires.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	return db.batch(ctx, func(tx kv.Tx) error {
		b := tx.Bucket(bLeases)
		cur, err := lease(b, name)
		if err != nil || cur.Owner != owner {
			return err
		}
		return b.Delete([]byte(name))
	})
}

// Leases lists every lease, by name (expired ones too: Expires says).
func (db *DB) Leases(ctx context.Context) ([]record.Lease, error) {
	var out []record.Lease
	err := db.kv.View(func(tx kv.Tx) error {
		out = out[:0]
		return tx.Bucket(bLeases).ForEach(func(k, v []byte) error {
			var l record.Lease
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("%w: lease %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, l)
			return nil
		})
	})
	return out, err
}

func lease(b kv.Bucket, name string) (record.Lease, error) {
	var l record.Lease
	v := b.Get([]byte(name))
	if v == nil {
		return l, nil
	}
	if err := json.Unmarshal(v, &l); err != nil {
		return l, fmt.Errorf("%w: lease %s: %v", ErrCorrupt, name, err)
	}
	return l, nil
}
