package main

// The real binaries as their own processes: axisd built for a test and
// started on a data dir (buildAxisd, startProcess, processConfig,
// processStore), axisctl built once per run (axisctl); and a crash test
// that SIGKILLs axisd under load.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

// buildAxisd compiles the real binary with the race detector (unless
// $AXIS_CRASH_NORACE is set) for the test.
func buildAxisd(t *testing.T) string {
	t.Helper()
	return buildAxisdRace(t, os.Getenv("AXIS_CRASH_NORACE") == "")
}

func buildAxisdRace(t *testing.T, race bool) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "axisd")
	args := []string{"build", "-o", bin, "."}
	if race {
		args = append(args[:1], append([]string{"-race"}, args[1:]...)...)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess starts axisd as its own process and waits for its address.
func startProcess(t *testing.T, bin, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	return startProcessWith(t, bin, demoConfig, dataDir)
}

func startProcessWith(t *testing.T, bin, config, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	return startProcessLog(t, bin, config, dataDir, nil)
}

// startProcessLog is startProcessWith telling onLine each line axisd
// logs (JSON).
func startProcessLog(t *testing.T, bin, config, dataDir string, onLine func(string)) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "--config", config, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logMu sync.Mutex
	var tail []string // the process's last log lines, shown when the test fails
	t.Cleanup(func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("axisd (pid %d) last log lines:\n%s", cmd.Process.Pid, strings.Join(tail, "\n"))
			logMu.Unlock()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logMu.Lock()
			if tail = append(tail, sc.Text()); len(tail) > 40 {
				tail = tail[1:]
			}
			logMu.Unlock()
			if onLine != nil {
				onLine(sc.Text())
			}
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "axisd listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("axisd did not start")
	}
	return nil, ""
}

// processConfig writes a copy of a demo config with absolute paths (the
// process runs elsewhere) and edit's changes, and returns its file.
func processConfig(t *testing.T, name string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Demo(name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "../pki/", fixture.PKIDir+"/")
	s = strings.ReplaceAll(s, "agencies_file: agencies-h40.yaml", "agencies_file: "+fixture.Demo("agencies-h40.yaml"))
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(edit(s)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// processStore opens the store a stopped axisd process left in dataDir and
// requires it consistent.
func processStore(t *testing.T, dataDir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dataDir, "axis.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Check(context.Background()); err != nil {
		t.Fatalf("store check: %v", err)
	}
	return db
}

var (
	axisctlOnce sync.Once
	axisctlBin  string
	axisctlErr  string
)

// axisctl runs the real axisctl binary (built once per test run) and
// returns its exit code and outputs.
func axisctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	axisctlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "axisctl-bin-")
		if err != nil {
			axisctlErr = err.Error()
			return
		}
		// axisd beside axisctl, as make build and the package lay them
		// out: axisctl runs it to read a store file (audit-verify --db,
		// backup).
		axisctlBin = filepath.Join(dir, "axisctl")
		if out, err := exec.Command("go", "build", "-o", dir, "../axisctl", ".").CombinedOutput(); err != nil {
			axisctlErr = string(out)
		}
	})
	if axisctlErr != "" {
		t.Fatalf("building axisctl: %s", axisctlErr)
	}
	return runProgram(t, append(os.Environ(), "AXIS_HUB=", "AXIS_TOKEN="), axisctlBin, args...)
}

// runProgram runs bin with args in env and returns its exit code, standard
// output and standard error; a program that could not run fails the test.
func runProgram(t *testing.T, env []string, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = env
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestCrashNothingAcknowledgedIsLost posts from concurrent clients, SIGKILLs
// axisd at random moments and restarts it, five times; every envelope that got
// a 2xx must then be stored byte-for-byte and queued exactly once per
// recipient, and the store must pass its consistency check.
func TestCrashNothingAcknowledgedIsLost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildAxisd(t)
	dataDir := t.TempDir()
	recipients := []string{testgen.Department, testgen.District}

	// A pool of distinct signed envelopes, made before any clock starts.
	const poolSize = 400
	pool := make([][]byte, poolSize)
	signPool(t, pool, func(i int) *envelope.Message {
		m := testgen.NewDocument()
		m.Code.CodeNumber = fmt.Sprintf("C%d", i)
		m.To = []envelope.Organization{testgen.Organ(testgen.Department), testgen.Organ(testgen.District)}
		return m
	})

	acked := map[string][]byte{} // doc id → bytes that got a 2xx
	var mu sync.Mutex
	next := 0
	client := &http.Client{Timeout: 10 * time.Second}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	for cycle := 0; cycle < 5; cycle++ {
		cmd, url := startProcess(t, bin, dataDir)
		stop := make(chan struct{})
		var cw sync.WaitGroup
		for c := 0; c < 6; c++ {
			cw.Add(1)
			go func() {
				defer cw.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					if next >= poolSize {
						mu.Unlock()
						return
					}
					raw := pool[next]
					next++
					mu.Unlock()
					req, _ := http.NewRequest("POST", url+"/api/v1/envelopes", bytes.NewReader(raw))
					req.Header.Set("Authorization", "Bearer "+testgen.DemoToken(testgen.Commune))
					resp, err := client.Do(req)
					if err != nil {
						continue // killed mid-request: not acknowledged
					}
					var rc api.Receipt
					err = json.NewDecoder(resp.Body).Decode(&rc)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 && err == nil {
						mu.Lock()
						acked[rc.DocID] = raw
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		close(stop)
		cw.Wait()
		mu.Lock()
		t.Logf("cycle %d: killed after %d posts, %d acknowledged so far", cycle+1, next, len(acked))
		mu.Unlock()
	}
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged: the test proves nothing")
	}

	db := processStore(t, dataDir)
	ctx := context.Background()
	for id, raw := range acked {
		got, err := db.Blob(ctx, id)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("%s acknowledged but not stored byte-for-byte: %v", id, err)
		}
	}
	for _, r := range recipients {
		items, _, err := db.Inbox(ctx, r, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, it := range items {
			seen[it.Doc.ID]++
		}
		for id := range acked {
			if seen[id] != 1 {
				t.Fatalf("%s is queued %d times for %s", id, seen[id], r)
			}
		}
	}
	n, _ := db.Count(ctx)
	t.Logf("%d acknowledged, %d stored (the rest were in flight when killed)", len(acked), n)
}
