package store

import (
	"bytes"
	"context"

	"github.com/axis-h40/axis/store/kv"
)

// DayVolume is one day's traffic: the documents the hub stored that day,
// or, for one organ, what it sent and what was addressed to it.
type DayVolume struct {
	Day                       string
	Documents, Sent, Received int
}

// Volume counts each of days (YYYY-MM-DD) in one read: with organ "" the
// documents stored (by_day), else what organ sent (by_sender) and received
// (by_recipient). It reads one index key per document counted.
func (db *DB) Volume(ctx context.Context, organ string, days []string) ([]DayVolume, error) {
	out := make([]DayVolume, len(days))
	err := db.kv.View(func(tx kv.Tx) error {
		count := func(b kv.Bucket, prefix []byte) int {
			n := 0
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				n++
			}
			return n
		}
		for i, day := range days {
			out[i].Day = day
			if organ == "" {
				out[i].Documents = count(tx.Bucket(bByDay), key([]byte(day), nil))
			} else {
				p := key([]byte(organ), []byte(day), nil)
				out[i].Sent, out[i].Received = count(tx.Bucket(bBySender), p), count(tx.Bucket(bByRecip), p)
				out[i].Documents = out[i].Sent + out[i].Received
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
