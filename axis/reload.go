package axis

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/axis-h40/axis/envelope"
	"github.com/prometheus/client_golang/prometheus"
)

// Reloading the config (SIGHUP; axisd's Main.Reload calls Hub.Reload).
//
// The whole file is read and checked again (LoadConfig), and everything
// the reload changes is built off to the side: the new directory
// (agencies, peers and their routes, every token), the verifier (trust
// roots and the agencies' cert_sha256 pins), each peer's HTTP client
// (its tls files read again) and relay client. Only when all of it, and
// what axisd stages beside it (the server certificate), is ready is it
// swapped in; a problem anywhere refuses the reload, logged at error
// level with the file and line, counted in
// axis_config_reloads_total{result="refused"}, and the running
// configuration stays as it was. Nothing is dropped: connections stay
// open, intakes in flight finish with the directory they started with
// (each lookup sees the old directory or the new one, never a mix).
//
// What changes with a reload:
//   - agencies (inline and agencies_file): added, removed, changed
//     (tokens, pins, push_url, client_cert_sha256); a push loop starts
//     for a new push_url and stops for a removed one. Agencies registered
//     over VDXP stay (they live in the store's registry, registry.go).
//   - peers: added (their loops start), removed (their loops stop once
//     their in-flight posts landed; their outbox, dead list and reports
//     stay in the store, and come back with the peer), changed: routes and
//     tokens apply at once; a change of what the loops read at start (url,
//     kind, token or token_env, system_id, secret_env, poll settings, the
//     tls files' contents) restarts that peer's loops after the old ones
//     finished their in-flight posts.
//   - admin.token_sha256 and admin.users.
//   - trust.roots, trust.allow_sha1, trust.legacy_signature_ns (a new
//     verifier; its chain cache starts empty).
//   - tls.cert and tls.key (axisd; the next handshake presents them).
//
// Decision on trust roots: reloaded. The verifier has to be rebuilt anyway
// for cert_sha256 pins (fixed at its construction), so the roots come for
// free, and withdrawing a compromised CA should not wait for a restart.
// The revocation checker (trust.revocation) is kept: it holds fetched
// answers and its own loop.
//
// What needs a restart (a reload that changes them applies the rest and
// logs a warning naming each such key): listen, data_dir, hub (name, key,
// cert, pkcs11), trust.revocation, limits, relay, log, tls being added or
// removed, tls.client_ca and tls.min_version, vdxp (base_path, systems and
// their secrets), reconcile, trusted_proxies, admin.secure_cookies and
// admin.sla_*. Hub.Config still returns the configuration of the start.

// reloader is the hub's reload state.
type reloader struct {
	mu    sync.Mutex // one reload at a time
	total *prometheus.CounterVec
	sigs  map[string]string // peer name → peerSig of its running clients (workers.go)
}

func (r *reloader) init(reg *prometheus.Registry) {
	r.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "axis_config_reloads_total", Help: "Config reloads (SIGHUP), by result (ok, refused: the running configuration stayed).",
	}, []string{"result"})
	r.total.WithLabelValues("ok")
	r.total.WithLabelValues("refused")
	reg.MustRegister(r.total)
}

// reloadPlan is a reloaded config made ready, not yet in use.
type reloadPlan struct {
	cfg      *Config
	dir      *Directory
	verifier *envelope.Verifier
	http     peerHTTP
	specs    []unitSpec
	sigs     map[string]string
}

// ReloadResult says what a reload changed.
type ReloadResult struct {
	AgenciesAdded, AgenciesRemoved, AgenciesChanged []string // organ codes
	PeersAdded, PeersRemoved, PeersChanged          []string // names
	// LoopsStarted and LoopsStopped are the units of loops started and
	// stopped ("peer:NAME", "push:ORGAN"); a restarted one is in both.
	LoopsStarted, LoopsStopped []string
	// Restart lists the keys that changed but apply only at a restart.
	Restart []string
}

// Reload re-reads the config with load (LoadConfig with axisd's flag
// overrides) and applies it (see the top of this file). stage, when not
// nil, prepares what the caller reloads beside the hub from the new config
// (axisd: the server certificate); its error refuses the whole reload, its
// commit runs right after the hub's. On refusal the error names the file
// and, where it can, the line (*ConfigError), and nothing changed.
func (h *Hub) Reload(load func() (*Config, error), stage func(*Config) (commit func(), err error)) (*ReloadResult, error) {
	h.reload.mu.Lock()
	defer h.reload.mu.Unlock()
	res, err := h.reloadLocked(load, stage)
	if err != nil {
		h.reload.total.WithLabelValues("refused").Inc()
		h.log.Error("config reload refused; the running configuration stays", "err", err)
		return nil, err
	}
	h.reload.total.WithLabelValues("ok").Inc()
	for _, k := range res.Restart {
		h.log.Warn("config reload: "+k+" changed; it applies only when axisd restarts", "key", k)
	}
	h.log.Info("config reloaded", "agencies", len(h.dir.Agencies()), "peers", len(h.dir.Peers()),
		"agencies_added", short(res.AgenciesAdded), "agencies_removed", short(res.AgenciesRemoved), "agencies_changed", short(res.AgenciesChanged),
		"peers_added", res.PeersAdded, "peers_removed", res.PeersRemoved, "peers_changed", res.PeersChanged,
		"loops_started", res.LoopsStarted, "loops_stopped", res.LoopsStopped, "restart_needed", res.Restart)
	return res, nil
}

// short is a list for a log line: at most 20 names, then how many more.
func short(list []string) any {
	if len(list) <= 20 {
		return list
	}
	return fmt.Sprintf("%v and %d more", list[:20], len(list)-20)
}

func (h *Hub) reloadLocked(load func() (*Config, error), stage func(*Config) (func(), error)) (*ReloadResult, error) {
	if err := h.Ready(); err != nil || h.workers == nil {
		return nil, errors.New("axis: reload: the hub is not running")
	}
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	plan, err := h.prepareReload(cfg)
	if err != nil {
		return nil, err
	}
	var commit func()
	if stage != nil {
		if commit, err = stage(cfg); err != nil {
			return nil, err
		}
	}
	res := h.diff(cfg, plan.sigs)
	h.mu.RLock() // Close waits for the swap; no loop starts after Close
	defer h.mu.RUnlock()
	if h.closed {
		return nil, ErrUnavailable
	}
	h.peerHTTP.Store(&plan.http)
	h.setClients(plan.specs)
	h.verifier.Store(plan.verifier)
	h.dir.replace(plan.dir)
	res.LoopsStarted, res.LoopsStopped = h.applyUnits(plan.specs)
	h.reload.sigs = plan.sigs
	if commit != nil {
		commit()
	}
	return res, nil
}

// prepareReload builds everything the reload swaps in, off to the side; an
// error is located in the file where it can be.
func (h *Hub) prepareReload(cfg *Config) (*reloadPlan, error) {
	p := &reloadPlan{cfg: cfg, dir: NewDirectory(cfg), sigs: map[string]string{}}
	var err error
	if p.verifier, err = h.newVerifier(cfg, p.dir); err != nil {
		return nil, cfg.locate(errAt("trust.roots", err))
	}
	peers := p.dir.Peers()
	for _, pr := range peers {
		p.sigs[pr.Name] = h.peerSig(cfg, pr)
	}
	unchanged := func(pr *Peer) bool { return h.reload.sigs[pr.Name] == p.sigs[pr.Name] }
	if p.http, err = buildPeerHTTP(cfg, peers, h.peerHTTPMap(), unchanged); err != nil {
		return nil, cfg.locate(err)
	}
	h.workers.mu.RLock()
	running := make(map[string]*unit, len(h.workers.units))
	for k, u := range h.workers.units {
		running[k] = u
	}
	h.workers.mu.RUnlock()
	if p.specs, err = h.unitSpecs(peers, p.dir.Agencies(), p.http, p.sigs, running); err != nil {
		return nil, cfg.locate(err)
	}
	return p, nil
}

// peerHTTPMap is the current peer HTTP clients (nil before Open).
func (h *Hub) peerHTTPMap() peerHTTP {
	if m := h.peerHTTP.Load(); m != nil {
		return *m
	}
	return nil
}

// diff compares the running directory and config with cfg (whose peers'
// signatures are sigs).
func (h *Hub) diff(cfg *Config, sigs map[string]string) *ReloadResult {
	r := &ReloadResult{Restart: restartKeys(h.cfg, cfg)}
	h.dir.mu.RLock()
	oldAgencies := map[string]*Agency{}
	for o := range h.dir.configured {
		oldAgencies[o] = h.dir.agencies[o]
	}
	oldPeers := map[string]*Peer{}
	for _, p := range h.dir.peers {
		oldPeers[p.Name] = p
	}
	h.dir.mu.RUnlock()
	for i := range cfg.Agencies {
		a := &cfg.Agencies[i]
		switch old, ok := oldAgencies[a.OrganID]; {
		case !ok:
			r.AgenciesAdded = append(r.AgenciesAdded, a.OrganID)
		case !reflect.DeepEqual(old, a):
			r.AgenciesChanged = append(r.AgenciesChanged, a.OrganID)
		}
		delete(oldAgencies, a.OrganID)
	}
	for o := range oldAgencies {
		r.AgenciesRemoved = append(r.AgenciesRemoved, o)
	}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		switch old, ok := oldPeers[p.Name]; {
		case !ok:
			r.PeersAdded = append(r.PeersAdded, p.Name)
		case !reflect.DeepEqual(old, p) || h.reload.sigs[p.Name] != sigs[p.Name]:
			r.PeersChanged = append(r.PeersChanged, p.Name)
		}
		delete(oldPeers, p.Name)
	}
	for n := range oldPeers {
		r.PeersRemoved = append(r.PeersRemoved, n)
	}
	slices.Sort(r.AgenciesRemoved)
	slices.Sort(r.PeersRemoved)
	return r
}

// restartKeys are the keys a reload does not apply that differ between
// the running config and the new one.
func restartKeys(old, cur *Config) []string {
	var out []string
	differ := func(k string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, k)
		}
	}
	differ("listen", old.Listen, cur.Listen)
	differ("data_dir", old.Path(old.DataDir), cur.Path(cur.DataDir))
	differ("hub", old.Hub, cur.Hub)
	differ("trust.revocation", old.Trust.Revocation, cur.Trust.Revocation)
	differ("limits", old.Limits, cur.Limits)
	differ("relay", old.Relay, cur.Relay)
	differ("log", old.Log, cur.Log)
	switch {
	case (old.TLS == nil) != (cur.TLS == nil):
		out = append(out, "tls")
	case old.TLS != nil:
		differ("tls.client_ca", old.TLS.ClientCA, cur.TLS.ClientCA)
		differ("tls.min_version", old.TLS.MinVersion, cur.TLS.MinVersion)
	}
	differ("vdxp", old.VDXP, cur.VDXP)
	differ("reconcile", old.Reconcile, cur.Reconcile)
	differ("trusted_proxies", old.TrustedProxies, cur.TrustedProxies)
	differ("store", old.Store, cur.Store)
	differ("cluster", old.Cluster, cur.Cluster)
	differ("admin.secure_cookies", old.Admin.SecureCookies, cur.Admin.SecureCookies)
	differ("admin.sla_*", []Duration{old.Admin.SLAFetch, old.Admin.SLAAck, old.Admin.SLARelay},
		[]Duration{cur.Admin.SLAFetch, cur.Admin.SLAAck, cur.Admin.SLARelay})
	return out
}
