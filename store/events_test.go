package store_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

func TestChainDetectsEdits(t *testing.T) {
	fs := openFileStore(t)
	doc, _ := put(t, fs.DB, testgen.NewDocument(), at, local(testgen.Department)...)
	r, err := fs.VerifyChain(ctx)
	if err != nil || !r.OK() || r.Events != 3 {
		t.Fatalf("%+v %v", r, err)
	}

	// An administrator with the file edits event 2's detail.
	fs.edit(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("events"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := bytes.Replace(b.Get(k), []byte("signer="), []byte("signer=forged "), 1)
		return b.Put(k, v)
	})
	r, err = fs.VerifyChain(ctx)
	if err != nil || r.OK() || r.BrokenAt != 2 {
		t.Fatalf("edited chain: %+v %v", r, err)
	}
	if err := fs.Check(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check: %v", err)
	}
	if _, err := fs.Events(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
}

// VerifyChainFile checks a store file without opening it as a store (a
// backup), and refuses a bbolt file that is not one.
func TestVerifyChainFile(t *testing.T) {
	var live *record.ChainReport
	path := storeFile(t, func(db *store.DB) {
		putRoutes(t, db, 910, at, local(testgen.Department)...)
		putRoutes(t, db, 911, at, local(testgen.Department, testgen.District)...)
		var err error
		if live, err = db.VerifyChain(ctx); err != nil {
			t.Fatal(err)
		}
	})
	r, err := store.VerifyChainFile(ctx, path)
	if err != nil || !r.OK() || r.Events != 7 || r.Head != live.Head || r.Head == "" {
		t.Fatalf("file: %+v %v (live %+v)", r, err, live)
	}

	other := filepath.Join(t.TempDir(), "other.db")
	editFile(t, other, func(tx kv.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("x")); return err })
	if _, err := store.VerifyChainFile(ctx, other); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("not an axis store: %v", err)
	}
}
