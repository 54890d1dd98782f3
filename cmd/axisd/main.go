// Command axisd is the axis hub daemon: it reads its YAML config, opens the
// store, and serves the HTTP API (HTTPS only with tls:) until SIGINT or
// SIGTERM, then finishes in-flight requests and closes the store. SIGHUP
// reloads the config (Main.Reload: the directory, peers, tokens, trust
// roots, TLS files; axis/reload.go says what needs a restart).
//
//	axisd --config testdata/demo/axis-h40.yaml
//	axisd --check-config --config /etc/axis/axisd.yaml   # validate, open nothing (checkconfig.go)
//	axisd audit-verify --db backup.db   # a store file's event chain, offline (auditverify.go)
//	axisd migrate-store --from F --to-dsn-env V # a store into another engine, offline (migrate.go)
//	axisd compact --db /var/lib/axis/axis.db   # a stopped hub's store file without its free pages (compact.go)
//	axisd --version
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/httpapi"
	"github.com/axis-h40/axis/internal/version"
)

var cpuProfile, memProfile, traceFile = new(string), new(string), new(string)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1) // before anything: SIGHUP's default would end the process
	signal.Notify(hup, syscall.SIGHUP)
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version.String("axisd"))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "audit-verify" {
		os.Exit(auditVerify(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "migrate-store" {
		os.Exit(migrateStore(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "compact" {
		os.Exit(compact(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		for _, e := range axis.ConfigErrors(err) { // a config's problems, one a line: "axisd: FILE:LINE: what"
			fmt.Fprintln(os.Stderr, "axisd:", e)
		}
		os.Exit(2)
	}
	if m.CheckOnly {
		os.Exit(m.CheckConfig(os.Stdout, os.Stderr))
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "axisd:", err)
			os.Exit(1)
		}
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, "axisd:", err)
			os.Exit(1)
		}
		defer trace.Stop()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "axisd:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// The memory budget is process-wide, so the binary sets it, not Run
	// (tests run many hubs in one process).
	ms := axis.ApplyMemory(m.Config.Limits)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "axisd:", err)
		os.Exit(1)
	}
	m.Options.Logger.Info("memory budget", "memory_limit_bytes", ms.Limit, "gogc", ms.GCPercent, "from", ms.From)
	go func() {
		for range hup {
			_ = m.Reload() // logs its outcome; a refused reload keeps the running configuration
		}
	}()
	<-ctx.Done()
	err := m.Close()
	if *memProfile != "" {
		if werr := writeHeapProfile(*memProfile); werr != nil {
			fmt.Fprintln(os.Stderr, "axisd:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "axisd: shutdown:", err)
		pprof.StopCPUProfile()
		trace.Stop()
		os.Exit(1)
	}
}

// writeHeapProfile writes the allocation profile (pprof's "allocs":
// every allocation since start, by size and count) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Main is the program: tests run it in-process with Addr "127.0.0.1:0".
type Main struct {
	ConfigPath string
	Config     *axis.Config
	// Addr overrides the config's listen address when set.
	Addr string
	// DataDir overrides the config's data_dir when set.
	DataDir string
	// Node overrides the config's cluster.node when set.
	Node string
	// Listener, when set, is served instead of listening on Addr (tests that
	// must know every hub's address before any hub starts).
	Listener net.Listener
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout time.Duration
	Options         axis.Options
	// CheckOnly is --check-config: validate the config and exit
	// (CheckConfig), opening nothing.
	CheckOnly bool

	Hub       *axis.Hub
	tls       *serverTLS // with tls: (tls.go)
	server    *http.Server
	ln        net.Listener
	done      chan error
	closeOnce sync.Once
	closeErr  error
}

// NewMain returns a Main with defaults.
func NewMain() *Main { return &Main{ShutdownTimeout: 30 * time.Second} }

// ParseFlags reads the command line and the config file.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("axisd", flag.ContinueOnError)
	fs.StringVar(&m.ConfigPath, "config", "axisd.yaml", "YAML config file")
	fs.StringVar(&m.Addr, "listen", "", "listen address (overrides the config's listen)")
	fs.StringVar(&m.DataDir, "data-dir", "", "data folder (overrides the config's data_dir)")
	fs.StringVar(&m.Node, "node", "", "this node's name on a shared store (overrides the config's cluster.node)")
	fs.StringVar(cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for performance work)")
	fs.StringVar(traceFile, "trace", "", "write a runtime execution trace to this file until shutdown (go tool trace; for performance work: large)")
	fs.StringVar(memProfile, "memprofile", "", "write an allocation profile (every allocation since start) to this file at shutdown (for performance work)")
	fs.BoolVar(&m.CheckOnly, "check-config", false, "validate the config (keys, files, certificates, agencies, peers), print what it holds and exit: 0 good, 1 not; opens no store, binds no port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if m.CheckOnly {
		return nil // CheckConfig reads the file: its problems exit 1, not 2
	}
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	m.Config = cfg
	return nil
}

// loadConfig reads the config file with the flags' overrides (at start and
// on every reload).
func (m *Main) loadConfig() (*axis.Config, error) {
	cfg, err := axis.LoadConfig(m.ConfigPath)
	if err != nil {
		return nil, err
	}
	if m.DataDir != "" {
		if cfg.DataDir, err = filepath.Abs(m.DataDir); err != nil {
			return nil, err
		}
	}
	if m.Node != "" {
		cfg.Cluster.Node = m.Node
	}
	return cfg, nil
}

// Reload is what SIGHUP does: the config file is read and checked again,
// everything it changes is made ready off to the side (the directory,
// peers and their clients, tokens, trust roots, the server certificate)
// and then swapped in at once; connections and intakes in flight go on. A
// config that does not load or check is refused, logged at error level and
// counted (axis_config_reloads_total{result="refused"}); the running one
// stays. The error names the file and line (axis.ConfigError).
func (m *Main) Reload() error {
	if m.Hub == nil {
		return errors.New("reload: axisd is not running")
	}
	_, err := m.Hub.Reload(m.loadConfig, m.stageTLS)
	return err
}

// Run opens the hub and starts serving in the background.
func (m *Main) Run(ctx context.Context) error {
	if m.Options.Logger == nil {
		m.Options.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(m.Config.Log.Level)}))
	}
	if m.Config.TLS != nil { // its files first: a bad one stops the start before the store opens
		t, err := newServerTLS(m.Config, m.Options.Logger)
		if err != nil {
			return err
		}
		m.tls = t
	}
	m.Hub = axis.NewHub(m.Config, m.Options)
	if err := m.Hub.Open(ctx); err != nil {
		return err
	}
	addr := m.Config.Listen
	if m.Addr != "" {
		addr = m.Addr
	}
	ln := m.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			m.Hub.Close()
			return err
		}
	}
	m.ln = ln
	m.server = &http.Server{
		Handler:           httpapi.New(m.Hub), // the API, the console, body guards
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// The server's own complaints (TLS handshake errors, say) in the
		// hub's log rather than bare on stderr.
		ErrorLog: slog.NewLogLogger(m.Options.Logger.Handler(), slog.LevelWarn),
	}
	m.done = make(chan error, 1)
	serve := ln
	if m.tls != nil {
		serve = tls.NewListener(ln, m.tls.config) // HTTPS only: no plain listener
	}
	go func() { m.done <- m.server.Serve(serve) }()
	m.Options.Logger.Info("axisd listening", append([]any{"addr", ln.Addr().String(), "url", m.URL(), "hub", m.Config.Hub.Name}, m.tls.attrs()...)...)
	return nil
}

// URL is the base URL the hub serves on: https:// with tls.
func (m *Main) URL() string {
	if m.tls != nil {
		return "https://" + m.ln.Addr().String()
	}
	return "http://" + m.ln.Addr().String()
}

// Close stops accepting connections, waits for in-flight requests (so every
// intake that started finishes and is acknowledged or refused), then closes
// the store.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
		defer cancel()
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-m.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.Hub != nil {
		if err := m.Hub.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func logLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
