package axis

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// TLS and mutual TLS: what the hub needs (axisd's listener is in
// cmd/axisd/tls.go).
//
//   - Serving: tls {cert, key, client_ca, min_version} makes axisd serve
//     HTTPS only. With client_ca the server asks for a client certificate
//     and verifies one if given (tls.VerifyClientCertIfGiven): a client
//     certificate is optional per caller.
//   - Client certificates per caller: an agency or peer with
//     client_cert_sha256 (SHA-256 of the leaf's DER, hex) must present
//     exactly that certificate besides its bearer token (authenticate,
//     http.go); otherwise 401 unauthorized, counted as a failed
//     authentication like a wrong token. Administrators' tokens and the
//     console are unaffected.
//   - Outbound: peers[].tls {ca, cert, key} is how this hub connects to a
//     peer: RootCAs (default: the system's) and the client certificate it
//     presents. Every call to a peer (relay, trace --follow, the
//     reconciliation's questions and restores, a vdxp peer) goes through
//     the one *http.Client per peer built by newPeerHTTPClient.
//
// Decisions:
//   - client_cert_sha256 without tls.client_ca is a config error: the
//     server would never ask for a client certificate, so that caller could
//     never authenticate (a hub behind a TLS-terminating proxy cannot see
//     client certificates at all).
//   - A pin is checked only on bearer-token surfaces (/api/v1, /admin/v1).
//     VDXP callers authenticate with their system's HMAC, a credential of
//     their own (vdxp.systems[].allow_from restricts them by address).
//   - The pin is of the leaf alone; the chain was verified by the TLS
//     handshake against client_ca, and the handshake proved the client
//     holds the key.
//   - peers[].tls with an http:// url is a config error (it would be
//     silently unused).
//   - Every call to a peer is bounded by relay.timeout (the reconciliation's
//     calls had no bound before; they share the peer's client now).
//   - SIGHUP re-reads the server's certificate and key (cmd/axisd) and
//     every peer's tls files (Hub.Reload): a peer whose files or
//     connection keys changed gets a new client and its loops restart; the
//     others keep theirs (and their open connections). client_ca and
//     min_version are read at start only.

// TLSMinVersion maps tls.min_version to its crypto/tls constant: "1.2"
// (also the default, "") or "1.3"; anything else is an error.
func TLSMinVersion(s string) (uint16, error) {
	switch s {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("min_version %q: want \"1.2\" or \"1.3\"", s)
}

// LoadCertPool reads PEM certificates (each file one or more) into a pool.
// A file without any certificate is an error.
func LoadCertPool(files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: no PEM certificate", f)
		}
	}
	return pool, nil
}

// LoadKeyPair reads a PEM certificate chain (leaf first) and its private
// key, with an error that names the files; Leaf is set.
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate %s, key %s: %w", certFile, keyFile, err)
	}
	if kp.Leaf == nil {
		if kp.Leaf, err = x509.ParseCertificate(kp.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", certFile, err)
		}
	}
	return &kp, nil
}

// CertSHA256 is a certificate's fingerprint as client_cert_sha256 says it:
// SHA-256 of its DER, lower-case hex.
func CertSHA256(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// checkTLS validates tls, client_cert_sha256 and peers[].tls (Config.check).
// Files are read at start (axisd, Hub.Open), not here.
func (c *Config) checkTLS() []error {
	var errs []error
	if t := c.TLS; t != nil {
		if t.Cert == "" || t.Key == "" {
			errs = append(errs, errAt("tls", errors.New("tls: cert and key are both required")))
		}
		if _, err := TLSMinVersion(t.MinVersion); err != nil {
			errs = append(errs, errAt("tls.min_version", fmt.Errorf("tls: %w", err)))
		}
	}
	pinned := false
	for i, a := range c.Agencies {
		if a.ClientCertSHA256 != "" {
			pinned = true
			if !isHex256(a.ClientCertSHA256) {
				errs = append(errs, errAt(key("agencies", i, "client_cert_sha256"), fmt.Errorf("agencies[%d] %s: client_cert_sha256 is not 64 hex digits", i, a.OrganID)))
			}
		}
	}
	for i, p := range c.Peers {
		if p.ClientCertSHA256 != "" {
			pinned = true
			if !isHex256(p.ClientCertSHA256) {
				errs = append(errs, errAt(key("peers", i, "client_cert_sha256"), fmt.Errorf("peers[%d] %s: client_cert_sha256 is not 64 hex digits", i, p.Name)))
			}
		}
		if t := p.TLS; t != nil {
			if (t.Cert == "") != (t.Key == "") {
				errs = append(errs, errAt(key("peers", i, "tls"), fmt.Errorf("peers[%d] %s: tls: cert and key go together", i, p.Name)))
			}
			if !strings.HasPrefix(p.URL, "https://") && (p.AdminURL == "" || !strings.HasPrefix(p.AdminURL, "https://")) {
				errs = append(errs, errAt(key("peers", i, "tls"), fmt.Errorf("peers[%d] %s: tls needs an https url", i, p.Name)))
			}
		}
	}
	if pinned && (c.TLS == nil || len(c.TLS.ClientCA) == 0) {
		errs = append(errs, errAt("tls", errors.New("client_cert_sha256 needs tls.client_ca: without it the hub asks for no client certificate")))
	}
	return errs
}

// clientCertPin is the client certificate fingerprint a caller must
// present, "" for none (administrators never have one).
func (d *Directory) clientCertPin(c Caller) string {
	switch {
	case c.Admin:
		return ""
	case c.Peer != "":
		if p, ok := d.Peer(c.Peer); ok {
			return p.ClientCertSHA256
		}
	case c.Agency != "":
		if a, ok := d.Agency(c.Agency); ok {
			return a.ClientCertSHA256
		}
	}
	return ""
}

// clientCertMatches reports whether r came over TLS with pin (hex SHA-256)
// as its client certificate.
func clientCertMatches(r *http.Request, pin string) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	got := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	want, err := hex.DecodeString(pin)
	return err == nil && subtle.ConstantTimeCompare(got[:], want) == 1
}

// ClientCertRefusal is why a caller's request is refused for its client
// certificate, "" when it passes (no pin, or the pinned certificate).
func (h *Hub) ClientCertRefusal(r *http.Request, c Caller) string {
	pin := h.dir.clientCertPin(c)
	switch {
	case pin == "" || clientCertMatches(r, pin):
		return ""
	case r.TLS == nil:
		return "client certificate required (pinned) but the request did not come over TLS"
	case len(r.TLS.PeerCertificates) == 0:
		return "client certificate required (pinned) but none was presented"
	}
	return "client certificate is not the one pinned to this token"
}

// peerHTTP is the one *http.Client per peer, by name (Hub.Open; a reload
// puts a new map, keeping the clients of peers whose connection settings
// did not change).
type peerHTTP map[string]*http.Client

// loadPeerHTTP builds every peer's client; a peer's TLS file that does not
// load stops the hub with an error naming it.
func (h *Hub) loadPeerHTTP() error {
	m, err := buildPeerHTTP(h.cfg, h.dir.Peers(), nil, nil)
	if err != nil {
		return err
	}
	h.peerHTTP.Store(&m)
	return nil
}

// buildPeerHTTP makes the client of each of peers, reusing old's for a
// peer keep says is unchanged.
func buildPeerHTTP(cfg *Config, peers []*Peer, old peerHTTP, keep func(*Peer) bool) (peerHTTP, error) {
	m := peerHTTP{}
	for _, p := range peers {
		if c := old[p.Name]; c != nil && keep(p) {
			m[p.Name] = c
			continue
		}
		c, err := newPeerHTTPClient(cfg, p)
		if err != nil {
			return nil, errAt(key("peers", peerIndex(cfg, p.Name), "tls"), fmt.Errorf("axis: peer %s: %w", p.Name, err))
		}
		m[p.Name] = c
	}
	return m, nil
}

// peerIndex is the index of peer name in cfg.Peers (for a key path).
func peerIndex(cfg *Config, name string) int {
	for i, p := range cfg.Peers {
		if p.Name == name {
			return i
		}
	}
	return 0
}

// peerHTTPClient is the client for every call to peer p. A hub used without
// Open builds one now; when p's TLS files do not load, its calls fail with
// that error (never a client without p's TLS settings).
func (h *Hub) peerHTTPClient(p *Peer) *http.Client {
	if m := h.peerHTTP.Load(); m != nil {
		if c := (*m)[p.Name]; c != nil {
			return c
		}
	}
	c, err := newPeerHTTPClient(h.cfg, p)
	if err != nil {
		return &http.Client{Transport: failingTransport{err}}
	}
	return c
}

type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, t.err }

// newPeerHTTPClient builds the client for calls to peer p: a connection
// per relay sender kept (the default transport keeps two idle connections
// per host and would reconnect for most sends), relay.timeout per call,
// and peers[].tls's roots and client certificate.
func newPeerHTTPClient(cfg *Config, p *Peer) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(cfg.Relay.Concurrency, 2)
	if t := p.TLS; t != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if len(t.CA) > 0 {
			files := make([]string, len(t.CA))
			for i, f := range t.CA {
				files[i] = cfg.Path(f)
			}
			pool, err := LoadCertPool(files)
			if err != nil {
				return nil, fmt.Errorf("tls.ca: %w", err)
			}
			tc.RootCAs = pool
		}
		if t.Cert != "" {
			kp, err := LoadKeyPair(cfg.Path(t.Cert), cfg.Path(t.Key))
			if err != nil {
				return nil, fmt.Errorf("tls: %w", err)
			}
			tc.Certificates = []tls.Certificate{*kp}
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Timeout: cfg.Relay.Timeout.Duration, Transport: tr}, nil
}
