package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

// TestChainHashBytes: ChainHash hashes exactly the lines it always hashed
// (the fmt form it had, kept here as the reference), so event logs written
// before it was rewritten without fmt still verify.
func TestChainHashBytes(t *testing.T) {
	at := time.Date(2026, 6, 1, 9, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	for _, e := range []Event{
		{},
		{Seq: 1, At: at, DocID: "d1", OrganID: "000.00.11.H40", Type: "queued", Detail: "local", Prev: ""},
		{Seq: 18446744073709551615, At: at.Truncate(time.Second), DocID: "x\ny", Type: "received", Detail: `sha256=ab size=1 via="p"`, Prev: "ff00"},
		{Seq: 42, At: time.Unix(0, 0), OrganID: "Hà Nội", Type: "status", Detail: "ý kiến\n"},
	} {
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%d\n%s\n%s\n%s\n%s\n%s", e.Prev, e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.DocID, e.OrganID, e.Type, e.Detail)
		if want, got := hex.EncodeToString(h.Sum(nil)), e.ChainHash(); got != want {
			t.Errorf("%+v: ChainHash %s, want %s", e, got, want)
		}
	}
}
