package store_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	bolt "go.etcd.io/bbolt"
)

func TestChainDetectsEdits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "axis.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.PutEnvelope(ctx, fixture.Verified(t, testgen.NewDocument()), local(testgen.Department), at, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.VerifyChain(ctx)
	if err != nil || !r.OK() || r.Events != 3 {
		t.Fatalf("%+v %v", r, err)
	}
	db.Close()

	// An administrator with the file edits event 2's detail.
	bdb, _ := bolt.Open(path, 0o600, nil)
	bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := bytes.Replace(b.Get(k), []byte("signer="), []byte("signer=forged "), 1)
		return b.Put(k, v)
	})
	bdb.Close()
	db, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err = db.VerifyChain(ctx)
	if err != nil || r.OK() || r.BrokenAt != 2 {
		t.Fatalf("edited chain: %+v %v", r, err)
	}
	if err := db.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check: %v", err)
	}
	if _, err := db.Events(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
}

// VerifyChainFile checks a store file without opening it as a store (a
// backup), and refuses a bbolt file that is not one.
func TestVerifyChainFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axis.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRoutes(t, db, 910, at, local(testgen.Department)...)
	putRoutes(t, db, 911, at, local(testgen.Department, testgen.District)...)
	live, err := db.VerifyChain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := store.VerifyChainFile(ctx, path)
	if err != nil || !r.OK() || r.Events != 7 || r.Head != live.Head || r.Head == "" {
		t.Fatalf("file: %+v %v (live %+v)", r, err, live)
	}

	other := filepath.Join(t.TempDir(), "other.db")
	b, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	b.Close()
	if _, err := store.VerifyChainFile(ctx, other); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("not an axis store: %v", err)
	}
}
