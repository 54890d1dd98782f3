package archive

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Limits of what a read takes into memory: an envelope as big as a hub
// accepts (limits.max_envelope_bytes is at most 1 GiB), a document's
// record with its deliveries and trace (a directive to every office of a
// province is well under 64 MiB).
const (
	maxEnvelope = 1 << 30
	maxDoc      = 64 << 20
)

// Reader reads entries of a sealed archive: what the hub answers for a
// document that left its hot store (retention).
type Reader struct {
	zr    *zip.ReadCloser
	files map[string]*zip.File
}

// Open opens an archive file.
func Open(path string) (*Reader, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	r := &Reader{zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		r.files[f.Name] = f
	}
	return r, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.zr.Close() }

// Envelope answers document id's envelope bytes, checked against sha256
// (hex), the SHA-256 the hub recorded at intake.
func (r *Reader) Envelope(id, sha string) ([]byte, error) {
	f := r.files[EnvelopeDir+id+".edxml"]
	if f == nil {
		return nil, fmt.Errorf("archive: %s holds no envelope %s", r.zr.File[0].Name, id)
	}
	b, err := readAll(f, maxEnvelope)
	if err != nil {
		return nil, fmt.Errorf("archive: envelope %s: %w", id, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return nil, fmt.Errorf("archive: envelope %s: its SHA-256 is %x, the hub recorded %s", id, sum, sha)
	}
	return b, nil
}

// Doc answers document id's documents/ID.json.
func (r *Reader) Doc(id string) (*Doc, error) {
	f := r.files[DocumentDir+id+".json"]
	if f == nil {
		return nil, fmt.Errorf("archive: no document %s", id)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var d Doc
	if err := json.NewDecoder(io.LimitReader(rc, maxDoc)).Decode(&d); err != nil {
		return nil, fmt.Errorf("archive: document %s: %w", id, err)
	}
	return &d, nil
}

// Docs lists the documents the archive holds, in its order.
func (r *Reader) Docs() []string {
	var ids []string
	for _, f := range r.zr.File {
		if len(f.Name) > len(EnvelopeDir)+6 && f.Name[:len(EnvelopeDir)] == EnvelopeDir {
			ids = append(ids, f.Name[len(EnvelopeDir):len(f.Name)-len(".edxml")])
		}
	}
	return ids
}
