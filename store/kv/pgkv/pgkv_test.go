package pgkv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"

	"github.com/axis-h40/axis/internal/pgtest"
	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/kv/kvtest"
	"github.com/axis-h40/axis/store/kv/pgkv"
)

// One fast cluster for the package's tests, a schema for each.
func TestMain(m *testing.M) { os.Exit(pgtest.WithCluster(m, pgtest.Options{Fast: true})) }

func open(t testing.TB, dsn string, opts *pgkv.Options) *pgkv.DB {
	t.Helper()
	db, err := pgkv.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return open(t, pgtest.Schema(t), nil) })
}

func openBolt(t testing.TB) kv.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return kv.NewBolt(db)
}

func sqlConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t testing.TB, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// The tables as the package documents them: paths of length-prefixed
// segments, top-level buckets with an empty parent, values as rows.
func TestLayout(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, dsn, nil)
	if db.Engine() != "postgres" {
		t.Fatalf("Engine %q", db.Engine())
	}
	err := db.Update(func(tx kv.Tx) error {
		a, _ := tx.CreateBucketIfNotExists([]byte("a"))
		b, _ := a.CreateBucketIfNotExists([]byte("bc"))
		b.SetSequence(9)
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := sqlConn(t, dsn)
	rows, err := conn.Query(context.Background(), "SELECT path, parent, name, seq FROM axis_buckets WHERE path <> '' ORDER BY path")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var path, parent, name []byte
		var seq int64
		rows.Scan(&path, &parent, &name, &seq)
		got = append(got, fmt.Sprintf("%x|%x|%s|%d", path, parent, name, seq))
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	want := []string{"0161||a|0", "0161026263|0161|bc|9"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("axis_buckets %q, want %q", got, want)
	}
	var b, k, v []byte
	if err := conn.QueryRow(context.Background(), "SELECT b, k, v FROM axis_kv").Scan(&b, &k, &v); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%x %s %s", b, k, v) != "0161026263 k v" {
		t.Fatalf("axis_kv row %x %q %q", b, k, v)
	}
	// bytea orders as bytes.Compare does, 0x00 and 0xff bytes included.
	for _, p := range [][2][]byte{{{0x00}, {0x00, 0x00}}, {{0x00, 0xff}, {0x01}}, {{0x7f}, {0x80}}, {{0xfe, 0xff}, {0xff}}, {[]byte("a"), []byte("a\x00")}} {
		var l bool
		if err := conn.QueryRow(context.Background(), "SELECT $1::bytea < $2::bytea", p[0], p[1]).Scan(&l); err != nil {
			t.Fatal(err)
		}
		if l != (bytes.Compare(p[0], p[1]) < 0) {
			t.Errorf("%x < %x: PostgreSQL says %v", p[0], p[1], l)
		}
	}
	if s, err := db.Size(context.Background()); err != nil || s <= 0 {
		t.Fatalf("Size %d, %v", s, err)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Several processes opening one schema at once: one creates the tables,
// none fails.
func TestOpenConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			db, err := pgkv.Open(context.Background(), dsn, nil)
			if err == nil {
				err = db.Update(func(tx kv.Tx) error {
					b, err := tx.CreateBucketIfNotExists([]byte("b"))
					if err != nil {
						return err
					}
					_, err = b.NextSequence()
					return err
				})
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db := open(t, dsn, nil)
	db.View(func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("b")).Sequence(); got != 6 {
			t.Fatalf("sequence %d after 6 writers, want 6", got)
		}
		return nil
	})
}

// Two engines on one schema (two processes), two writers each: every
// read-modify-write lands, no sequence number is handed out twice.
func TestSerializedWriters(t *testing.T) {
	dsn := pgtest.Schema(t)
	dbs := []*pgkv.DB{open(t, dsn, nil), open(t, dsn, nil)}
	const per = 100
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		db := dbs[i%2]
		wg.Go(func() {
			for range per {
				err := db.Update(func(tx kv.Tx) error {
					c, err := tx.CreateBucketIfNotExists([]byte("counter"))
					if err != nil {
						return err
					}
					n := 0
					if v := c.Get([]byte("n")); v != nil {
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					if err := c.Put([]byte("n"), []byte(fmt.Sprint(n+1))); err != nil {
						return err
					}
					seq, err := c.NextSequence()
					if err != nil {
						return err
					}
					ids, err := tx.CreateBucketIfNotExists([]byte("ids"))
					if err != nil {
						return err
					}
					k := []byte(fmt.Sprintf("%08d", seq))
					if ids.Get(k) != nil {
						return fmt.Errorf("sequence %d handed out twice", seq)
					}
					return ids.Put(k, []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	err := dbs[1].View(func(tx kv.Tx) error {
		c := tx.Bucket([]byte("counter"))
		if got := string(c.Get([]byte("n"))); got != fmt.Sprint(4*per) {
			t.Errorf("counter %s, want %d", got, 4*per)
		}
		if got := c.Sequence(); got != 4*per {
			t.Errorf("sequence %d, want %d", got, 4*per)
		}
		ids := tx.Bucket([]byte("ids"))
		if got := ids.KeyN(); got != 4*per {
			t.Errorf("%d ids, want %d", got, 4*per)
		}
		// Serial: the counter read with sequence s was s-1.
		return ids.ForEach(func(k, v []byte) error {
			s, err := strconv.Atoi(string(k))
			if err != nil || string(v) != fmt.Sprint(s) {
				return fmt.Errorf("sequence %d saw counter %s", s, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The writer lock across processes: an Update of another engine, begun
// while one is inside its fn, reads what that one commits (its snapshot
// is taken after the other's COMMIT), though nothing conflicts.
func TestWriterLock(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	if err := a.Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	inA := make(chan struct{})
	errA := make(chan error, 1)
	go func() {
		first := true
		errA <- a.Update(func(tx kv.Tx) error {
			bk := tx.Bucket([]byte("b"))
			bk.Get([]byte("x")) // a round trip: the lock is held from here
			if first {
				first = false
				close(inA)
				time.Sleep(300 * time.Millisecond)
			}
			return bk.Put([]byte("x"), []byte("a"))
		})
	}()
	<-inA
	start := time.Now()
	var got []byte
	var waited time.Duration
	if err := b.Update(func(tx kv.Tx) error {
		bk := tx.Bucket([]byte("b"))
		got = bk.Get([]byte("x"))
		waited = time.Since(start)
		return bk.Put([]byte("y"), []byte("b"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if string(got) != "a" || waited < 200*time.Millisecond {
		t.Fatalf("the second writer read x = %q after %v: want a's value, after a's commit", got, waited)
	}
}

// Sequences counted by one engine and then another (two processes on one
// schema, each keeping what it last committed): each continues from the
// other's.
func TestSequenceAcrossEngines(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	next := func(db *pgkv.DB) uint64 {
		t.Helper()
		var n uint64
		if err := db.Update(func(tx kv.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("s"))
			if err != nil {
				return err
			}
			n, err = bk.NextSequence()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var got []uint64
	for _, db := range []*pgkv.DB{a, a, b, a, a, b, b, a} {
		got = append(got, next(db))
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7 8]" {
		t.Fatalf("sequence %v", got)
	}
	if err := b.Update(func(tx kv.Tx) error { return tx.Bucket([]byte("s")).SetSequence(100) }); err != nil {
		t.Fatal(err)
	}
	if n := next(a); n != 101 {
		t.Fatalf("after the other's SetSequence(100): %d", n)
	}
	// A rolled-back Update of a's leaves nothing in a's memory either.
	a.Update(func(tx kv.Tx) error {
		tx.Bucket([]byte("s")).NextSequence()
		return errors.New("no")
	})
	if n := next(a); n != 102 {
		t.Fatalf("after a rollback: %d", n)
	}
}

// An fn that panics: the panic goes on, and the writer lock is released.
func TestPanicReleasesLock(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		a.Update(func(tx kv.Tx) error {
			bk, _ := tx.CreateBucketIfNotExists([]byte("b"))
			bk.Put([]byte("k"), []byte("v"))
			bk.Get([]byte("x")) // holds the lock from here
			panic("boom")
		})
	}()
	writesSoon(t, b, "the writer lock outlived a panicking Update", func(tx kv.Tx) error {
		if tx.Bucket([]byte("b")) != nil {
			return errors.New("a panicked Update committed")
		}
		_, err := tx.CreateBucketIfNotExists([]byte("c"))
		return err
	})
}

// writesSoon runs fn in an Update of db, which must end within 10 s
// (no writer lock is left held): else the test fails with why.
func writesSoon(t *testing.T, db kv.DB, why string, fn func(kv.Tx) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- db.Update(fn) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal(why)
	}
}

// A failed fn leaves no row behind, though its writes had reached the
// server (a read after them sends them).
func TestRollbackLeavesNoRows(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, dsn, nil)
	boom := errors.New("boom")
	err := db.Update(func(tx kv.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("b"))
		n, _ := b.CreateBucketIfNotExists([]byte("n"))
		for i := range 50 {
			b.Put([]byte(fmt.Sprint(i)), []byte("v"))
		}
		n.NextSequence()
		if b.KeyN() != 50 { // sends the writes first
			t.Errorf("KeyN in the transaction %d, want 50", b.KeyN())
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	conn := sqlConn(t, dsn)
	if n := count(t, conn, "SELECT count(*) FROM axis_kv") + count(t, conn, "SELECT count(*) FROM axis_buckets WHERE path <> ''"); n != 0 {
		t.Fatalf("%d rows after a rolled-back Update", n)
	}
	// Nor a lock: another engine writes at once.
	writesSoon(t, open(t, dsn, nil), "the writer lock was kept after a rollback", func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("x"))
		return err
	})
}

// terminate ends the server sessions of application name app.
func terminate(t testing.TB, conn *pgx.Conn, app string) int {
	t.Helper()
	return count(t, conn, "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", app)
}

func withApp(dsn, app string) string { return dsn + "&application_name=" + app }

// An engine error inside a transaction is sticky: the reads after it
// return nothing, the writes are refused, the Update commits nothing of
// that run; a connection lost before COMMIT is retried, fn running again.
func TestStickyErrorAndRetry(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, withApp(dsn, "victim"), nil)
	admin := sqlConn(t, dsn)
	if err := db.Update(func(tx kv.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("b"))
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}

	runs := 0
	err := db.Update(func(tx kv.Tx) error {
		runs++
		b := tx.Bucket([]byte("b"))
		if got := string(b.Get([]byte("k"))); runs == 1 && got != "v" {
			t.Fatalf("first read %q", got)
		}
		if err := b.Put([]byte(fmt.Sprintf("run%d", runs)), []byte("x")); err != nil {
			return err
		}
		if runs == 1 {
			if n := terminate(t, admin, "victim"); n == 0 {
				t.Fatal("no session terminated")
			}
			if v := b.Get([]byte("k2")); v != nil {
				t.Fatalf("Get after the connection died: %q", v)
			}
			if v := b.Get([]byte("k")); v != nil {
				t.Fatalf("Get of a key read before, after the connection died: %q", v)
			}
			if k, _ := b.Cursor().First(); k != nil {
				t.Fatalf("cursor after the connection died: %q", k)
			}
			if err := b.Put([]byte("more"), []byte("x")); err == nil {
				t.Fatal("Put after the connection died")
			}
			// A lookup on the failed transaction is an inert bucket, not
			// nil (callers go on without a nil dereference): it reads nothing
			// and refuses writes.
			other := tx.Bucket([]byte("other"))
			if other == nil || other.Get([]byte("k")) != nil || other.Put([]byte("k"), []byte("v")) == nil {
				t.Fatalf("lookup after the connection died: %v", other)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if runs != 2 {
		t.Fatalf("fn ran %d times, want 2", runs)
	}
	db.View(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b.Get([]byte("run1")) != nil || b.Get([]byte("more")) != nil || b.Get([]byte("run2")) == nil {
			t.Fatalf("after the retry: run1 %q more %q run2 %q", b.Get([]byte("run1")), b.Get([]byte("more")), b.Get([]byte("run2")))
		}
		return nil
	})

	// A View is not run again: it returns the error.
	vruns := 0
	err = db.View(func(tx kv.Tx) error {
		vruns++
		b := tx.Bucket([]byte("b"))
		terminate(t, admin, "victim")
		if v := b.Get([]byte("k")); v != nil {
			t.Fatalf("a read after the connection died: %q", v)
		}
		return nil
	})
	if err == nil || vruns != 1 {
		t.Fatalf("View = %v after %d runs, want an error after 1", err, vruns)
	}
	// And the engine goes on.
	if err := db.View(func(tx kv.Tx) error {
		if string(tx.Bucket([]byte("b")).Get([]byte("k"))) != "v" {
			t.Fatal("k lost")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A failure that is not worth retrying is returned at once, and fn's own
// error is returned as it is even after engine reads.
func TestNoRetryOnFnError(t *testing.T) {
	db := open(t, pgtest.Schema(t), nil)
	mine := errors.New("mine")
	runs := 0
	err := db.Update(func(tx kv.Tx) error {
		runs++
		b, _ := tx.CreateBucketIfNotExists([]byte("b"))
		b.Get([]byte("x"))
		return mine
	})
	if !errors.Is(err, mine) || runs != 1 {
		t.Fatalf("Update = %v after %d runs", err, runs)
	}
}

// The primary loses its power while COMMIT waits for a synchronous
// standby that never answers: the outcome is unknown to the client (and
// here, it did commit locally).
func TestCommitUnknown(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgtest.Options{})
	dsn := c.DSN("postgres")
	db := open(t, dsn, &pgkv.Options{RetryBudget: time.Second})
	if err := db.Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
	c.Exec(t, "SELECT pg_reload_conf()")
	admin := sqlConn(t, dsn)

	runs := 0
	done := make(chan error, 1)
	go func() {
		done <- db.Update(func(tx kv.Tx) error {
			runs++
			return tx.Bucket([]byte("b")).Put([]byte("k"), []byte("maybe"))
		})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for count(t, admin, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the COMMIT never waited for the standby")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Kill()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Update still blocked after the primary died")
	}
	if !errors.Is(err, pgkv.ErrCommitUnknown) {
		t.Fatalf("Update = %v, want ErrCommitUnknown", err)
	}
	if runs != 1 {
		t.Fatalf("fn ran %d times: an unknown commit must not be retried", runs)
	}
	c.Restart(t)
	after := sqlConn(t, dsn)
	if n := count(t, after, "SELECT count(*) FROM axis_kv WHERE k = 'k' AND v = 'maybe'"); n != 1 {
		t.Fatalf("%d rows after recovery: the COMMIT was flushed locally and should have survived", n)
	}
}

// A server that crashed under a pooled connection: the next Update, all
// writes (their first contact with the server would otherwise be the
// COMMIT's batch), fails before COMMIT is sent and is retried on a new
// connection, rather than ending with ErrCommitUnknown.
func TestDeadPooledConnection(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgtest.Options{}) // a fast one would lose its last commits
	restore := pgkv.NeverPing()
	db := open(t, c.DSN("postgres"), &pgkv.Options{MaxConns: 1, RetryBudget: 20 * time.Second})
	restore()
	put := func(v string) error {
		return db.Update(func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b")) // known: no round trip
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte(v))
		})
	}
	if err := put("1"); err != nil {
		t.Fatal(err)
	}
	c.Kill()
	c.Restart(t)
	if err := put("2"); err != nil {
		t.Fatalf("Update on a dead pooled connection: %v", err)
	}
	if err := db.View(func(tx kv.Tx) error {
		if got := string(tx.Bucket([]byte("b")).Get([]byte("k"))); got != "2" {
			return fmt.Errorf("k = %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The engine's ordinary work leaves nothing in the server's log: no
// warning, no error (a log that cries wolf hides the real trouble).
func TestQuietServerLog(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgtest.Options{Fast: true})
	db := open(t, c.DSN("postgres"), nil)
	kvtest.Fill(t, db, 100)
	for i := range 20 {
		if err := db.Update(func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("w"))
			if err != nil {
				return err
			}
			if i%3 == 0 {
				return b.Put([]byte(fmt.Sprint(i)), nil) // writes only
			}
			b.Get([]byte("x"))
			if _, err := b.NextSequence(); err != nil {
				return err
			}
			if i%3 == 1 {
				return errors.New("rolled back")
			}
			return b.Put([]byte(fmt.Sprint(i)), []byte("v"))
		}); err != nil && i%3 != 1 {
			t.Fatal(err)
		}
	}
	kvtest.Dump(t, db)
	db.Update(func(kv.Tx) error { return nil })
	if err := db.Update(func(tx kv.Tx) error { tx.Bucket([]byte("w")).KeyN(); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(c.Log(), "\n") {
		if strings.Contains(line, "WARNING") || strings.Contains(line, "ERROR") {
			t.Errorf("server log: %s", line)
		}
	}
}

// A primary with a synchronous standby, the engine on a multi-host DSN:
// the primary dies, an Update begun in the outage succeeds once the
// standby is promoted, nothing committed is lost, Listen reconnects.
func TestFailover(t *testing.T) {
	t.Parallel()
	p := pgtest.Start(t, pgtest.Options{})
	s := p.Standby(t, "s1")
	p.SetSynchronous(t, "s1")
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2", p.Port(), s.Port())
	db := open(t, dsn, &pgkv.Options{RetryBudget: 30 * time.Second})
	listener := open(t, dsn, nil)

	heard := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	var lwg sync.WaitGroup
	lwg.Go(func() { listener.Listen(ctx, func(k string) { heard <- k }) })
	defer func() { cancel(); lwg.Wait() }()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-heard:
			if got != want {
				t.Fatalf("heard %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("did not hear %q", want)
		}
	}
	expect("") // listening

	for i := range 5 {
		if err := db.Update(func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for j := range 20 {
				if err := b.Put([]byte(fmt.Sprintf("k%d-%02d", i, j)), []byte("v")); err != nil {
					return err
				}
			}
			_, err = b.NextSequence()
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Notify(context.Background(), "before"); err != nil {
		t.Fatal(err)
	}
	expect("before")

	p.Kill()
	var attempts atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- db.Update(func(tx kv.Tx) error {
			attempts.Add(1)
			b := tx.Bucket([]byte("b"))
			if b == nil {
				return errors.New("bucket b lost")
			}
			if err := b.Put([]byte("after"), []byte("v")); err != nil {
				return err
			}
			_, err := b.NextSequence()
			return err
		})
	}()
	viewed := make(chan error, 1)
	go func() {
		// A View begun in the outage waits for a primary too.
		viewed <- db.View(func(tx kv.Tx) error {
			if n := tx.Bucket([]byte("b")).KeyN(); n < 100 {
				return fmt.Errorf("%d keys", n)
			}
			return nil
		})
	}()
	time.Sleep(300 * time.Millisecond) // the Update meets the outage
	s.Promote(t)
	select {
	case err := <-viewed:
		if err != nil {
			t.Fatalf("View across the failover: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("View did not finish after the promotion")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update across the failover: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("Update did not finish after the promotion")
	}
	if err := db.View(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if n := b.KeyN(); n != 101 {
			t.Errorf("%d keys on the promoted standby, want 101", n)
		}
		if b.Sequence() != 6 || b.Get([]byte("after")) == nil {
			t.Errorf("sequence %d, after %q", b.Sequence(), b.Get([]byte("after")))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expect("") // the listener is back, on the new primary
	if err := db.Notify(context.Background(), "after"); err != nil {
		t.Fatal(err)
	}
	expect("after")
}

// Notify reaches the Listens of the same schema, in other engines, and
// not those of another schema.
func TestNotifyListen(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b, other := open(t, dsn, nil), open(t, dsn, nil), open(t, pgtest.Schema(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	hb, ho := make(chan string, 10), make(chan string, 10)
	wg.Go(func() { b.Listen(ctx, func(k string) { hb <- k }) })
	wg.Go(func() { other.Listen(ctx, func(k string) { ho <- k }) })
	for _, ch := range []chan string{hb, ho} {
		select {
		case k := <-ch:
			if k != "" {
				t.Fatalf("first call %q, want \"\"", k)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Listen did not start")
		}
	}
	for _, k := range []string{"doc/1", "doc/2"} {
		if err := a.Notify(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"doc/1", "doc/2"} {
		select {
		case k := <-hb:
			if k != want {
				t.Fatalf("heard %q, want %q", k, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("did not hear %q", want)
		}
	}
	// The other schema's listener heard nothing (its own notify proves it
	// listens).
	if err := other.Notify(context.Background(), "mine"); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-ho:
		if k != "mine" {
			t.Fatalf("another schema heard %q", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other schema's listener heard nothing")
	}
	// Listen ends with its context, and with Close.
	cancel()
	wg.Wait()
	c := open(t, dsn, nil)
	ended := make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		defer close(ended)
		c.Listen(context.Background(), func(k string) { ready <- k })
	}()
	<-ready
	c.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Listen still running after Close")
	}
}

// kv.Copy from bbolt to PostgreSQL and back loses nothing.
func TestCopyAcrossEngines(t *testing.T) {
	src := openBolt(t)
	kvtest.Fill(t, src, 3000)
	pg := open(t, pgtest.Schema(t), nil)
	if err := kv.Copy(pg, src, 1000, nil); err != nil {
		t.Fatal(err)
	}
	back := openBolt(t)
	if err := kv.Copy(back, pg, 0, nil); err != nil {
		t.Fatal(err)
	}
	want := kvtest.Dump(t, src)
	if got := kvtest.Dump(t, pg); got != want {
		t.Fatal("PostgreSQL's copy differs from bbolt's original")
	}
	if got := kvtest.Dump(t, back); got != want {
		t.Fatal("the copy back to bbolt differs from the original")
	}
}

// intake is a transaction shaped like the store's intake of one envelope
// (about 50 operations: four reads of absent keys, sequences, blob
// chunks, the record, indexes, events, two routes).
func intake(i int) func(kv.Tx) error {
	return func(tx kv.Tx) error {
		id := []byte(fmt.Sprintf("doc-%08d", i))
		sum := []byte(fmt.Sprintf("sum-%08d-0123456789abcdef0123", i))
		if tx.Bucket([]byte("by_hash")).Get(sum) != nil {
			return nil
		}
		docs := tx.Bucket([]byte("docs"))
		seq, err := docs.NextSequence()
		if err != nil {
			return err
		}
		if tx.Bucket([]byte("by_docid")).Get(append([]byte("org/"), id...)) != nil {
			return errors.New("already there")
		}
		blobs := tx.Bucket([]byte("blobs"))
		chunk := bytes.Repeat([]byte{'x'}, 1984)
		for c := range 4 {
			if err := blobs.Put(fmt.Appendf(nil, "%016x%08x", seq, c), chunk); err != nil {
				return err
			}
		}
		put := func(bucket string, k, v []byte) error { return tx.Bucket([]byte(bucket)).Put(k, v) }
		if err := docs.Put(id, bytes.Repeat([]byte{'j'}, 1200)); err != nil {
			return err
		}
		for _, ix := range []string{"by_day", "by_sender", "by_code", "by_subject"} {
			if err := put(ix, fmt.Appendf(nil, "2026-12-01/%016x", seq), id); err != nil {
				return err
			}
		}
		if err := put("by_hash", sum, id); err != nil {
			return err
		}
		if err := put("by_docid", append([]byte("org/"), id...), id); err != nil {
			return err
		}
		event := func() error {
			ev := tx.Bucket([]byte("events"))
			es, err := ev.NextSequence()
			if err != nil {
				return err
			}
			if err := ev.Put(fmt.Appendf(nil, "%016x", es), bytes.Repeat([]byte{'e'}, 200)); err != nil {
				return err
			}
			return put("doc_events", fmt.Appendf(nil, "%s/%016x", id, es), nil)
		}
		for range 3 {
			if err := event(); err != nil {
				return err
			}
		}
		for _, organ := range []string{"organ-a", "organ-b"} {
			q, err := tx.Bucket([]byte("queues")).CreateBucketIfNotExists([]byte(organ))
			if err != nil {
				return err
			}
			qs, err := q.NextSequence()
			if err != nil {
				return err
			}
			if err := q.Put(fmt.Appendf(nil, "%016x", qs), id); err != nil {
				return err
			}
			dk := append(append([]byte{}, id...), organ...)
			if tx.Bucket([]byte("deliveries")).Get(dk) != nil {
				return errors.New("delivery exists")
			}
			if err := put("deliveries", dk, bytes.Repeat([]byte{'d'}, 300)); err != nil {
				return err
			}
			if err := event(); err != nil {
				return err
			}
		}
		return nil
	}
}

func benchIntake(b *testing.B, db kv.DB) {
	err := db.Update(func(tx kv.Tx) error {
		for _, n := range []string{"by_hash", "docs", "by_docid", "blobs", "by_day", "by_sender", "by_code", "by_subject", "events", "doc_events", "queues", "deliveries"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := db.Update(intake(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIntake compares the engines on durable storage (bbolt's fsync,
// PostgreSQL's fsync and synchronous_commit on).
func BenchmarkIntake(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) { benchIntake(b, openBolt(b)) })
	b.Run("postgres", func(b *testing.B) {
		c := pgtest.Start(b, pgtest.Options{})
		benchIntake(b, open(b, c.DSN("postgres"), nil))
	})
}

// Begin takes the writer lock at once: another process's writer, started
// while this transaction has issued nothing but Begin, waits until it
// commits (without Begin nothing would hold the lock yet).
func TestBeginTakesTheWriterLock(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	var committedA, readB time.Time
	done := make(chan error, 1)
	err := a.Update(func(tx kv.Tx) error {
		if err := tx.(interface{ Begin() error }).Begin(); err != nil {
			return err
		}
		go func() {
			done <- b.Update(func(tx kv.Tx) error {
				_, err := tx.CreateBucketIfNotExists([]byte("b"))
				readB = time.Now()
				return err
			})
		}()
		time.Sleep(300 * time.Millisecond)
		_, err := tx.CreateBucketIfNotExists([]byte("a"))
		committedA = time.Now()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !readB.After(committedA) {
		t.Fatalf("the other writer ran at %v, before this one finished at %v", readB, committedA)
	}
}
