package axis

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/archive"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/prometheus/client_golang/prometheus"
)

// The daily archives (README "Archives"; the format is package archive's):
// the archive loop seals each closed day once its documents are settled or
// archive.settle_after has passed, anchors the chain at each seal, and
// with archive.hot_days retires the documents of sealed days older than
// that to a stub in the hot store. A day is sealed once: its file is
// never written again (SealDay of a sealed day answers its seal).

// archiving is the hub's archive state; nil without archive.dir.
type archiving struct {
	dir string
	mu  sync.Mutex // one seal or retirement at a time
	// OnEntry, for tests: told each entry a seal writes.
	onEntry func(name string)
	// unsettled counts the documents of closed, unsealed days not settled
	// yet, as the loop last found them.
	unsettled atomic.Int64
	failures  prometheus.Counter
	// revisited: when each retired day that kept documents was last
	// retired again (the archive loop's own, one goroutine).
	revisited map[string]time.Time
}

// errTSA marks a seal that failed for want of a token.
var errTSA = errors.New("the time-stamping authority gave no token")

// notSettled is a seal asked for a day whose documents are not all
// settled (without force, before settle_after): how many are not.
type notSettled struct{ n int }

func (e *notSettled) Error() string { return fmt.Sprintf("%d documents not settled", e.n) }

func (h *Hub) newArchiving() (*archiving, error) {
	a := h.cfg.Archive
	if a.Dir == "" {
		return nil, nil
	}
	dir := h.cfg.Path(a.Dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("archive.dir: %w", err)
	}
	ar := &archiving{dir: dir, revisited: map[string]time.Time{}, failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "axis_archive_seal_failures_total",
		Help: "Daily archives the archive loop failed to seal or retire (a store or disk error, the time-stamping authority down); each is tried again after archive.retry." + counterHelp})}
	h.metrics.reg.MustRegister(ar.failures)
	return ar, nil
}

// ArchiveDir is where the archives are written, "" when archiving is off.
func (h *Hub) ArchiveDir() string {
	if h.archive == nil {
		return ""
	}
	return h.archive.dir
}

// dayBounds are the start and end of day in Asia/Ho_Chi_Minh.
func dayBounds(day string) (time.Time, time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", day, store.Zone)
	if err != nil {
		return time.Time{}, time.Time{}, Problemf(ErrBadRequest, "date %q is not YYYY-MM-DD", day)
	}
	return t, t.AddDate(0, 0, 1), nil
}

// SealDayAs is SealDay asked by an administrator (the API, axisctl
// archive seal): an event names who asked.
func (h *Hub) SealDayAs(ctx context.Context, caller Caller, day string, force bool) (*record.Sealed, error) {
	if caller.Viewer {
		return nil, Problemf(ErrForbidden, "%s is a viewer: sealing needs an administrator", caller)
	}
	return h.SealDay(ctx, day, force, caller.String())
}

// SealDay writes day's archive: when the day is over and every document of
// it is settled, or settle_after has passed since it ended (the archive
// says so and lists those not settled), or with force (the same, marked
// forced). A day already sealed answers its seal.
func (h *Hub) SealDay(ctx context.Context, day string, force bool, by string) (*record.Sealed, error) {
	ar := h.archive
	if ar == nil {
		return nil, Problemf(ErrBadRequest, "archiving is off: archive.dir is not set")
	}
	start, end, err := dayBounds(day)
	if err != nil {
		return nil, err
	}
	now := h.now()
	if now.Before(end) {
		return nil, Problemf(ErrConflict, "day %s is not over (it ends at %s)", day, end.Format(time.RFC3339))
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if s, err := h.db.Seal(ctx, day); err != nil || s != nil {
		return s, err
	}
	docs, err := h.db.DayDocs(ctx, day)
	if err != nil {
		return nil, err
	}
	byDoc, err := h.db.DeliveriesOfDocs(ctx, docs)
	if err != nil {
		return nil, err
	}
	var unsettled []string
	for i := range docs {
		if docs[i].Archive != "" {
			return nil, fmt.Errorf("archive: day %s: document %s is already retired to %s", day, docs[i].ID, docs[i].Archive)
		}
		if !store.Settled(&docs[i], byDoc[docs[i].ID]) {
			unsettled = append(unsettled, docs[i].ID)
		}
	}
	expired := len(unsettled) > 0 && !now.Before(end.Add(h.cfg.Archive.SettleAfter.Duration))
	if len(unsettled) > 0 && !force && !expired {
		return nil, Problemf(ErrConflict, "day %s: %d of %d documents are not settled (recipients to ack, relays to confirm); it seals by itself at %s, or now with force: %w",
			day, len(unsettled), len(docs), end.Add(h.cfg.Archive.SettleAfter.Duration).Format(time.RFC3339), &notSettled{len(unsettled)})
	}
	first, prev, last, head, err := h.segment(ctx, day, start, end)
	if err != nil {
		return nil, err
	}
	chain := archive.ChainInfo{Prev: prev, Head: head}
	if last > first {
		chain.First, chain.Last = first+1, last
	}
	file := archive.FileName(h.cfg.Hub.Name, day)
	spec := &archive.Spec{Path: filepath.Join(ar.dir, file), Hub: h.cfg.Hub.Name, Day: day,
		Forced: force && len(unsettled) > 0 && !expired, Expired: expired, Unsettled: unsettled, Chain: chain,
		Sign: h.signer.SignXML, OnEntry: ar.onEntry}
	if an := h.anchor; an != nil {
		spec.Stamp = func(ctx context.Context, digest []byte) ([]byte, error) {
			resp, _, err := an.stamp(ctx, digest)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errTSA, err)
			}
			return resp, nil
		}
	}
	for i := range docs {
		d, dl := &docs[i], byDoc[docs[i].ID]
		spec.Entries = append(spec.Entries,
			archive.Entry{Name: archive.EnvelopeDir + d.ID + ".edxml", DocID: d.ID, Write: func(w io.Writer) error { return h.db.WriteBlob(ctx, d, w) }},
			archive.Entry{Name: archive.DocumentDir + d.ID + ".json", DocID: d.ID, Write: func(w io.Writer) error {
				evs, err := h.db.Events(ctx, d.ID)
				if err != nil {
					return err
				}
				if dl == nil {
					dl = []record.Delivery{}
				}
				return writeJSON(w, &archive.Doc{Document: *d, Deliveries: dl, Events: evs, Settled: store.Settled(d, dl)})
			}})
	}
	spec.Entries = append(spec.Entries, archive.Entry{Name: archive.ChainName, Write: func(w io.Writer) error {
		if chain.First == 0 {
			return nil
		}
		return h.db.EventRange(ctx, chain.First, chain.Last, func(e *record.Event) error {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			_, err = w.Write(append(b, '\n'))
			return err
		})
	}})
	res, err := archive.Seal(ctx, spec)
	if errors.Is(err, errTSA) {
		return nil, Problemf(ErrConflict, "day %s: %v (what is written so far is kept; the seal resumes when asked again)", day, err)
	}
	if err != nil {
		return nil, err
	}
	s := record.Sealed{Day: day, File: file, SHA256: res.SHA256, Bytes: res.Bytes, Documents: len(docs), Forced: spec.Forced, Expired: expired,
		Unsettled: len(unsettled), ChainFirst: chain.First, ChainLast: chain.Last, Start: first, StartHash: prev, End: last, EndHash: head,
		SealedAt: h.now(), By: by}
	if err := h.db.RecordSeal(ctx, s); err != nil {
		return nil, err
	}
	h.log.Info("archive: day sealed", "day", day, "file", spec.Path, "documents", len(docs), "bytes", res.Bytes, "resumed_entries", res.Resumed, "unsettled", len(unsettled))
	if h.anchor != nil {
		if _, _, err := h.Anchor(ctx, "seal "+day); err != nil {
			h.log.Warn("anchor: after the seal of a day; the anchor loop tries again", "day", day, "err", err)
		}
	}
	return &s, nil
}

// segment is day's chain segment: the events after first (hash prev) up
// to last (hash head). Where the day before or after is sealed, its
// recorded bound is taken, so that the segments join exactly whatever the
// order in which days are sealed; elsewhere the last event recorded before
// the day's start and end (SegmentEnd).
func (h *Hub) segment(ctx context.Context, day string, start, end time.Time) (first uint64, prev string, last uint64, head string, err error) {
	if p, err := h.db.Seal(ctx, store.Day(start.Add(-12*time.Hour))); err != nil {
		return 0, "", 0, "", err
	} else if p != nil {
		first, prev = p.End, p.EndHash
	} else if first, prev, err = h.db.SegmentEnd(ctx, start); err != nil {
		return 0, "", 0, "", err
	}
	if n, err := h.db.Seal(ctx, store.Day(end.Add(12*time.Hour))); err != nil {
		return 0, "", 0, "", err
	} else if n != nil {
		last, head = n.Start, n.StartHash
	} else if last, head, err = h.db.SegmentEnd(ctx, end); err != nil {
		return 0, "", 0, "", err
	}
	if last < first {
		last, head = first, prev // an event recorded early, near the boundary: none of this day's
	}
	if base, _, err := h.db.ChainBaseSeq(ctx); err != nil {
		return 0, "", 0, "", err
	} else if first < base {
		return 0, "", 0, "", fmt.Errorf("archive: day %s: its chain segment starts at event %d, which left the store (the chain starts after %d)", day, first+1, base)
	}
	return first, prev, last, head, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// archiveLoop seals the closed days due and retires those past hot_days,
// every archive.check (archive.retry after a failure).
func (h *Hub) archiveLoop(ctx context.Context) {
	for ctx.Err() == nil {
		wait := h.cfg.Archive.Check.Duration
		if err := h.archiveDue(ctx); err != nil && ctx.Err() == nil {
			h.archive.failures.Inc()
			wait = h.cfg.Archive.Retry.Duration
			if h.workers.logs.allow("archive", time.Now()) {
				h.log.Warn("archive: sealing or retiring failed; trying again", "retry", wait.String(), "err", err)
			}
		}
		sleepCtx(ctx, wait, nil)
	}
}

// archiveDue seals every closed day from the chain's first to yesterday
// that is due and not sealed, then retires the sealed days older than
// hot_days, oldest first, stopping at the first not sealed (the chain
// leaves the hot store in order).
func (h *Hub) archiveDue(ctx context.Context) error {
	t0, err := h.db.FirstEventTime(ctx)
	if err != nil || t0.IsZero() {
		return err
	}
	seals, err := h.db.Seals(ctx)
	if err != nil {
		return err
	}
	sealed := map[string]*record.Sealed{}
	for i := range seals {
		sealed[seals[i].Day] = &seals[i]
	}
	today := store.Day(h.now())
	var unsettled int64
	var firstErr error
	first := store.Day(t0)
	if len(seals) > 0 && seals[0].Day < first {
		first = seals[0].Day // retired days' events left the store: from the oldest seal
	}
	var days []string
	for d := first; d < today; d = archive.NextDay(d) {
		days = append(days, d)
	}
	for _, d := range days {
		if sealed[d] != nil {
			continue
		}
		s, err := h.SealDay(ctx, d, false, "")
		var ns *notSettled
		switch {
		case errors.As(err, &ns):
			unsettled += int64(ns.n)
		case err != nil:
			if firstErr == nil {
				firstErr = fmt.Errorf("day %s: %w", d, err)
			}
		default:
			sealed[d] = s
		}
	}
	h.archive.unsettled.Store(unsettled)
	if firstErr != nil {
		return firstErr
	}
	return h.retireDue(ctx, days, sealed)
}

// retireDue retires, oldest first, the sealed days that ended hot_days
// ago or more.
func (h *Hub) retireDue(ctx context.Context, days []string, sealed map[string]*record.Sealed) error {
	hot := h.cfg.Archive.HotDays
	if hot <= 0 {
		return nil
	}
	cut := store.Day(h.now().AddDate(0, 0, -hot))
	for _, d := range days {
		if d >= cut {
			return nil
		}
		s := sealed[d]
		if s == nil {
			return nil // in order: a day not sealed holds back the ones after it
		}
		if !s.Retired.IsZero() && s.Kept == 0 {
			continue
		}
		if !s.Retired.IsZero() { // documents kept, not settled then: look again hourly
			if t, ok := h.archive.revisited[d]; ok && h.now().Sub(t) < time.Hour {
				continue
			}
			h.archive.revisited[d] = h.now()
		}
		if err := h.RetireDay(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// RetireDay retires a sealed day to its archive now (the archive loop
// does so past hot_days; store.Retire says what leaves the hot store),
// once the archive file still has the SHA-256 it was sealed with.
func (h *Hub) RetireDay(ctx context.Context, day string) error {
	ar := h.archive
	if ar == nil {
		return Problemf(ErrBadRequest, "archiving is off: archive.dir is not set")
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	s, err := h.db.Seal(ctx, day)
	if err != nil {
		return err
	}
	if s == nil {
		return Problemf(ErrConflict, "day %s is not sealed", day)
	}
	path := filepath.Join(ar.dir, s.File)
	if sum, err := archive.FileSHA256(path); err != nil {
		return fmt.Errorf("archive: %w", err)
	} else if sum != s.SHA256 {
		return fmt.Errorf("archive: %s has SHA-256 %s, it was sealed with %s: not retiring day %s", path, sum, s.SHA256, day)
	}
	retired, kept, err := h.db.Retire(ctx, day, h.now())
	if err != nil {
		return err
	}
	h.log.Info("archive: day retired from the hot store", "day", day, "file", s.File, "retired", retired, "kept", kept)
	return nil
}

// envelopeBytes are a document's exact bytes: from the store, or, once
// they left it for its day's archive (retention), from there, checked
// against the SHA-256 recorded at intake.
func (h *Hub) envelopeBytes(ctx context.Context, d *record.Document) ([]byte, error) {
	raw, err := h.db.BlobOf(ctx, d)
	if !errors.Is(err, store.ErrArchived) {
		return raw, err
	}
	r, err := h.openArchive(d)
	if err != nil {
		return nil, fmt.Errorf("document %s: reading its archive %s: %w", d.ID, d.Archive, err)
	}
	defer r.Close()
	return r.Envelope(d.ID, d.SHA256)
}

// archivedEvents are a retired day's document's events: those its archive
// holds (up to its day's end, as sealed) and those the store still holds
// (recorded since), by seq.
func (h *Hub) archivedEvents(d *record.Document, hot []record.Event) ([]record.Event, error) {
	r, err := h.openArchive(d)
	if err != nil {
		return nil, fmt.Errorf("document %s: reading its archive %s: %w", d.ID, d.Archive, err)
	}
	defer r.Close()
	ad, err := r.Doc(d.ID)
	if err != nil {
		return nil, err
	}
	seen := map[uint64]bool{}
	var out []record.Event
	for _, e := range append(ad.Events, hot...) {
		if !seen[e.Seq] {
			seen[e.Seq] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b record.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

func (h *Hub) openArchive(d *record.Document) (*archive.Reader, error) {
	if h.archive == nil {
		return nil, fmt.Errorf("document %s is retired to %s, but archive.dir is not set", d.ID, d.Archive)
	}
	if strings.Contains(d.Archive, "..") {
		return nil, fmt.Errorf("document %s: archive path %q", d.ID, d.Archive)
	}
	return archive.Open(filepath.Join(h.archive.dir, d.Archive))
}

// auditRetired checks, for the reconciliation, the day's documents whose
// bytes are in the day's archive only: the file must be the one sealed
// (its SHA-256), verify (hashes, signature, token, chain segment), and hold
// each document's envelope with the SHA-256 recorded at intake. What does
// not hold is a hash_mismatch of the document. Their records and
// deliveries are the store's, as for any document.
func (h *Hub) auditRetired(ctx context.Context, a *store.DayAudit, r *api.Report) error {
	s, err := h.db.Seal(ctx, a.Day)
	if err != nil {
		return err
	}
	if s == nil || h.archive == nil {
		for _, d := range a.Retired {
			a.HashMismatch = append(a.HashMismatch, store.AuditRef{DocID: d.ID, Detail: "its bytes are in " + d.Archive + ", but the day's seal (or archive.dir) is missing"})
		}
		return nil
	}
	path := filepath.Join(h.archive.dir, s.File)
	r.Archive, r.FromArchive = path, len(a.Retired)
	fail := func(why string) {
		for _, d := range a.Retired {
			a.HashMismatch = append(a.HashMismatch, store.AuditRef{DocID: d.ID, Detail: "archive " + path + ": " + why})
		}
	}
	if sum, err := archive.FileSHA256(path); err != nil {
		fail(err.Error())
		return nil
	} else if sum != s.SHA256 {
		fail(fmt.Sprintf("its SHA-256 is %s, it was sealed with %s", sum, s.SHA256))
		return nil
	}
	trust := archive.Trust{HubRoots: x509.NewCertPool()}
	trust.HubRoots.AddCert(h.signer.Leaf()) // signed here: the hub's own certificate is the anchor of trust
	if h.anchor != nil {
		trust.TSARoots = h.anchor.roots
	}
	if rep := archive.Verify([]string{path}, trust)[0]; !rep.OK() {
		fail(strings.Join(rep.Problems, "; "))
		return nil
	}
	rd, err := archive.Open(path)
	if err != nil {
		fail(err.Error())
		return nil
	}
	defer rd.Close()
	for _, d := range a.Retired {
		if _, err := rd.Envelope(d.ID, d.SHA256); err != nil {
			a.HashMismatch = append(a.HashMismatch, store.AuditRef{DocID: d.ID, Detail: err.Error()})
		}
	}
	return nil
}
