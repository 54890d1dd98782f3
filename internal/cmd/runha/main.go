// Command runha is `make run-ha`: the demo province (H40) on three axisd
// nodes, 127.0.0.1:8080, :8081 and :8082, over one local PostgreSQL, for
// a newcomer to try what README "Past one machine" describes. The
// database cluster lives in var/ha/pg (made with initdb on the first run,
// kept after), listening on 127.0.0.1:5433 and a socket in that folder;
// each node has its own data dir var/ha/nodeN (spool files, reports).
// Ctrl-C stops the three nodes, then PostgreSQL.
//
// It is a demo: one PostgreSQL, no standby. Production runs a primary with
// a synchronous standby (README).
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/axis-h40/axis/internal/pgbin"
	"github.com/jackc/pgx/v5"
)

const (
	pgPort = 5433
	config = "testdata/demo/axis-h40-ha.yaml"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "run-ha:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := filepath.Abs("var/ha/pg")
	if err != nil {
		return err
	}
	pg, err := startPostgres(dir)
	if err != nil {
		return err
	}
	defer func() {
		pg.Process.Signal(syscall.SIGINT) // fast shutdown
		pg.Wait()
		fmt.Println("run-ha: PostgreSQL stopped")
	}()
	base := fmt.Sprintf("postgres://postgres@127.0.0.1:%d", pgPort)
	if err := createDatabase(ctx, base+"/postgres"); err != nil {
		return err
	}
	dsn := base + "/axis?target_session_attrs=read-write"
	var nodes []*exec.Cmd
	for i := 0; i < 3; i++ {
		dataDir := fmt.Sprintf("var/ha/node%d", i+1)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return err
		}
		cmd := exec.Command("bin/axisd", "--config", config, "--listen", fmt.Sprintf("127.0.0.1:%d", 8080+i), "--data-dir", dataDir, "--node", fmt.Sprintf("node-%d", i+1))
		cmd.Env = append(os.Environ(), "AXIS_HA_DSN="+dsn)
		out, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			return err
		}
		go prefix(fmt.Sprintf("node-%d", i+1), out)
		nodes = append(nodes, cmd)
	}
	fmt.Println("run-ha: three axisd nodes on http://127.0.0.1:8080, :8081 and :8082, one PostgreSQL store (var/ha/pg, 127.0.0.1:5433); Ctrl-C stops them")
	died := make(chan error, len(nodes))
	for i, n := range nodes {
		go func() { died <- fmt.Errorf("node-%d exited: %v", i+1, n.Wait()) }()
	}
	select {
	case <-ctx.Done():
	case err = <-died:
	}
	for _, n := range nodes {
		n.Process.Signal(syscall.SIGTERM)
	}
	running := len(nodes)
	if err != nil {
		running-- // the one that exited
	}
	for ; running > 0; running-- {
		<-died
	}
	return err
}

// prefix copies a node's log lines to standard output, named.
func prefix(name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Printf("%s %s\n", name, sc.Text())
	}
}

// startPostgres starts (after initdb on the first run) the cluster in
// dir as an unprivileged user when this is root: postgres refuses root.
func startPostgres(dir string) (*exec.Cmd, error) {
	bin, err := pgbin.Find()
	if err != nil {
		return nil, fmt.Errorf("%v: apt-get install postgresql (or set PG_BIN)", err)
	}
	cred, err := pgbin.RunAs()
	if err != nil {
		return nil, err
	}
	cmdAs := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(bin, name), args...)
		if cred != nil {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return c
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if cred != nil {
			for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, filepath.Dir(filepath.Dir(dir))); d = filepath.Dir(d) {
				os.Chmod(d, 0o755) // var/ha and var reachable by that user
			}
			os.Chmod(dir, 0o700)
			if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, err
			}
		}
		out, err := cmdAs("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("initdb: %v\n%s", err, out)
		}
	}
	pg := cmdAs("postgres", "-D", dir, "-p", strconv.Itoa(pgPort), "-k", dir, "-c", "listen_addresses=127.0.0.1")
	logf, err := os.Create(filepath.Join(filepath.Dir(dir), "postgres.log"))
	if err != nil {
		return nil, err
	}
	pg.Stdout, pg.Stderr = logf, logf
	if err := pg.Start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres", pgPort))
		if err == nil {
			c.Close(ctx)
			return pg, nil
		}
		if ctx.Err() != nil {
			pg.Process.Kill()
			return nil, fmt.Errorf("PostgreSQL did not start (see var/ha/postgres.log): %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func createDatabase(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = 'axis'").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		_, err = c.Exec(ctx, "CREATE DATABASE axis")
	}
	return err
}
