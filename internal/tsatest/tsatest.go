// Package tsatest is a real RFC 3161 time-stamping authority for tests:
// an HTTP server on 127.0.0.1 that answers each time-stamp query with
// Debian's `openssl ts -reply`, signed by a TSA key and certificate made
// fresh for the test, and verifiers that use `openssl ts -verify`, an
// implementation independent of the hub's.
package tsatest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/fixture"
)

// MaxQuery is the largest query body the TSA reads.
const MaxQuery = 64 << 10

// TSA is an RFC 3161 time-stamping authority for tests: an HTTP server on
// 127.0.0.1:0 whose handler answers each application/timestamp-query POST
// by running `openssl ts -reply` with a TSA key and certificate made for
// the test.
type TSA struct {
	URL     string         // http://127.0.0.1:PORT/ (POST a DER TimeStampReq, Content-Type application/timestamp-query; answer application/timestamp-reply)
	RootPEM string         // path of the TSA's root CA certificate (PEM), what a verifier trusts (archive.tsa_roots)
	CertPEM string         // path of the TSA's signing certificate (PEM), for `openssl ts -verify -untrusted`
	Roots   *x509.CertPool // RootPEM parsed
	Dir     string         // the temp dir with the config, keys, serial file

	openssl, config string
	srv             *httptest.Server

	mu      sync.Mutex // one `openssl ts -reply` at a time (the serial file)
	replies int        // replies written, names the query and reply files

	state   sync.Mutex
	down    bool
	granted int
}

// Start makes the PKI, starts the server, tb.Cleanup closes it. It skips
// without openssl (fails in CI).
func Start(tb testing.TB) *TSA {
	tb.Helper()
	t := &TSA{openssl: fixture.Tool(tb, "openssl", "openssl"), Dir: tb.TempDir()}
	if err := t.makePKI(); err != nil {
		tb.Fatalf("tsatest: %v", err)
	}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	t.URL = t.srv.URL + "/"
	tb.Cleanup(t.srv.Close)
	return t
}

// SetDown takes the TSA down (every request answers 503, as a TSA the hub
// cannot reach) or brings it back up.
func (t *TSA) SetDown(down bool) {
	t.state.Lock()
	defer t.state.Unlock()
	t.down = down
}

// Requests is how many requests the TSA answered with a token (status
// granted or grantedWithMods).
func (t *TSA) Requests() int {
	t.state.Lock()
	defer t.state.Unlock()
	return t.granted
}

// VerifyData has `openssl ts -verify` check the time-stamp in tsrPath
// against the file dataPath, trusting RootPEM only; ok is whether it said
// "Verification: OK", out what it said. tsrPath holds a TimeStampResp, what
// the server answers; a bare token (a CMS ContentInfo) is taken too.
func (t *TSA) VerifyData(tb testing.TB, tsrPath, dataPath string) (ok bool, out string) {
	tb.Helper()
	return t.verify(tb, tsrPath, "-data", dataPath)
}

// VerifyDigest is VerifyData for the SHA-256 (hex) of the data.
func (t *TSA) VerifyDigest(tb testing.TB, tsrPath string, sha256hex string) (ok bool, out string) {
	tb.Helper()
	return t.verify(tb, tsrPath, "-digest", sha256hex)
}

func (t *TSA) verify(tb testing.TB, tsrPath string, what ...string) (bool, string) {
	tb.Helper()
	b, err := os.ReadFile(tsrPath)
	if err != nil {
		tb.Fatalf("tsatest: %v", err)
	}
	args := append([]string{"ts", "-verify"}, what...)
	args = append(args, "-in", tsrPath, "-CAfile", t.RootPEM, "-untrusted", t.CertPEM)
	if isToken(b) {
		args = append(args, "-token_in")
	}
	o, err := exec.Command(t.openssl, args...).CombinedOutput()
	return err == nil && strings.Contains(string(o), "Verification: OK"), string(o)
}

// isToken tells a bare token (ContentInfo: SEQUENCE { OID, ... }) from a
// TimeStampResp (SEQUENCE { PKIStatusInfo SEQUENCE, ... }).
func isToken(der []byte) bool {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return false
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &first); err != nil {
		return false
	}
	return first.Class == asn1.ClassUniversal && first.Tag == asn1.TagOID
}

func (t *TSA) serve(w http.ResponseWriter, r *http.Request) {
	t.state.Lock()
	down := t.down
	t.state.Unlock()
	switch {
	case down:
		http.Error(w, "TSA down", http.StatusServiceUnavailable)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a time-stamp query", http.StatusMethodNotAllowed)
		return
	case r.Header.Get("Content-Type") != "application/timestamp-query":
		http.Error(w, "Content-Type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	query, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxQuery))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return
	}
	reply, err := t.reply(r, query)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if granted(reply) {
		t.state.Lock()
		t.granted++
		t.state.Unlock()
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(reply)
}

// reply runs `openssl ts -reply` on the query.
func (t *TSA) reply(r *http.Request, query []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.replies++
	q := filepath.Join(t.Dir, fmt.Sprintf("query-%d.tsq", t.replies))
	out := filepath.Join(t.Dir, fmt.Sprintf("reply-%d.tsr", t.replies))
	if err := os.WriteFile(q, query, 0o644); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(r.Context(), t.openssl, "ts", "-reply", "-config", t.config,
		"-queryfile", q, "-out", out)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl ts -reply: %v\n%s", err, stderr.Bytes())
	}
	return os.ReadFile(out)
}

// granted tells whether a TimeStampResp's status is granted (0) or
// grantedWithMods (1), i.e. it carries a token.
func granted(resp []byte) bool {
	var r, info asn1.RawValue
	if _, err := asn1.Unmarshal(resp, &r); err != nil {
		return false
	}
	token, err := asn1.Unmarshal(r.Bytes, &info)
	if err != nil {
		return false
	}
	var status int
	if _, err := asn1.Unmarshal(info.Bytes, &status); err != nil {
		return false
	}
	return (status == 0 || status == 1) && len(token) > 0
}

// makePKI writes the root, the TSA key and certificate, the chain, the
// serial file and the openssl config into t.Dir.
func (t *TSA) makePKI() error {
	from, until := time.Now().Add(-time.Hour), time.Now().AddDate(10, 0, 0)
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	root := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "axis test TSA root (TEST ONLY)"},
		NotBefore:             from,
		NotAfter:              until,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	if root, err = x509.ParseCertificate(rootDER); err != nil {
		return err
	}

	// RFC 3161 2.3: the one EKU, id-kp-timeStamping, critical.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "axis test TSA (TEST ONLY)"},
		NotBefore:             from,
		NotAfter:              until,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
		BasicConstraintsValid: true,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, &key.PublicKey, rootKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}

	t.RootPEM = filepath.Join(t.Dir, "root.pem")
	t.CertPEM = filepath.Join(t.Dir, "tsa.pem")
	keyPEM := filepath.Join(t.Dir, "tsa.key")
	// The signer's CA chain (the root): a token for a certReq query
	// carries the signer certificate and this; RFC 3161 has no
	// certificates in one without certReq, and openssl adds none.
	chainPEM := filepath.Join(t.Dir, "chain.pem")
	serialFile := filepath.Join(t.Dir, "serial")
	t.config = filepath.Join(t.Dir, "openssl.cnf")
	rootBlock := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	leafBlock := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	config := fmt.Sprintf(`[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
serial = %s
crypto_device = builtin
signer_cert = %s
certs = %s
signer_key = %s
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5, 1.2.3.4.6
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`, serialFile, t.CertPEM, chainPEM, keyPEM)
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{
		{t.RootPEM, rootBlock, 0o644},
		{t.CertPEM, leafBlock, 0o644},
		{chainPEM, rootBlock, 0o644},
		{keyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{serialFile, []byte("01\n"), 0o644},
		{t.config, []byte(config), 0o644},
	} {
		if err := os.WriteFile(f.path, f.b, f.mode); err != nil {
			return err
		}
	}
	t.Roots = x509.NewCertPool()
	t.Roots.AddCert(root)
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}
