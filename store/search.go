package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/axis-h40/axis/envelope"
	bolt "go.etcd.io/bbolt"
)

// Search indexes (schema 3). Every key ends with the document's 8-byte
// sequence, so a prefix read backwards lists newest first and a cursor is a
// sequence number.
var (
	bByCode   = []byte("by_code")  // folded notation \x00 seq → doc id
	bByWord   = []byte("by_word")  // folded Subject word \x00 seq → doc id
	bByDay    = []byte("by_day")   // day \x00 seq → doc id
	bActivity = []byte("activity") // organ → Activity JSON (last fetch, last ack)
)

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
func indexDoc(tx *bolt.Tx, d *Document) error {
	idb, seq := []byte(d.ID), u64(d.Seq)
	byDay := tx.Bucket(bByDay)
	byDay.FillPercent = 1.0 // appended in order
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
	return nil
}

// migrate2to3 builds the search indexes of a schema-2 store.
func migrate2to3(tx *bolt.Tx) error {
	return tx.Bucket(bDocs).ForEach(func(k, v []byte) error {
		var d Document
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("%w: doc %s: %v", ErrCorrupt, k, err)
		}
		return indexDoc(tx, &d)
	})
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

// SearchResult is one page of matches, newest first.
type SearchResult struct {
	Docs []Document `json:"documents"`
	// Next is the cursor of the next page (Query.Before), 0 when this was
	// the last.
	Next uint64 `json:"next,omitempty"`
	// Scanned counts the index entries looked at; Truncated is set when the
	// scan stopped at maxScan before filling the page (narrow the query).
	Scanned   int  `json:"scanned"`
	Truncated bool `json:"truncated,omitempty"`
}

// maxScan bounds one search's index walk.
const maxScan = 200_000

// Search answers q from the most selective index it can use (notation,
// then the longest Subject word, then sender or recipient by day, then
// day), newest first, filtering each candidate on every criterion.
func (db *DB) Search(ctx context.Context, q Query) (*SearchResult, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	words := Words(q.Subject)
	code := FoldCode(q.Code)
	res := &SearchResult{Docs: []Document{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
			var d Document
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
func seekLast(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
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

func matches(tx *bolt.Tx, d *Document, q Query, code string, words []string) bool {
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
	if q.To != "" && !slices.ContainsFunc(d.Recipients, func(r Route) bool { return r.OrganID == q.To }) {
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
			var dl Delivery
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

// Activity is when an agency last fetched and last acknowledged.
type Activity struct {
	LastFetch time.Time `json:"last_fetch,omitzero"`
	LastAck   time.Time `json:"last_ack,omitzero"`
}

func touchActivity(tx *bolt.Tx, organ string, fetch, ack time.Time) error {
	b := tx.Bucket(bActivity)
	var a Activity
	_ = getJSON(b, []byte(organ), &a)
	if !fetch.IsZero() {
		a.LastFetch = fetch.UTC()
	}
	if !ack.IsZero() {
		a.LastAck = ack.UTC()
	}
	return putJSON(b, []byte(organ), &a)
}

// ActivityOf returns an agency's last fetch and ack (zero times when never).
func (db *DB) ActivityOf(ctx context.Context, organ string) (Activity, error) {
	var a Activity
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bActivity), []byte(organ), &a); err != nil && err != ErrNotFound {
			return err
		}
		return nil
	})
	return a, err
}

// StuckItem is one delivery or relay that has waited longer than it should.
type StuckItem struct {
	DocID     string    `json:"doc_id"`
	OrganID   string    `json:"organ_id"`
	Peer      string    `json:"peer,omitempty"`
	Reason    string    `json:"reason"` // not_fetched, not_acked, relay_retrying, relay_dead, held
	Since     time.Time `json:"since"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"` // held: why the certificate's status is unknown
	From      string    `json:"from"`
	Code      string    `json:"code,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	// A held envelope is one item (OrganID empty): Pending are the
	// recipients it goes to once released; Cert and CertSerial the first
	// certificate of the signer's chain whose revocation status is unknown.
	Pending    []string `json:"pending,omitempty"`
	Cert       string   `json:"cert,omitempty"`
	CertSerial string   `json:"cert_serial,omitempty"`
}

// SLA is how long a delivery or relay may wait before it is stuck.
type SLA struct {
	Fetch time.Duration // queued, not fetched
	Ack   time.Duration // fetched (or pushed), not acked
	Relay time.Duration // waiting in an outbox
}

// Stuck lists, up to limit, every dead relay, then every held envelope
// (oldest first: it reaches no recipient until its signer's revocation
// status is decided), then the outbox entries
// waiting longer than the relay SLA, then (oldest first per queue) the
// local deliveries not fetched or not acked within the SLA: the most
// actionable first, so a cap never hides a dead relay behind a slow reader. Queues and outboxes are
// FIFO by arrival, so each is read from its head only as far as entries are
// old enough: the cost is the stuck items plus one per queue.
func (db *DB) Stuck(ctx context.Context, now time.Time, sla SLA, limit int) ([]StuckItem, error) {
	out := []StuckItem{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		docs, dls := tx.Bucket(bDocs), tx.Bucket(bDeliveries)
		item := func(d *Document, organ, peer, reason string, since time.Time) StuckItem {
			it := StuckItem{DocID: d.ID, OrganID: organ, Peer: peer, Reason: reason, Since: since, From: d.From, Code: d.Code, Subject: d.Subject}
			var dl Delivery
			if getJSON(dls, key([]byte(d.ID), []byte(organ)), &dl) == nil {
				it.State, it.Attempts, it.LastError = dl.State, dl.Attempts, dl.LastError
			}
			return it
		}
		for _, list := range []struct {
			bucket []byte
			reason string
		}{{bDead, "relay_dead"}, {bHeld, "held"}, {bOutboxes, "relay_retrying"}} {
			if list.reason == "held" {
				held, err := stuckHeld(tx, limit-len(out))
				if err != nil {
					return err
				}
				out = append(out, held...)
				continue
			}
			err := tx.Bucket(list.bucket).ForEachBucket(func(peer []byte) error {
				c := tx.Bucket(list.bucket).Bucket(peer).Cursor()
				for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
					var e OutboxEntry
					if err := json.Unmarshal(v, &e); err != nil {
						return fmt.Errorf("%w: %s %s: %v", ErrCorrupt, list.bucket, peer, err)
					}
					if list.reason == "relay_retrying" && now.Sub(e.Created) <= sla.Relay {
						break
					}
					var d Document
					if err := getJSON(docs, []byte(e.DocID), &d); err != nil {
						return fmt.Errorf("%w: %s %s: %v", ErrCorrupt, list.bucket, peer, err)
					}
					for _, o := range e.Organs {
						out = append(out, item(&d, o, string(peer), list.reason, e.Created))
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		oldest := now.Add(-min(sla.Fetch, sla.Ack))
		err := tx.Bucket(bQueues).ForEachBucket(func(organ []byte) error {
			c := tx.Bucket(bQueues).Bucket(organ).Cursor()
			for k, id := c.First(); k != nil && len(out) < limit; k, id = c.Next() {
				var d Document
				if err := getJSON(docs, id, &d); err != nil {
					return fmt.Errorf("%w: queue %s: %v", ErrCorrupt, organ, err)
				}
				if d.ReceivedAt.After(oldest) {
					break
				}
				it := item(&d, string(organ), "", "", d.ReceivedAt)
				switch {
				case it.State == StateQueued && now.Sub(d.ReceivedAt) > sla.Fetch:
					it.Reason = "not_fetched"
				case it.State == StateDelivered && now.Sub(d.ReceivedAt) > sla.Ack:
					it.Reason = "not_acked"
				default:
					continue
				}
				out = append(out, it)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return nil
	})
	return out, err
}

// stuckHeld lists, oldest first and at most limit, the held envelopes,
// one item each (reason held) since they were held, with the certificate
// whose revocation status is unknown and why. The held index is keyed by
// doc id: its entries (a time each) are read and sorted, and only the
// items kept read their document.
func stuckHeld(tx *bolt.Tx, limit int) ([]StuckItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	type entry struct {
		id    string
		since time.Time
	}
	var held []entry
	err := tx.Bucket(bHeld).ForEach(func(k, v []byte) error {
		since, _ := time.Parse(time.RFC3339Nano, string(v))
		held = append(held, entry{string(k), since})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(held, func(a, b entry) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := []StuckItem{}
	docs := tx.Bucket(bDocs)
	for _, e := range held[:min(limit, len(held))] {
		var d Document
		if err := getJSON(docs, []byte(e.id), &d); err != nil {
			return nil, fmt.Errorf("%w: held %s: %v", ErrCorrupt, e.id, err)
		}
		it := StuckItem{DocID: d.ID, Reason: "held", Since: e.since, State: d.State, From: d.From, Code: d.Code, Subject: d.Subject}
		for _, r := range d.Pending {
			if !slices.Contains(it.Pending, r.OrganID) {
				it.Pending = append(it.Pending, r.OrganID)
			}
		}
		if d.Revocation != nil {
			for _, c := range d.Revocation.Certs {
				if c.Status == envelope.StatusUnknown {
					it.Cert, it.CertSerial, it.LastError = c.Subject, c.Serial, c.Reason
					break
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// DayStats is one agency's traffic on one day.
type DayStats struct {
	OrganID   string `json:"organ_id"`
	Sent      int    `json:"sent"`
	Received  int    `json:"received"`
	Fetched   int    `json:"fetched"` // of those received: delivered or acked
	AckedDone int    `json:"acked_done"`
	AckedFail int    `json:"acked_fail"`
	Pending   int    `json:"pending"` // queued or delivered, not acked
	Relayed   int    `json:"relayed"` // of those received: handed to a peer
	Relaying  int    `json:"relaying"`
	Dead      int    `json:"dead"`
}

// Stats counts, for day, what each organ (or only those named) sent and
// what was addressed to it here (local deliveries and relays), from the
// sender and recipient day indexes.
func (db *DB) Stats(ctx context.Context, day string, only ...string) (map[string]*DayStats, error) {
	out := map[string]*DayStats{}
	get := func(o string) *DayStats {
		s := out[o]
		if s == nil {
			s = &DayStats{OrganID: o}
			out[o] = s
		}
		return s
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		dls := tx.Bucket(bDeliveries)
		for _, b := range [][]byte{bBySender, bByRecip} {
			each := func(organ []byte) error {
				prefix := key(organ, []byte(day), nil)
				c := tx.Bucket(b).Cursor()
				for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
					s := get(string(organ))
					if bytes.Equal(b, bBySender) {
						s.Sent++
						continue
					}
					s.Received++
					var dl Delivery
					if err := getJSON(dls, key(id, organ), &dl); err != nil {
						continue
					}
					switch dl.State {
					case StateQueued:
						s.Pending++
					case StateDelivered:
						s.Fetched++
						s.Pending++
					case StateAckedDone:
						s.Fetched++
						s.AckedDone++
					case StateAckedFail:
						s.Fetched++
						s.AckedFail++
					case StateRelayed:
						s.Relayed++
					case StateRelaying:
						s.Relaying++
					case StateDead:
						s.Dead++
					}
				}
				return ctx.Err()
			}
			var err error
			if len(only) == 0 {
				err = forEachOrgan(tx.Bucket(b), each)
			}
			for _, o := range only {
				if err = each([]byte(o)); err != nil {
					break
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// forEachOrgan calls fn once per distinct organ prefix of an organ-first
// index, skipping over each organ's keys with one seek.
func forEachOrgan(b *bolt.Bucket, fn func(organ []byte) error) error {
	c := b.Cursor()
	for k, _ := c.First(); k != nil; {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			k, _ = c.Next()
			continue
		}
		organ := bytes.Clone(k[:i])
		if err := fn(organ); err != nil {
			return err
		}
		k, _ = c.Seek(append(bytes.Clone(organ), 1))
	}
	return nil
}

// DayCount is the number of documents stored on day.
func (db *DB) DayCount(ctx context.Context, day string) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := key([]byte(day), nil)
		c := tx.Bucket(bByDay).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}
