// Package testca is a certificate authority for revocation tests: a root,
// an issuing CA whose certificate names the root's CRL, and agency
// certificates that name the issuing CA's OCSP responder and CRL, all on
// 127.0.0.1. The CRLs are served over HTTP by the test process and the
// OCSP responder is Debian's `openssl ocsp`, a real, independent one. Keys
// are made fresh in the test's temp dir.
package testca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
)

// CA is the test PKI and its two revocation services.
type CA struct {
	Dir                      string
	Root, Issuing, Responder *demopki.Cert
	OCSPURL, RootCRL, CACRL  string
	crlPort, ocspPort        int
	mu                       sync.Mutex
	revoked                  map[string]time.Time // issuing CA's revoked leaves: serial (hex) → when
	index                    []string             // openssl ca index lines
	number                   int64
	srv                      *http.Server
	ocsp                     *exec.Cmd
	ocspLog                  *os.File
	leaves                   int
}

// freePort finds a port on 127.0.0.1 nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// New makes the PKI (no service runs until Start). It needs openssl.
func New(t testing.TB) *CA {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required in CI")
		}
		t.Skip("needs openssl (the OCSP responder)")
	}
	ca := &CA{Dir: t.TempDir(), revoked: map[string]time.Time{}, crlPort: freePort(t), ocspPort: freePort(t)}
	base := fmt.Sprintf("http://127.0.0.1:%d", ca.crlPort)
	ca.RootCRL, ca.CACRL = base+"/root.crl", base+"/issuing.crl"
	ca.OCSPURL = fmt.Sprintf("http://127.0.0.1:%d", ca.ocspPort)
	var err error
	from, until := time.Now().Add(-24*time.Hour), time.Now().AddDate(5, 0, 0)
	if ca.Root, err = demopki.Issue(nil, demopki.Spec{CommonName: "TEST revocation Root CA", CA: true, NotBefore: from, NotAfter: until}); err != nil {
		t.Fatal(err)
	}
	if ca.Issuing, err = demopki.Issue(ca.Root, demopki.Spec{CommonName: "TEST revocation Issuing CA", CA: true, NotBefore: from, NotAfter: until,
		CRLDistributionPoints: []string{ca.RootCRL}}); err != nil {
		t.Fatal(err)
	}
	if ca.Responder, err = demopki.Issue(ca.Issuing, demopki.Spec{CommonName: "TEST OCSP responder", NotBefore: from, NotAfter: until,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*demopki.Cert{"root": ca.Root, "issuing": ca.Issuing, "responder": ca.Responder} {
		if err := c.Write(ca.Dir, name); err != nil {
			t.Fatal(err)
		}
	}
	return ca
}

// RootFile is the root certificate's PEM file (trust.roots).
func (ca *CA) RootFile() string { return filepath.Join(ca.Dir, "root.crt") }

// IssuingFile is the issuing CA's certificate.
func (ca *CA) IssuingFile() string { return filepath.Join(ca.Dir, "issuing.crt") }

// ResponderFile is the OCSP responder's certificate.
func (ca *CA) ResponderFile() string { return filepath.Join(ca.Dir, "responder.crt") }

// Leaf issues an agency certificate bound to organ by OU; revoked ones are
// on the issuing CA's CRL and answered revoked by the responder. Issue
// every leaf before Start (the responder reads its index then).
func (ca *CA) Leaf(t testing.TB, organ string, revoked bool) (*demopki.Cert, *envelope.Signer) {
	t.Helper()
	ca.mu.Lock()
	ca.leaves++
	name := fmt.Sprintf("leaf-%d", ca.leaves)
	ca.mu.Unlock()
	c, err := demopki.Issue(ca.Issuing, demopki.Spec{CommonName: "TEST " + organ + " " + name, OU: organ,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(2, 0, 0),
		OCSPServer: []string{ca.OCSPURL}, CRLDistributionPoints: []string{ca.CACRL}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ca.Dir, name, ca.Issuing); err != nil {
		t.Fatal(err)
	}
	serial := strings.ToUpper(hex.EncodeToString(c.Cert.SerialNumber.Bytes()))
	exp := c.Cert.NotAfter.UTC().Format("060102150405Z")
	ca.mu.Lock()
	if revoked {
		at := time.Now().Add(-time.Minute).UTC()
		ca.revoked[serial] = at
		ca.index = append(ca.index, fmt.Sprintf("R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=%s", exp, at.Format("060102150405Z"), serial, name))
	} else {
		ca.index = append(ca.index, fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=%s", exp, serial, name))
	}
	ca.mu.Unlock()
	s, err := envelope.LoadSigner(filepath.Join(ca.Dir, name+".key"), filepath.Join(ca.Dir, name+".chain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// crl makes a fresh CRL of the root (about the issuing CA) or of the
// issuing CA (about the leaves).
func (ca *CA) crl(ofRoot bool) ([]byte, error) {
	ca.mu.Lock()
	ca.number++
	n := ca.number
	var entries []x509.RevocationListEntry
	if !ofRoot {
		for s, at := range ca.revoked {
			b, _ := hex.DecodeString(s)
			entries = append(entries, x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(b), RevocationTime: at, ReasonCode: 1})
		}
	}
	ca.mu.Unlock()
	issuer := ca.Issuing
	if ofRoot {
		issuer = ca.Root
	}
	now := time.Now()
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(n), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: entries, Issuer: pkix.Name{},
	}, issuer.Cert, issuer.Key)
}

// Start serves the CRLs and runs the OCSP responder, on the ports the
// certificates name, until Stop (or the test's end).
func (ca *CA) Start(t testing.TB) {
	t.Helper()
	ca.mu.Lock()
	index := strings.Join(ca.index, "\n") + "\n"
	ca.mu.Unlock()
	indexFile := filepath.Join(ca.Dir, "index.txt")
	if err := os.WriteFile(indexFile, []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(indexFile+".attr", []byte("unique_subject = no\n"), 0o644)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ca.crlPort))
	if err != nil {
		t.Fatalf("CRL server: %v", err)
	}
	mux := http.NewServeMux()
	for path, ofRoot := range map[string]bool{"/root.crl": true, "/issuing.crl": false} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			der, err := ca.crl(ofRoot)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", "application/pkix-crl")
			w.Write(der)
		})
	}
	ca.srv = &http.Server{Handler: mux}
	go ca.srv.Serve(ln)

	logf, err := os.Create(filepath.Join(ca.Dir, fmt.Sprintf("ocsp-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	ca.ocspLog = logf
	cmd := exec.Command("openssl", "ocsp", "-index", indexFile, "-port", fmt.Sprint(ca.ocspPort),
		"-rsigner", ca.ResponderFile(), "-rkey", filepath.Join(ca.Dir, "responder.key"), "-CA", ca.IssuingFile(),
		"-nmin", "60", "-ignore_err")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ca.ocsp = cmd
	t.Cleanup(ca.Stop)
	// Wait until the responder listens (its log says so). A probe
	// connection would hold the one-request-at-a-time responder.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logf.Name())
		if strings.Contains(string(b), "waiting for OCSP client connections") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("openssl ocsp did not start:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop takes both services down (the certificates' URLs then refuse
// connections).
func (ca *CA) Stop() {
	if ca.srv != nil {
		ca.srv.Close()
		ca.srv = nil
	}
	if ca.ocsp != nil {
		ca.ocsp.Process.Kill()
		ca.ocsp.Wait()
		ca.ocsp = nil
	}
	if ca.ocspLog != nil {
		ca.ocspLog.Close()
		ca.ocspLog = nil
	}
}
