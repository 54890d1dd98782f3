package axis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Intake bodies (POST /api/v1/envelopes, VDXP sendEdoc) are received so that
// the memory uploads hold is bounded whatever their number and speed:
//
//   - A body announced (Content-Length) or found larger than
//     limits.spool_above_bytes is copied, through one small buffer, to a
//     temporary file in data_dir/tmp (0700). The file is unlinked as soon as
//     it is created, so it goes away with its descriptor whatever happens
//     (error, panic, crash); Open still removes any leftover.
//   - A smaller body is read into memory (in one allocation when its length is
//     announced) after reserving its size from limits.max_inflight_body_bytes,
//     one budget for every upload in flight, held until its intake is over.
//     When the budget cannot cover it, the body is spooled instead: an upload
//     never waits for memory.
//   - A spooled body is read back into memory only for verification, once the
//     intake holds a verification slot (Hub.verifySlots) and has reserved
//     its verification's memory from limits.memory's budget (memory.go), so
//     the memory of spooled bodies is bounded by the slots and the budget,
//     not by the uploads.
//   - Before each Read the connection's read deadline moves to now +
//     limits.body_idle_timeout: a body that makes no progress for that long is
//     cut, answered 408 request_timeout with Connection: close (the server then
//     closes the connection). The deadline is cleared once the body is read, so
//     verification and commit are never cut. http.Server.ReadTimeout stays
//     unset: it would cap a legitimate long upload.
type bodySpool struct {
	dir   string
	above int64
	idle  time.Duration

	mu   sync.Mutex
	left int64 // bytes of the in-memory budget not reserved

	spooled  prometheus.Counter
	timeouts prometheus.Counter
	inMemory prometheus.Gauge
}

// spoolPrefix names the spool files (and only they are removed at open).
const spoolPrefix = "body-"

// ErrBodyTimeout answers a body that made no progress.
var ErrBodyTimeout = &Problem{"request_timeout", http.StatusRequestTimeout, "the request body made no progress"}

// openSpool prepares data_dir/tmp and removes what a crash left in it. It
// runs with the store open, so no other hub shares the folder.
func (h *Hub) openSpool(dataDir string) error {
	if h.bodies == nil {
		l := h.cfg.Limits
		sp := &bodySpool{above: l.SpoolAboveBytes, idle: l.BodyIdleTimeout.Duration, left: l.MaxInflightBodyBytes,
			spooled: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "axis_intake_body_spooled_total", Help: "Intake bodies received into a temporary file rather than memory.",
			}),
			timeouts: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "axis_intake_body_timeouts_total", Help: "Intake bodies cut for making no progress (limits.body_idle_timeout).",
			}),
			inMemory: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "axis_intake_body_memory_bytes", Help: "Bytes of limits.max_inflight_body_bytes reserved by in-memory intake bodies.",
			}),
		}
		h.metrics.reg.MustRegister(sp.spooled, sp.timeouts, sp.inMemory)
		h.bodies = sp
	}
	h.bodies.dir = filepath.Join(dataDir, "tmp")
	if err := os.MkdirAll(h.bodies.dir, 0o700); err != nil {
		return fmt.Errorf("axis: spool folder: %w", err)
	}
	if err := os.Chmod(h.bodies.dir, 0o700); err != nil {
		return fmt.Errorf("axis: spool folder: %w", err)
	}
	left, _ := filepath.Glob(filepath.Join(h.bodies.dir, spoolPrefix+"*"))
	for _, f := range left {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("axis: spool folder: %w", err)
		}
	}
	if len(left) > 0 {
		h.log.Warn("removed spool files left by a crash", "dir", h.bodies.dir, "files", len(left))
	}
	return nil
}

func (sp *bodySpool) reserve(n int64) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if n > sp.left {
		return false
	}
	sp.left -= n
	sp.inMemory.Add(float64(n))
	return true
}

func (sp *bodySpool) release(n int64) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.left += n
	sp.inMemory.Sub(float64(n))
}

// body is one intake body, in memory or spooled. Close it when the intake is
// over.
type body struct {
	sp       *bodySpool
	mem      []byte   // the body, in memory
	file     *os.File // or spooled, already unlinked
	size     int64
	reserved int64 // from the in-memory budget
}

// Len is the body's length (limit+1 when it was longer than the limit).
func (b *body) Len() int64 { return b.size }

// Bytes is the body in memory: a spooled body is read back from its file,
// in one allocation. Intake calls it holding a verification slot.
func (b *body) Bytes() ([]byte, error) {
	if b.file == nil {
		return b.mem, nil
	}
	buf := make([]byte, b.size)
	if n, err := b.file.ReadAt(buf, 0); err != nil && !(err == io.EOF && int64(n) == b.size) {
		return nil, fmt.Errorf("axis: reading back a spooled body: %w", err)
	}
	return buf, nil
}

// Close gives back the body's memory reservation and its file.
func (b *body) Close() {
	if b.reserved > 0 {
		b.sp.release(b.reserved)
		b.reserved = 0
	}
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
	b.mem = nil
}

// trimCRLF drops a trailing CRLF (VDXP's sendEdoc body, see vdxp.StripCRLF).
func (b *body) trimCRLF() error {
	if b.file == nil {
		b.mem = vdxp.StripCRLF(b.mem)
		b.size = int64(len(b.mem))
		return nil
	}
	if b.size < 2 {
		return nil
	}
	var tail [2]byte
	if _, err := b.file.ReadAt(tail[:], b.size-2); err != nil {
		return fmt.Errorf("axis: reading back a spooled body: %w", err)
	}
	if tail == [2]byte{'\r', '\n'} {
		b.size -= 2
	}
	return nil
}

// hashFileMatches is vdxp.HashFileMatches for a body that may be on disk (a
// spooled body is hashed from its file, not loaded; failing to read that
// file back counts as a mismatch).
func (b *body) hashFileMatches(h string) bool {
	if b.file == nil {
		return vdxp.HashFileMatches(b.mem, h)
	}
	hs := sha256.New()
	if _, err := io.Copy(hs, io.NewSectionReader(b.file, 0, b.size)); err != nil {
		return false
	}
	sum := hs.Sum(nil)
	var unpadded strings.Builder // vdxp.HashFile's form: each byte in hex without zero padding
	for _, c := range sum {
		fmt.Fprintf(&unpadded, "%x", c)
	}
	h = strings.ToLower(strings.TrimSpace(h))
	return h == unpadded.String() || h == hex.EncodeToString(sum)
}

// ReceiveEnvelope takes an envelope posted over HTTP for caller: its body
// read within limits.max_envelope_bytes (in memory or spooled), then
// intake, counting the outcome in axis_intake_total. forRecipients is what
// a relaying peer hub asked this hub to take care of (RecipientsHeader).
// created is false for the same bytes again; a created receipt whose State
// is held was stored, not yet routed.
func (h *Hub) ReceiveEnvelope(w http.ResponseWriter, r *http.Request, caller Caller, forRecipients []string) (rc *api.Receipt, created bool, err error) {
	limit := h.cfg.Limits.MaxEnvelopeBytes
	tooLarge := func() error {
		h.metrics.intake.WithLabelValues("too_large").Inc()
		return &Problem{"too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("envelope larger than %d bytes", limit)}
	}
	if r.ContentLength > limit {
		return nil, false, tooLarge()
	}
	body, err := h.receiveBody(w, r, limit)
	if err != nil {
		return nil, false, err
	}
	defer body.Close()
	if body.Len() > limit {
		return nil, false, tooLarge()
	}
	return h.intakeCounted(r.Context(), caller, body.Len(), body.Bytes, forRecipients)
}

// intakeCounted is intakeLoaded counting its outcome in axis_intake_total:
// created, held, duplicate or the refusal's code.
func (h *Hub) intakeCounted(ctx context.Context, caller Caller, size int64, load func() ([]byte, error), forRecipients []string) (*api.Receipt, bool, error) {
	rc, created, err := h.intakeLoaded(ctx, caller, size, load, forRecipients)
	outcome := "created"
	switch {
	case err != nil:
		m := mapOnce(err) // the answer reuses the mapping
		outcome, err = m.code, m
	case !created:
		outcome = "duplicate"
	case rc.State == store.StateHeld:
		outcome = "held"
	}
	h.metrics.intake.WithLabelValues(outcome).Inc()
	return rc, created, err
}

// receiveBody reads an intake body of at most limit bytes (Len is limit+1
// when it is longer: the caller answers too_large). Errors are problems: 408
// request_timeout (the connection is then closed), 400 bad_request for a
// broken upload, or an internal error when the spool file cannot be written.
func (h *Hub) receiveBody(w http.ResponseWriter, req *http.Request, limit int64) (*body, error) {
	r := &idleReader{r: req.Body, rc: http.NewResponseController(w), idle: h.bodies.idle}
	b, err := h.bodies.read(r, req.ContentLength, limit)
	if err == nil {
		r.clear()
		return b, nil
	}
	if r.timedOut {
		h.bodies.timeouts.Inc()
		w.Header().Set("Connection", "close")
		return nil, Problemf(ErrBodyTimeout, "no progress for %s", h.bodies.idle)
	}
	return nil, err
}

// ReadBody reads at most limit+1 bytes, in one allocation when the length
// is announced (a 2 MB envelope read by doubling would be copied ~12 times).
func ReadBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	buf := make([]byte, length+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case (err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) == length:
		return buf[:n], nil
	case err == nil:
		return nil, fmt.Errorf("body longer than its Content-Length")
	}
	return nil, err
}

// errSpool marks an error of the spool file, ours, not the client's.
type errSpool struct{ error }

func (sp *bodySpool) read(r io.Reader, length, limit int64) (*body, error) {
	b := &body{sp: sp}
	var head []byte
	switch {
	case length >= 0 && length <= sp.above && sp.reserve(length):
		b.reserved = length
		buf, err := ReadBody(r, length, limit)
		if err != nil {
			b.Close()
			return nil, Problemf(ErrBadRequest, "reading the body: %v", err)
		}
		b.mem, b.size = buf, int64(len(buf))
		return b, nil
	case length < 0 && sp.reserve(sp.above+1):
		b.reserved = sp.above + 1
		buf, err := readUpTo(r, sp.above+1)
		if err != nil {
			b.Close()
			return nil, Problemf(ErrBadRequest, "reading the body: %v", err)
		}
		if int64(len(buf)) <= sp.above {
			sp.release(b.reserved - int64(len(buf)))
			b.reserved = int64(len(buf))
			b.mem, b.size = buf, int64(len(buf))
			return b, nil
		}
		head = buf // longer than the threshold: spooled after all
	}
	err := b.spool(head, r, limit)
	if b.reserved > 0 {
		sp.release(b.reserved)
		b.reserved = 0
	}
	if err != nil {
		b.Close()
		var se errSpool
		if errors.As(err, &se) {
			return nil, fmt.Errorf("axis: spooling a body: %w", se.error)
		}
		return nil, Problemf(ErrBadRequest, "reading the body: %v", err)
	}
	return b, nil
}

// readUpTo reads r to its end or n bytes, whichever comes first, in a buffer
// that never grows past n.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, 4096))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= n {
				return buf, nil
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), n))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// spool writes head and the rest of r to an unlinked temporary file, up to
// limit+1 bytes, reading r to its end otherwise (so the server knows the body
// is consumed).
func (b *body) spool(head []byte, r io.Reader, limit int64) error {
	f, err := os.CreateTemp(b.sp.dir, spoolPrefix+"*")
	if err != nil {
		return errSpool{err}
	}
	b.file = f
	if err := os.Remove(f.Name()); err != nil {
		return errSpool{err}
	}
	b.sp.spooled.Inc()
	if _, err := f.Write(head); err != nil {
		return errSpool{err}
	}
	b.size = int64(len(head))
	buf := make([]byte, 64<<10)
	for b.size <= limit {
		n, err := r.Read(buf[:min(int64(len(buf)), limit+1-b.size)])
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				return errSpool{werr}
			}
			b.size += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil // limit+1 bytes: too large
}

// idleReader moves the connection's read deadline to now+idle before each
// Read, so a body that makes no progress for idle is cut.
type idleReader struct {
	r        io.Reader
	rc       *http.ResponseController
	idle     time.Duration
	set      bool // a deadline was set
	timedOut bool
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.rc != nil && r.idle > 0 {
		if err := r.rc.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
			r.rc = nil // not a server connection (a test recorder): no deadline
		} else {
			r.set = true
		}
	}
	n, err := r.r.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		r.timedOut = true
	}
	return n, err
}

// clear removes the deadline once the body is read: the handler's work
// (verification, commit) is not cut, and the server's background read of
// the idle connection does not cancel the request.
func (r *idleReader) clear() {
	if r.set {
		_ = r.rc.SetReadDeadline(time.Time{})
	}
}

// GuardBodies bounds, for every request the hub serves (API, admin, VDXP,
// console), how long its body may make no progress: before each Read the
// read deadline moves to now + limits.body_idle_timeout and is cleared at
// the body's end. A handler that answers without reading its body (a 401,
// a refused ack) leaves the rest to the server, which reads up to 256 KiB
// of it to keep the connection; the deadline is set again then, so a
// client that stalls there is cut too instead of holding the connection
// forever. Intake's own reader (receiveBody) does the same per read.
func (h *Hub) GuardBodies(next http.Handler) http.Handler {
	idle := h.cfg.Limits.BodyIdleTimeout.Duration
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || idle <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		g := &guardedBody{ReadCloser: r.Body, idle: &idleReader{r: r.Body, rc: http.NewResponseController(w), idle: idle}}
		r.Body = g
		next.ServeHTTP(w, r)
		if !g.eof && g.idle.rc != nil {
			_ = g.idle.rc.SetReadDeadline(time.Now().Add(idle))
		}
	})
}

// guardedBody is a request body read through an idleReader.
type guardedBody struct {
	io.ReadCloser
	idle *idleReader
	eof  bool
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.idle.Read(p)
	if err == io.EOF {
		b.eof = true
		b.idle.clear()
	}
	return n, err
}
