package axis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/beevik/etree"
)

// Hub is the document axis: intake, routing, local delivery, receipts.
type Hub struct {
	cfg         *Config
	dir         *Directory
	log         *slog.Logger
	now         func() time.Time
	verifier    atomic.Pointer[envelope.Verifier] // replaced by a reload (new roots, pins)
	signer      *envelope.Signer
	hsm         *hsmKey // the token holding the hub key, with hub.pkcs11 (hsm.go)
	db          *store.DB
	metrics     *metrics
	storeOpt    store.Options
	workers     *workers
	peerClients map[string]PeerClient // Options.PeerClients
	clientsMu   sync.RWMutex
	clients     map[string]PeerClient // what the relay loops use, by peer (peerClient)
	vdxpSystems map[string]*vdxpSystem
	env         func(string) string
	auth        *authGuard                  // trusted proxies and the failed-authentication limiter (authlimit.go)
	revocation  *envelope.RevocationChecker // nil when trust.revocation.mode is off
	holdWake    chan struct{}
	// verifySlots bounds concurrent verifications to the cores: more would
	// only queue CPU work in front of the commit loop and the network.
	verifySlots chan struct{}
	// verifyMem is half of limits.memory, reserved by each verification in
	// flight (verifyMemoryFactor × the envelope's size; memory.go).
	verifyMem *memBudget
	bodies    *bodySpool               // intake bodies: spool files and the in-memory budget (body.go)
	peerHTTP  atomic.Pointer[peerHTTP] // the one HTTP client per peer (tls.go); replaced by a reload
	reload    reloader                 // SIGHUP: what a reload needs besides (reload.go)
	node      string                   // this node's name among those of one store (lease.go)
	leases    sync.Map                 // lease name → true while this node holds it (lease.go)
	anchor    *anchoring               // the time-stamping authority's client, nil without archive.tsa_url (anchor.go)
	archive   *archiving               // the daily archives, nil without archive.dir (archive.go)

	mu     sync.RWMutex
	closed bool
}

// Options adjust a Hub for tests and tools; zero values are production
// defaults.
type Options struct {
	Logger *slog.Logger
	// Now is the hub's clock (receipts, certificate checks); default time.Now.
	Now func() time.Time
	// Store tunes the bbolt store.
	Store *store.Options
	// PeerClients replaces the client of a peer by name (tests, new kinds).
	PeerClients map[string]PeerClient
	// Getenv reads the secrets named in the config; default os.Getenv.
	Getenv func(string) string
}

// NewHub prepares a hub for a checked config; Open starts it.
func NewHub(cfg *Config, o Options) *Hub {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Hub{cfg: cfg, dir: NewDirectory(cfg), log: o.Logger, now: o.Now, metrics: newMetrics(),
		verifySlots: make(chan struct{}, runtime.NumCPU())}
	h.verifyMem = newMemBudget(int64(cfg.Limits.Memory) / 2)
	h.metrics.watchMemory(h.verifyMem)
	if o.Store != nil {
		h.storeOpt = *o.Store
	}
	h.peerClients = o.PeerClients
	h.clients = map[string]PeerClient{}
	h.env = o.Getenv
	h.node = nodeName(cfg)
	h.auth = newAuthGuard(cfg, h.metrics.reg, h.log)
	h.reload.init(h.metrics.reg)
	return h
}

// Open loads the trust roots and hub key and opens the store.
func (h *Hub) Open(ctx context.Context) (err error) {
	h.revocation = h.newRevocationChecker()
	h.holdWake = make(chan struct{}, 1)
	v, err := h.newVerifier(h.cfg, h.dir)
	if err != nil {
		return err
	}
	h.verifier.Store(v)
	if err := h.loadSigner(); err != nil { // a PEM file or a PKCS#11 token (hsm.go)
		return err
	}
	defer func() {
		if err != nil {
			h.closeHSM()
		}
	}()
	if err := h.loadVDXPSystems(); err != nil {
		return err
	}
	if err := h.loadPeerHTTP(); err != nil {
		return err
	}
	dataDir := h.cfg.Path(h.cfg.DataDir)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	opts := h.storeOpt
	opts.OnBatch = func(n int) { h.metrics.batchSize.Observe(float64(n)) }
	opts.ReportTo = h.reportsTo     // delivery reports (deliveryreport.go)
	opts.PollStates = h.pollsStates // VDXP peers send none: asked (vdxp_peer.go)
	opts.OnMigrate = func(from, to, backup string) {
		h.log.Warn("store: migrating the schema; the store before it is copied", "from", from, "to", to, "backup", backup)
	}
	if h.db, err = h.openStore(ctx, dataDir, &opts); err != nil {
		return err
	}
	h.metrics.watchStore(h)
	h.metrics.watchHeld(h.db)
	if h.anchor, err = h.newAnchoring(); err != nil {
		h.db.Close()
		return err
	}
	if h.anchor != nil {
		h.db.SetTSARoots(h.anchor.roots)
	}
	if h.archive, err = h.newArchiving(); err != nil {
		h.db.Close()
		return err
	}
	h.metrics.watchArchive(h)
	if h.revocation != nil {
		h.revocation.Start()
	}
	if err := h.openSpool(dataDir); err != nil {
		h.db.Close()
		return err
	}
	if err := h.loadRegistered(ctx); err != nil {
		h.db.Close()
		return err
	}
	if err := h.startWorkers(); err != nil {
		h.db.Close()
		return err
	}
	h.log.Info("hub open", "hub", h.cfg.Hub.Name, "agencies", len(h.dir.Agencies()), "peers", len(h.dir.Peers()), "store", h.db.Path())
	return nil
}

// openStore opens the store of the config's engine: the bbolt file in
// dataDir, or the PostgreSQL database of the DSN in store.dsn_env.
func (h *Hub) openStore(ctx context.Context, dataDir string, opts *store.Options) (*store.DB, error) {
	if h.cfg.Store.Engine != EnginePostgres {
		return store.Open(filepath.Join(dataDir, "axis.db"), opts)
	}
	dsn := h.getenv(h.cfg.Store.DSNEnv)
	if dsn == "" {
		return nil, fmt.Errorf("axis: store.dsn_env: the environment variable %s is empty: it must hold the PostgreSQL DSN", h.cfg.Store.DSNEnv)
	}
	return store.OpenPostgres(ctx, dsn, opts)
}

// Close stops taking work and closes the store. Callers stop the HTTP server
// first so in-flight intakes finish.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.db == nil {
		return nil
	}
	h.closed = true
	h.stopWorkers()
	if h.revocation != nil {
		h.revocation.Stop()
	}
	return errors.Join(h.db.Close(), h.closeHSM())
}

// newVerifier is the verifier of cfg's trust (roots, allow_sha1,
// legacy_signature_ns) with d's pins; the revocation checker, its mode and
// the limits are the hub's from the start (a reload does not change them).
func (h *Hub) newVerifier(cfg *Config, d *Directory) (*envelope.Verifier, error) {
	var roots []string
	for _, r := range cfg.Trust.Roots {
		roots = append(roots, cfg.Path(r))
	}
	pool, err := envelope.LoadRoots(roots...)
	if err != nil {
		return nil, fmt.Errorf("axis: trust roots: %w", err)
	}
	return envelope.NewVerifier(envelope.Policy{
		Revocation:        h.revocation,
		RevocationMode:    h.cfg.Trust.Revocation.Mode,
		Roots:             pool,
		AllowSHA1:         cfg.Trust.AllowSHA1,
		LegacySignatureNS: cfg.Trust.LegacySignatureNS,
		Pins:              d.Pins(),
		Now:               h.now,
		Limits:            h.cfg.Limits.envelopeLimits(),
	})
}

// Store is the hub's store (for tools and tests).
func (h *Hub) Store() *store.DB { return h.db }

// Directory is the hub's directory.
func (h *Hub) Directory() *Directory { return h.dir }

// Ready reports whether the hub can take intakes.
func (h *Hub) Ready() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed || h.db == nil {
		return ErrUnavailable
	}
	return nil
}

func receiptOf(d *record.Document) *api.Receipt {
	r := &api.Receipt{DocID: d.ID, SHA256: d.SHA256, ReceivedAt: d.ReceivedAt, State: d.State, Code: d.RefusedCode}
	if d.State == store.StateHeld {
		r.Reason = envelope.ErrRevocationUnknown.Code()
	}
	for _, rt := range append(d.Recipients, d.Pending...) {
		r.Recipients = append(r.Recipients, api.RecipientInfo{OrganID: rt.OrganID, Route: rt.Name()})
	}
	return r
}

// recipientsOf is who an envelope goes to: every To of a document (once
// each), or the original sender a status message answers.
func recipientsOf(m *envelope.Message) []string {
	var out []string
	seen := map[string]bool{}
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	if m.Kind == envelope.KindStatus {
		add(m.ResponseFor[0].OrganID)
		return out
	}
	for _, t := range m.To {
		add(t.OrganID)
	}
	return out
}

// Intake verifies, routes and stores one envelope for caller. created is
// false when the same bytes were already stored. Nothing is stored unless
// every step succeeds.
func (h *Hub) Intake(ctx context.Context, caller Caller, raw []byte) (*api.Receipt, bool, error) {
	return h.IntakeFor(ctx, caller, raw, nil)
}

// IntakeFor is Intake for a hop of a relay: a peer hub names the recipients
// this hub is to take care of (the others travel other ways). Without that
// list, a peer's envelope is routed for every recipient except those that
// would go back to the peer it came from.
func (h *Hub) IntakeFor(ctx context.Context, caller Caller, raw []byte, forRecipients []string) (*api.Receipt, bool, error) {
	return h.intakeLoaded(ctx, caller, int64(len(raw)), func() ([]byte, error) { return raw, nil }, forRecipients)
}

// intakeLoaded is IntakeFor for a body of size bytes that load brings into
// memory once a verification slot and its share of the memory budget are
// held (a spooled upload is read back only then).
func (h *Hub) intakeLoaded(ctx context.Context, caller Caller, size int64, load func() ([]byte, error), forRecipients []string) (*api.Receipt, bool, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return nil, false, ErrUnavailable
	}
	// The reservation covers the envelope from its read-back to its commit
	// (the verified bytes and the tree's text stay in memory until then).
	reserved, err := h.verifyMem.acquire(ctx, verifyMemoryFactor*size)
	if err != nil {
		return nil, false, err
	}
	defer h.verifyMem.release(reserved)
	select {
	case h.verifySlots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	raw, err := load()
	if err != nil {
		<-h.verifySlots
		return nil, false, err
	}
	t0 := time.Now()
	v, err := h.verifier.Load().Verify(raw)
	h.metrics.verifySeconds.Observe(time.Since(t0).Seconds())
	<-h.verifySlots
	if err != nil {
		return nil, false, err
	}
	m := v.Message()
	switch {
	case caller.Peer != "":
	case caller.Agency == m.From.OrganID:
	default:
		return nil, false, Problemf(ErrCallerMismatch, "authenticated as %s, From/OrganId is %s", caller, m.From.OrganID)
	}
	if err := h.checkAuthority(ctx, m, caller); err != nil {
		return nil, false, err
	}
	recipients := recipientsOf(m)
	if caller.Peer != "" && len(forRecipients) > 0 {
		all := map[string]bool{}
		for _, o := range recipients {
			all[o] = true
		}
		for _, o := range forRecipients {
			if !all[o] {
				return nil, false, Problemf(ErrUnknownRecipient, "%s is not a recipient of this envelope", o)
			}
		}
		recipients = forRecipients
	}
	var routes []record.Route
	var unknown []string
	for _, o := range recipients {
		r, err := h.dir.Route(o, caller.Peer)
		if errors.Is(err, errRoutesBack) && len(forRecipients) == 0 {
			continue // the peer it came from takes care of that one
		}
		if err != nil {
			unknown = append(unknown, err.Error())
			continue
		}
		routes = append(routes, r)
	}
	if len(unknown) > 0 {
		return nil, false, Problemf(ErrUnknownRecipient, "%s", strings.Join(unknown, "; "))
	}
	if len(routes) == 0 {
		return nil, false, Problemf(ErrUnknownRecipient, "no recipient of this envelope is reached through this hub")
	}
	t1 := time.Now()
	put := h.db.PutEnvelope
	if h.holds(v) {
		put = h.db.PutHeld // hold.go: routed once its revocation status is known
	}
	doc, created, err := put(ctx, v, routes, h.now(), caller.Peer)
	h.metrics.commitSeconds.Observe(time.Since(t1).Seconds())
	if err != nil {
		return nil, false, err
	}
	if created && doc.State == "" {
		h.wakeFor(routes)
	}
	if created && doc.State == store.StateHeld {
		h.wakeHold()
	}
	return receiptOf(doc), created, nil
}

// checkAuthority applies the authority rule that needs the store (the
// others hold already: envelope.Message.CheckAuthority runs inside Verify).
// A status message must come from a recipient of the document it answers.
// Where this hub holds that document, From must be one of its recipients.
// Where it does not and the status is for a local agency, this hub would
// hold it (every document of a local sender passes here), so the status
// answers nothing its sender received. Where it does not and the status
// travels on to a peer, the hub that holds the document checks. The refusal
// reads the same whether the document exists or not: it is no oracle.
func (h *Hub) checkAuthority(ctx context.Context, m *envelope.Message, caller Caller) error {
	if m.Kind != envelope.KindStatus {
		return nil
	}
	t := m.ResponseFor[0]
	refuse := func() error {
		return fmt.Errorf("%w: only a recipient may post a status about a document: %s received no document %q from %s through this hub",
			envelope.ErrNotEntitled, m.From.OrganID, t.DocumentID, t.OrganID)
	}
	d, err := h.db.DocumentFor(ctx, t.OrganID, t.DocumentID)
	switch {
	case err == nil:
		if !slices.Contains(d.To, m.From.OrganID) {
			return refuse()
		}
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if r, err := h.dir.Route(t.OrganID, caller.Peer); err == nil && r.Peer == "" {
		return refuse()
	}
	return nil // passing through, or unroutable (refused below)
}

// canSee reports whether caller may read a document: its sender, one of its
// recipients, the peer it came through or goes to, or an admin.
func canSee(caller Caller, d *record.Document) bool {
	if caller.Admin || caller.Agency == d.From {
		return true
	}
	for _, r := range d.Recipients {
		if caller.Agency != "" && r.OrganID == caller.Agency && r.Peer == "" {
			return true
		}
		if caller.Peer != "" && r.Peer == caller.Peer {
			return true
		}
	}
	return caller.Peer != "" && d.Via == caller.Peer
}

func (h *Hub) visible(ctx context.Context, caller Caller, id string) (*record.Document, error) {
	d, err := h.db.Document(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSee(caller, d)) {
		return nil, ErrNotFound
	}
	return d, err
}

// Fetch returns a document's exact bytes; a local recipient's first fetch
// marks its delivery delivered.
func (h *Hub) Fetch(ctx context.Context, caller Caller, id string) ([]byte, error) {
	d, err := h.visible(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	raw, err := h.envelopeBytes(ctx, d) // the store's, or its archive's (retention)
	if err != nil {
		return nil, err
	}
	if caller.Agency != "" && caller.Agency != d.From {
		if _, err := h.db.MarkFetched(ctx, d.ID, caller.Agency, h.now()); err != nil {
			return nil, err
		}
		if d.Via != "" {
			h.wakeReports() // the hub it came from hears of it
		}
	}
	return raw, nil
}

// Ack records a local recipient's acknowledgement.
func (h *Hub) Ack(ctx context.Context, caller Caller, id string, done bool, reason string) (*record.Delivery, error) {
	if caller.Agency == "" {
		return nil, Problemf(ErrForbidden, "only a recipient agency acks")
	}
	d, err := h.visible(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	dl, err := h.db.Ack(ctx, d.ID, caller.Agency, done, reason, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound // the sender, not a recipient: no delivery to ack
	}
	if err == nil && d.Via != "" {
		h.wakeReports()
	}
	return dl, err
}

// Inbox lists caller's not-yet-acked documents and status messages.
func (h *Hub) Inbox(ctx context.Context, caller Caller, after uint64, limit int) ([]store.InboxItem, bool, error) {
	if caller.Agency == "" {
		return nil, false, Problemf(ErrForbidden, "the inbox belongs to an agency")
	}
	return h.db.Inbox(ctx, caller.Agency, after, limit)
}

// Status is a document's per-recipient state, for its sender or an admin.
func (h *Hub) Status(ctx context.Context, caller Caller, id string) (*api.DocStatus, error) {
	d, err := h.visible(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if !caller.Admin && caller.Agency != d.From {
		return nil, ErrNotFound
	}
	dls, err := h.db.Deliveries(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	s := &api.DocStatus{DocID: d.ID, Related: d.Related, State: d.State, Code: d.RefusedCode, Detail: d.RefusedDetail}
	for _, dl := range dls {
		rs := api.RecipientStatus{OrganID: dl.OrganID, Route: dl.Route, State: dl.State, StatusCode: dl.StatusCode, UpdatedAt: dl.UpdatedAt,
			PeerDocID: dl.PeerDocID, Attempts: dl.Attempts, LastError: dl.LastError}
		if dl.RemoteState != "" { // where it was delivered, reported back
			rs.State, rs.AtHub, rs.UpdatedAt = dl.RemoteState, dl.AtHub, dl.RemoteAt
		}
		if !dl.StatusAt.IsZero() {
			t := dl.StatusAt
			rs.StatusAt = &t
		}
		s.Recipients = append(s.Recipients, rs)
	}
	return s, nil
}

// ReceiptNamespace is the namespace of signed receipts.
const ReceiptNamespace = "urn:axis:receipt:1"

// SignedReceipt returns the XML receipt of a document, signed with the hub
// key. It is made on demand from stored records: RSA PKCS#1 v1.5 is
// deterministic, so the same receipt comes back byte-for-byte every time.
func (h *Hub) SignedReceipt(ctx context.Context, caller Caller, id string) ([]byte, error) {
	d, err := h.visible(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if h.signer == nil {
		return nil, Problemf(ErrInternal, "hub has no signing key (hub.key or hub.pkcs11)")
	}
	return h.signer.SignXML(receiptXML(h.cfg.Hub.Name, h.signer.Leaf().Subject.String(), d))
}

func receiptXML(hub, hubSubject string, d *record.Document) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	r := doc.CreateElement("Receipt")
	r.CreateAttr("xmlns", ReceiptNamespace)
	r.CreateElement("DocId").SetText(d.ID)
	r.CreateElement("SHA256").SetText(d.SHA256)
	r.CreateElement("From").SetText(d.From)
	if d.DocumentID != "" {
		r.CreateElement("DocumentId").SetText(d.DocumentID)
	}
	if d.Code != "" {
		r.CreateElement("Code").SetText(d.Code)
	}
	rs := r.CreateElement("Recipients")
	recips := append([]record.Route(nil), d.Recipients...)
	sort.SliceStable(recips, func(i, j int) bool { return recips[i].OrganID < recips[j].OrganID })
	for _, rt := range recips {
		e := rs.CreateElement("Recipient")
		e.CreateAttr("route", rt.Name())
		e.SetText(rt.OrganID)
	}
	r.CreateElement("ReceivedAt").SetText(d.ReceivedAt.UTC().Format(time.RFC3339Nano))
	hb := r.CreateElement("Hub")
	hb.CreateAttr("certificate", hubSubject)
	hb.SetText(hub)
	doc.Indent(2)
	var b bytes.Buffer
	doc.WriteTo(&b)
	return b.Bytes()
}

// getenv reads a variable with Options.Getenv, else from the process environment
// (secrets named by *_env keys).
func (h *Hub) getenv(k string) string {
	if h.env != nil {
		return h.env(k)
	}
	return os.Getenv(k)
}
