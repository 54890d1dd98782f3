package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestLargeEnvelopeInChunks(t *testing.T) {
	db := storetest.Open(t)
	var ids []string
	var raws [][]byte
	for i, size := range []int{0, 1984 * 3, 2 << 20} { // empty, a chunk multiple of base64 text, 2 MB
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprint(500 + i)
		content := make([]byte, size)
		for j := range content {
			content[j] = byte(j * 13)
		}
		m.Attachments = append(m.Attachments, envelope.NewAttachment("cid:2", "x.zip", "application/zip", content))
		v := fixture.Verified(t, m)
		d, _, err := db.PutEnvelope(ctx, v, local(testgen.Department), at, "")
		if err != nil {
			t.Fatal(err)
		}
		ids, raws = append(ids, d.ID), append(raws, v.Raw())
	}
	for i, id := range ids {
		got, err := db.Blob(ctx, id)
		if err != nil || !bytes.Equal(got, raws[i]) {
			t.Fatalf("envelope %d (%d bytes): round trip differs: %v", i, len(raws[i]), err)
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
