package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	bolt "go.etcd.io/bbolt"
)

func TestDay(t *testing.T) {
	// 17:30 UTC on 31 May is 00:30 on 1 June in Hà Nội.
	if d := store.Day(time.Date(2026, 5, 31, 17, 30, 0, 0, time.UTC)); d != "2026-06-01" {
		t.Fatal(d)
	}
}

// A schema-2 store (no search indexes) is indexed when opened.
func TestMigrateSchema2(t *testing.T) {
	fs := openBoltFileStore(t) // the copy beside the file, below
	x := searchFixture(t, fs.DB)
	fs.edit(func(tx kv.Tx) error {
		for _, n := range []string{"by_code", "by_word", "by_day", "activity"} {
			if err := kv.BoltTx(tx).DeleteBucket([]byte(n)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("2"))
	})
	r, err := fs.Search(ctx, store.Query{Subject: "cong van"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(r), []string{x["e"], x["c"], x["a"]}; !slices.Equal(got, want) {
		t.Fatalf("after migration: %v, want %v", got, want)
	}
	checked(t, fs.DB)
	// The store as it was before is beside it, still schema 2, unindexed.
	var schema string
	var indexed bool
	viewFile(t, fs.Path()+".schema-2.bak", func(tx kv.Tx) error {
		schema, indexed = string(tx.Bucket([]byte("meta")).Get([]byte("schema"))), tx.Bucket([]byte("by_code")) != nil
		return nil
	})
	if schema != "2" || indexed {
		t.Fatalf("the copy before the migration: schema %q, indexed %v", schema, indexed)
	}
}

// The copy is taken before anything changes, and told with its path.
func TestMigrationTellsWhereTheCopyIs(t *testing.T) {
	path := storeFile(t, nil)
	editFile(t, path, func(tx kv.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("2")) })
	var told []string
	db, err := store.Open(path, &store.Options{OnMigrate: func(from, to, backup string) { told = append(told, from, to, backup) }})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !slices.Equal(told, []string{"2", "3", path + ".schema-2.bak"}) {
		t.Fatalf("told %q", told)
	}
	// Opened again (schema 3 now): no migration, nothing told.
	told = nil
	if db, err = store.Open(path, &store.Options{OnMigrate: func(from, to, backup string) { told = append(told, backup) }}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if told != nil {
		t.Fatalf("told again: %q", told)
	}
}

// A new store has every bucket of the schema and its version.
func TestOpenCreatesEveryBucket(t *testing.T) {
	var names []string
	var schema string
	viewFile(t, storeFile(t, nil), func(tx kv.Tx) error {
		schema = string(tx.Bucket([]byte("meta")).Get([]byte("schema")))
		return tx.ForEachBucket(func(name []byte) error {
			names = append(names, string(name))
			return nil
		})
	})
	want := []string{"activity", "archives", "awaiting", "blobs", "by_code", "by_day", "by_docid", "by_due", "by_hash", "by_recipient", "by_sender", "by_word",
		"dead", "deliveries", "doc_events", "docs", "events", "evidence", "held", "leases", "meta", "outboxes", "queues", "registry", "reports", "sessions"}
	if !slices.Equal(names, want) || schema != "3" {
		t.Fatalf("buckets %v schema %q, want %v and 3", names, schema, want)
	}
}

// A store of a schema this program does not know is refused, and left
// closed (its lock released).
func TestOpenRefusesUnknownSchema(t *testing.T) {
	path := storeFile(t, nil)
	editFile(t, path, func(tx kv.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("4")) })
	if _, err := store.Open(path, nil); err == nil || err.Error() != `store: schema "4", this program knows "3"` {
		t.Fatalf("open of schema 4: %v", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the refused store is still locked: %v", err)
	}
	b.Close()
}
