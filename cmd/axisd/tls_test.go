package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// testPKI is a throwaway CA in t.TempDir() for TLS tests: server
// certificates for 127.0.0.1 (and localhost) and client certificates,
// valid around the real clock (TLS checks time.Now, not the hubs' pinned
// demo clock).
type testPKI struct {
	dir    string
	ca     *demopki.Cert
	caFile string
	pool   *x509.CertPool

	mu     sync.Mutex
	server *issued // the network's hubs share one: 127.0.0.1 names them all
}

// issued is one certificate on disk.
type issued struct {
	cert              *demopki.Cert
	certFile, keyFile string // chain PEM (leaf, CA) and key PEM
	sha256            string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	ca, err := demopki.Issue(nil, demopki.Spec{CommonName: "TEST axis TLS CA", CA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Write(dir, "ca"); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &testPKI{dir: dir, ca: ca, caFile: filepath.Join(dir, "ca.crt"), pool: pool}
}

// issue makes a server (ServerAuth, 127.0.0.1) or client (ClientAuth)
// certificate from the test CA.
func (p *testPKI) issue(t testing.TB, name string, server bool) *issued {
	t.Helper()
	return issueFrom(t, p.ca, p.dir, name, server)
}

func issueFrom(t testing.TB, ca *demopki.Cert, dir, name string, server bool) *issued {
	t.Helper()
	now := time.Now()
	s := demopki.Spec{CommonName: name, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		s.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		s.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
		s.DNSNames = []string{"localhost"}
	}
	c, err := demopki.Issue(ca, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(dir, name, ca); err != nil {
		t.Fatal(err)
	}
	return &issued{cert: c, certFile: filepath.Join(dir, name+".chain.pem"), keyFile: filepath.Join(dir, name+".key"), sha256: axis.CertSHA256(c.Cert)}
}

func (c *issued) keyPair(t testing.TB) tls.Certificate {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// client is an HTTPS client trusting only the test CA, presenting cert
// when given; its own keep-alive connections.
func (p *testPKI) client(t testing.TB, cert *issued) *http.Client {
	t.Helper()
	tc := &tls.Config{RootCAs: p.pool}
	if cert != nil {
		tc.Certificates = []tls.Certificate{cert.keyPair(t)}
	}
	tr := &http.Transport{TLSClientConfig: tc}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// serve puts a hub on TLS with the server certificate, asking for client
// certificates from the test CA.
func (p *testPKI) serve(c *axis.Config, server *issued) {
	c.TLS = &axis.TLSConfig{Cert: server.certFile, Key: server.keyFile, ClientCA: []string{p.caFile}}
}

// scheme is the network's: https:// with a pki, http:// without.
func (p *testPKI) scheme() string {
	if p == nil {
		return "http://"
	}
	return "https://"
}

// onNetwork puts one hub of a network on TLS (the shared server
// certificate), trusts the test CA for its peers, and lets the test
// helpers (call, callURL) reach base.
func (p *testPKI) onNetwork(t *testing.T, c *axis.Config, base string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.server == nil {
		p.server = p.issue(t, "hub", true)
	}
	p.mu.Unlock()
	p.serve(c, p.server)
	for i := range c.Peers {
		c.Peers[i].TLS = &axis.PeerTLS{CA: []string{p.caFile}}
	}
	registerClient(t, base, p.client(t, nil))
}

// tlsClients are the clients callURL uses for TLS hubs, by base URL.
var tlsClients sync.Map

func registerClient(t testing.TB, base string, c *http.Client) {
	tlsClients.Store(base, c)
	t.Cleanup(func() { tlsClients.Delete(base) })
}

// clientFor is the client callURL uses for base.
func clientFor(base string) *http.Client {
	if c, ok := tlsClients.Load(base); ok {
		return c.(*http.Client)
	}
	return http.DefaultClient
}

// hostPort is a base URL's host:port.
func hostPort(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// got is one HTTPS answer and the connection it came on.
type got struct {
	response
	leaf   string // the server certificate's SHA-256
	reused bool   // on a kept-alive connection
	local  string // the connection's local address
}

func get(t testing.TB, hc *http.Client, u, token string) got {
	t.Helper()
	g, err := tryGet(hc, u, token)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func tryGet(hc *http.Client, u, token string) (got, error) {
	var g got
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		g.reused, g.local = i.Reused, i.Conn.LocalAddr().String()
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", u, nil)
	if err != nil {
		return g, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if g.response, err = roundTrip(hc, req); err != nil {
		return g, err
	}
	if g.tls != nil && len(g.tls.PeerCertificates) > 0 {
		g.leaf = axis.CertSHA256(g.tls.PeerCertificates[0])
	}
	return g, nil
}

// authRefused is the hub's count of refused authentications on /api/v1.
func authRefused(t testing.TB, hc *http.Client, base string) string {
	t.Helper()
	g := get(t, hc, base+"/metrics", "")
	m := regexp.MustCompile(`(?m)^axis_auth_failures_total\{result="refused",surface="api"\} (\S+)$`).FindStringSubmatch(string(g.body))
	if m == nil {
		t.Fatalf("no api refusal counter in /metrics")
	}
	return m[1]
}

// TestTLSServesConfiguredCertificate: with tls, axisd serves HTTPS with the
// configured certificate (a client trusting only the test CA gets 200 and
// sees that leaf), a client not trusting the CA is refused, and plain HTTP
// to the same port is answered 400 by Go's server, not served.
func TestTLSServesConfiguredCertificate(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue(t, "hub", true)
	m := start(t, func(c *axis.Config) { pki.serve(c, srv) })
	if !strings.HasPrefix(m.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s: want https://", m.URL())
	}
	g := get(t, pki.client(t, nil), m.URL()+"/healthz", "")
	if g.status != http.StatusOK || string(g.body) != "ok\n" || g.leaf != srv.sha256 {
		t.Fatalf("healthz over TLS: %d %q, leaf %s (want %s)", g.status, g.body, g.leaf, srv.sha256)
	}
	if g.tls.Version != tls.VersionTLS13 {
		t.Errorf("negotiated %s: want TLS 1.3 (the best both sides have)", tls.VersionName(g.tls.Version))
	}
	// A client offering HTTP/2 gets HTTP/1.1 (the transport guards are HTTP/1.1's).
	conn, err := tls.Dial("tcp", hostPort(m.URL()), &tls.Config{RootCAs: pki.pool, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Errorf("ALPN: %q, want http/1.1", p)
	}
	conn.Close()

	// The system roots do not know the test CA.
	_, err = tryGet(&http.Client{Timeout: 10 * time.Second}, m.URL()+"/healthz", "")
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Errorf("a client without the test CA: %v, want an unknown authority error", err)
	}

	// Plain HTTP on the TLS port: Go's server answers 400 and closes.
	plain, err := tryGet(&http.Client{Timeout: 10 * time.Second}, "http://"+hostPort(m.URL())+"/healthz", "")
	if err != nil {
		t.Fatal(err)
	}
	if plain.status != http.StatusBadRequest || !strings.Contains(string(plain.body), "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP to the TLS port: %d %q, want 400 from Go's TLS server", plain.status, plain.body)
	}
}

// TestTLSMinVersion: min_version "1.2" (the default) admits a TLS 1.2
// client; "1.3" refuses it at the handshake and admits TLS 1.3.
func TestTLSMinVersion(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue(t, "hub", true)
	tls12 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, MaxVersion: tls.VersionTLS12}}}

	m12 := start(t, func(c *axis.Config) { pki.serve(c, srv) })
	if g := get(t, tls12, m12.URL()+"/healthz", ""); g.status != 200 || g.tls.Version != tls.VersionTLS12 {
		t.Errorf("default min_version, TLS 1.2 client: %d %s", g.status, tls.VersionName(g.tls.Version))
	}

	m13 := start(t, func(c *axis.Config) { pki.serve(c, srv); c.TLS.MinVersion = "1.3" })
	if _, err := tryGet(tls12, m13.URL()+"/healthz", ""); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("min_version 1.3, TLS 1.2 client: %v, want a protocol version alert", err)
	}
	if g := get(t, pki.client(t, nil), m13.URL()+"/healthz", ""); g.status != 200 || g.tls.Version != tls.VersionTLS13 {
		t.Errorf("min_version 1.3, TLS 1.3 client: %d %s", g.status, tls.VersionName(g.tls.Version))
	}
}

// writeConfig writes a minimal hub config into dir (the demo hub key and
// roots, no agencies) with extra appended; relative paths in extra are
// relative to dir.
func writeConfig(t testing.TB, dir, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "axisd.yaml")
	y := fmt.Sprintf("hub: {name: axis-tls-test, key: %q, cert: %q}\ntrust: {roots: [%q]}\n",
		filepath.Join(fixture.PKIDir, "demo-hub-h40.key"), filepath.Join(fixture.PKIDir, "demo-hub-h40.chain.pem"), fixture.RootCA) + extra
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTLSConfigChecks: min_version other than 1.2/1.3, a bad
// client_cert_sha256, a pin without tls.client_ca and peers[].tls on an
// http url are config errors; files that do not load stop the start with
// an error naming them.
func TestTLSConfigChecks(t *testing.T) {
	const pin = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct{ extra, want string }{
		{"tls: {cert: a.pem, key: a.key, min_version: \"1.1\"}\n", `tls: min_version "1.1": want "1.2" or "1.3"`},
		{"tls: {cert: a.pem}\n", "tls: cert and key are both required"},
		{"tls: {cert: a.pem, key: a.key, client_ca: [ca.pem]}\nagencies:\n  - {organ_id: 000.00.11.H40, name: x, client_cert_sha256: abc}\n", "client_cert_sha256 is not 64 hex digits"},
		{"tls: {cert: a.pem, key: a.key}\nagencies:\n  - {organ_id: 000.00.11.H40, name: x, client_cert_sha256: " + pin + "}\n", "client_cert_sha256 needs tls.client_ca"},
		{"peers:\n  - {name: national, url: \"http://127.0.0.1:1\", kind: axis, routes: [\"*\"], tls: {ca: [ca.pem]}}\n", "tls needs an https url"},
		{"peers:\n  - {name: national, url: \"https://127.0.0.1:1\", kind: axis, routes: [\"*\"], tls: {cert: c.pem}}\n", "cert and key go together"},
	} {
		_, err := axis.LoadConfig(writeConfig(t, t.TempDir(), c.extra))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.extra, err, c.want)
		}
	}
	// The same shapes, right, load.
	if _, err := axis.LoadConfig(writeConfig(t, t.TempDir(), "tls: {cert: a.pem, key: a.key, client_ca: [ca.pem], min_version: \"1.3\"}\nagencies:\n  - {organ_id: 000.00.11.H40, name: x, client_cert_sha256: "+pin+"}\n")); err != nil {
		t.Errorf("a good tls config: %v", err)
	}

	// At start: every file is read, a bad one is named.
	pki := newTestPKI(t)
	srv, other := pki.issue(t, "hub", true), pki.issue(t, "other", true)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, c := range []struct {
		name      string
		configure func(*axis.Config)
		want      string
	}{
		{"missing cert", func(c *axis.Config) { pki.serve(c, srv); c.TLS.Cert = missing }, "tls: certificate " + missing},
		{"key of another certificate", func(c *axis.Config) { pki.serve(c, srv); c.TLS.Key = other.keyFile }, "private key does not match public key"},
		{"client_ca not PEM", func(c *axis.Config) { pki.serve(c, srv); c.TLS.ClientCA = []string{srv.keyFile} }, "tls.client_ca: " + srv.keyFile + ": no PEM certificate"},
		{"peer ca missing", func(c *axis.Config) {
			c.Peers = []axis.Peer{{Name: "national", URL: "https://127.0.0.1:1", Kind: "axis", Routes: []string{"*"}, TLS: &axis.PeerTLS{CA: []string{missing}}}}
		}, "axis: peer national: tls.ca: open " + missing},
	} {
		m := demoMain(t)
		c.configure(m.Config)
		if err := runFails(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestTLSReloadKeepsCertificateOnFailure: ReloadTLS (what SIGHUP calls)
// with a key that does not match keeps serving the previous certificate;
// with a good new pair, the next handshake presents it.
func TestTLSReloadKeepsCertificateOnFailure(t *testing.T) {
	pki := newTestPKI(t)
	first, second, third := pki.issue(t, "first", true), pki.issue(t, "second", true), pki.issue(t, "third", true)
	dir := t.TempDir()
	live := &issued{certFile: filepath.Join(dir, "tls.pem"), keyFile: filepath.Join(dir, "tls.key")}
	install(t, first, live)
	m := start(t, func(c *axis.Config) { pki.serve(c, live) })
	fresh := func() string {
		hc := pki.client(t, nil)
		defer hc.CloseIdleConnections()
		return get(t, hc, m.URL()+"/healthz", "").leaf
	}
	if got := fresh(); got != first.sha256 {
		t.Fatalf("first: %s", got)
	}
	copyFile(t, second.certFile, live.certFile) // the new certificate with the old key
	if err := m.ReloadTLS(); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("reload with a mismatched key: %v", err)
	}
	if got := fresh(); got != first.sha256 {
		t.Fatalf("after a failed reload: %s, want the previous certificate", got)
	}
	install(t, third, live)
	if err := m.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := fresh(); got != third.sha256 {
		t.Fatalf("after a good reload: %s, want the new certificate", got)
	}
}

// TestTLSSighupRotation: axisd as its own process, serving the
// certificate files of its config; the files are replaced with a new pair
// and the process gets SIGHUP: the next handshake presents the new
// certificate, and a keep-alive connection opened before keeps working
// (same connection, the certificate it was made with).
func TestTLSSighupRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildAxisd(t)
	pki := newTestPKI(t)
	first, second := pki.issue(t, "first", true), pki.issue(t, "second", true)
	dir := t.TempDir()
	live := &issued{certFile: filepath.Join(dir, "tls.pem"), keyFile: filepath.Join(dir, "tls.key")}
	install(t, first, live)
	cfg := writeConfig(t, dir, "tls: {cert: tls.pem, key: tls.key}\n") // relative to the config file
	cmd, base := startProcessWith(t, bin, cfg, t.TempDir())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base = "https://" + hostPort(base)

	keep := pki.client(t, nil)
	before := get(t, keep, base+"/healthz", "")
	if before.status != 200 || before.leaf != first.sha256 {
		t.Fatalf("before: %d %s", before.status, before.leaf)
	}

	install(t, second, live)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "a new connection presents the new certificate", func() bool {
		hc := pki.client(t, nil)
		defer hc.CloseIdleConnections()
		g, err := tryGet(hc, base+"/healthz", "")
		return err == nil && g.status == 200 && g.leaf == second.sha256
	})

	after := get(t, keep, base+"/healthz", "")
	if after.status != 200 || !after.reused || after.local != before.local || after.leaf != first.sha256 {
		t.Fatalf("the kept-alive connection after the reload: %d reused=%v local %s (before %s) leaf %s",
			after.status, after.reused, after.local, before.local, after.leaf)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("axisd is gone after SIGHUP: %v", err)
	}
}

// install writes c's certificate and key over dst's files, each by rename.
func install(t testing.TB, c, dst *issued) {
	t.Helper()
	copyFile(t, c.certFile, dst.certFile)
	copyFile(t, c.keyFile, dst.keyFile)
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// TestTLSAgencyClientCertificate: an agency with client_cert_sha256 is
// served only with its token AND that certificate: without a certificate,
// or with another one from the same CA, 401 unauthorized, counted as
// failed authentications; a certificate from a CA not in client_ca fails
// the handshake. Agencies without a pin, and administrators, need none.
func TestTLSAgencyClientCertificate(t *testing.T) {
	pki := newTestPKI(t)
	srv, dept, other := pki.issue(t, "hub", true), pki.issue(t, "dept", false), pki.issue(t, "other", false)
	m := start(t, func(c *axis.Config) {
		pki.serve(c, srv)
		for i := range c.Agencies {
			if c.Agencies[i].OrganID == testgen.Department {
				c.Agencies[i].ClientCertSHA256 = dept.sha256
			}
		}
	})
	inboxURL := m.URL() + "/api/v1/inbox"
	noCert := pki.client(t, nil)

	if g := get(t, pki.client(t, dept), inboxURL, tok(testgen.Department)); g.status != 200 || !strings.Contains(string(g.body), `"items":[]`) {
		t.Fatalf("token and the pinned certificate: %d %s", g.status, g.body)
	}
	if g := get(t, noCert, inboxURL, tok(testgen.Department)); g.status != 401 || g.code(t) != "unauthorized" {
		t.Errorf("token without a certificate: %d %s", g.status, g.body)
	}
	if g := get(t, pki.client(t, other), inboxURL, tok(testgen.Department)); g.status != 401 || g.code(t) != "unauthorized" {
		t.Errorf("token with another certificate: %d %s", g.status, g.body)
	}
	if n := authRefused(t, noCert, m.URL()); n != "2" {
		t.Errorf("api refusals counted: %s, want 2", n)
	}

	// A certificate from a CA the hub does not list: the handshake fails.
	// Under TLS 1.3 the server checks the client's certificate after the
	// client has finished its side, so the client sees the server's alert
	// or, when the server's close wins the race, a reset: both refusals.
	rogue := newTestPKI(t)
	foreign := issueFrom(t, rogue.ca, rogue.dir, "foreign", false)
	if _, err := tryGet(pki.client(t, foreign), inboxURL, tok(testgen.Department)); err == nil ||
		!(strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "connection reset by peer")) {
		t.Errorf("a certificate from an unknown CA: %v, want a TLS alert or the connection reset", err)
	}

	// Others are unaffected: a commune without a pin, an administrator.
	if g := get(t, noCert, inboxURL, tok(testgen.Commune)); g.status != 200 {
		t.Errorf("an agency without a pin, no certificate: %d %s", g.status, g.body)
	}
	if g := get(t, noCert, m.URL()+"/admin/v1/stuck", testgen.DemoAdminToken); g.status != 200 {
		t.Errorf("an administrator, no certificate: %d %s", g.status, g.body)
	}
}

// TestTLSPeerMutualTLSPinned: H40 relays to the national hub over mutual
// TLS (peers[].tls with a client certificate at H40; the national hub pins
// that certificate to H40's peer entry): a document from an H40 commune to
// a central body arrives, byte for byte, and H40 shows it relayed. The same
// peer token without that certificate, or with another, is refused 401.
func TestTLSPeerMutualTLSPinned(t *testing.T) {
	pki := newTestPKI(t)
	h40, other := pki.issue(t, "axis-h40-client", false), pki.issue(t, "other-client", false)
	n := startNetworkWith(t, pki, func(cfg string, c *axis.Config) {
		for i := range c.Peers {
			p := &c.Peers[i]
			switch {
			case cfg == cfgH40 && p.Name == "national":
				p.TLS.Cert, p.TLS.Key = h40.certFile, h40.keyFile
			case cfg == cfgNational && p.Name == "nam-dinh":
				p.ClientCertSHA256 = h40.sha256
			}
		}
	})
	doc := testgen.NewDocument()
	doc.To = []envelope.Organization{{OrganID: vpcp, OrganName: "Văn phòng Chính phủ"}}
	raw := fixture.Sign(t, doc)
	rc := intake(t, n.h40, testgen.Commune, raw)
	eventually(t, 20*time.Second, "the central body receives the document", func() bool {
		p := inbox(t, n.national, vpcp)
		return len(p.Items) == 1 && p.Items[0].DocID == rc.DocID
	})
	if g := call(t, n.national, "GET", "/api/v1/envelopes/"+rc.DocID, tok(vpcp), nil); string(g.body) != string(raw) {
		t.Fatal("the central body got other bytes")
	}
	// The fetch came back as a delivery report, over mutual TLS too.
	waitRecipients(t, n.h40, testgen.Commune, rc.DocID, 1, "H40 shows it delivered at the national hub", func(r api.RecipientStatus) bool {
		return r.State == "delivered" && r.AtHub == "axis-national" && r.Route == "national"
	})

	// H40's peer token straight at the national hub.
	const peerToken = "demo-peer-token-nam-dinh"
	post := func(hc *http.Client) response {
		return send(t, hc, newRequest(t, "POST", n.national.URL()+"/api/v1/envelopes", peerToken, raw, http.Header{api.RecipientsHeader: {vpcp}}))
	}
	if r := post(pki.client(t, nil)); r.status != 401 || r.code(t) != "unauthorized" {
		t.Errorf("peer token without the client certificate: %d %s", r.status, r.body)
	}
	if r := post(pki.client(t, other)); r.status != 401 || r.code(t) != "unauthorized" {
		t.Errorf("peer token with another client certificate: %d %s", r.status, r.body)
	}
	if r := post(pki.client(t, h40)); r.status != 200 || !strings.Contains(string(r.body), rc.DocID) {
		t.Errorf("peer token with its certificate (the same bytes again): %d %s", r.status, r.body)
	}
	if got := authRefused(t, pki.client(t, nil), n.national.URL()); got != "2" {
		t.Errorf("national api refusals: %s, want 2 (the relay itself never refused)", got)
	}
}

// TestTLSConsoleSecureCookies: the console's cookies are Secure over TLS,
// and over plain HTTP with admin.secure_cookies (behind a TLS proxy);
// otherwise not.
func TestTLSConsoleSecureCookies(t *testing.T) {
	pki := newTestPKI(t)
	srv := pki.issue(t, "hub", true)
	secure := func(hc *http.Client, base string) bool {
		t.Helper()
		resp, err := hc.Get(base + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "axis_login" {
				return c.Secure
			}
		}
		t.Fatalf("%s: no axis_login cookie (%d)", base, resp.StatusCode)
		return false
	}
	if m := start(t, func(c *axis.Config) { pki.serve(c, srv) }); !secure(pki.client(t, nil), m.URL()) {
		t.Error("over TLS: not Secure")
	}
	if m := start(t, func(c *axis.Config) { c.Admin.SecureCookies = true }); !secure(http.DefaultClient, m.URL()) {
		t.Error("plain HTTP with admin.secure_cookies: not Secure")
	}
	if m := start(t); secure(http.DefaultClient, m.URL()) {
		t.Error("plain HTTP without admin.secure_cookies: Secure")
	}
}
