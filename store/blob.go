package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Envelope bytes, exactly as received, in chunks of blobChunk (schema.go
// says why) keyed by the document's sequence.

func putBlob(tx kv.Tx, seq uint64, raw []byte) error {
	b := tx.Bucket(bBlobs)
	kv.FillPercent(b, 1.0) // appended in order: full pages
	for i := 0; i < len(raw); i += blobChunk {
		if err := b.Put(blobKey(seq, uint32(i/blobChunk)), raw[i:min(i+blobChunk, len(raw))]); err != nil {
			return err
		}
	}
	return nil
}

// readBlob copies a document's bytes out of its chunks.
func readBlob(tx kv.Tx, d *record.Document) ([]byte, error) {
	out := make([]byte, 0, d.Size)
	prefix := u64(d.Seq)
	c := tx.Bucket(bBlobs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if binary.BigEndian.Uint32(k[8:]) != uint32(len(out)/blobChunk) || len(out)%blobChunk != 0 {
			return nil, fmt.Errorf("%w: doc %s: chunk %x out of order", ErrCorrupt, d.ID, k)
		}
		out = append(out, v...)
	}
	if len(out) == 0 && d.Size > 0 && d.Archive != "" {
		return nil, fmt.Errorf("%w: doc %s: %s", ErrArchived, d.ID, d.Archive)
	}
	if len(out) != d.Size {
		return nil, fmt.Errorf("%w: doc %s: %d bytes stored, %d recorded", ErrCorrupt, d.ID, len(out), d.Size)
	}
	return out, nil
}

// Blob returns a copy of a document's envelope bytes, exactly as received:
// the record (for the sequence and size) and the bytes in one read
// transaction.
func (db *DB) Blob(ctx context.Context, id string) ([]byte, error) {
	var out []byte
	err := db.kv.View(func(tx kv.Tx) error {
		var d record.Document
		if err := getJSON(tx.Bucket(bDocs), []byte(id), &d); err != nil {
			return err
		}
		var err error
		out, err = readBlob(tx, &d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BlobOf is Blob for a document record the caller already read.
func (db *DB) BlobOf(ctx context.Context, d *record.Document) ([]byte, error) {
	var out []byte
	err := db.kv.View(func(tx kv.Tx) error {
		var err error
		out, err = readBlob(tx, d)
		return err
	})
	return out, err
}
