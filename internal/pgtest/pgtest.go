// Package pgtest runs real PostgreSQL clusters for tests: Debian's
// binaries (or $PG_BIN), a throwaway cluster made by initdb in a temporary
// folder, started as an unprivileged user when the test runs as root (the
// postgres user, else nobody), that never outlives the test process.
//
// Start gives a test its own cluster; Standby, SetSynchronous, Kill and
// Promote make a primary with a streaming standby and a failover out of
// it. Main (for a package's TestMain) starts one shared fast cluster for a
// whole test binary when AXIS_TEST_STORE=postgres, and Schema gives each
// test a fresh schema of it.
//
// Without PostgreSQL binaries a test skips, and fails in CI ($CI is
// "true"), where they must be installed (apt-get install postgresql).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/pgbin"
	"github.com/jackc/pgx/v5"
)

// Options shape a cluster.
type Options struct {
	// Fast turns fsync, synchronous_commit and full_page_writes off: for
	// behaviour suites, where a crash loses nothing that matters. Kill
	// loses such a cluster's last commits (those of the last 200ms or
	// so, whose WAL was still in shared memory). The default is a durable
	// cluster.
	Fast bool
	// Settings are extra postgresql.conf lines ("max_connections = 50").
	Settings []string
}

// Cluster is a running (or killed) PostgreSQL cluster.
type Cluster struct {
	bin  string
	root string // the cluster's own folder: data/, the socket, the log
	data string
	log  string
	port int
	opts Options
	cred *syscall.Credential // nil when not root
	name string              // a standby's application_name

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

const startTimeout = 60 * time.Second

// Start makes, starts and (at the test's end) removes a cluster.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	bin := binDir(tb)
	c, err := start(bin, opts)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { c.cleanup(tb) })
	return c
}

// binDir is $PG_BIN, else the newest /usr/lib/postgresql/*/bin; without
// one the test skips (fails in CI).
func binDir(tb testing.TB) string {
	tb.Helper()
	bin, err := pgbin.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("pgtest: PostgreSQL is required in CI (apt-get install postgresql): %v", err)
		}
		tb.Skipf("pgtest: %v", err)
	}
	return bin
}

// rootPrefix names the clusters' folders in the temporary folder.
const rootPrefix = "pgtest-"

var sweepOnce sync.Once

// sweep removes the folders of clusters that a test process left behind
// when it died without its cleanups (a panic, a kill): those whose
// postmaster is gone and that nothing touched for half an hour.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), rootPrefix+"*"))
	for _, d := range dirs {
		st, err := os.Stat(filepath.Join(d, "postgres.log"))
		if err != nil {
			st, err = os.Stat(d)
		}
		if err != nil || time.Since(st.ModTime()) < 30*time.Minute {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil && alive(pid) {
				continue
			}
		}
		os.RemoveAll(d)
	}
}

// newRoot is a folder for one cluster that its user can reach (a test's
// TempDir has root-only parents), owned by that user.
func newRoot(cred *syscall.Credential) (string, error) {
	sweepOnce.Do(sweep)
	root, err := os.MkdirTemp("", rootPrefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	if cred != nil {
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(root)
			return "", err
		}
	}
	return root, nil
}

// start is the starter that Start and Main share: initdb, configuration,
// postgres.
func start(bin string, opts Options) (*Cluster, error) {
	cred, err := pgbin.RunAs()
	if err != nil {
		return nil, err
	}
	root, err := newRoot(cred)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, root: root, data: filepath.Join(root, "data"), log: filepath.Join(root, "postgres.log"), opts: opts, cred: cred}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(root)
		return nil, err
	}
	out, err := c.command("initdb", "-D", c.data, "-A", "trust", "-E", "UTF8", "--locale=C", "-U", "postgres", "--no-sync").CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	hba := "local all all trust\nhost all all 127.0.0.1/32 trust\n" +
		"local replication all trust\nhost replication all 127.0.0.1/32 trust\n"
	if err := c.writeFile(filepath.Join(c.data, "pg_hba.conf"), hba, false); err != nil {
		return fail(err)
	}
	onOff := "on"
	if opts.Fast {
		onOff = "off"
	}
	conf := []string{
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + c.root + "'",
		"wal_level = replica",
		"max_wal_senders = 10",
		"max_replication_slots = 10",
		"hot_standby = on",
		"wal_receiver_status_interval = 1s",
		"wal_retrieve_retry_interval = 200ms",
		"max_connections = 200",
		"shared_buffers = 32MB",
		"fsync = " + onOff,
		"synchronous_commit = " + onOff,
		"full_page_writes = " + onOff,
		"log_min_messages = warning",
		"log_line_prefix = '%m [%p] '",
	}
	conf = append(conf, opts.Settings...)
	if err := c.writeFile(filepath.Join(c.data, "postgresql.conf"), strings.Join(conf, "\n")+"\n", true); err != nil {
		return fail(err)
	}
	if err := c.launch(true); err != nil {
		return fail(err)
	}
	return c, nil
}

// command runs a binary of the cluster's as its user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Env = []string{"PATH=" + c.bin + ":/usr/bin:/bin", "LANG=C", "LC_ALL=C", "HOME=" + c.root, "PGHOST=" + c.root}
	cmd.Dir = c.root
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// writeFile writes (or appends to) a file of the cluster's, owned by its
// user.
func (c *Cluster) writeFile(path, s string, appendTo bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if c.cred != nil {
		return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
	}
	return nil
}

// launch starts postgres on the data folder and waits until it accepts
// connections. A fresh port is chosen when pick is set, and again when
// another process took the port between the choice and the bind.
func (c *Cluster) launch(pick bool) error {
	for attempt := 0; ; attempt++ {
		if pick {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
			if err := c.writeFile(filepath.Join(c.data, "postgresql.conf"), fmt.Sprintf("port = %d\n", p), true); err != nil {
				return err
			}
		}
		err := c.spawn()
		if err == nil {
			err = c.waitReady(startTimeout)
		}
		if err == nil {
			return nil
		}
		c.stop()
		if pick && attempt < 3 && strings.Contains(c.logTail(4096), "could not bind") {
			continue
		}
		return fmt.Errorf("%v\nlog:\n%s", err, c.logTail(4096))
	}
}

func (c *Cluster) spawn() error {
	logf, err := os.OpenFile(c.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := c.command("postgres", "-D", c.data)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("postgres: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	c.mu.Lock()
	c.cmd, c.exited = cmd, exited
	c.mu.Unlock()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until the cluster answers a query.
func (c *Cluster) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		c.mu.Lock()
		exited := c.exited
		c.mu.Unlock()
		select {
		case <-exited:
			return errors.New("postgres exited while starting")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		var dir string
		if err == nil {
			// Ours, not another cluster that took the port meanwhile.
			err = conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir)
			conn.Close(ctx)
		}
		cancel()
		if err == nil && dir == c.data {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("port %d answered by the cluster in %s", c.port, dir)
		}
		last = err
		time.Sleep(30 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after %v: %v", timeout, last)
}

func (c *Cluster) logTail(n int64) string {
	f, err := os.Open(c.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	f.ReadAt(b, off)
	return string(b)
}

// stop shuts the cluster down fast (SIGINT: clients are disconnected),
// then kills what is left after a while.
func (c *Cluster) stop() {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	// A fast shutdown: the postmaster exits once its children have.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		c.Kill()
	}
}

// cleanup stops the cluster and removes its folder, showing the end of
// its log when the test failed.
func (c *Cluster) cleanup(tb testing.TB) {
	c.stop()
	if tb.Failed() {
		tb.Logf("pgtest: end of %s's log:\n%s", c.root, c.logTail(3000))
	}
	os.RemoveAll(c.root)
}

// DSN is a URL to database db of the cluster over TCP (127.0.0.1).
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, url.PathEscape(db))
}

// Log is what the cluster's server processes logged so far (their
// stderr: warnings and errors, and the messages of starts and stops).
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// Port is the cluster's TCP port.
func (c *Cluster) Port() int { return c.port }

// PID is the postmaster's process id, 0 when it is not running.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return 0
	}
	select {
	case <-c.exited:
		return 0
	default:
		return c.cmd.Process.Pid
	}
}

// Kill kills the postmaster and all its children (backends, WAL sender
// and writer...) with SIGKILL at once, as a machine that loses power
// would: no process says goodbye to its clients, whose connections just
// end. It returns once they are all gone and the port is closed.
func (c *Cluster) Kill() {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	pm := cmd.Process.Pid
	// Stopped, the postmaster forks no child while they are listed (each
	// child is a session leader of its own: the postmaster's process group
	// does not hold them); they die before it, so that none sees it die
	// and tells its client.
	syscall.Kill(pm, syscall.SIGSTOP)
	kids := children(pm)
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
	}
	syscall.Kill(pm, syscall.SIGKILL)
	<-exited
	deadline := time.Now().Add(10 * time.Second)
	for _, k := range kids {
		for alive(k) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.port), 200*time.Millisecond)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// stat is the state and parent of process pid ("" when it is gone).
func stat(pid int) (state string, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return "", 0
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0], ppid
}

// alive tells whether pid runs (a zombie does not).
func alive(pid int) bool {
	st, _ := stat(pid)
	return st != "" && st != "Z" && st != "X"
}

// children are the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, pp := stat(p); pp == pid && st != "Z" {
			out = append(out, p)
		}
	}
	return out
}

// Restart stops the cluster (if it runs) and starts it again on the same
// folder and port: after Kill, a crash recovery.
func (c *Cluster) Restart(tb testing.TB) {
	tb.Helper()
	c.stop()
	if err := c.launch(false); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
}

// Exec runs sql (one statement or several) on database postgres.
func (c *Cluster) Exec(tb testing.TB, sql string) {
	tb.Helper()
	if err := c.exec(sql); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func (c *Cluster) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// query runs a one-value query on database postgres.
func (c *Cluster) query(sql string, dst any, args ...any) error {
	return c.queryWithin(5*time.Second, sql, dst, args...)
}

func (c *Cluster) queryWithin(timeout time.Duration, sql string, dst any, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql, args...).Scan(dst)
}

// waitFor polls cond until it holds.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		if ok, err = cond(); ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("pgtest: %s: not after %v (last error: %v)", what, timeout, err)
}

// Standby makes a streaming standby of c (pg_basebackup -R -X stream) on
// its own port and folder, with application_name name, and returns once
// c's pg_stat_replication shows it streaming. It is removed at the test's
// end.
func (c *Cluster) Standby(tb testing.TB, name string) *Cluster {
	tb.Helper()
	root, err := newRoot(c.cred)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	s := &Cluster{bin: c.bin, root: root, data: filepath.Join(root, "data"), log: filepath.Join(root, "postgres.log"), opts: c.opts, cred: c.cred, name: name}
	tb.Cleanup(func() { s.cleanup(tb) })
	out, err := s.command("pg_basebackup", "-D", s.data, "-R", "-X", "stream", "-c", "fast", "--no-sync",
		"-d", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", c.port, name)).CombinedOutput()
	if err != nil {
		tb.Fatalf("pgtest: pg_basebackup: %v\n%s", err, out)
	}
	// The last setting wins: the standby's own socket folder (its port is
	// set by launch), its own primary_conninfo with its name, and no
	// synchronous standbys of its own should it be promoted.
	if err := s.writeFile(filepath.Join(s.data, "postgresql.conf"), "unix_socket_directories = '"+s.root+"'\n", true); err != nil {
		tb.Fatal(err)
	}
	auto := fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'\nsynchronous_standby_names = ''\n", c.port, name)
	if err := s.writeFile(filepath.Join(s.data, "postgresql.auto.conf"), auto, true); err != nil {
		tb.Fatal(err)
	}
	if err := s.launch(true); err != nil {
		tb.Fatalf("pgtest: standby %s: %v", name, err)
	}
	waitFor(tb, "standby "+name+" streaming", 30*time.Second, func() (bool, error) {
		var n int
		err := c.query("SELECT count(*) FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", &n, name)
		return n == 1, err
	})
	return s
}

// SetSynchronous makes the named standbys synchronous (all of them: a
// commit on c waits for each), or none when names is empty, and waits
// until pg_stat_replication shows them so.
func (c *Cluster) SetSynchronous(tb testing.TB, names ...string) {
	tb.Helper()
	setting := ""
	if len(names) > 0 {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
		setting = fmt.Sprintf("FIRST %d (%s)", len(names), strings.Join(q, ", "))
	}
	c.Exec(tb, "ALTER SYSTEM SET synchronous_standby_names = '"+strings.ReplaceAll(setting, "'", "''")+"'")
	c.Exec(tb, "SELECT pg_reload_conf()")
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	waitFor(tb, "synchronous standbys "+strings.Join(names, ","), 30*time.Second, func() (bool, error) {
		var got string
		err := c.query("SELECT coalesce(string_agg(application_name, ',' ORDER BY application_name), '') FROM pg_stat_replication WHERE sync_state = 'sync'", &got)
		return got == strings.Join(sorted, ","), err
	})
}

// Promote makes a standby a primary (pg_promote, waiting) and returns
// once it accepts writes.
func (c *Cluster) Promote(tb testing.TB) {
	tb.Helper()
	var ok bool
	if err := c.queryWithin(70*time.Second, "SELECT pg_promote(wait => true, wait_seconds => 60)", &ok); err != nil || !ok {
		tb.Fatalf("pgtest: promote %s: %v (promoted: %v)", c.name, err, ok)
	}
	waitFor(tb, "promoted "+c.name+" writable", 30*time.Second, func() (bool, error) {
		var ro string
		err := c.query("SHOW transaction_read_only", &ro)
		return ro == "off", err
	})
}

// The shared cluster of a test binary (Main).
const (
	envStore = "AXIS_TEST_STORE"
	envDSN   = "AXIS_TEST_PG_DSN"
)

// Main is for a package's TestMain (os.Exit(pgtest.Main(m))): when
// AXIS_TEST_STORE is "postgres" and AXIS_TEST_PG_DSN is empty, it starts
// one fast cluster for the test binary, sets AXIS_TEST_PG_DSN to a
// database of it, runs the tests and stops the cluster; otherwise it just
// runs the tests.
func Main(m *testing.M) int {
	if os.Getenv(envStore) == "postgres" {
		return WithCluster(m, Options{Fast: true})
	}
	return m.Run()
}

// WithCluster is Main for a package whose tests always want PostgreSQL
// (the engine's own): it starts the shared cluster whatever
// AXIS_TEST_STORE says, unless AXIS_TEST_PG_DSN is set already (then that
// database is used). Without binaries the tests run and Schema skips them
// (fails in CI).
func WithCluster(m *testing.M, opts Options) int {
	if os.Getenv(envDSN) != "" {
		return m.Run()
	}
	bin, err := pgbin.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL is required in CI (apt-get install postgresql): %v\n", err)
			return 1
		}
		return m.Run()
	}
	c, err := start(bin, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: shared cluster: %v\n", err)
		return 1
	}
	defer func() {
		c.stop()
		os.RemoveAll(c.root)
	}()
	if err := c.exec("CREATE DATABASE axis"); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: shared cluster: %v\n", err)
		return 1
	}
	os.Setenv(envDSN, c.DSN("axis"))
	defer os.Unsetenv(envDSN)
	return m.Run()
}

// Schema creates a fresh schema in the AXIS_TEST_PG_DSN database and
// returns a DSN whose search_path is that schema; the schema is dropped
// (CASCADE) at the test's end. Without AXIS_TEST_PG_DSN the test skips
// (fails in CI).
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("pgtest: %s is empty: the package's TestMain must call pgtest.Main (with %s=postgres) or pgtest.WithCluster", envDSN, envStore)
		}
		tb.Skipf("pgtest: %s is empty (no PostgreSQL)", envDSN)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "t_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SET lock_timeout = '20s'; DROP SCHEMA "+schema+" CASCADE", pgx.QueryExecModeSimpleProtocol); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(dsn, schema)
}

// WithSearchPath is dsn (a URL or a key=value string) with its
// search_path set to schema, which pgx passes to the server as a run-time
// parameter.
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}
