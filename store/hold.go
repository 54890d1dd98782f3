package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	bolt "go.etcd.io/bbolt"
)

// Held documents and revocation evidence.
//
// An envelope whose chain's revocation status cannot be established yet
// (trust.revocation.mode hold) is stored whole and durably at intake — its
// bytes, record, indexes, evidence and events — with its routes kept as
// Pending and an entry in the held index, but nothing routed. The hub's
// hold worker re-checks it and then either Releases it (routed exactly as
// an intake would have been, in one transaction) or Refuses it. Either
// way the held entry goes in the same transaction, so after a crash a
// document is held, released or refused, never two of them.
//
// Evidence (the OCSP response or the CRL that proved a status) is kept
// once per content, keyed by its SHA-256: a CRL proves the status of every
// document signed under it, and is stored once per number.

var (
	bHeld     = []byte("held")     // doc id → held since (RFC 3339)
	bEvidence = []byte("evidence") // sha256 → DER of an OCSP response or a CRL
)

func init() { allBuckets = append(allBuckets, bHeld, bEvidence) }

// Document states beyond the per-recipient ones.
const (
	StateHeld    = "held"
	StateRefused = "refused"
)

// Events of held documents.
const (
	EventHeld     = "held"
	EventReleased = "released"
	EventRefused  = "refused"
)

func putEvidence(tx *bolt.Tx, r *envelope.Revocation) error {
	if r == nil {
		return nil
	}
	b := tx.Bucket(bEvidence)
	for _, c := range r.Certs {
		if len(c.Evidence) == 0 {
			continue
		}
		sum := sha256.Sum256(c.Evidence)
		if b.Get(sum[:]) != nil {
			continue
		}
		if err := b.Put(sum[:], c.Evidence); err != nil {
			return err
		}
	}
	return nil
}

// revocationDetail is what the verified event says of the revocation
// check; the evidence's SHA-256 is in it, so the chain covers the proof.
func revocationDetail(r *envelope.Revocation) string {
	if r == nil {
		return " revocation=off"
	}
	var b strings.Builder
	fmt.Fprintf(&b, " revocation=%s", r.Status())
	for i, c := range r.Certs {
		fmt.Fprintf(&b, " cert%d=%s", i, c.Status)
		if c.Method != "" {
			fmt.Fprintf(&b, ",%s", c.Method)
		}
		if c.EvidenceSHA256 != "" {
			fmt.Fprintf(&b, ",evidence=%s", c.EvidenceSHA256)
		}
	}
	return b.String()
}

func revocationReason(r *envelope.Revocation) string {
	if r == nil {
		return ""
	}
	for _, c := range r.Certs {
		if c.Status == envelope.StatusUnknown {
			return fmt.Sprintf("%s: %s", c.Subject, c.Reason)
		}
	}
	return ""
}

// Evidence returns the DER stored under a SHA-256 (hex), or ErrNotFound.
func (db *DB) Evidence(ctx context.Context, sha string) ([]byte, error) {
	k, err := hex.DecodeString(sha)
	if err != nil || len(k) != sha256.Size {
		return nil, ErrNotFound
	}
	var out []byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bEvidence).Get(k)
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// HeldDoc is a held document and since when.
type HeldDoc struct {
	Doc   *Document
	Since time.Time
}

// Held lists the held documents, oldest first (at most limit; 0 is all).
func (db *DB) Held(ctx context.Context, limit int) ([]HeldDoc, error) {
	var out []HeldDoc
	err := db.bolt.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bDocs)
		return tx.Bucket(bHeld).ForEach(func(k, v []byte) error {
			var d Document
			if err := getJSON(docs, k, &d); err != nil {
				return fmt.Errorf("held %s: %w", k, err)
			}
			since, _ := time.Parse(time.RFC3339Nano, string(v))
			out = append(out, HeldDoc{Doc: &d, Since: since})
			return nil
		})
	})
	// oldest first
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Since.Before(out[j-1].Since); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// HeldCount is how many documents are held.
func (db *DB) HeldCount(ctx context.Context) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bHeld).Stats().KeyN
		return nil
	})
	return n, err
}

// takeHeld reads a held document inside tx and removes its held entry;
// ErrConflict when it is no longer held (released or refused already).
func takeHeld(tx *bolt.Tx, id string) (*Document, error) {
	idb := []byte(id)
	if tx.Bucket(bHeld).Get(idb) == nil {
		return nil, fmt.Errorf("%w: %s is not held", ErrConflict, id)
	}
	var d Document
	if err := getJSON(tx.Bucket(bDocs), idb, &d); err != nil {
		return nil, err
	}
	return &d, tx.Bucket(bHeld).Delete(idb)
}

// Release routes a held document as its intake would have (rev is the
// status now established, whose evidence is kept), in one transaction.
func (db *DB) Release(ctx context.Context, id string, rev *envelope.Revocation, at time.Time) (*Document, error) {
	var out *Document
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		d, err := takeHeld(tx, id)
		if err != nil {
			return err
		}
		if err := putEvidence(tx, rev); err != nil {
			return err
		}
		routes := d.Pending
		d.State, d.Pending, d.Recipients, d.DecidedAt = "", nil, routes, at.UTC()
		if rev != nil {
			d.Revocation = rev
		}
		if err := putJSON(tx.Bucket(bDocs), []byte(id), d); err != nil {
			return err
		}
		if err := appendEvent(tx, Event{At: at, DocID: id, OrganID: d.From, Type: EventReleased,
			Detail: "revocation status established:" + revocationDetail(rev)}); err != nil {
			return err
		}
		out = d
		return routeDoc(tx, d, routes, at)
	})
	return out, err
}

// Refuse ends a held document: it is kept (its bytes and trace are
// evidence) but never routed; its state says why.
func (db *DB) Refuse(ctx context.Context, id, code, detail string, rev *envelope.Revocation, at time.Time) (*Document, error) {
	var out *Document
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		d, err := takeHeld(tx, id)
		if err != nil {
			return err
		}
		if err := putEvidence(tx, rev); err != nil {
			return err
		}
		d.State, d.RefusedCode, d.RefusedDetail, d.DecidedAt = StateRefused, code, detail, at.UTC()
		if rev != nil {
			d.Revocation = rev
		}
		if err := putJSON(tx.Bucket(bDocs), []byte(id), d); err != nil {
			return err
		}
		out = d
		return appendEvent(tx, Event{At: at, DocID: id, OrganID: d.From, Type: EventRefused, Detail: code + ": " + detail})
	})
	return out, err
}

// PutNotice stores a status message the hub itself made (the refusal of a
// held envelope, answering doc id respondsTo) and routes it to one
// recipient, its sender: it goes through no verification, being the hub's
// own words, signed with its key where it has one.
func (db *DB) PutNotice(ctx context.Context, raw []byte, m *envelope.Message, respondsTo string, route Route, at time.Time) (*Document, error) {
	sum := sha256.Sum256(raw)
	doc := &Document{
		ID: DocIDFor(sum), SHA256: hex.EncodeToString(sum[:]), Size: len(raw), Kind: string(envelope.KindStatus),
		From: m.From.OrganID, StatusCode: m.StatusCode, RespondsTo: respondsTo, Recipients: []Route{route},
		ReceivedAt: at.UTC(), Signer: "hub", To: []string{route.OrganID},
	}
	var out *Document
	err := db.batch(ctx, func(tx *bolt.Tx) error {
		var err error
		out, _, err = putDoc(tx, doc, sum, raw, "hub", nil, doc.Recipients, at, "")
		return err
	})
	return out, err
}
