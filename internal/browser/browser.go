// Package browser drives a headless Chromium from Go tests through the Chrome
// DevTools Protocol (CDP), spoken over a pipe (--remote-debugging-pipe): the
// browser reads commands from its file descriptor 3 and writes responses and
// events to its file descriptor 4, each message a JSON object followed by a
// NUL byte. No websocket, no port, nothing but the standard library.
//
// A test gets a browser with [ForTest], opens a [Page] with
// [Browser.NewPage], and drives it with Navigate, Fill, Click, ClickAndWait,
// WaitFor, Text, Eval, URL and Screenshot. Every call takes a context and
// every wait is bounded by it.
//
// The chromium binary is found by [Path]: $CHROMIUM, else /usr/bin/chromium,
// else chromium in $PATH (Debian: apt-get install chromium).
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Path returns the chromium binary to use, and whether it exists: $CHROMIUM
// if set (a path or a name looked up in $PATH), else /usr/bin/chromium, else
// chromium or chromium-browser in $PATH.
func Path() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		lp, err := exec.LookPath(p)
		if err != nil {
			return p, false
		}
		return lp, true
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if lp, err := exec.LookPath(p); err == nil {
			return lp, true
		}
	}
	return "/usr/bin/chromium", false
}

// Options configure [Launch]. The zero value is usable.
type Options struct {
	// Path is the chromium binary; empty means [Path]().
	Path string
	// UserDataDir is the profile directory; empty means a new temporary
	// directory, removed by Close.
	UserDataDir string
	// Args are extra command-line flags, appended to the default ones.
	Args []string
	// Stderr, if set, also receives the browser's standard error (which
	// is always kept, its last 64 KiB, for error messages and [Browser.Log]).
	Stderr io.Writer
}

// DefaultArgs are the flags Launch always passes, before the user data
// directory, Options.Args and the initial about:blank page.
var DefaultArgs = []string{
	"--headless=new",
	"--remote-debugging-pipe",
	"--no-sandbox", // CI runs as root, where the sandbox cannot start
	"--disable-gpu",
	"--disable-dev-shm-usage",
	"--no-first-run",
	"--no-default-browser-check",
	"--window-size=1280,900",
	"--hide-scrollbars",
	"--mute-audio",
	"--password-store=basic",
	"--use-mock-keychain",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-default-apps",
	"--disable-extensions",
	"--disable-sync",
	"--disable-breakpad",
	"--disable-crash-reporter",
	"--metrics-recording-only",
	"--disable-background-timer-throttling",
	"--disable-backgrounding-occluded-windows",
	"--disable-renderer-backgrounding",
	"--disable-features=Translate,MediaRouter,OptimizationHints",
}

// Browser is a running chromium and the CDP connection to it. Close it.
type Browser struct {
	cmd    *exec.Cmd
	conn   *conn
	stderr *tail
	rmDir  string // the temporary profile to remove, if Launch made it

	exited  chan struct{} // closed once the process has exited and is reaped
	waitErr error         // cmd.Wait's error, set before exited is closed

	closeOnce sync.Once
	closeErr  error
}

// Launch starts chromium. ctx bounds the start-up only (until the browser
// answers its first command), not the browser's life: call Close.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	path := opts.Path
	if path == "" {
		p, ok := Path()
		if !ok {
			return nil, fmt.Errorf("browser: chromium not found (tried $CHROMIUM, %s, $PATH)", p)
		}
		path = p
	}
	b := &Browser{stderr: &tail{max: 64 << 10}, exited: make(chan struct{})}
	dir := opts.UserDataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "axis-chromium-*")
		if err != nil {
			return nil, fmt.Errorf("browser: %w", err)
		}
		dir, b.rmDir = d, d
	}
	fail := func(err error) (*Browser, error) {
		if b.rmDir != "" {
			os.RemoveAll(b.rmDir)
		}
		return nil, err
	}

	// The browser reads commands from fd 3 (inR) and writes to fd 4 (outW).
	inR, inW, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("browser: %w", err))
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fail(fmt.Errorf("browser: %w", err))
	}

	args := append([]string{}, DefaultArgs...)
	args = append(args, "--user-data-dir="+dir)
	args = append(args, opts.Args...)
	args = append(args, "about:blank")
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{inR, outW}
	// Keep the crash handler's database ($XDG_CONFIG_HOME/chromium/Crash
	// Reports) and caches out of $HOME: in the profile directory.
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, ".xdg-config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, ".xdg-cache"))
	cmd.Stderr = b.stderr
	if opts.Stderr != nil {
		cmd.Stderr = io.MultiWriter(b.stderr, opts.Stderr)
	}
	// Wait must not hang on a stderr held open by a straggling child.
	cmd.WaitDelay = 2 * time.Second
	setProcAttr(cmd)
	err = cmd.Start()
	// The child has its own copies of its ends now (or failed to start).
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return fail(fmt.Errorf("browser: starting %s: %w", path, err))
	}
	b.cmd = cmd
	b.conn = newConn(outR, inW)
	go func() {
		b.waitErr = cmd.Wait()
		close(b.exited)
	}()

	// The first answer proves that the pipe works.
	if _, err := b.conn.call(ctx, "", "Browser.getVersion", nil); err != nil {
		b.kill()
		return fail(fmt.Errorf("browser: %s did not answer: %w\nstderr:\n%s", path, err, b.stderr))
	}
	return b, nil
}

// ForTest launches chromium for the test and closes it when the test ends.
// It skips the test when chromium is missing, unless $CI is "true", where a
// missing browser fails the test.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	path, ok := Path()
	if !ok {
		msg := fmt.Sprintf("browser: chromium not found (%s; $CHROMIUM, /usr/bin/chromium, $PATH)", path)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it: apt-get install chromium")
		}
		t.Skip(msg + "; install it (apt-get install chromium) or set $CHROMIUM")
	}
	// TempDir first: cleanups run last-in first-out, so the profile is
	// removed after the browser has exited.
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Launch(ctx, Options{Path: path, UserDataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Logf("browser: close: %v", err)
		}
		if t.Failed() {
			t.Logf("browser: chromium stderr (last 64 KiB):\n%s", b.Log())
		}
	})
	return b
}

// Call sends a CDP command to the browser itself (sessionID "") or to an
// attached session, and returns its result. A CDP error is an [*Error].
func (b *Browser) Call(ctx context.Context, sessionID, method string, params any) (json.RawMessage, error) {
	return b.conn.call(ctx, sessionID, method, params)
}

// Log returns the end of the browser's standard error.
func (b *Browser) Log() string { return b.stderr.String() }

// Close asks the browser to quit (Browser.close), kills it if it has not
// exited within 10 seconds, waits for it and removes a temporary profile. Any
// process of its process group still alive then is killed. Calling Close
// again returns the first result.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		deadline := time.NewTimer(10 * time.Second)
		defer deadline.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// The connection may drop before the answer: that is success too.
		b.conn.call(ctx, "", "Browser.close", nil)
		cancel()
		select {
		case <-b.exited:
		case <-deadline.C:
			b.closeErr = errors.New("browser: chromium did not exit after Browser.close; killed")
			b.kill()
		}
		killGroup(b.cmd.Process.Pid) // stragglers, if any
		b.conn.close()
		if b.rmDir != "" {
			if err := os.RemoveAll(b.rmDir); err != nil && b.closeErr == nil {
				b.closeErr = fmt.Errorf("browser: %w", err)
			}
		}
	})
	return b.closeErr
}

// kill kills the browser's process group and waits for the browser.
func (b *Browser) kill() {
	killGroup(b.cmd.Process.Pid)
	b.cmd.Process.Kill()
	<-b.exited
	b.conn.close()
}

// tail is an io.Writer that keeps the last max bytes written.
type tail struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.ToValidUTF8(w.buf, []byte("?")))
}
