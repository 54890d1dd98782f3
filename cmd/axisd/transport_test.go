package main

// Transport under hostile uploads (issue 11): intake bodies above
// limits.spool_above_bytes are spooled to data_dir/tmp, in-memory bodies
// share limits.max_inflight_body_bytes, and a body that makes no progress for
// limits.body_idle_timeout is cut. Raw TCP where the test must control the
// bytes on the wire.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// spoolDir is where the hub spools bodies.
func spoolDir(m *Main) string { return filepath.Join(m.Config.DataDir, "tmp") }

// spoolNames lists what is in the spool folder.
func spoolNames(t testing.TB, m *Main) []string {
	t.Helper()
	es, err := os.ReadDir(spoolDir(m))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// openSpoolFiles counts this process's open descriptors on files of the
// spool folder. Spool files are unlinked at creation, so the folder is
// always empty; the descriptors show that a body is spooled and that it was
// let go.
func openSpoolFiles(t testing.TB, m *Main) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, spoolDir(m)+"/") {
			n++
		}
	}
	return n
}

// metric reads one unlabelled sample from /metrics.
func metric(t testing.TB, m *Main, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(metricValue(t, m, name), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// vmRSS is this process's resident set (the hub runs in it).
func vmRSS(t testing.TB) int64 {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status")
	}
	return procStatus(t, os.Getpid(), "VmRSS") << 10
}

// rawPost opens a TCP connection to the hub and writes a POST's headers
// with Content-Length length; the body is the caller's to write.
func rawPost(t testing.TB, m *Main, path, token string, length int64) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/xml\r\n", path, m.ln.Addr())
	if token != "" {
		fmt.Fprintf(&h, "Authorization: Bearer %s\r\n", token)
	}
	fmt.Fprintf(&h, "Content-Length: %d\r\n\r\n", length)
	if _, err := io.WriteString(conn, h.String()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readAnswer reads one response from conn and reports whether the hub then
// closed the connection (EOF or reset within wait).
func readAnswer(t testing.TB, conn net.Conn, wait time.Duration) (resp *http.Response, body []byte, closed bool) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("answer body: %v", err)
	}
	_, err = br.ReadByte()
	var ne net.Error
	closed = err != nil && !(errors.As(err, &ne) && ne.Timeout())
	return resp, body, closed
}

// bigEnvelope is a signed document from the commune to the department with
// an attachment that makes it at least size bytes.
func bigEnvelope(t testing.TB, number string, size int) []byte {
	t.Helper()
	msg := fixture.Numbered(number)
	content := make([]byte, size*3/4)
	rand.NewChaCha8([32]byte{byte(len(number))}).Read(content)
	msg.Attachments = append(msg.Attachments, envelope.NewAttachment("cid:2", "phu-luc.zip", "application/zip", content))
	raw := fixture.Sign(t, msg)
	if len(raw) < size {
		t.Fatalf("envelope of %d bytes, want %d", len(raw), size)
	}
	return raw
}

// TestTransportEightStalledUploads is issue 11's #4: eight clients each send
// 60 MiB of a 64 MiB body and stall. With the default body_idle_timeout
// (30s) the hub cuts every connection within 60s, holds no spool file
// afterwards, stays under 300 MB resident throughout (the hub runs in the
// test process, whose RSS is sampled every 100ms), and a normal intake
// during the attack answers 201 within a second.
//
// It runs in a fresh process of this test binary: after the package's other
// tests the process sits near 390 MB resident under -race (the detector's
// shadow memory is not given back), which says nothing of the attack. In the
// fresh process, measured on 2 cores: baseline 18 MB, max 24 MB without
// -race; 45 MB and 62 MB with it. Every attacking body goes through one
// 64 KiB buffer into a file; read into memory they took it to 511 MB.
func TestTransportEightStalledUploads(t *testing.T) {
	const child = "AXIS_TRANSPORT_ATTACK_CHILD"
	if os.Getenv(child) != "" {
		eightStalledUploads(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTransportEightStalledUploads$", "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), child+"=1")
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("the attack's process: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestTransportEightStalledUploads")) {
		t.Fatal("the attack did not run in its process")
	}
}

func eightStalledUploads(t *testing.T) {
	const (
		clients  = 8
		announce = 64 << 20 // Content-Length: 67108864, = max_envelope_bytes
		send     = 60 << 20
		maxRSS   = 300 << 20
	)
	m := start(t)
	if got := m.Config.Limits.BodyIdleTimeout.Duration; got != 30*time.Second {
		t.Fatalf("body_idle_timeout %s, want the default 30s", got)
	}
	if m.Config.Limits.MaxEnvelopeBytes != announce {
		t.Fatalf("max_envelope_bytes %d", m.Config.Limits.MaxEnvelopeBytes)
	}
	runtime.GC()
	debug.FreeOSMemory()
	baseline := vmRSS(t)

	var peak atomic.Int64
	peak.Store(baseline)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := vmRSS(t); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	chunk := make([]byte, 1<<20) // shared, never written after this
	for i := range chunk {
		chunk[i] = 'x'
	}
	type result struct {
		stalledAt, closedAt time.Time
		answer              []byte
		err                 error
	}
	results := make([]result, clients)
	conns := make([]net.Conn, clients)
	for i := range conns {
		conns[i] = rawPost(t, m, "/api/v1/envelopes", tok(testgen.Commune), announce)
	}
	start := time.Now()
	var written, done sync.WaitGroup
	for i, conn := range conns {
		written.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			r := &results[i]
			for n := 0; n < send; n += len(chunk) {
				if _, err := conn.Write(chunk); err != nil {
					r.err = fmt.Errorf("writing: %w", err)
					written.Done()
					return
				}
			}
			r.stalledAt = time.Now()
			written.Done()
			// Stalled: the socket stays open, nothing more is written.
			conn.SetReadDeadline(r.stalledAt.Add(60 * time.Second))
			r.answer, r.err = io.ReadAll(conn)
			r.closedAt = time.Now()
		}()
	}
	written.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("client %d: %v", i, r.err)
		}
	}
	t.Logf("8 x 60 MiB written in %s", time.Since(start).Round(time.Millisecond))

	// Every stalled body is being spooled, none in memory.
	if !fixture.Poll(10*time.Second, func() bool { return openSpoolFiles(t, m) == clients }) {
		t.Fatalf("%d spool files open during the attack, want %d", openSpoolFiles(t, m), clients)
	}
	if n := metric(t, m, "axis_intake_body_memory_bytes"); n != 0 {
		t.Errorf("%v bytes of the in-memory budget held by stalled spooled bodies", n)
	}

	// A normal intake meanwhile.
	t0 := time.Now()
	r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), fixture.Envelope(t, "new.xml"))
	latency := time.Since(t0)
	if r.status != http.StatusCreated {
		t.Fatalf("normal intake during the attack: %d %s", r.status, r.body)
	}
	if latency >= time.Second {
		t.Errorf("normal intake during the attack took %s, want < 1s", latency)
	}

	done.Wait()
	close(stopSampling)
	<-sampled
	var slowest time.Duration
	for i, r := range results {
		if r.err != nil {
			var ne net.Error
			if errors.As(r.err, &ne) && ne.Timeout() {
				t.Errorf("client %d: connection still open 60s after it stalled", i)
				continue
			}
			// A reset is a close too.
			t.Logf("client %d: closed by the hub with %v", i, r.err)
		}
		cut := r.closedAt.Sub(r.stalledAt)
		slowest = max(slowest, cut)
		if cut < 29*time.Second {
			t.Errorf("client %d cut %s after it stalled, before the 30s idle timeout", i, cut)
		}
		if r.err == nil && (!bytes.HasPrefix(r.answer, []byte("HTTP/1.1 408 ")) || !bytes.Contains(r.answer, []byte(`"code":"request_timeout"`)) ||
			!bytes.Contains(r.answer, []byte("Connection: close"))) {
			t.Errorf("client %d: answer before the close: %q", i, r.answer)
		}
	}
	if n := openSpoolFiles(t, m); n != 0 {
		t.Errorf("%d spool files still open after the connections were cut", n)
	}
	if names := spoolNames(t, m); len(names) != 0 {
		t.Errorf("spool folder not empty: %v", names)
	}
	if n := metric(t, m, "axis_intake_body_timeouts_total"); n != clients {
		t.Errorf("axis_intake_body_timeouts_total %v, want %d", n, clients)
	}
	t.Logf("every connection cut within %s of its stall (%s after the attack began); normal intake %s; RSS baseline %d MB, max %d MB (race detector: %v)",
		slowest.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), latency.Round(time.Microsecond), baseline>>20, peak.Load()>>20, raceEnabled)
	if slowest > 60*time.Second {
		t.Errorf("slowest cut %s, want within 60s", slowest)
	}
	if p := peak.Load(); p >= maxRSS {
		t.Errorf("max RSS %d MB during the attack (baseline %d MB), want < 300 MB", p>>20, baseline>>20)
	}
}

// TestTransportStalledBodyCut: with body_idle_timeout 1s a body that stops
// is answered 408 request_timeout and its connection closed, in memory or
// spooled; the hub keeps nothing of it.
func TestTransportStalledBodyCut(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.Limits.BodyIdleTimeout.Duration = time.Second })
	for _, tc := range []struct {
		name     string
		announce int64
		path     string
	}{
		{"in memory", 10 << 10, "/api/v1/envelopes"},
		{"spooled", 8 << 20, "/api/v1/envelopes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := rawPost(t, m, tc.path, tok(testgen.Commune), tc.announce)
			if _, err := conn.Write(bytes.Repeat([]byte("<"), 4<<10)); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			resp, body, closed := readAnswer(t, conn, 10*time.Second)
			took := time.Since(t0)
			if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!bytes.Contains(body, []byte(`"code":"request_timeout"`)) {
				t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if !resp.Close { // ReadResponse takes Connection: close out of the header
				t.Errorf("answer without Connection: close: %v", resp.Header)
			}
			if !closed {
				t.Error("the hub kept the connection open after the 408")
			}
			if took < 900*time.Millisecond || took > 5*time.Second {
				t.Errorf("cut after %s, want about 1s", took)
			}
			if n := openSpoolFiles(t, m); n != 0 {
				t.Errorf("%d spool files open", n)
			}
		})
	}
	if n := metric(t, m, "axis_intake_body_memory_bytes"); n != 0 {
		t.Errorf("in-memory budget not given back: %v bytes held", n)
	}
	if names := spoolNames(t, m); len(names) != 0 {
		t.Errorf("spool folder: %v", names)
	}
	if n := metric(t, m, "axis_intake_body_timeouts_total"); n != 2 {
		t.Errorf("axis_intake_body_timeouts_total %v, want 2", n)
	}
}

// TestTransportStalledBodyElsewhere: a body that stalls where the handler
// answers without reading it (a wrong token; an ack; the console's sign-in)
// still gets its answer, and the hub closes the connection within about
// body_idle_timeout instead of waiting on the rest forever.
func TestTransportStalledBodyElsewhere(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.Limits.BodyIdleTimeout.Duration = time.Second })
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"unauthenticated intake", "/api/v1/envelopes", "wrong-token", http.StatusUnauthorized},
		{"ack", "/api/v1/envelopes/0123/ack", tok(testgen.Department), http.StatusRequestTimeout},
		{"admin API", "/admin/v1/reconcile", "wrong-token", http.StatusUnauthorized},
		{"console sign-in", "/admin/login", "", http.StatusForbidden}, // the form could not be read: no CSRF value
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := rawPost(t, m, tc.path, tc.token, 100)
			if _, err := conn.Write([]byte(`{"status":`)); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			resp, _, closed := readAnswer(t, conn, 10*time.Second)
			took := time.Since(t0)
			t.Logf("%d after %s", resp.StatusCode, took)
			if resp.StatusCode != tc.want {
				t.Errorf("answer %d, want %d", resp.StatusCode, tc.want)
			}
			if !closed {
				t.Error("the hub kept the stalled connection open")
			}
			if total := time.Since(t0); total > 5*time.Second {
				t.Errorf("closed after %s (answer after %s), want about 1s", total, took)
			}
		})
	}
}

// TestTransportStalledVDXPSend: a sendEdoc body that stops is cut the same
// way; VDXP answers HTTP 200 with ErrorCode request_timeout, and the
// connection is closed.
func TestTransportStalledVDXPSend(t *testing.T) {
	t.Setenv(testgen.DemoVDXPSecretEnv, vdxpTestSecret)
	m := start(t, func(c *axis.Config) { c.Limits.BodyIdleTimeout.Duration = time.Second })
	c := newVDXPSDK(m.URL()+"/vdxp", vdxpTestSystem, vdxpTestSecret)
	req := c.request(t, "POST", "sendEdoc", []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", "edoc"},
		{"hash-file", vdxpHashFile([]byte("x"), false)}, {"from", vdxpCommune}}, "application/octet-stream", nil, nil)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req.Body, req.ContentLength = pr, 10<<10
	conn, err := net.Dial("tcp", m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go req.Write(conn)
	if _, err := pw.Write(bytes.Repeat([]byte("<"), 4<<10)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	resp, body, closed := readAnswer(t, conn, 10*time.Second)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"ErrorCode":"request_timeout"`)) || !resp.Close || !closed {
		t.Fatalf("%d close %v closed %v: %s", resp.StatusCode, resp.Close, closed, body)
	}
	if took := time.Since(t0); took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("cut after %s, want about 1s", took)
	}
}

// TestTransportSlowUploadNotCut: an upload that keeps making progress is
// never cut, however long it takes in all (no http.Server.ReadTimeout), and
// the deadline does not outlive the body: the same connection serves another
// request after staying idle longer than body_idle_timeout.
func TestTransportSlowUploadNotCut(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.Limits.BodyIdleTimeout.Duration = time.Second })
	raw := fixture.Envelope(t, "new.xml")
	conn := rawPost(t, m, "/api/v1/envelopes", tok(testgen.Commune), int64(len(raw)))
	t0 := time.Now()
	for rest := raw; len(rest) > 0; {
		n := min(len(rest), len(raw)/10+1)
		if _, err := conn.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
		time.Sleep(400 * time.Millisecond) // each pause < 1s, the whole > 1s
	}
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if took := time.Since(t0); resp.StatusCode != http.StatusCreated || took < 2*time.Second {
		t.Fatalf("slow upload over %s: %d %s", took, resp.StatusCode, body)
	}
	time.Sleep(1500 * time.Millisecond)
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", m.ln.Addr())
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the connection did not survive an idle pause after the upload: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz on the same connection: %d %q", resp.StatusCode, body)
	}
}

// TestTransportSpoolBigEnvelope: a 5 MiB envelope (above the default 1 MiB
// spool_above_bytes) is spooled, accepted, and stored byte for byte; a
// too_large body, announced or not, leaves the spool folder empty.
func TestTransportSpoolBigEnvelope(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.Limits.MaxEnvelopeBytes = 8 << 20 })
	if m.Config.Limits.SpoolAboveBytes != 1<<20 {
		t.Fatalf("spool_above_bytes %d, want the default 1 MiB", m.Config.Limits.SpoolAboveBytes)
	}
	raw := bigEnvelope(t, "21", 5<<20)
	r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), raw)
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != 1 {
		t.Errorf("axis_intake_body_spooled_total %v, want 1", n)
	}
	var rc api.Receipt
	r.json(t, &rc)
	got := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID, tok(testgen.Department), nil)
	if got.status != 200 || !bytes.Equal(got.body, raw) {
		t.Fatalf("fetch: %d, %d bytes, equal %v", got.status, len(got.body), bytes.Equal(got.body, raw))
	}
	// The same spooled bytes again: a duplicate.
	if again := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), raw); again.status != http.StatusOK || !bytes.Equal(again.body, r.body) {
		t.Fatalf("again: %d %s", again.status, again.body)
	}
	if names := spoolNames(t, m); len(names) != 0 {
		t.Errorf("spool folder after intake: %v", names)
	}
	if n := openSpoolFiles(t, m); n != 0 {
		t.Errorf("%d spool files open after intake", n)
	}
	// The verification memory the 5 MiB intake reserved is given back.
	if n := metric(t, m, "axis_intake_memory_reserved_bytes"); n != 0 {
		t.Errorf("axis_intake_memory_reserved_bytes %v after intake, want 0", n)
	}
	if n := metric(t, m, "axis_intake_memory_budget_bytes"); n != float64(m.Config.Limits.Memory/2) {
		t.Errorf("axis_intake_memory_budget_bytes %v, want half of limits.memory (%d)", n, m.Config.Limits.Memory)
	}

	before := metric(t, m, "axis_intake_body_spooled_total")
	tooBig := bytes.Repeat([]byte("<a/>"), (8<<20+64<<10)/4) // 8 MiB + 64 KiB
	// Announced: refused before a byte is read.
	if r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), tooBig); r.status != 413 || r.code(t) != "too_large" {
		t.Fatalf("announced: %d %s", r.status, r.body)
	}
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != before {
		t.Errorf("an announced too_large body was spooled")
	}
	// Chunked: spooled up to the limit, then refused.
	req, _ := http.NewRequest("POST", m.URL()+"/api/v1/envelopes", io.MultiReader(bytes.NewReader(tooBig))) // no length: chunked
	req.Header.Set("Authorization", "Bearer "+tok(testgen.Commune))
	if r := send(t, http.DefaultClient, req); r.status != 413 || !bytes.Contains(r.body, []byte(`"code":"too_large"`)) {
		t.Fatalf("chunked: %d %s", r.status, r.body)
	}
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != before+1 {
		t.Errorf("axis_intake_body_spooled_total %v, want %v (the chunked body spooled)", n, before+1)
	}
	if names := spoolNames(t, m); len(names) != 0 {
		t.Errorf("spool folder after too_large: %v", names)
	}
	if n := openSpoolFiles(t, m); n != 0 {
		t.Errorf("%d spool files open after too_large", n)
	}
	if n, _ := m.Hub.Store().Count(context.Background()); n != 1 {
		t.Errorf("%d documents stored", n)
	}
}

// TestTransportSpoolVDXP: sendEdoc's body is spooled too; hash-file is
// checked on the spooled bytes without the trailing CRLF, in both its forms.
func TestTransportSpoolVDXP(t *testing.T) {
	t.Setenv(testgen.DemoVDXPSecretEnv, vdxpTestSecret)
	m := start(t)
	c := newVDXPSDK(m.URL()+"/vdxp", vdxpTestSystem, vdxpTestSecret)
	raw := bigEnvelope(t, "22", 3<<20)
	r := c.sendEdoc(t, raw, "edoc", vdxpCommune, nil, nil).ok(t)
	id, _ := r.obj["DocId"].(string)
	if got := call(t, m, "GET", "/api/v1/envelopes/"+id, tok(vdxpDept), nil); got.status != 200 || !bytes.Equal(got.body, raw) {
		t.Fatalf("native fetch of %q: %d, bytes equal %v", id, got.status, bytes.Equal(got.body, raw))
	}
	other := bigEnvelope(t, "23", 3<<20)
	bad := vdxpHashFile(raw, false)
	if r := c.sendEdoc(t, other, "edoc", vdxpCommune, &bad, nil).fail(t, "hash-file of other bytes"); r.obj["ErrorCode"] != "hash_mismatch" {
		t.Errorf("want hash_mismatch: %s", r.body)
	}
	padded := vdxpHashFile(other, true)
	c.sendEdoc(t, other, "edoc", vdxpCommune, &padded, nil).ok(t)
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != 3 {
		t.Errorf("axis_intake_body_spooled_total %v, want 3", n)
	}
	if n := openSpoolFiles(t, m); n != 0 {
		t.Errorf("%d spool files open", n)
	}
}

// TestTransportSpoolBudget: when max_inflight_body_bytes cannot cover a body
// under spool_above_bytes it is spooled, not refused nor made to wait.
func TestTransportSpoolBudget(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.Limits.MaxInflightBodyBytes = 1 << 10 })
	raw := fixture.Envelope(t, "new.xml")
	if len(raw) <= 1<<10 || len(raw) > 1<<20 {
		t.Fatalf("new.xml is %d bytes", len(raw))
	}
	intake(t, m, testgen.Commune, raw)
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != 1 {
		t.Errorf("axis_intake_body_spooled_total %v, want 1 (over the budget)", n)
	}
	// A body the budget covers stays in memory.
	if r := call(t, m, "POST", "/api/v1/envelopes", tok(testgen.Commune), []byte("<edXML/>")); r.status != 400 {
		t.Fatalf("small body: %d %s", r.status, r.body)
	}
	if n := metric(t, m, "axis_intake_body_spooled_total"); n != 1 {
		t.Errorf("axis_intake_body_spooled_total %v: a body within the budget was spooled", n)
	}
	if n := metric(t, m, "axis_intake_body_memory_bytes"); n != 0 {
		t.Errorf("in-memory budget not given back: %v bytes held", n)
	}
}

// TestTransportSpoolLeftoversRemoved: spool files a crash left are removed
// when the hub opens; the folder is 0700.
func TestTransportSpoolLeftoversRemoved(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	left := filepath.Join(dir, "tmp", "body-123456")
	if err := os.WriteFile(left, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := start(t, func(c *axis.Config) { c.DataDir = dir })
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("leftover spool file still there: %v", err)
	}
	fi, err := os.Stat(spoolDir(m))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("spool folder %v %v", fi.Mode(), err)
	}
}
