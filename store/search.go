package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/record"
)

// Search: the folded notation, Subject-word and day indexes written at
// intake, the sender and recipient day indexes, and the query over them.

// vietFold maps every Vietnamese letter with diacritics (lower case) to its
// base letter.
var vietFold = func() map[rune]rune {
	m := map[rune]rune{'đ': 'd'}
	for base, forms := range map[rune]string{
		'a': "àáảãạăằắẳẵặâầấẩẫậ",
		'e': "èéẻẽẹêềếểễệ",
		'i': "ìíỉĩị",
		'o': "òóỏõọôồốổỗộơờớởỡợ",
		'u': "ùúủũụưừứửữự",
		'y': "ỳýỷỹỵ",
	} {
		for _, r := range forms {
			m[r] = base
		}
	}
	return m
}()

// Fold lower-cases s and removes Vietnamese diacritics (precomposed or as
// combining marks), so "Công văn" and "cong van" compare equal.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if unicode.Is(unicode.Mn, r) {
			continue // a combining mark of a decomposed letter
		}
		if f, ok := vietFold[r]; ok {
			r = f
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maxWords bounds the words indexed per Subject.
const maxWords = 48

// Words returns the distinct folded words of s (letters and digits), in
// order, as the Subject index holds them.
func Words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) > 64 {
			w = w[:64]
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == maxWords {
			break
		}
	}
	return out
}

// FoldCode is a notation ("15/UBND-VP") as the notation index holds it.
func FoldCode(code string) string {
	return strings.Join(strings.Fields(Fold(code)), "")
}

// indexDoc adds a new document to the search indexes.
func indexDoc(tx kv.Tx, d *record.Document) error {
	idb, seq := []byte(d.ID), u64(d.Seq)
	byDay := tx.Bucket(bByDay)
	kv.FillPercent(byDay, 1.0) // appended in order
	if err := byDay.Put(key([]byte(Day(d.ReceivedAt)), seq), idb); err != nil {
		return err
	}
	if c := FoldCode(d.Code); c != "" {
		if err := tx.Bucket(bByCode).Put(key([]byte(c), seq), idb); err != nil {
			return err
		}
	}
	for _, w := range Words(d.Subject) {
		if err := tx.Bucket(bByWord).Put(key([]byte(w), seq), idb); err != nil {
			return err
		}
	}
	if d.DueDate != "" {
		if err := tx.Bucket(bByDue).Put(key([]byte(d.DueDate), seq), idb); err != nil {
			return err
		}
	}
	return nil
}

// Query selects documents. Empty fields do not filter. Days are
// Asia/Ho_Chi_Minh dates, inclusive.
type Query struct {
	Code    string // notation, e.g. "15/UBND-VP" (case, spaces and diacritics ignored)
	Subject string // words that must all occur in the Subject, diacritics ignored
	From    string // sender organ code
	To      string // recipient organ code
	Since   string // YYYY-MM-DD
	Until   string // YYYY-MM-DD
	Kind    string // document or status
	State   string // a delivery state some recipient is in (queued, delivered, acked_done, acked_fail, relaying, relayed, dead)
	Before  uint64 // cursor: only documents stored before this sequence
	Limit   int    // default 50, at most 500
}

// maxScan bounds one search's index walk.
const maxScan = 200_000

// Search answers q from the most selective index it can use (notation,
// then the longest Subject word, then sender or recipient by day, then
// day), newest first, filtering each candidate on every criterion.
func (db *DB) Search(ctx context.Context, q Query) (*record.SearchResult, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	words := Words(q.Subject)
	code := FoldCode(q.Code)
	res := &record.SearchResult{Docs: []record.Document{}}
	err := db.kv.View(func(tx kv.Tx) error {
		var bucket, prefix []byte
		dayAt := -1 // where the day sits in the key, for the index walks that are by day
		// The driving index, most selective first: a notation is nearly
		// unique; one agency's mail is a few thousand a year; a Subject
		// word can be in a third of everything. The other notation and
		// word criteria are checked on the index keys (a Get each) before
		// a candidate's record is read.
		switch {
		case code != "":
			bucket, prefix = bByCode, key([]byte(code), nil)
		case q.From != "":
			bucket, prefix, dayAt = bBySender, key([]byte(q.From), nil), len(q.From)+1
		case q.To != "":
			bucket, prefix, dayAt = bByRecip, key([]byte(q.To), nil), len(q.To)+1
		case len(words) > 0:
			longest := slices.MaxFunc(words, func(a, b string) int { return len(a) - len(b) })
			bucket, prefix = bByWord, key([]byte(longest), nil)
		default:
			bucket, prefix, dayAt = bByDay, nil, 0
		}
		byCode, byWord := tx.Bucket(bByCode), tx.Bucket(bByWord)
		onKeys := func(seq []byte) bool {
			if code != "" && !bytes.Equal(bucket, bByCode) && byCode.Get(key([]byte(code), seq)) == nil {
				return false
			}
			for _, w := range words {
				if byWord.Get(key([]byte(w), seq)) == nil {
					return false
				}
			}
			return true
		}
		docs := tx.Bucket(bDocs)
		c := tx.Bucket(bucket).Cursor()
		k, v := seekLast(c, prefix)
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(k) < 8 {
				continue
			}
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			if q.Before != 0 && seq >= q.Before {
				continue
			}
			if dayAt >= 0 && len(k) >= dayAt+10 {
				day := string(k[dayAt : dayAt+10])
				if q.Until != "" && day > q.Until {
					continue
				}
				if q.Since != "" && day < q.Since {
					break // older days only from here on
				}
			}
			if res.Scanned++; res.Scanned > maxScan {
				res.Truncated = true
				break
			}
			if !onKeys(k[len(k)-8:]) {
				continue
			}
			var d record.Document
			if err := getJSON(docs, v, &d); err != nil {
				return fmt.Errorf("%w: index %s entry %x: %v", ErrCorrupt, bucket, k, err)
			}
			if !matches(tx, &d, q, code, words) {
				continue
			}
			if len(res.Docs) == q.Limit {
				res.Next = res.Docs[len(res.Docs)-1].Seq
				break
			}
			res.Docs = append(res.Docs, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// seekLast positions c on the last key with prefix (or where it would be).
func seekLast(c kv.Cursor, prefix []byte) ([]byte, []byte) {
	if len(prefix) == 0 {
		return c.Last()
	}
	upper := bytes.Clone(prefix)
	upper[len(upper)-1]++ // prefix ends with the \x00 separator
	if k, _ := c.Seek(upper); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func matches(tx kv.Tx, d *record.Document, q Query, code string, words []string) bool {
	if code != "" && FoldCode(d.Code) != code {
		return false
	}
	if len(words) > 0 {
		have := Words(d.Subject)
		for _, w := range words {
			if !slices.Contains(have, w) {
				return false
			}
		}
	}
	if q.From != "" && d.From != q.From {
		return false
	}
	if q.To != "" && !slices.ContainsFunc(d.Recipients, func(r record.Route) bool { return r.OrganID == q.To }) {
		return false
	}
	if q.Kind != "" && d.Kind != q.Kind {
		return false
	}
	day := Day(d.ReceivedAt)
	if (q.Since != "" && day < q.Since) || (q.Until != "" && day > q.Until) {
		return false
	}
	if q.State != "" {
		found := false
		for _, r := range d.Recipients {
			var dl record.Delivery
			if getJSON(tx.Bucket(bDeliveries), key([]byte(d.ID), []byte(r.OrganID)), &dl) == nil && dl.State == q.State {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// SentOn lists the ids of the documents organ sent on day (YYYY-MM-DD,
// Asia/Ho_Chi_Minh), oldest first, at most limit.
func (db *DB) SentOn(ctx context.Context, organ, day string, limit int) ([]string, error) {
	var out []string
	prefix := key([]byte(organ), []byte(day), nil)
	err := db.kv.View(func(tx kv.Tx) error {
		c := tx.Bucket(bBySender).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			out = append(out, string(v))
		}
		return nil
	})
	return out, err
}
