// Package kvtest is the conformance suite of store/kv: Run holds an
// engine to the contract the store relies on (bbolt's model: nested
// buckets, ordered keys, cursors, sequences, one snapshot per read
// transaction, all or nothing per write transaction), so that every engine
// runs the store's logic the same.
//
// What the suite does not ask, because bbolt itself does it differently
// or not at all and the store must not rely on it: where a cursor that
// ran off one end lands when moved back, what a transaction reads after
// Put(k, nil), and KeyN after writes in the same transaction (bbolt counts
// the committed keys).
package kvtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/store/kv"
)

// Run runs the suite; open makes a fresh, empty engine for one subtest
// (and closes it at the subtest's end). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, kv.DB)
	}{
		{"Buckets", testBuckets},
		{"BucketsSameTx", testBucketsSameTx},
		{"GetPutDelete", testGetPutDelete},
		{"EmptyValues", testEmptyValues},
		{"Order", testOrder},
		{"CursorEnds", testCursorEnds},
		{"CursorDirection", testCursorDirection},
		{"LongWalk", testLongWalk},
		{"RandomWalk", testRandomWalk},
		{"OwnWrites", testOwnWrites},
		{"DeleteWhileWalking", testDeleteWhileWalking},
		{"Sequences", testSequences},
		{"Rollback", testRollback},
		{"Snapshot", testSnapshot},
		{"ForEachBucketOrder", testForEachBucketOrder},
		{"KeyN", testKeyN},
		{"ReadOnly", testReadOnly},
		{"Errors", testErrors},
		{"Copy", func(t *testing.T, db kv.DB) { testCopy(t, db, open(t)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

func update(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// bucket creates (or opens) the bucket at path.
func bucket(tx kv.Tx, path ...string) (kv.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(path[0]))
	for _, n := range path[1:] {
		if err != nil {
			return nil, err
		}
		b, err = b.CreateBucketIfNotExists([]byte(n))
	}
	return b, err
}

// lookup finds the bucket at path, nil when one of them is missing.
func lookup(tx kv.Tx, path ...string) kv.Bucket {
	b := tx.Bucket([]byte(path[0]))
	for _, n := range path[1:] {
		if b == nil {
			return nil
		}
		b = b.Bucket([]byte(n))
	}
	return b
}

func mustBucket(t *testing.T, tx kv.Tx, path ...string) kv.Bucket {
	t.Helper()
	b, err := bucket(tx, path...)
	if err != nil || b == nil {
		t.Fatalf("bucket %q: %v", path, err)
	}
	return b
}

func put(t *testing.T, b kv.Bucket, k, v string) {
	t.Helper()
	if err := b.Put([]byte(k), []byte(v)); err != nil {
		t.Fatalf("Put %q: %v", k, err)
	}
}

// keysOf walks a bucket forward with a cursor and backward, checks that
// both walks agree, and returns the keys as strings with their values.
func keysOf(t *testing.T, b kv.Bucket) []string {
	t.Helper()
	var fwd, back []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		fwd = append(fwd, string(k)+"="+string(v))
	}
	c = b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		back = append(back, string(k)+"="+string(v))
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, back) {
		t.Fatalf("forward walk %q, backward walk reversed %q", fwd, back)
	}
	var each []string
	if err := b.ForEach(func(k, v []byte) error {
		each = append(each, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatalf("ForEach: %v", err)
	}
	if !slices.Equal(fwd, each) {
		t.Fatalf("cursor walk %q, ForEach %q", fwd, each)
	}
	return fwd
}

func want(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func childNames(t *testing.T, each func(func([]byte) error) error) []string {
	t.Helper()
	var out []string
	if err := each(func(n []byte) error { out = append(out, string(n)); return nil }); err != nil {
		t.Fatalf("ForEachBucket: %v", err)
	}
	return out
}

func testBuckets(t *testing.T, db kv.DB) {
	view(t, db, func(tx kv.Tx) error {
		if tx.Bucket([]byte("a")) != nil {
			t.Fatal("a bucket in an empty engine")
		}
		if tx.Bucket(nil) != nil || tx.Bucket([]byte{}) != nil {
			t.Fatal("a bucket with no name")
		}
		want(t, "top-level buckets of an empty engine", childNames(t, tx.ForEachBucket), nil)
		return nil
	})
	// A bucket holds keys or nested buckets, never both (the kv
	// contract): a and a/b hold buckets only.
	update(t, db, func(tx kv.Tx) error {
		put(t, mustBucket(t, tx, "a", "b", "c"), "k", "a/b/c")
		put(t, mustBucket(t, tx, "a", "bb"), "k", "a/bb")
		// Length-prefixed segments: "ab" is not a/b, nor "a\x01b".
		put(t, mustBucket(t, tx, "ab"), "k", "ab")
		put(t, mustBucket(t, tx, "a\x01b"), "k", "a\\x01b")
		put(t, mustBucket(t, tx, "x", "b"), "k", "x/b")
		put(t, mustBucket(t, tx, "\x00", "\xff"), "k", "00/ff")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		for path, v := range map[string]string{"a/b/c": "a/b/c", "a/bb": "a/bb", "ab": "ab", "a\x01b": "a\\x01b", "x/b": "x/b", "\x00/\xff": "00/ff"} {
			b := lookup(tx, strings.Split(path, "/")...)
			if b == nil {
				t.Fatalf("bucket %q missing", path)
			}
			want(t, "keys of "+path, keysOf(t, b), []string{"k=" + v})
		}
		for _, path := range []string{"b", "a/c", "a/b/c/d", "a/k", "x/b/c", "\xff", "a/b/cc", "a/b/k"} {
			if lookup(tx, strings.Split(path, "/")...) != nil {
				t.Fatalf("bucket %q exists", path)
			}
		}
		want(t, "top level", childNames(t, tx.ForEachBucket), []string{"\x00", "a", "a\x01b", "ab", "x"})
		want(t, "a's", childNames(t, tx.Bucket([]byte("a")).ForEachBucket), []string{"b", "bb"})
		want(t, "a/b's", childNames(t, lookup(tx, "a", "b").ForEachBucket), []string{"c"})
		want(t, "a/b/c's", childNames(t, lookup(tx, "a", "b", "c").ForEachBucket), nil)
		return nil
	})
	// CreateBucketIfNotExists on an existing bucket opens it.
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "a", "b", "c")
		if got := string(b.Get([]byte("k"))); got != "a/b/c" {
			t.Fatalf("reopened a/b/c reads %q", got)
		}
		put(t, b, "k2", "v2")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		want(t, "a/b/c", keysOf(t, lookup(tx, "a", "b", "c")), []string{"k=a/b/c", "k2=v2"})
		return nil
	})
}

// Buckets created in a transaction are found by it before it commits.
func testBucketsSameTx(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		mustBucket(t, tx, "p")
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		if tx.Bucket([]byte("n")) != nil {
			t.Fatal("n before its creation")
		}
		n := mustBucket(t, tx, "n")
		if tx.Bucket([]byte("n")) == nil {
			t.Fatal("n not found in the transaction that created it")
		}
		c := mustBucket(t, tx, "n", "c")
		put(t, c, "k", "v")
		if got := lookup(tx, "n", "c"); got == nil || string(got.Get([]byte("k"))) != "v" {
			t.Fatal("n/c or its key not found in the same transaction")
		}
		mustBucket(t, tx, "p", "q")
		want(t, "top level in the creating tx", childNames(t, tx.ForEachBucket), []string{"n", "p"})
		want(t, "n's in the creating tx", childNames(t, n.ForEachBucket), []string{"c"})
		want(t, "p's in the creating tx", childNames(t, tx.Bucket([]byte("p")).ForEachBucket), []string{"q"})
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		want(t, "n/c", keysOf(t, lookup(tx, "n", "c")), []string{"k=v"})
		if lookup(tx, "p", "q") == nil {
			t.Fatal("p/q missing")
		}
		return nil
	})
}

func testGetPutDelete(t *testing.T, db kv.DB) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		if b.Get([]byte("k")) != nil {
			t.Fatal("a key in a new bucket")
		}
		put(t, b, "k", "v1")
		put(t, b, "k", "v2")
		put(t, b, "gone", "x")
		if err := b.Delete([]byte("gone")); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete([]byte("never")); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if err := b.Put([]byte("big"), big); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(nil, []byte("v")); err == nil {
			t.Fatal("Put with a nil key")
		}
		if err := b.Put([]byte{}, []byte("v")); err == nil {
			t.Fatal("Put with an empty key")
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if got := string(b.Get([]byte("k"))); got != "v2" {
			t.Fatalf("k = %q", got)
		}
		if b.Get([]byte("gone")) != nil || b.Get([]byte("never")) != nil || b.Get([]byte("K")) != nil {
			t.Fatal("a deleted or missing key read")
		}
		if got := b.Get([]byte("big")); !bytes.Equal(got, big) {
			t.Fatalf("big value: %d bytes back of %d", len(got), len(big))
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if err := b.Delete([]byte("k")); err != nil {
			t.Fatal(err)
		}
		put(t, b, "gone", "back")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b.Get([]byte("k")) != nil {
			t.Fatal("k after its deletion")
		}
		if got := string(b.Get([]byte("gone"))); got != "back" {
			t.Fatalf("gone = %q", got)
		}
		return nil
	})
}

// An empty value exists: Get returns a non-nil empty slice, and cursors
// and ForEach give it non-nil too.
func testEmptyValues(t *testing.T, db kv.DB) {
	check := func(b kv.Bucket, when string) {
		t.Helper()
		if v := b.Get([]byte("e")); v == nil || len(v) != 0 {
			t.Fatalf("%s: Get of an empty value = %#v, want non-nil and empty", when, v)
		}
		if b.Get([]byte("missing")) != nil {
			t.Fatalf("%s: Get of a missing key is not nil", when)
		}
		k, v := b.Cursor().Seek([]byte("e"))
		if string(k) != "e" || v == nil || len(v) != 0 {
			t.Fatalf("%s: Seek lands on %q %#v", when, k, v)
		}
		n := 0
		b.ForEach(func(k, v []byte) error {
			if string(k) == "e" {
				n++
				if v == nil || len(v) != 0 {
					t.Fatalf("%s: ForEach gives %#v", when, v)
				}
			}
			return nil
		})
		if n != 1 {
			t.Fatalf("%s: ForEach saw e %d times", when, n)
		}
	}
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		if err := b.Put([]byte("e"), []byte{}); err != nil {
			t.Fatal(err)
		}
		put(t, b, "f", "x")
		check(b, "same transaction")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		check(tx.Bucket([]byte("b")), "later View")
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		check(tx.Bucket([]byte("b")), "later Update")
		return nil
	})
}

// orderKeys are keys whose order bytes.Compare decides: 0x00 and 0xff
// bytes, prefixes of each other.
var orderKeys = [][]byte{
	{0x00}, {0x00, 0x00}, {0x00, 0x01}, {0x00, 0xff}, {0x01}, {0x7f}, {0x80}, {0x80, 0x00},
	{0xfe, 0xff}, {0xff}, {0xff, 0x00}, {0xff, 0xff}, {0xff, 0xff, 0xff},
	[]byte("a"), []byte("a\x00"), []byte("ab"), []byte("abc"), []byte("b"), []byte("B"),
}

func testOrder(t *testing.T, db kv.DB) {
	sorted := slices.Clone(orderKeys)
	slices.SortFunc(sorted, bytes.Compare)
	shuffled := slices.Clone(orderKeys)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "o")
		for _, k := range shuffled {
			if err := b.Put(k, append([]byte("v"), k...)); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("o"))
		var got [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(v, append([]byte("v"), k...)) {
				t.Fatalf("key %x has value %x", k, v)
			}
			got = append(got, k)
		}
		if !slices.EqualFunc(got, sorted, bytes.Equal) {
			t.Fatalf("order:\n got %x\nwant %x", got, sorted)
		}
		got = got[:0]
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			got = append(got, k)
		}
		slices.Reverse(got)
		if !slices.EqualFunc(got, sorted, bytes.Equal) {
			t.Fatalf("reverse order:\n got %x\nwant %x", got, sorted)
		}
		// Seek lands on the key or the first one after it.
		for _, s := range []struct{ seek, lands []byte }{
			{nil, []byte{0x00}},
			{[]byte{}, []byte{0x00}},
			{[]byte{0x00}, []byte{0x00}},
			{[]byte{0x00, 0x00, 0x00}, []byte{0x00, 0x01}},
			{[]byte{0x00, 0xff, 0x00}, []byte{0x01}},
			{[]byte{0x80, 0x00, 0x00}, []byte{0xfe, 0xff}},
			{[]byte{0x7f, 0x00}, []byte{0x80}},
			{[]byte("B\x00"), []byte("a")},
			{[]byte("a\x00\x00"), []byte("ab")},
			{[]byte("abcd"), []byte("b")},
			{[]byte{0xfe}, []byte{0xfe, 0xff}},
			{[]byte{0xff}, []byte{0xff}},
			{[]byte{0xff, 0x01}, []byte{0xff, 0xff}},
			{[]byte{0xff, 0xff, 0xff}, []byte{0xff, 0xff, 0xff}},
			{[]byte{0xff, 0xff, 0xff, 0x00}, nil},
		} {
			if k, _ := b.Cursor().Seek(s.seek); !bytes.Equal(k, s.lands) || (k == nil) != (s.lands == nil) {
				t.Errorf("Seek(%x) lands on %x, want %x", s.seek, k, s.lands)
			}
		}
		for _, k := range orderKeys {
			if !bytes.Equal(b.Get(k), append([]byte("v"), k...)) {
				t.Errorf("Get(%x) = %x", k, b.Get(k))
			}
		}
		if b.Get([]byte{0x00, 0x00, 0x00}) != nil || b.Get([]byte{0xff, 0xff, 0xff, 0xff}) != nil {
			t.Error("Get of an absent key that extends a present one")
		}
		return nil
	})
}

// move is one cursor move and where it must land ("" for nil).
type move struct {
	op   string // First Last Next Prev Seek:<key>
	want string
}

// vmoves is moves over keys whose values are "v" and the key.
func vmoves(t *testing.T, c kv.Cursor, ms []move) {
	t.Helper()
	walkMoves(t, c, ms, true)
}

func moves(t *testing.T, c kv.Cursor, ms []move) {
	t.Helper()
	walkMoves(t, c, ms, false)
}

func walkMoves(t *testing.T, c kv.Cursor, ms []move, values bool) {
	t.Helper()
	for i, m := range ms {
		var k, v []byte
		switch {
		case m.op == "First":
			k, v = c.First()
		case m.op == "Last":
			k, v = c.Last()
		case m.op == "Next":
			k, v = c.Next()
		case m.op == "Prev":
			k, v = c.Prev()
		case strings.HasPrefix(m.op, "Seek:"):
			k, v = c.Seek([]byte(strings.TrimPrefix(m.op, "Seek:")))
		default:
			t.Fatalf("bad move %q", m.op)
		}
		if string(k) != m.want || (k == nil) != (m.want == "") || (k == nil) != (v == nil) {
			t.Fatalf("move %d (%s): landed on %q (value %q), want %q", i, m.op, k, v, m.want)
		}
		if values && k != nil && string(v) != "v"+string(k) {
			t.Fatalf("move %d (%s): value %q for %q", i, m.op, v, k)
		}
	}
}

func testCursorEnds(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		mustBucket(t, tx, "empty")
		b := mustBucket(t, tx, "b")
		for _, k := range []string{"b", "d", "f"} {
			put(t, b, k, "v"+k)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		e := tx.Bucket([]byte("empty"))
		for _, op := range []string{"First", "Last", "Seek:a", "Next", "Prev"} {
			vmoves(t, e.Cursor(), []move{{op, ""}})
		}
		vmoves(t, e.Cursor(), []move{{"First", ""}, {"Next", ""}, {"Prev", ""}, {"Last", ""}, {"Prev", ""}, {"Next", ""}})

		b := tx.Bucket([]byte("b"))
		// An unpositioned cursor.
		vmoves(t, b.Cursor(), []move{{"Next", ""}})
		vmoves(t, b.Cursor(), []move{{"Prev", ""}})
		// Off the start, and off the end.
		vmoves(t, b.Cursor(), []move{{"First", "b"}, {"Prev", ""}, {"Prev", ""}})
		vmoves(t, b.Cursor(), []move{{"Last", "f"}, {"Next", ""}, {"Next", ""}})
		vmoves(t, b.Cursor(), []move{{"First", "b"}, {"Next", "d"}, {"Next", "f"}, {"Next", ""}})
		vmoves(t, b.Cursor(), []move{{"Last", "f"}, {"Prev", "d"}, {"Prev", "b"}, {"Prev", ""}})
		// Seek before, between, at, after.
		vmoves(t, b.Cursor(), []move{{"Seek:a", "b"}, {"Prev", ""}})
		vmoves(t, b.Cursor(), []move{{"Seek:c", "d"}, {"Prev", "b"}, {"Prev", ""}})
		vmoves(t, b.Cursor(), []move{{"Seek:d", "d"}, {"Next", "f"}, {"Next", ""}})
		vmoves(t, b.Cursor(), []move{{"Seek:f", "f"}, {"Next", ""}})
		vmoves(t, b.Cursor(), []move{{"Seek:z", ""}, {"Next", ""}})
		// Past the end, Prev lands on the last key.
		vmoves(t, b.Cursor(), []move{{"Seek:z", ""}, {"Prev", "f"}, {"Prev", "d"}})
		vmoves(t, b.Cursor(), []move{{"Seek:fa", ""}, {"Prev", "f"}})
		// Repositioning after having run off.
		vmoves(t, b.Cursor(), []move{{"Last", "f"}, {"Next", ""}, {"First", "b"}, {"Seek:e", "f"}, {"Seek:a", "b"}, {"Last", "f"}})
		return nil
	})
}

func testCursorDirection(t *testing.T, db kv.DB) {
	const n = 100 // several pages of any engine that pages
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "d")
		for i := range n {
			k := fmt.Sprintf("k%03d", i)
			put(t, b, k, "v"+k)
		}
		return nil
	})
	key := func(i int) string { return fmt.Sprintf("k%03d", i) }
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("d"))
		vmoves(t, b.Cursor(), []move{{"First", key(0)}, {"Next", key(1)}, {"Next", key(2)}, {"Prev", key(1)}, {"Prev", key(0)}, {"Next", key(1)}, {"Next", key(2)}, {"Next", key(3)}})
		vmoves(t, b.Cursor(), []move{{"Seek:k050", key(50)}, {"Prev", key(49)}, {"Next", key(50)}, {"Next", key(51)}, {"Prev", key(50)}, {"Prev", key(49)}})
		vmoves(t, b.Cursor(), []move{{"Last", key(99)}, {"Prev", key(98)}, {"Next", key(99)}, {"Next", ""}})

		// Zigzags across page boundaries: forward 40, back 70, forward 90.
		c := b.Cursor()
		pos := 0
		vmoves(t, c, []move{{"First", key(0)}})
		for _, leg := range []int{40, -30, 70, -65, 50} {
			var ms []move
			for range max(leg, -leg) {
				if leg > 0 {
					pos++
					ms = append(ms, move{"Next", key(pos)})
				} else {
					pos--
					ms = append(ms, move{"Prev", key(pos)})
				}
			}
			vmoves(t, c, ms)
		}
		return nil
	})
}

func be32(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

func testLongWalk(t *testing.T, db kv.DB) {
	const n = 2500
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "long")
		for i := range n {
			if err := b.Put(be32(i), be32(i*7)); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	check := func(tx kv.Tx) error {
		b := tx.Bucket([]byte("long"))
		i := 0
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, be32(i)) || !bytes.Equal(v, be32(i*7)) {
				t.Fatalf("forward step %d: %x %x", i, k, v)
			}
			i++
		}
		if i != n {
			t.Fatalf("forward walk: %d keys of %d", i, n)
		}
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			i--
			if !bytes.Equal(k, be32(i)) || !bytes.Equal(v, be32(i*7)) {
				t.Fatalf("backward step %d: %x %x", i, k, v)
			}
		}
		if i != 0 {
			t.Fatalf("backward walk stopped at %d", i)
		}
		// From the middle: 1000 forward, 1700 back (off the start).
		k, _ := c.Seek(be32(1234))
		if !bytes.Equal(k, be32(1234)) {
			t.Fatalf("Seek(1234) = %x", k)
		}
		for j := 1235; j < 2235; j++ {
			if k, _ := c.Next(); !bytes.Equal(k, be32(j)) {
				t.Fatalf("Next to %d: %x", j, k)
			}
		}
		for j := 2233; j >= 0; j-- {
			if k, _ := c.Prev(); !bytes.Equal(k, be32(j)) {
				t.Fatalf("Prev to %d: %x", j, k)
			}
		}
		if k, _ := c.Prev(); k != nil {
			t.Fatalf("Prev before the first: %x", k)
		}
		m := 0
		if err := b.ForEach(func(k, v []byte) error {
			if !bytes.Equal(k, be32(m)) {
				t.Fatalf("ForEach step %d: %x", m, k)
			}
			m++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if m != n || b.KeyN() != n {
			t.Fatalf("ForEach %d, KeyN %d, want %d", m, b.KeyN(), n)
		}
		return nil
	}
	view(t, db, check)
	update(t, db, check)
}

// A random walk of cursor moves over 3000 keys, checked against a model;
// after running off an end the cursor is repositioned (engines differ on
// where the next move lands there).
func testRandomWalk(t *testing.T, db kv.DB) {
	rng := rand.New(rand.NewPCG(1, 2))
	set := map[string]bool{}
	for len(set) < 3000 {
		k := make([]byte, 1+rng.IntN(3))
		for i := range k {
			k[i] = byte(rng.IntN(256))
		}
		set[string(k)] = true
	}
	var keys []string
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys) // string order is bytes.Compare order
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "r")
		for _, k := range keys {
			put(t, b, k, "v"+k)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("r")).Cursor()
		pos := -1 // -1: off an end or unpositioned
		for step := range 4000 {
			var k []byte
			var op string
			r := rng.IntN(100)
			switch {
			case pos < 0 || r < 2:
				switch rng.IntN(3) {
				case 0:
					op, pos = "First", 0
					k, _ = c.First()
				case 1:
					op, pos = "Last", len(keys)-1
					k, _ = c.Last()
				default:
					s := make([]byte, rng.IntN(4))
					for i := range s {
						s[i] = byte(rng.IntN(256))
					}
					op = fmt.Sprintf("Seek(%x)", s)
					pos, _ = slices.BinarySearch(keys, string(s))
					k, _ = c.Seek(s)
					if pos == len(keys) {
						pos = -1
					}
				}
			case r < 51:
				op = "Next"
				k, _ = c.Next()
				if pos++; pos == len(keys) {
					pos = -1
				}
			default:
				op = "Prev"
				k, _ = c.Prev()
				pos--
			}
			if pos < 0 {
				if k != nil {
					t.Fatalf("step %d %s: landed on %x, want nil", step, op, k)
				}
				continue
			}
			if string(k) != keys[pos] {
				t.Fatalf("step %d %s: landed on %x, want %x", step, op, k, keys[pos])
			}
		}
		return nil
	})
}

// A transaction reads its own writes, before it commits: Get, cursors,
// ForEach.
func testOwnWrites(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "w")
		for _, k := range []string{"a", "c", "e", "g"} {
			put(t, b, k, "old")
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("w"))
		want(t, "before", keysOf(t, b), []string{"a=old", "c=old", "e=old", "g=old"})
		put(t, b, "b", "new")
		if got := string(b.Get([]byte("b"))); got != "new" {
			t.Fatalf("Get after Put: %q", got)
		}
		put(t, b, "c", "changed")
		if err := b.Delete([]byte("e")); err != nil {
			t.Fatal(err)
		}
		put(t, b, "h", "new")
		put(t, b, "0", "new")
		want(t, "after writes", keysOf(t, b), []string{"0=new", "a=old", "b=new", "c=changed", "g=old", "h=new"})
		if b.Get([]byte("e")) != nil {
			t.Fatal("Get of a key deleted in this transaction")
		}
		moves(t, b.Cursor(), []move{{"Seek:d", "g"}, {"Prev", "c"}})
		moves(t, b.Cursor(), []move{{"Seek:e", "g"}, {"Prev", "c"}, {"Prev", "b"}})
		moves(t, b.Cursor(), []move{{"Seek:b", "b"}, {"Next", "c"}, {"Next", "g"}, {"Next", "h"}, {"Next", ""}})
		// Put then Delete, Delete then Put.
		put(t, b, "x", "v")
		b.Delete([]byte("x"))
		b.Delete([]byte("a"))
		put(t, b, "a", "again")
		if b.Get([]byte("x")) != nil || string(b.Get([]byte("a"))) != "again" {
			t.Fatal("Put+Delete or Delete+Put read wrong")
		}
		want(t, "after more writes", keysOf(t, b), []string{"0=new", "a=again", "b=new", "c=changed", "g=old", "h=new"})
		// Writes between cursor moves are seen by the next move.
		c := b.Cursor()
		moves(t, c, []move{{"First", "0"}})
		put(t, b, "00", "v00")
		b.Delete([]byte("a"))
		if k, v := c.Next(); string(k) != "00" || string(v) != "v00" {
			t.Fatalf("Next after writes: %q %q", k, v)
		}
		if k, _ := c.Next(); string(k) != "b" {
			t.Fatalf("Next over a key deleted since: %q", k)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		want(t, "committed", keysOf(t, tx.Bucket([]byte("w"))), []string{"0=new", "00=v00", "b=new", "c=changed", "g=old", "h=new"})
		return nil
	})
}

// Deleting each key as the walk reaches it visits every key once.
func testDeleteWhileWalking(t *testing.T, db kv.DB) {
	const n = 1000
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "dw")
		for i := range n {
			if err := b.Put(be32(i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("dw"))
		c := b.Cursor()
		i := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if !bytes.Equal(k, be32(i)) {
				t.Fatalf("step %d: %x", i, k)
			}
			if i%2 == 0 {
				if err := b.Delete(k); err != nil {
					t.Fatal(err)
				}
			}
			i++
		}
		if i != n {
			t.Fatalf("visited %d of %d", i, n)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("dw"))
		if got := b.KeyN(); got != n/2 {
			t.Fatalf("KeyN %d, want %d", got, n/2)
		}
		if k, _ := b.Cursor().First(); !bytes.Equal(k, be32(1)) {
			t.Fatalf("first key left %x", k)
		}
		return nil
	})
}

func testSequences(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		a, c := mustBucket(t, tx, "a"), mustBucket(t, tx, "a", "c")
		if a.Sequence() != 0 || c.Sequence() != 0 {
			t.Fatalf("new buckets' sequences %d %d", a.Sequence(), c.Sequence())
		}
		for want := uint64(1); want <= 3; want++ {
			if got, err := a.NextSequence(); err != nil || got != want {
				t.Fatalf("NextSequence = %d, %v; want %d", got, err, want)
			}
		}
		if a.Sequence() != 3 || tx.Bucket([]byte("a")).Sequence() != 3 {
			t.Fatalf("Sequence after three: %d", a.Sequence())
		}
		if got, _ := c.NextSequence(); got != 1 {
			t.Fatalf("nested bucket's first NextSequence %d", got)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("a")).Sequence(); got != 3 {
			t.Fatalf("committed sequence %d, want 3", got)
		}
		if got := lookup(tx, "a", "c").Sequence(); got != 1 {
			t.Fatalf("nested committed sequence %d, want 1", got)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		a := tx.Bucket([]byte("a"))
		if got, _ := a.NextSequence(); got != 4 {
			t.Fatalf("NextSequence in a later transaction %d, want 4", got)
		}
		if err := a.SetSequence(100); err != nil {
			t.Fatal(err)
		}
		if a.Sequence() != 100 {
			t.Fatalf("Sequence after SetSequence %d", a.Sequence())
		}
		if got, _ := a.NextSequence(); got != 101 {
			t.Fatalf("NextSequence after SetSequence(100) %d", got)
		}
		big := mustBucket(t, tx, "big")
		if err := big.SetSequence(1<<63 + 5); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("a")).Sequence(); got != 101 {
			t.Fatalf("sequence %d, want 101", got)
		}
		if got := tx.Bucket([]byte("big")).Sequence(); got != 1<<63+5 {
			t.Fatalf("big sequence %d", got)
		}
		return nil
	})
	// Rolled back with the transaction.
	boom := errors.New("boom")
	err := db.Update(func(tx kv.Tx) error {
		a := tx.Bucket([]byte("a"))
		for range 5 {
			a.NextSequence()
		}
		lookup(tx, "a", "c").SetSequence(77)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	update(t, db, func(tx kv.Tx) error {
		if got, _ := tx.Bucket([]byte("a")).NextSequence(); got != 102 {
			t.Fatalf("NextSequence after a rolled-back transaction %d, want 102", got)
		}
		if got := lookup(tx, "a", "c").Sequence(); got != 1 {
			t.Fatalf("nested sequence after rollback %d, want 1", got)
		}
		return nil
	})
}

// A transaction whose fn fails leaves nothing behind: keys, deletions,
// buckets, sequences.
func testRollback(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "keep")
		put(t, b, "k", "v")
		put(t, b, "d", "v")
		b.SetSequence(7)
		return nil
	})
	boom := errors.New("boom")
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("keep"))
		put(t, b, "k", "changed")
		put(t, b, "new", "v")
		b.Delete([]byte("d"))
		b.NextSequence()
		put(t, mustBucket(t, tx, "gone", "nested"), "k", "v")
		mustBucket(t, tx, "keep", "child")
		b.Get([]byte("k")) // a read after the writes: an engine may send them
		b.Cursor().First()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	check := func(tx kv.Tx) error {
		if tx.Bucket([]byte("gone")) != nil {
			t.Fatal("a bucket of a rolled-back transaction")
		}
		b := tx.Bucket([]byte("keep"))
		want(t, "keep", keysOf(t, b), []string{"d=v", "k=v"})
		if b.Sequence() != 7 {
			t.Fatalf("sequence %d, want 7", b.Sequence())
		}
		if b.Bucket([]byte("child")) != nil {
			t.Fatal("a nested bucket of a rolled-back transaction")
		}
		want(t, "buckets", childNames(t, tx.ForEachBucket), []string{"keep"})
		want(t, "keep's buckets", childNames(t, b.ForEachBucket), nil)
		return nil
	}
	view(t, db, check)
	update(t, db, check)
	// The names are free: created again, for real this time.
	update(t, db, func(tx kv.Tx) error {
		put(t, mustBucket(t, tx, "gone", "nested"), "k2", "v2")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		want(t, "gone/nested", keysOf(t, lookup(tx, "gone", "nested")), []string{"k2=v2"})
		return nil
	})
}

// A View sees the snapshot it began with, whatever commits meanwhile.
func testSnapshot(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "s")
		put(t, b, "x", "1")
		put(t, b, "y", "1")
		b.SetSequence(10)
		return nil
	})
	commit := func() <-chan error {
		done := make(chan error, 1)
		go func() {
			done <- db.Update(func(tx kv.Tx) error {
				b := tx.Bucket([]byte("s"))
				if err := b.Put([]byte("x"), []byte("2")); err != nil {
					return err
				}
				if err := b.Put([]byte("z"), []byte("2")); err != nil {
					return err
				}
				if err := b.Delete([]byte("y")); err != nil {
					return err
				}
				if _, err := b.NextSequence(); err != nil {
					return err
				}
				nb, err := tx.CreateBucketIfNotExists([]byte("new"))
				if err != nil {
					return err
				}
				return nb.Put([]byte("k"), []byte("v"))
			})
		}()
		return done
	}
	wait := func(done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("concurrent Update: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("an Update blocked by an open View")
		}
	}
	old := func(tx kv.Tx) {
		t.Helper()
		b := tx.Bucket([]byte("s"))
		if got := string(b.Get([]byte("x"))); got != "1" {
			t.Fatalf("x = %q in the View's snapshot, want 1", got)
		}
		want(t, "the View's snapshot", keysOf(t, b), []string{"x=1", "y=1"})
		if b.Sequence() != 10 || b.KeyN() != 2 {
			t.Fatalf("sequence %d, KeyN %d in the View's snapshot", b.Sequence(), b.KeyN())
		}
		if tx.Bucket([]byte("new")) != nil {
			t.Fatal("a bucket created after the View began")
		}
		want(t, "buckets in the View's snapshot", childNames(t, tx.ForEachBucket), []string{"s"})
	}
	// A View that read nothing yet when the Update committed.
	view(t, db, func(tx kv.Tx) error {
		wait(commit())
		old(tx)
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("s"))
		want(t, "after the commit", keysOf(t, b), []string{"x=2", "z=2"})
		if b.Sequence() != 11 || tx.Bucket([]byte("new")) == nil {
			t.Fatalf("sequence %d, bucket new %v", b.Sequence(), tx.Bucket([]byte("new")) != nil)
		}
		return nil
	})
	// A View that read before: the same.
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("s"))
		b.Delete([]byte("z"))
		put(t, b, "x", "1")
		put(t, b, "y", "1")
		return b.SetSequence(10)
	})
	view(t, db, func(tx kv.Tx) error {
		if got := string(tx.Bucket([]byte("s")).Get([]byte("x"))); got != "1" {
			t.Fatalf("x = %q", got)
		}
		done := make(chan error, 1)
		go func() {
			done <- db.Update(func(tx kv.Tx) error {
				b := tx.Bucket([]byte("s"))
				if err := b.Put([]byte("x"), []byte("3")); err != nil {
					return err
				}
				_, err := tx.CreateBucketIfNotExists([]byte("newer"))
				return err
			})
		}()
		wait(done)
		b := tx.Bucket([]byte("s"))
		if got := string(b.Get([]byte("x"))); got != "1" {
			t.Fatalf("x = %q after a concurrent commit, want 1", got)
		}
		if tx.Bucket([]byte("newer")) != nil {
			t.Fatal("a bucket created after the View began")
		}
		return nil
	})
}

func testForEachBucketOrder(t *testing.T, db kv.DB) {
	names := []string{"m", "\x00", "\xff", "a", "a\x00", "ab", "B", "\xff\xff", "\x00\x01", "z"}
	update(t, db, func(tx kv.Tx) error {
		for _, n := range names {
			mustBucket(t, tx, n)
			mustBucket(t, tx, "m", n)
		}
		return nil
	})
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	view(t, db, func(tx kv.Tx) error {
		want(t, "top level", childNames(t, tx.ForEachBucket), sorted)
		want(t, "m's", childNames(t, tx.Bucket([]byte("m")).ForEachBucket), sorted)
		stop := errors.New("stop")
		n := 0
		err := tx.ForEachBucket(func([]byte) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("ForEachBucket with fn failing at 3: %v after %d", err, n)
		}
		return nil
	})
}

func testKeyN(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "n")
		if b.KeyN() != 0 {
			t.Fatalf("KeyN of a new bucket %d", b.KeyN())
		}
		for i := range 300 {
			b.Put(be32(i), []byte{})
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("n")).KeyN(); got != 300 {
			t.Fatalf("KeyN %d, want 300", got)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("n"))
		for i := range 100 {
			b.Delete(be32(i))
		}
		b.Put([]byte("new"), []byte("v"))
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("n")).KeyN(); got != 201 {
			t.Fatalf("KeyN %d, want 201", got)
		}
		return nil
	})
}

func testReadOnly(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		if !tx.Writable() {
			t.Fatal("an Update's transaction is not writable")
		}
		put(t, mustBucket(t, tx, "b"), "k", "v")
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		if tx.Writable() {
			t.Fatal("a View's transaction is writable")
		}
		b := tx.Bucket([]byte("b"))
		_, errNew := tx.CreateBucketIfNotExists([]byte("new"))
		_, errOld := tx.CreateBucketIfNotExists([]byte("b"))
		_, errNested := b.CreateBucketIfNotExists([]byte("c"))
		_, errSeq := b.NextSequence()
		for what, err := range map[string]error{
			"Put":                            b.Put([]byte("k"), []byte("w")),
			"Delete":                         b.Delete([]byte("k")),
			"CreateBucketIfNotExists(new)":   errNew,
			"CreateBucketIfNotExists(old)":   errOld,
			"nested CreateBucketIfNotExists": errNested,
			"NextSequence":                   errSeq,
			"SetSequence":                    b.SetSequence(9),
		} {
			if !errors.Is(err, kv.ErrTxReadOnly) {
				t.Errorf("%s in a View: %v, want kv.ErrTxReadOnly", what, err)
			}
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		want(t, "after refused writes", keysOf(t, b), []string{"k=v"})
		if b.Sequence() != 0 || tx.Bucket([]byte("new")) != nil {
			t.Fatal("a refused write happened")
		}
		return nil
	})
}

// fn's errors come back as they are, from View and Update alike, and from
// ForEach.
func testErrors(t *testing.T, db kv.DB) {
	mine := errors.New("mine")
	if err := db.View(func(kv.Tx) error { return mine }); !errors.Is(err, mine) {
		t.Fatalf("View = %v", err)
	}
	if err := db.Update(func(kv.Tx) error { return mine }); !errors.Is(err, mine) {
		t.Fatalf("Update = %v", err)
	}
	if err := db.Update(func(kv.Tx) error { return nil }); err != nil {
		t.Fatalf("an empty Update: %v", err)
	}
	if err := db.View(func(kv.Tx) error { return nil }); err != nil {
		t.Fatalf("an empty View: %v", err)
	}
	update(t, db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		for _, k := range []string{"a", "b", "c"} {
			put(t, b, k, "v")
		}
		return nil
	})
	view(t, db, func(tx kv.Tx) error {
		n := 0
		err := tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error {
			if n++; n == 2 {
				return mine
			}
			return nil
		})
		if !errors.Is(err, mine) || n != 2 {
			t.Fatalf("ForEach = %v after %d", err, n)
		}
		return nil
	})
	if db.Engine() == "" {
		t.Fatal("no engine name")
	}
}

// Dump is every bucket of db, nested ones too, with their sequences, keys
// and values, as text (for comparing two engines' contents).
func Dump(t testing.TB, db kv.DB) string {
	t.Helper()
	var sb strings.Builder
	var walk func(path string, b kv.Bucket) error
	walk = func(path string, b kv.Bucket) error {
		fmt.Fprintf(&sb, "bucket %s seq=%d\n", path, b.Sequence())
		if err := b.ForEach(func(k, v []byte) error {
			fmt.Fprintf(&sb, "  %x=%x\n", k, v)
			return nil
		}); err != nil {
			return err
		}
		return b.ForEachBucket(func(n []byte) error {
			return walk(fmt.Sprintf("%s/%x", path, n), b.Bucket(n))
		})
	}
	if err := db.View(func(tx kv.Tx) error {
		return tx.ForEachBucket(func(n []byte) error { return walk(fmt.Sprintf("%x", n), tx.Bucket(n)) })
	}); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return sb.String()
}

// Fill writes a varied content into db: nested buckets, keys with 0x00
// and 0xff bytes, empty values, sequences, an empty bucket.
func Fill(t testing.TB, db kv.DB, keys int) {
	t.Helper()
	if err := db.Update(func(tx kv.Tx) error {
		docs, err := tx.CreateBucketIfNotExists([]byte("docs"))
		if err != nil {
			return err
		}
		for i := range keys {
			if err := docs.Put(be32(i), bytes.Repeat([]byte{byte(i)}, i%50)); err != nil {
				return err
			}
		}
		if err := docs.SetSequence(uint64(keys)); err != nil {
			return err
		}
		q, err := tx.CreateBucketIfNotExists([]byte("queues"))
		if err != nil {
			return err
		}
		for _, org := range []string{"org\x00a", "org\xffb", "org"} {
			o, err := q.CreateBucketIfNotExists([]byte(org))
			if err != nil {
				return err
			}
			for j := range 5 {
				if err := o.Put([]byte{0xff, byte(j), 0x00}, []byte(org)); err != nil {
					return err
				}
			}
			if _, err := o.NextSequence(); err != nil {
				return err
			}
			deep, err := o.CreateBucketIfNotExists([]byte("deep"))
			if err != nil {
				return err
			}
			if err := deep.Put([]byte{0x00}, []byte{}); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucketIfNotExists([]byte("empty")); err != nil {
			return err
		}
		seqOnly, err := tx.CreateBucketIfNotExists([]byte("seq-only"))
		if err != nil {
			return err
		}
		return seqOnly.SetSequence(42)
	}); err != nil {
		t.Fatalf("Fill: %v", err)
	}
}

func testCopy(t *testing.T, src, dst kv.DB) {
	Fill(t, src, 50)
	// dst has a key of its own in a bucket src has, and one src overwrites.
	update(t, dst, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "docs")
		put(t, b, "dst-only", "x")
		return b.Put(be32(3), []byte("overwritten"))
	})
	var progress []int
	if err := kv.Copy(dst, src, 7, func(n int) error { progress = append(progress, n); return nil }); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if len(progress) < 2 || !slices.IsSorted(progress) {
		t.Fatalf("progress %v: want several increasing totals", progress)
	}
	// Everything of src is in dst, and dst's own key stayed.
	update(t, dst, func(tx kv.Tx) error { return tx.Bucket([]byte("docs")).Delete([]byte("dst-only")) })
	if s, d := Dump(t, src), Dump(t, dst); s != d {
		t.Fatalf("dst differs from src:\nsrc:\n%s\ndst:\n%s", s, d)
	}
	view(t, dst, func(tx kv.Tx) error {
		if got := lookup(tx, "queues", "org\xffb", "deep").Get([]byte{0x00}); got == nil || len(got) != 0 {
			t.Fatalf("empty value copied as %#v", got)
		}
		if tx.Bucket([]byte("seq-only")).Sequence() != 42 || tx.Bucket([]byte("docs")).Sequence() != 50 {
			t.Fatal("sequences not copied")
		}
		return nil
	})
	// An error from progress stops the copy.
	stop := errors.New("stop")
	calls := 0
	err := kv.Copy(dst, src, 7, func(int) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Copy with a failing progress: %v after %d calls", err, calls)
	}
}
