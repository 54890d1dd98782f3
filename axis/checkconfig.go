package axis

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/envelope"
)

// ConfigReport is what axisd --check-config found in a config that loaded.
type ConfigReport struct {
	// Summary is what the config holds, one "key: what" line each.
	Summary []string
	// Warnings work but may not be what was meant (*ConfigErrors: file and
	// line of the key).
	Warnings []error
}

// CheckConfig checks a loaded config (LoadConfig checked its syntax and
// keys) the way the hub's start would, without opening the store, binding
// the listen address or logging in to a PKCS#11 token: the trust roots
// load; the hub key and its certificate are a pair (with hub.pkcs11 only
// what can be seen without the token: the module file, hub.cert, the PIN
// variable set); the TLS files load; each peer's tls files load and the
// variables its secrets come from are set; every agency can authenticate
// (a token_sha256, or a VDXP system acting for it). getenv reads the
// environment (nil: os.Getenv); now is the clock certificates are read at.
// The error joins every problem found, each a *ConfigError.
func CheckConfig(c *Config, getenv func(string) string, now time.Time) (*ConfigReport, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	r := &ConfigReport{}
	var errs []error
	fail := func(k string, err error) { errs = append(errs, c.ErrorAt(k, err)) }
	warn := func(k string, format string, args ...any) {
		r.Warnings = append(r.Warnings, c.ErrorAt(k, fmt.Errorf(format, args...)))
	}
	say := func(format string, args ...any) { r.Summary = append(r.Summary, fmt.Sprintf(format, args...)) }
	validity := func(k, what string, leaf *x509.Certificate) string {
		if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			warn(k, "%s: the certificate (%s) is not valid now: %s to %s", what, leaf.Subject, leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly))
		}
		return fmt.Sprintf("%s, until %s", leaf.Subject, leaf.NotAfter.Format(time.DateOnly))
	}

	// The hub's identity and key.
	hc := c.Hub
	switch {
	case hc.PKCS11 != nil:
		p := hc.PKCS11
		cert := "hub.cert not read"
		if b, err := os.ReadFile(c.Path(hc.Cert)); err != nil {
			fail("hub.cert", fmt.Errorf("hub.cert: %w", err))
		} else if chain, err := envelope.ParseCertificatesPEM(b); err != nil {
			fail("hub.cert", fmt.Errorf("hub.cert: %s: %w", c.Path(hc.Cert), err))
		} else {
			cert = validity("hub.cert", "hub.cert", chain[0])
		}
		if _, err := os.Stat(c.Path(p.Module)); err != nil {
			fail("hub.pkcs11.module", fmt.Errorf("hub.pkcs11.module: %w", err))
		}
		if getenv(p.PINEnv) == "" {
			fail("hub.pkcs11.pin_env", fmt.Errorf("hub.pkcs11: the PIN variable %s (pin_env) is empty or not set", p.PINEnv))
		}
		say("hub: %s (key %q in PKCS#11 token %q, module %s; certificate %s; the token is not opened here: "+
			"the login, the key label and that the key is hub.cert's are checked when axisd starts)", hc.Name, p.KeyLabel, p.TokenLabel, p.Module, cert)
	case hc.Key != "":
		if s, err := envelope.LoadSigner(c.Path(hc.Key), c.Path(hc.Cert)); err != nil {
			fail("hub.key", fmt.Errorf("hub key: %w", err))
		} else {
			say("hub: %s (receipts signed with %s; certificate %s)", hc.Name, hc.Key, validity("hub.cert", "hub.cert", s.Leaf()))
		}
	default:
		warn("hub", "hub: no key (hub.key or hub.pkcs11): the hub signs no receipts")
		say("hub: %s (no key: receipts are not signed)", hc.Name)
	}
	say("listen: %s (not bound by --check-config)", c.Listen)
	dataDir := c.Path(c.DataDir)
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	say("data_dir: %s (the store is not opened by --check-config)", dataDir)
	if c.Store.Engine == EnginePostgres {
		if getenv(c.Store.DSNEnv) == "" {
			fail("store.dsn_env", fmt.Errorf("store.dsn_env: the environment variable %s is empty: it must hold the PostgreSQL DSN", c.Store.DSNEnv))
		}
		say("store: postgres, DSN in %s (not connected by --check-config); cluster node %s, lease_ttl %s", c.Store.DSNEnv, nodeName(c), c.Cluster.LeaseTTL.Duration)
	} else {
		say("store: bbolt, %s", filepath.Join(dataDir, "axis.db"))
	}
	if a := c.Archive; a.Dir != "" {
		say("archive: %s (daily archives; settle_after %s; hot_days %d, 0: documents stay in the hot store)", c.Path(a.Dir), a.SettleAfter.Duration, a.HotDays)
	}
	if a := c.Archive; a.TSAURL != "" {
		files := make([]string, len(a.TSARoots))
		for i, f := range a.TSARoots {
			files[i] = c.Path(f)
		}
		if _, err := tsa.LoadRoots(files); err != nil {
			fail("archive.tsa_roots", fmt.Errorf("archive.tsa_roots: %w", err))
		}
		say("anchors: every %s by %s (not asked by --check-config)", a.AnchorEvery.Duration, a.TSAURL)
	}
	say("memory: %s (limits.memory: the runtime's memory limit is %d%% of it, GOGC %d, unless GOMEMLIMIT/GOGC are set; %s for envelopes in flight)",
		c.Limits.Memory, runtimeShare, gcPercentWithBudget, c.Limits.Memory/2)

	// Trust.
	certs := 0
	for i, f := range c.Trust.Roots {
		b, err := os.ReadFile(c.Path(f))
		if err != nil {
			fail(key("trust.roots", i), fmt.Errorf("trust.roots: %w", err))
			continue
		}
		chain, err := envelope.ParseCertificatesPEM(b)
		if err != nil {
			fail(key("trust.roots", i), fmt.Errorf("trust.roots: %s: %w", c.Path(f), err))
			continue
		}
		certs += len(chain)
	}
	rv := c.Trust.Revocation
	for i, f := range rv.CRLFiles {
		b, err := os.ReadFile(c.Path(f))
		if err == nil {
			_, err = parseCRLFile(b)
		}
		if err != nil {
			warn(key("trust.revocation.crl_files", i), "trust.revocation.crl_files: %s: %v (axisd starts and warns; revocation answers from it are unknown)", c.Path(f), err)
		}
	}
	ocsp := "on"
	if rv.OCSP != nil && !*rv.OCSP {
		ocsp = "off"
	}
	say("trust: %d root file(s), %d certificate(s); sha1 %s, legacy signature namespace %s", len(c.Trust.Roots), certs, onOff(c.Trust.AllowSHA1), onOff(c.Trust.LegacySignatureNS))
	say("revocation: %s (%d CRL file(s), %d CRL URL(s), OCSP %s, hold_max %s)", rv.Mode, len(rv.CRLFiles), len(rv.CRLURLs), ocsp, rv.HoldMax)

	// Serving.
	if t := c.TLS; t != nil {
		state := "on"
		if kp, err := LoadKeyPair(c.Path(t.Cert), c.Path(t.Key)); err != nil {
			fail("tls.cert", fmt.Errorf("tls: %w", err))
		} else {
			state = "on (" + validity("tls.cert", "tls.cert", kp.Leaf) + ")"
		}
		if len(t.ClientCA) > 0 {
			files := make([]string, len(t.ClientCA))
			for i, f := range t.ClientCA {
				files[i] = c.Path(f)
			}
			if _, err := LoadCertPool(files); err != nil {
				fail("tls.client_ca", fmt.Errorf("tls.client_ca: %w", err))
			}
		}
		min := t.MinVersion
		if min == "" {
			min = "1.2"
		}
		say("tls: %s, min_version %s, client_ca %d file(s)", state, min, len(t.ClientCA))
	} else {
		say("tls: off (plain HTTP: behind a TLS-terminating proxy)")
	}

	// The directory.
	served := map[string]bool{} // agencies a VDXP system acts for
	for _, s := range c.VDXP.Systems {
		for _, o := range s.Agencies {
			served[o] = true
		}
	}
	known := map[string]bool{}
	for _, a := range c.Agencies {
		known[a.OrganID] = true
	}
	tokens, push, pins := 0, 0, 0
	for i, a := range c.Agencies {
		switch {
		case a.TokenSHA256 != "":
			tokens++
		case !served[a.OrganID]:
			fail(key("agencies", i), fmt.Errorf("agencies[%d] %s: no token_sha256 and no vdxp system acts for it: it can neither send nor fetch", i, a.OrganID))
		}
		if a.Parent != "" && !known[a.Parent] {
			warn(key("agencies", i, "parent"), "agencies[%d] %s: parent %s is not in this hub's directory", i, a.OrganID, a.Parent)
		}
		if a.PushURL != "" {
			push++
		}
		if len(a.CertSHA256) > 0 {
			pins++
		}
	}
	where := fmt.Sprintf("%d inline", c.src.inlineCount(len(c.Agencies)))
	if c.AgenciesFile != "" {
		where += fmt.Sprintf(", %d in %s", len(c.Agencies)-c.src.inlineCount(len(c.Agencies)), c.Path(c.AgenciesFile))
	}
	say("agencies: %d (%s); %d with a token, %d served over VDXP only, %d pushed to, %d with pinned certificates", len(c.Agencies), where, tokens, len(c.Agencies)-tokens, push, pins)

	var peers []string
	for i, p := range c.Peers {
		if p.TLS != nil {
			if _, err := newPeerHTTPClient(c, &c.Peers[i]); err != nil {
				fail(key("peers", i, "tls"), fmt.Errorf("peers[%d] %s: %w", i, p.Name, err))
			}
		}
		switch p.Kind {
		case PeerVDXP:
			if getenv(p.SecretEnv) == "" {
				fail(key("peers", i, "secret_env"), fmt.Errorf("peers[%d] %s: the secret variable %s (secret_env) is empty or not set", i, p.Name, p.SecretEnv))
			}
		case PeerAxis:
			switch {
			case p.TokenEnv != "" && getenv(p.TokenEnv) == "":
				fail(key("peers", i, "token_env"), fmt.Errorf("peers[%d] %s: the token variable %s (token_env) is empty or not set", i, p.Name, p.TokenEnv))
			case p.TokenEnv == "" && p.Token == "":
				warn(key("peers", i), "peers[%d] %s: no token or token_env: relays to it carry no bearer token", i, p.Name)
			}
		}
		if p.AdminURL != "" || p.Kind == PeerAxis {
			switch {
			case p.AdminTokenEnv == "":
				warn(key("peers", i), "peers[%d] %s: no admin_token_env: trace --follow does not follow documents into this peer", i, p.Name)
			case getenv(p.AdminTokenEnv) == "":
				warn(key("peers", i, "admin_token_env"), "peers[%d] %s: the admin token variable %s (admin_token_env) is empty or not set: trace --follow does not follow into this peer", i, p.Name, p.AdminTokenEnv)
			}
		}
		desc := fmt.Sprintf("%s (%s", p.Name, p.Kind)
		if p.URL != "" {
			desc += " " + p.URL
		}
		peers = append(peers, desc+", routes "+strings.Join(p.Routes, " ")+")")
	}
	if len(peers) == 0 {
		say("peers: 0")
	} else {
		say("peers: %d: %s", len(peers), strings.Join(peers, "; "))
	}

	admins, viewers := 0, 0
	for _, u := range c.Admin.Users {
		if u.Role == RoleViewer {
			viewers++
		} else {
			admins++
		}
	}
	if len(c.Admin.TokenSHA256)+len(c.Admin.Users) == 0 {
		warn("admin", "admin: no token_sha256 and no users: nobody can use the admin API or the console")
	}
	say("admin: %d unnamed token(s), %d named administrator(s), %d viewer(s); SLA fetch %s, ack %s, relay %s",
		len(c.Admin.TokenSHA256), admins, viewers, c.Admin.SLAFetch, c.Admin.SLAAck, c.Admin.SLARelay)

	var systems []string
	for i, s := range c.VDXP.Systems {
		if getenv(s.SecretEnv) == "" {
			warn(key("vdxp.systems", i, "secret_env"), "vdxp.systems[%d] %s: the secret variable %s is empty or not set: axisd starts with this system disabled", i, s.ID, s.SecretEnv)
		}
		var roles []string
		if len(s.Agencies) > 0 {
			roles = append(roles, fmt.Sprintf("%d agencies", len(s.Agencies)))
		}
		if s.Peer != "" {
			roles = append(roles, "peer "+s.Peer)
		}
		if s.Admin {
			roles = append(roles, "admin")
		}
		systems = append(systems, s.ID+" ("+strings.Join(roles, ", ")+")")
	}
	say("vdxp: %s, %d system(s)%s", c.VDXP.BasePath, len(systems), listAfter(systems))
	if c.Reconcile.At == "" {
		say("reconcile: no schedule (axisctl reconcile from cron or a timer)")
	} else {
		say("reconcile: every day at %s Asia/Ho_Chi_Minh, repair %s", c.Reconcile.At, onOff(c.Reconcile.Repair))
	}
	say("relay: concurrency %d, timeout %s, retry %s..%s, dead after %s", c.Relay.Concurrency, c.Relay.Timeout, c.Relay.RetryMin, c.Relay.RetryMax, c.Relay.DeadAfter)
	return r, errors.Join(errs...)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func listAfter(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return ": " + strings.Join(list, "; ")
}

// inlineCount is how many of n agencies were listed in the config itself.
func (s *configSource) inlineCount(n int) int {
	if s == nil {
		return n
	}
	return s.inline
}

// parseCRLFile parses a CRL file as the revocation checker reads one: PEM
// ("X509 CRL") or DER.
func parseCRLFile(b []byte) (*x509.RevocationList, error) {
	if blk, _ := pem.Decode(b); blk != nil && blk.Type == "X509 CRL" {
		b = blk.Bytes
	}
	return x509.ParseRevocationList(b)
}
