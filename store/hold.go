package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
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

func putEvidence(tx kv.Tx, r *envelope.Revocation) error {
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
	err = db.kv.View(func(tx kv.Tx) error {
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
	Doc   *record.Document
	Since time.Time
}

// Held lists the held documents, oldest first (at most limit; 0 is all).
func (db *DB) Held(ctx context.Context, limit int) ([]HeldDoc, error) {
	var out []HeldDoc
	err := db.kv.View(func(tx kv.Tx) error {
		docs := tx.Bucket(bDocs)
		return tx.Bucket(bHeld).ForEach(func(k, v []byte) error {
			var d record.Document
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
	err := db.kv.View(func(tx kv.Tx) error {
		n = tx.Bucket(bHeld).KeyN()
		return nil
	})
	return n, err
}

// takeHeld reads a held document inside tx and removes its held entry;
// ErrConflict when it is no longer held (released or refused already).
func takeHeld(tx kv.Tx, id string) (*record.Document, error) {
	idb := []byte(id)
	if tx.Bucket(bHeld).Get(idb) == nil {
		return nil, fmt.Errorf("%w: %s is not held", ErrConflict, id)
	}
	var d record.Document
	if err := getJSON(tx.Bucket(bDocs), idb, &d); err != nil {
		return nil, err
	}
	return &d, tx.Bucket(bHeld).Delete(idb)
}

// decide ends a held document inside one transaction: its held entry goes,
// the evidence of rev (the status now established) is kept, and then does
// the rest (release or refusal) on the record before it is written.
func (db *DB) decide(ctx context.Context, id string, rev *envelope.Revocation, at time.Time, then func(tx kv.Tx, d *record.Document) error) (*record.Document, error) {
	var out *record.Document
	err := db.batch(ctx, func(tx kv.Tx) error {
		d, err := takeHeld(tx, id)
		if err != nil {
			return err
		}
		if err := putEvidence(tx, rev); err != nil {
			return err
		}
		d.DecidedAt = at.UTC()
		if rev != nil {
			d.Revocation = rev
		}
		if err := then(tx, d); err != nil {
			return err
		}
		out = d
		return putJSON(tx.Bucket(bDocs), []byte(id), d)
	})
	return out, err
}

// Release routes a held document as its intake would have (rev is the
// status now established, whose evidence is kept), in one transaction.
func (db *DB) Release(ctx context.Context, id string, rev *envelope.Revocation, at time.Time) (*record.Document, error) {
	return db.decide(ctx, id, rev, at, func(tx kv.Tx, d *record.Document) error {
		routes := d.Pending
		d.State, d.Pending, d.Recipients = "", nil, routes
		if err := appendEvent(tx, record.Event{At: at, DocID: id, OrganID: d.From, Type: EventReleased,
			Detail: "revocation status established:" + revocationDetail(rev)}); err != nil {
			return err
		}
		return routeDoc(tx, d, routes, at)
	})
}

// Notice is a status message the hub itself made (the refusal of a held
// envelope), routed to one recipient: its bytes (signed with the hub key
// where it has one) and what they say. It goes through no verification,
// being the hub's own words.
type Notice struct {
	Raw     []byte
	Message *envelope.Message
	Route   record.Route
}

// Refuse ends a held document: it is kept (its bytes and trace are
// evidence) but never routed; its state says why. The notice, when given,
// is stored and routed in the same transaction (a crash cannot keep the
// refusal and lose the sender's notice of it).
func (db *DB) Refuse(ctx context.Context, id, code, detail string, rev *envelope.Revocation, at time.Time, notice *Notice) (*record.Document, error) {
	return db.decide(ctx, id, rev, at, func(tx kv.Tx, d *record.Document) error {
		d.State, d.RefusedCode, d.RefusedDetail = StateRefused, code, detail
		if err := appendEvent(tx, record.Event{At: at, DocID: id, OrganID: d.From, Type: EventRefused, Detail: code + ": " + detail}); err != nil {
			return err
		}
		if notice == nil {
			return nil
		}
		_, err := putNotice(tx, notice, id, at)
		return err
	})
}

// putNotice stores a notice answering doc id respondsTo, inside tx.
func putNotice(tx kv.Tx, n *Notice, respondsTo string, at time.Time) (*record.Document, error) {
	sum := sha256.Sum256(n.Raw)
	doc := &record.Document{
		ID: DocIDFor(sum), SHA256: hex.EncodeToString(sum[:]), Size: len(n.Raw), Kind: string(envelope.KindStatus),
		From: n.Message.From.OrganID, StatusCode: n.Message.StatusCode, RespondsTo: respondsTo, Recipients: []record.Route{n.Route},
		ReceivedAt: at.UTC(), Signer: "hub", To: []string{n.Route.OrganID},
	}
	d, _, err := putDoc(tx, doc, sum, n.Raw, "hub", nil, doc.Recipients, at, "")
	return d, err
}
