package pgkv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axis-h40/axis/store/kv"
)

// tx is a View's or an Update's transaction. Writes are buffered in the
// buckets (which also answer reads of what was written) and sent in one
// pipelined batch with the next round trip, or with COMMIT.
type tx struct {
	db       *DB
	ctx      context.Context
	conn     *pgxpool.Conn
	writable bool
	viewGen  uint64 // a View's: the cache generation when it began
	locked   bool   // the writer lock was asked for (writable)
	begun    bool   // BEGIN was sent
	token    int64  // the commit token read at the start (writable)
	cacheOK  bool   // token is the one this process last committed: db.seqs hold

	err   error // sticky: the first engine error
	retry bool  // err is worth another attempt

	buckets    map[string]*bucket // by path: one object per bucket
	missing    map[string]bool    // paths looked up and not found
	dirty      []*bucket          // buckets with writes not sent yet
	newBuckets []*bucket          // created here, INSERT not sent yet
	created    []string           // created here: the cache learns them at commit
	seqs       []*bucket          // sequences changed here
}

var _ kv.Tx = (*tx)(nil)

func (t *tx) Writable() bool { return t.writable }

// fail records the first engine error.
func (t *tx) fail(err error) {
	if t.err != nil {
		return
	}
	dead := t.conn == nil || t.conn.Conn().IsClosed()
	t.err = fmt.Errorf("pgkv: %w", err)
	t.retry = t.writable && retryable(err, dead)
}

func (t *tx) writeCheck() error {
	if t.err != nil {
		return t.err
	}
	if !t.writable {
		return kv.ErrTxReadOnly
	}
	return nil
}

// start gets the transaction its connection.
func (t *tx) start() bool {
	if t.err != nil {
		return false
	}
	if t.conn == nil {
		conn, err := t.db.pool.Acquire(t.ctx)
		if err != nil {
			t.err, t.retry = fmt.Errorf("pgkv: %w", err), acquireRetryable(err)
			return false
		}
		t.conn = conn
	}
	return true
}

// queueBegin starts an Update's first batch: the writer lock (a session
// advisory lock, taken in a READ COMMITTED transaction of its own, so
// that the SERIALIZABLE transaction's snapshot is taken after the lock is
// granted, hence after the previous writer committed), BEGIN, and the
// commit token.
func (t *tx) queueBegin(b *pgx.Batch) {
	b.Queue(sqlBeginLock)
	b.Queue(sqlLock)
	b.Queue(sqlCommit)
	b.Queue(sqlBeginW)
	b.Queue(sqlBucket, metaPath)
	t.locked = true // or the connection is closed: rollback handles both
}

// readBegin reads the results of queueBegin's statements.
func (t *tx) readBegin(br pgx.BatchResults) error {
	for range 4 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	var tok int64
	if err := br.QueryRow().Scan(&tok); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	t.token = tok
	db := t.db
	t.cacheOK = tok != 0 && tok == db.token
	if !t.cacheOK {
		clear(db.seqs) // another process committed since this one did
		db.token = 0
	}
	return nil
}

// round sends the start of the transaction (the first time), the
// buffered writes and the statements queue adds, in one pipelined batch,
// and has read read the latter's results.
func (t *tx) round(queue func(*pgx.Batch), read func(pgx.BatchResults) error) bool {
	if !t.start() {
		return false
	}
	b := &pgx.Batch{}
	begin := !t.begun && t.writable
	if begin {
		t.queueBegin(b)
	}
	starts := b.Len()
	t.queueWrites(b)
	writes := b.Len() - starts
	queue(b)
	br := t.conn.SendBatch(t.ctx, b)
	t.begun = true
	if begin {
		if err := t.readBegin(br); err != nil {
			br.Close()
			t.fail(err)
			return false
		}
	}
	for range writes {
		if _, err := br.Exec(); err != nil {
			br.Close()
			t.fail(err)
			return false
		}
	}
	if err := read(br); err != nil {
		br.Close()
		t.fail(err)
		return false
	}
	if err := br.Close(); err != nil {
		t.fail(err)
		return false
	}
	return true
}

// queueWrites adds the buffered bucket creations, puts and deletes to b,
// one statement of each kind at most.
func (t *tx) queueWrites(b *pgx.Batch) {
	if len(t.newBuckets) > 0 {
		paths, parents, names := make([][]byte, len(t.newBuckets)), make([][]byte, len(t.newBuckets)), make([][]byte, len(t.newBuckets))
		for i, nb := range t.newBuckets {
			paths[i], parents[i], names[i] = nb.path, nb.parent, nb.name
		}
		b.Queue(sqlMkBucket, paths, parents, names)
		t.newBuckets = t.newBuckets[:0]
	}
	var pb, pk, pv, db, dk [][]byte
	for _, bk := range t.dirty {
		for _, e := range bk.unflushed {
			e.pending = false
			if e.del {
				db, dk = append(db, bk.path), append(dk, e.key)
			} else {
				pb, pk, pv = append(pb, bk.path), append(pk, e.key), append(pv, e.v)
			}
		}
		bk.unflushed, bk.inDirty = bk.unflushed[:0], false
	}
	t.dirty = t.dirty[:0]
	if len(pk) > 0 {
		b.Queue(sqlPut, pb, pk, pv)
	}
	if len(dk) > 0 {
		b.Queue(sqlDelete, db, dk)
	}
}

// commit sends what is buffered, the sequences and a new commit token,
// COMMIT and the unlock in one batch.
func (t *tx) commit() (error, bool) {
	wrote := len(t.newBuckets) > 0 || len(t.dirty) > 0 || len(t.seqs) > 0
	if !t.begun && !wrote {
		t.rollback() // nothing was read or written
		return nil, false
	}
	if !t.begun {
		// The first contact with the server is never the COMMIT's batch:
		// a connection that died in the pool fails here, known not to
		// have committed, and is retried, rather than leave the outcome
		// of a COMMIT unknown.
		if !t.round(func(*pgx.Batch) {}, func(pgx.BatchResults) error { return nil }) {
			err, again := t.err, t.retry
			t.rollback()
			return err, again
		}
	}
	b := &pgx.Batch{}
	t.queueWrites(b)
	var token int64
	if wrote {
		token = rand.Int64() | 1
		paths, seqs := [][]byte{metaPath}, []int64{token}
		for _, bk := range t.seqs {
			paths, seqs = append(paths, bk.path), append(seqs, bk.seq)
		}
		b.Queue(sqlSetSeq, paths, seqs)
	}
	commitAt := b.Len()
	b.Queue(sqlCommit)
	b.Queue(sqlUnlock)
	br := t.conn.SendBatch(t.ctx, b)
	for i := range b.Len() {
		_, err := br.Exec()
		if err == nil {
			continue
		}
		br.Close()
		if i > commitAt {
			// Committed; the unlock failed: the lock goes with the session.
			break
		}
		return t.commitFailed(err, i == commitAt)
	}
	if err := br.Close(); err != nil || t.conn.Conn().IsClosed() {
		destroy(t.conn)
	} else {
		t.conn.Release()
	}
	t.conn = nil
	t.committed(token)
	return nil, false
}

// committed brings the process-wide caches up to the commit: the buckets
// created, and the sequences this transaction knows (all of them the
// committed values now) under the token it wrote (or read, when it wrote
// nothing).
func (t *tx) committed(token int64) {
	db := t.db
	if len(t.created) > 0 {
		db.learn(t.created...)
	}
	if token == 0 {
		token = t.token
	}
	if token == 0 {
		return
	}
	db.token = token
	for path, b := range t.buckets {
		if b.seqKnown {
			db.seqs[path] = b.seq
		}
	}
}

// commitFailed sorts out a failure of the commit batch's statement: what
// is known not to have committed, and what may have.
func (t *tx) commitFailed(err error, atCommit bool) (error, bool) {
	dead := t.conn.Conn().IsClosed()
	destroy(t.conn)
	t.conn = nil
	clear(t.db.seqs)
	t.db.token = 0
	var pre pgx.ErrPreprocessingBatch
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pre) || pgconn.SafeToRetry(err):
		// Nothing of the batch reached the server.
		return fmt.Errorf("pgkv: commit: %w", err), retryable(err, dead) || !errors.As(err, &pe)
	case errors.As(err, &pe) && pe.Severity != "FATAL" && pe.Severity != "PANIC":
		// The server refused a statement or the COMMIT: rolled back.
		return fmt.Errorf("pgkv: commit: %w", err), retryable(err, false)
	case errors.As(err, &pe) && !atCommit:
		// The backend ended on a statement before COMMIT, which it
		// therefore never ran.
		return fmt.Errorf("pgkv: commit: %w", err), retryable(err, true)
	}
	// The connection was lost with COMMIT sent: it may have run.
	return fmt.Errorf("%w: %v", ErrCommitUnknown, err), false
}

// rollback ends the transaction without committing and gives the
// connection back; after an engine error the connection is closed, which
// ends the session with its lock and transaction.
func (t *tx) rollback() {
	if t.conn == nil {
		return
	}
	c := t.conn
	t.conn = nil
	if t.err != nil || c.Conn().IsClosed() {
		destroy(c)
		return
	}
	b := &pgx.Batch{}
	if t.begun {
		b.Queue(sqlRollback)
	}
	if t.locked {
		b.Queue(sqlUnlock)
	}
	if b.Len() > 0 {
		if err := c.SendBatch(t.ctx, b).Close(); err != nil {
			destroy(c)
			return
		}
	}
	c.Release()
}

// finish is deferred by View and Update: a connection still held (fn
// panicked) is closed, and the transaction is unusable from then on.
func (t *tx) finish() {
	if t.conn != nil {
		destroy(t.conn)
		t.conn = nil
	}
	if t.err == nil {
		t.err = errTxClosed
	}
}

// metaPath is the reserved row of axis_buckets that holds the commit
// token in its seq: no bucket has an empty path, and its parent, 0x00,
// is no bucket's path, so it is never listed.
var metaPath = []byte{}

// childPath is the path of bucket name below parent: each segment is its
// length (uvarint) and its bytes.
func childPath(parent, name []byte) []byte {
	p := make([]byte, 0, len(parent)+binary.MaxVarintLen64+len(name))
	p = append(p, parent...)
	p = binary.AppendUvarint(p, uint64(len(name)))
	return append(p, name...)
}

func (t *tx) bucketObj(path, parent, name []byte) *bucket {
	b := &bucket{t: t, path: path, parent: parent, name: slices.Clone(name), w: map[string]*entry{}}
	if t.buckets == nil {
		t.buckets = map[string]*bucket{}
	}
	t.buckets[string(path)] = b
	return b
}

// lookup finds bucket name below parent (empty: top level): this
// transaction's object, the cache, or the table.
func (t *tx) lookup(parent, name []byte, parentNew bool) *bucket {
	if t.err != nil || len(name) == 0 {
		return nil
	}
	path := childPath(parent, name)
	key := string(path)
	if b := t.buckets[key]; b != nil {
		return b
	}
	if t.missing[key] || parentNew {
		return nil
	}
	if t.db.known(key, t.writable, t.viewGen) {
		return t.bucketObj(path, parent, name)
	}
	var seq int64
	found := false
	ok := t.round(func(b *pgx.Batch) { b.Queue(sqlBucket, path) }, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if !ok {
		return nil
	}
	if !found {
		if t.missing == nil {
			t.missing = map[string]bool{}
		}
		t.missing[key] = true
		return nil
	}
	b := t.bucketObj(path, parent, name)
	b.seq, b.seqKnown = seq, true
	t.db.learn(key)
	return b
}

func (t *tx) create(parent, name []byte, parentNew bool) (*bucket, error) {
	if err := t.writeCheck(); err != nil {
		return nil, err
	}
	if len(name) == 0 {
		return nil, ErrBucketNameRequired
	}
	if b := t.lookup(parent, name, parentNew); b != nil {
		return b, nil
	}
	if t.err != nil {
		return nil, t.err
	}
	b := t.bucketObj(childPath(parent, name), parent, name)
	b.created, b.seqKnown = true, true
	t.newBuckets = append(t.newBuckets, b)
	t.created = append(t.created, string(b.path))
	return b, nil
}

// children calls fn with the names of parent's nested buckets, in order.
func (t *tx) children(parent []byte, fn func([]byte) error) error {
	if t.err != nil {
		return t.err
	}
	var names [][]byte
	ok := t.round(func(b *pgx.Batch) { b.Queue(sqlChildren, parent) }, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var n []byte
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		return rows.Err()
	})
	if !ok {
		return t.err
	}
	for _, n := range names {
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

var topLevel = []byte{} // the parent of top-level buckets (not nil: NULL)

func (t *tx) Bucket(name []byte) kv.Bucket {
	if b := t.lookup(topLevel, name, false); b != nil {
		return b
	}
	return t.inert(topLevel, name)
}

// inert is nil, or on a failed transaction a bucket whose every operation
// is a no-op (the kv contract): code that takes a bucket it knows exists
// goes on without a nil dereference, and View or Update returns t.err.
func (t *tx) inert(parent, name []byte) kv.Bucket {
	if t.err == nil {
		return nil
	}
	return &bucket{t: t, path: childPath(parent, name), parent: parent, name: slices.Clone(name), w: map[string]*entry{}}
}

func (t *tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	b, err := t.create(topLevel, name, false)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (t *tx) ForEachBucket(fn func(name []byte) error) error { return t.children(topLevel, fn) }

// bucket is one bucket in one transaction, with the writes made to it in
// that transaction (which mask the table's rows for its reads) and the
// values read from it.
type bucket struct {
	t                  *tx
	path, parent, name []byte
	created            bool // in this transaction
	seq                int64
	seqKnown, seqDirty bool

	w         map[string]*entry // the writes, by key: the latest value or a deletion
	keys      []string          // w's keys: keys[:sorted] in order, then the newer ones
	sorted    int
	unflushed []*entry
	inDirty   bool
	r         map[string][]byte // values read by Get (nil: no such key)
}

type entry struct {
	key, v  []byte
	del     bool
	pending bool // not sent yet
}

type pair struct{ k, v []byte }

var _ kv.Bucket = (*bucket)(nil)

const readCache = 4096 // values kept per bucket per transaction

func (b *bucket) Get(k []byte) []byte {
	t := b.t
	if t.err != nil || len(k) == 0 {
		return nil
	}
	if e, ok := b.w[string(k)]; ok {
		return e.v // nil when deleted
	}
	if v, ok := b.r[string(k)]; ok {
		return v
	}
	var v []byte
	ok := t.round(func(bt *pgx.Batch) { bt.Queue(sqlGet, b.path, k) }, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			v = nil
			return nil
		}
		if err == nil && v == nil {
			v = []byte{} // a stored empty value exists
		}
		return err
	})
	if !ok {
		return nil
	}
	if b.r == nil {
		b.r = map[string][]byte{}
	}
	if len(b.r) < readCache {
		b.r[string(k)] = v
	}
	return v
}

func (b *bucket) Put(k, v []byte) error {
	if err := b.t.writeCheck(); err != nil {
		return err
	}
	if len(k) == 0 {
		return ErrKeyRequired
	}
	b.write(k, append(make([]byte, 0, len(v)), v...), false)
	return nil
}

func (b *bucket) Delete(k []byte) error {
	if err := b.t.writeCheck(); err != nil {
		return err
	}
	if len(k) == 0 {
		return nil
	}
	b.write(k, nil, true)
	return nil
}

func (b *bucket) write(k, v []byte, del bool) {
	e := b.w[string(k)]
	if e == nil {
		ks := string(k)
		e = &entry{key: []byte(ks)}
		b.w[ks] = e
		b.keys = append(b.keys, ks)
	}
	e.v, e.del = v, del
	if !e.pending {
		e.pending = true
		b.unflushed = append(b.unflushed, e)
	}
	if !b.inDirty {
		b.inDirty = true
		b.t.dirty = append(b.t.dirty, b)
	}
}

func (b *bucket) Bucket(name []byte) kv.Bucket {
	if nb := b.t.lookup(b.path, name, b.created); nb != nil {
		return nb
	}
	return b.t.inert(b.path, name)
}

func (b *bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	nb, err := b.t.create(b.path, name, b.created)
	if err != nil {
		return nil, err
	}
	return nb, nil
}

func (b *bucket) ForEachBucket(fn func(name []byte) error) error {
	return b.t.children(b.path, fn)
}

func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err // a walk cut short by an engine error is no complete walk
}

// loadSeq reads the bucket's sequence once per transaction.
func (b *bucket) loadSeq() bool {
	if b.seqKnown {
		return true
	}
	t := b.t
	if t.writable && t.begun && t.cacheOK {
		if seq, ok := t.db.seqs[string(b.path)]; ok {
			b.seq, b.seqKnown = seq, true
			return true
		}
	}
	found := false
	ok := t.round(func(bt *pgx.Batch) { bt.Queue(sqlBucket, b.path) }, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&b.seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if !ok {
		return false
	}
	if !found {
		t.fail(kv.ErrBucketNotFound)
		return false
	}
	b.seqKnown = true
	return true
}

func (b *bucket) setSeq(v int64) {
	b.seq = v
	if !b.seqDirty {
		b.seqDirty = true
		b.t.seqs = append(b.t.seqs, b)
	}
}

func (b *bucket) NextSequence() (uint64, error) {
	if err := b.t.writeCheck(); err != nil {
		return 0, err
	}
	if !b.loadSeq() {
		return 0, b.t.err
	}
	b.setSeq(b.seq + 1)
	return uint64(b.seq), nil
}

func (b *bucket) Sequence() uint64 {
	if b.t.err != nil || !b.loadSeq() {
		return 0
	}
	return uint64(b.seq)
}

func (b *bucket) SetSequence(v uint64) error {
	if err := b.t.writeCheck(); err != nil {
		return err
	}
	b.seqKnown = true
	b.setSeq(int64(v))
	return nil
}

func (b *bucket) KeyN() int {
	t := b.t
	if t.err != nil {
		return 0
	}
	var n int64
	if !t.round(func(bt *pgx.Batch) { bt.Queue(sqlCount, b.path) }, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&n)
	}) {
		return 0
	}
	return int(n)
}

// sortKeys puts the written keys in order: the newer ones are sorted and
// merged into the sorted ones.
func (b *bucket) sortKeys() {
	if b.sorted == len(b.keys) {
		return
	}
	tail := b.keys[b.sorted:]
	slices.Sort(tail)
	if b.sorted == 0 {
		b.sorted = len(b.keys)
		return
	}
	merged := make([]string, 0, len(b.keys))
	l, r := b.keys[:b.sorted], tail
	for len(l) > 0 && len(r) > 0 {
		if l[0] < r[0] {
			merged, l = append(merged, l[0]), l[1:]
		} else {
			merged, r = append(merged, r[0]), r[1:]
		}
	}
	merged = append(append(merged, l...), r...)
	b.keys, b.sorted = merged, len(merged)
}

// nearest is the written (not deleted) key nearest to from in direction
// dir: after it (before it when dir < 0), or at it when inclusive; from
// nil is the end the walk starts from.
func (b *bucket) nearest(from []byte, dir int, inclusive bool) *entry {
	if len(b.keys) == 0 {
		return nil
	}
	b.sortKeys()
	keys, f := b.keys, string(from)
	if dir > 0 {
		i := 0
		if from != nil {
			i = sort.Search(len(keys), func(i int) bool {
				c := strings.Compare(keys[i], f)
				return c > 0 || inclusive && c == 0
			})
		}
		for ; i < len(keys); i++ {
			if e := b.w[keys[i]]; !e.del {
				return e
			}
		}
		return nil
	}
	i := len(keys) - 1
	if from != nil {
		i = sort.Search(len(keys), func(i int) bool {
			c := strings.Compare(keys[i], f)
			return c > 0 || !inclusive && c == 0
		}) - 1
	}
	for ; i >= 0; i-- {
		if e := b.w[keys[i]]; !e.del {
			return e
		}
	}
	return nil
}

func (b *bucket) Cursor() kv.Cursor { return &cursor{b: b} }

// cursor walks the table's rows of a bucket in pages, merged with the
// bucket's writes in this transaction: a written key is answered by its
// write (a deletion hides it), so a page never goes stale.
type cursor struct {
	b     *bucket
	dir   int    // the direction the page was read in
	page  []pair // rows, in walking order, beyond the position
	pi    int    // the next row of page
	more  bool   // the table may have rows beyond page
	limit int
	pos   []byte
	state int
}

const (
	curNone   = iota // not positioned
	curAt            // at pos
	curBefore        // before the first key
	curAfter         // after the last key
)

const (
	firstPage = 16
	maxPage   = 1000
)

// begin starts a new page stream in direction dir.
func (c *cursor) begin(dir int, sql string, args ...any) {
	c.dir, c.limit, c.pi = dir, firstPage, 0
	c.page, c.more = c.fetch(sql, append(args, c.limit)...)
	c.limit = min(2*c.limit, maxPage)
}

func (c *cursor) fetch(sql string, args ...any) ([]pair, bool) {
	limit := args[len(args)-1].(int)
	var page []pair
	ok := c.b.t.round(func(bt *pgx.Batch) { bt.Queue(sql, args...) }, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		page, err = readPairs(rows, limit)
		return err
	})
	if !ok {
		return nil, false
	}
	return page, len(page) == limit
}

// readPairs reads rows of (k, v) into one allocation.
func readPairs(rows pgx.Rows, limit int) ([]pair, error) {
	defer rows.Close()
	fd := rows.FieldDescriptions()
	raw := len(fd) == 2 && fd[0].Format == pgtype.BinaryFormatCode && fd[1].Format == pgtype.BinaryFormatCode
	page := make([]pair, 0, min(limit, 64))
	var arena []byte
	for rows.Next() {
		var p pair
		if raw {
			vals := rows.RawValues()
			if len(arena) < len(vals[0])+len(vals[1]) {
				arena = make([]byte, max(32<<10, len(vals[0])+len(vals[1])))
			}
			p.k, arena = arena[:len(vals[0]):len(vals[0])], arena[len(vals[0]):]
			copy(p.k, vals[0])
			p.v, arena = arena[:len(vals[1]):len(vals[1])], arena[len(vals[1]):]
			copy(p.v, vals[1])
		} else if err := rows.Scan(&p.k, &p.v); err != nil {
			return nil, err
		}
		if p.v == nil {
			p.v = []byte{}
		}
		page = append(page, p)
	}
	return page, rows.Err()
}

// peek is the next row beyond the position in the page stream's
// direction that no write of this transaction masks.
func (c *cursor) peek() *pair {
	for {
		for c.pi < len(c.page) {
			p := &c.page[c.pi]
			if _, w := c.b.w[string(p.k)]; !w {
				return p
			}
			c.pi++
		}
		if !c.more || c.b.t.err != nil {
			return nil
		}
		q := sqlAfter
		if c.dir < 0 {
			q = sqlBefore
		}
		last := c.page[len(c.page)-1].k
		c.page, c.more = c.fetch(q, c.b.path, last, c.limit)
		c.pi, c.limit = 0, min(2*c.limit, maxPage)
	}
}

// land moves to the nearer of the next row and the next write.
func (c *cursor) land(dir int, from []byte, inclusive bool) ([]byte, []byte) {
	p := c.peek()
	e := c.b.nearest(from, dir, inclusive)
	if c.b.t.err != nil {
		c.state, c.pos = curNone, nil
		return nil, nil
	}
	switch {
	case p != nil && (e == nil || (bytes.Compare(p.k, e.key) < 0) == (dir > 0)):
		c.pi++
		c.state, c.pos = curAt, p.k
		return p.k, p.v
	case e != nil:
		c.state, c.pos = curAt, e.key
		return e.key, e.v
	}
	c.state, c.pos = curAfter, nil
	if dir < 0 {
		c.state = curBefore
	}
	return nil, nil
}

func (c *cursor) First() ([]byte, []byte) {
	if c.b.t.err != nil {
		return nil, nil
	}
	c.begin(1, sqlFirst, c.b.path)
	return c.land(1, nil, true)
}

func (c *cursor) Last() ([]byte, []byte) {
	if c.b.t.err != nil {
		return nil, nil
	}
	c.begin(-1, sqlLast, c.b.path)
	return c.land(-1, nil, true)
}

func (c *cursor) Seek(k []byte) ([]byte, []byte) {
	if c.b.t.err != nil {
		return nil, nil
	}
	k = slices.Clone(k)
	if k == nil {
		k = []byte{}
	}
	c.begin(1, sqlFrom, c.b.path, k)
	return c.land(1, k, true)
}

func (c *cursor) Next() ([]byte, []byte) {
	if c.b.t.err != nil {
		return nil, nil
	}
	switch c.state {
	case curNone, curAfter:
		return nil, nil
	case curBefore:
		return c.First()
	}
	if c.dir != 1 {
		c.begin(1, sqlAfter, c.b.path, c.pos)
	}
	return c.land(1, c.pos, false)
}

func (c *cursor) Prev() ([]byte, []byte) {
	if c.b.t.err != nil {
		return nil, nil
	}
	switch c.state {
	case curNone, curBefore:
		return nil, nil
	case curAfter:
		return c.Last()
	}
	if c.dir != -1 {
		c.begin(-1, sqlBefore, c.b.path, c.pos)
	}
	return c.land(-1, c.pos, false)
}

// Begin takes the writer lock and begins the transaction now, rather than
// at its first read or at the commit (a writable transaction; a no-op
// once begun). The store's commit loop calls it before it closes a batch:
// the writes that arrive while it waits for the lock, held by another
// node, join the same commit, so that batches grow with contention
// between nodes as they do with load on one.
func (t *tx) Begin() error {
	if t.writable && !t.begun && t.err == nil {
		t.round(func(*pgx.Batch) {}, func(pgx.BatchResults) error { return nil })
	}
	return t.err
}
