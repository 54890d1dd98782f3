package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { os.Exit(WithCluster(m, Options{Fast: true})) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// A primary and a synchronous standby; the primary is killed, the standby
// promoted: what was committed is there, writes work, and a multi-host DSN
// with target_session_attrs=read-write finds whichever is the primary.
func TestFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := Start(t, Options{})
	if p.PID() == 0 || p.Port() == 0 {
		t.Fatalf("pid %d port %d", p.PID(), p.Port())
	}
	if owner := procUID(t, p.PID()); os.Geteuid() == 0 && owner == 0 {
		t.Fatal("postgres runs as root")
	}
	p.Exec(t, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
	s := p.Standby(t, "s1")
	if s.Port() == p.Port() {
		t.Fatal("standby on the primary's port")
	}
	p.SetSynchronous(t, "s1")

	// The standby listed first: read-write skips it.
	multi := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write", s.Port(), p.Port())
	if got := queryInt(t, connect(t, multi), "SELECT inet_server_port()"); got != p.Port() {
		t.Fatalf("multi-host DSN reached port %d, want the primary's %d", got, p.Port())
	}

	pc := connect(t, p.DSN("postgres"))
	var ssn string
	if err := pc.QueryRow(ctx, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 's1'").Scan(&ssn); err != nil || ssn != "sync" {
		t.Fatalf("sync_state %q, %v", ssn, err)
	}
	// remote_apply: the commit returns once the standby has applied it.
	if _, err := pc.Exec(ctx, "SET synchronous_commit = remote_apply"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Exec(ctx, "INSERT INTO t VALUES (1, 'before')"); err != nil {
		t.Fatal(err)
	}
	sc := connect(t, s.DSN("postgres"))
	var v string
	if err := sc.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "before" {
		t.Fatalf("standby reads %q, %v", v, err)
	}
	if _, err := sc.Exec(ctx, "INSERT INTO t VALUES (2, 'x')"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write on the standby: %v", err)
	}

	pid := p.PID()
	backend := queryInt(t, pc, "SELECT pg_backend_pid()")
	p.Kill()
	if p.PID() != 0 || processAlive(pid) || processAlive(backend) {
		t.Fatalf("postmaster %d or backend %d still alive", pid, backend)
	}
	// Power lost: the connection ends without a word from the server.
	_, err := pc.Exec(ctx, "SELECT 1")
	var pe *pgconn.PgError
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("a connection to the killed primary: %v", err)
	}
	s.Promote(t)

	sc2 := connect(t, s.DSN("postgres"))
	if err := sc2.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "before" {
		t.Fatalf("promoted standby reads %q, %v", v, err)
	}
	if _, err := sc2.Exec(ctx, "INSERT INTO t VALUES (2, 'after')"); err != nil {
		t.Fatalf("write on the promoted standby: %v", err)
	}

	// The old primary listed first is dead: the DSN finds the new one.
	multi = fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write", p.Port(), s.Port())
	mc := connect(t, multi)
	if got := queryInt(t, mc, "SELECT inet_server_port()"); got != s.Port() {
		t.Fatalf("multi-host DSN reached port %d, want the promoted standby's %d", got, s.Port())
	}
	if got := queryInt(t, mc, "SELECT count(*) FROM t"); got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
}

// Kill loses nothing that was committed on a durable cluster; Restart
// recovers it on the same port.
func TestKillRestart(t *testing.T) {
	t.Parallel()
	c := Start(t, Options{})
	c.Exec(t, "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3)")
	pid, port := c.PID(), c.Port()
	c.Kill()
	if processAlive(pid) {
		t.Fatal("postmaster alive after Kill")
	}
	c.Restart(t)
	if c.PID() == 0 || c.PID() == pid || c.Port() != port {
		t.Fatalf("after restart: pid %d (was %d), port %d (was %d)", c.PID(), pid, c.Port(), port)
	}
	if n := queryInt(t, connect(t, c.DSN("postgres")), "SELECT count(*) FROM t"); n != 3 {
		t.Fatalf("%d rows after crash recovery, want 3", n)
	}
}

// Schema: each call a schema of its own, the DSN's search_path on it,
// dropped at the test's end.
func TestSchema(t *testing.T) {
	var a, b string
	t.Run("make", func(t *testing.T) {
		a, b = Schema(t), Schema(t)
		ca, cb := connect(t, a), connect(t, b)
		ctx := context.Background()
		for _, c := range []*pgx.Conn{ca, cb} {
			if _, err := c.Exec(ctx, "CREATE TABLE kv (k int)"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ca.Exec(ctx, "INSERT INTO kv VALUES (1), (2)"); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, cb, "SELECT count(*) FROM kv"); n != 0 {
			t.Fatalf("schema b sees %d rows of a's", n)
		}
		var sa, sb string
		ca.QueryRow(ctx, "SELECT current_schema()").Scan(&sa)
		cb.QueryRow(ctx, "SELECT current_schema()").Scan(&sb)
		if !strings.HasPrefix(sa, "t_") || !strings.HasPrefix(sb, "t_") || sa == sb {
			t.Fatalf("schemas %q %q", sa, sb)
		}
		t.Cleanup(func() { ca.Close(ctx); cb.Close(ctx) }) // before the drops
	})
	conn := connect(t, os.Getenv(envDSN))
	if n := queryInt(t, conn, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'"); n != 0 {
		t.Fatalf("%d test schemas left after the test", n)
	}
}

func TestWithSearchPath(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@h:1,h:2/db?sslmode=disable": "postgres://u@h:1,h:2/db?search_path=s1&sslmode=disable",
		"host=h dbname=db":                        "host=h dbname=db search_path=s1",
	} {
		if got := WithSearchPath(in, "s1"); got != want {
			t.Errorf("WithSearchPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func processAlive(pid int) bool {
	if pid == 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && syscall.Kill(pid, 0) == nil
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	st, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Sys().(*syscall.Stat_t).Uid)
}
