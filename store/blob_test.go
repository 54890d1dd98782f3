package store_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestLargeEnvelopeInChunks(t *testing.T) {
	db := storetest.Open(t)
	raws := map[string][]byte{}
	for i, size := range []int{0, 1984 * 3, 2 << 20} { // empty, a chunk multiple of base64 text, 2 MB
		m := numbered(500 + i)
		m.Attachments = append(m.Attachments, envelopeAttachment(size))
		d, v := put(t, db, m, at, local(testgen.Department)...)
		raws[d.ID] = v.Raw()
	}
	// Read back once all are stored: a later envelope's chunks leave an
	// earlier one's whole.
	for id, raw := range raws {
		if got, err := db.Blob(ctx, id); err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("envelope %s (%d bytes): round trip differs: %v", id, len(raw), err)
		}
	}
}

// Blob and BlobOf return the same bytes; Blob of an unknown id is
// ErrNotFound; a returned slice is the caller's own.
func TestBlob(t *testing.T) {
	db := storetest.Open(t)
	d, v := putRoutes(t, db, 800, at, local(testgen.Department)...)
	raw, err := db.Blob(ctx, d.ID)
	if err != nil || !bytes.Equal(raw, v.Raw()) {
		t.Fatalf("blob: %v", err)
	}
	of, err := db.BlobOf(ctx, d)
	if err != nil || !bytes.Equal(of, v.Raw()) {
		t.Fatalf("blob of: %v", err)
	}
	raw[0] ^= 0xff
	if again, _ := db.Blob(ctx, d.ID); !bytes.Equal(again, v.Raw()) {
		t.Fatal("changing the returned bytes changed the store")
	}
	if raw, err := db.Blob(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, store.ErrNotFound) || raw != nil {
		t.Fatalf("unknown id: %d bytes, %v", len(raw), err)
	}
}
