package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestBackupRestore(t *testing.T) {
	db := storetest.Open(t)
	doc, _ := putRoutes(t, db, 1200, at, local(testgen.Department)...)
	var buf bytes.Buffer
	if _, err := db.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(cp, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Document(ctx, doc.ID)
	if err != nil || got.SHA256 != doc.SHA256 {
		t.Fatal(got, err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
