package store_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Check names each kind of damage it knows, wrapped in ErrCorrupt.
func TestCheckFindsDamage(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(tx kv.Tx, d *record.Document) error
		want   string // in the error, after "<doc id>" where it starts with " "
	}{
		{"altered bytes", func(tx kv.Tx, d *record.Document) error {
			k := blobChunks(tx, d)[0]
			v := bytes.Clone(tx.Bucket([]byte("blobs")).Get(k))
			v[0] ^= 1
			return tx.Bucket([]byte("blobs")).Put(k, v)
		}, " bytes do not hash to its id"},
		{"a chunk lost", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("blobs")).Delete(blobChunks(tx, d)[1])
		}, ": chunk "},
		{"hash index entry lost", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("by_hash")).ForEach(func(k, _ []byte) error { return tx.Bucket([]byte("by_hash")).Delete(k) })
		}, " missing from the hash index"},
		{"delivery lost", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("deliveries")).Delete([]byte(d.ID + "\x00" + testgen.Department))
		}, " has no delivery for " + testgen.Department},
		{"queue entry lost", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("queues")).Bucket([]byte(testgen.Department)).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 1})
		}, ": unacked delivery to " + testgen.Department + " has no queue entry"},
		{"held entry for a routed document", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("held")).Put([]byte(d.ID), []byte("2026-06-01T00:00:00Z"))
		}, ` is "" but its held entry is present=true`},
		{"held entry without a document", func(tx kv.Tx, d *record.Document) error {
			return tx.Bucket([]byte("held")).Put([]byte("0123456789abcdef0123456789abcdef"), []byte("2026-06-01T00:00:00Z"))
		}, "held entry 0123456789abcdef0123456789abcdef has no document"},
		{"outbox entry for no document", func(tx kv.Tx, d *record.Document) error {
			ob, err := tx.Bucket([]byte("outboxes")).CreateBucketIfNotExists([]byte("national"))
			if err != nil {
				return err
			}
			return ob.Put([]byte{0, 0, 0, 0, 0, 0, 0, 9}, []byte(`{"seq":9,"doc_id":"0123456789abcdef0123456789abcdef"}`))
		}, "outbox national entry 0000000000000009 points at a missing document"},
		{"an event edited", func(tx kv.Tx, d *record.Document) error {
			k := []byte{0, 0, 0, 0, 0, 0, 0, 1}
			return tx.Bucket([]byte("events")).Put(k, bytes.Replace(tx.Bucket([]byte("events")).Get(k), []byte("sha256="), []byte("sha256=0"), 1))
		}, "event chain broken at 1: hash does not match the event's contents"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := openFileStore(t)
			d, _ := putRoutes(t, fs.DB, 950, at, local(testgen.Department)...)
			checked(t, fs.DB)
			fs.edit(func(tx kv.Tx) error { return c.damage(tx, d) })
			err := fs.Check(ctx)
			want := c.want
			if strings.HasPrefix(want, " ") || strings.HasPrefix(want, ":") {
				want = "doc " + d.ID + want
			}
			if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("check: %v\nwant it to say %q", err, want)
			}
		})
	}
}
