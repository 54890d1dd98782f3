package tsa

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axis-h40/axis/store/record"
)

// CheckAnchor is the one check of an anchored event of the chain (its
// Detail a record.Anchor), for the store's walk and the archive verifier
// alike: it names an earlier event, its token verifies over that event's
// hash (against roots when not nil), and hashOf, which gives an earlier
// event's hash as held (false when it is not: archived, or outside an
// archive's segment), still gives that hash.
func CheckAnchor(e *record.Event, roots *x509.CertPool, hashOf func(uint64) (string, bool)) (*record.AnchorSummary, error) {
	var a record.Anchor
	if err := json.Unmarshal([]byte(e.Detail), &a); err != nil {
		return nil, fmt.Errorf("anchor unreadable: %v", err)
	}
	if a.Seq >= e.Seq {
		return nil, fmt.Errorf("anchor names event %d, not an earlier one", a.Seq)
	}
	digest, err := hex.DecodeString(a.Hash)
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("anchor's hash %q is not a SHA-256", a.Hash)
	}
	tok, err := Verify(a.TSR, digest, roots)
	if err != nil {
		return nil, fmt.Errorf("anchor of event %d: %v", a.Seq, err)
	}
	if h, ok := hashOf(a.Seq); ok && h != a.Hash {
		return nil, fmt.Errorf("anchor no longer matches: the token of %s fixes event %d's hash as %s, the chain now has %s (an event up to %d was changed after it was anchored)",
			tok.Time.Format(time.RFC3339), a.Seq, a.Hash, h, a.Seq)
	}
	return &record.AnchorSummary{EventSeq: e.Seq, Seq: a.Seq, Hash: a.Hash, Time: tok.Time, Signer: tok.Signer}, nil
}
