package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/testgen"
)

// defaultDemoCRL is the demo issuing CA's CRL, which the demo hub reads
// (trust.revocation.crl_files) and re-reads when it changes.
var defaultDemoCRL = filepath.Join("testdata", "pki", testgen.IssuingCRL)

// runDemoRevoke: axisctl demo-revoke (--organ ORGAN | --cert FILE) [--crl PATH] [--ca PATH]
//
// It revokes a DEMO agency certificate: adds its serial to the demo
// issuing CA's CRL (keeping what the CRL already lists), with the next CRL
// number, signed with the CA key committed in testdata/pki. A running demo
// hub re-reads the file within seconds and refuses what that certificate
// signs with certificate_revoked. `git checkout testdata/pki` undoes it.
func runDemoRevoke(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo-revoke", "(--organ ORGAN | --cert FILE) [--crl "+defaultDemoCRL+"] [--ca "+defaultDemoCA+"]", stderr)
	organ := fs.String("organ", "", "the demo agency whose certificate testdata/pki/demo-agency-ORGAN.crt is revoked")
	certFile := fs.String("cert", "", "the certificate to revoke (e.g. one axisctl demo-cert issued)")
	crlPath := fs.String("crl", defaultDemoCRL, "the CRL to rewrite")
	caFlag := addDemoCAFlag(fs)
	reason := fs.Int("reason", 1, "RFC 5280 reason code (1 keyCompromise)")
	if code, done := parseNoArgs(fs, args, stderr); done {
		return code
	}
	if (*organ == "") == (*certFile == "") {
		return usageError(stderr, "demo-revoke: give --organ or --cert")
	}
	ca := caFlag.path()
	if *organ != "" {
		id, err := envelope.ParseOrganID(*organ)
		if err != nil {
			return usageError(stderr, "demo-revoke: --organ: %v", err)
		}
		*certFile = filepath.Join(filepath.Dir(ca), testgen.AgencyName(id.String())+".crt") // beside the CA
	}
	cert, err := readCertFile(*certFile)
	if err != nil {
		return fail(stderr, fmt.Errorf("demo-revoke: %w", err))
	}
	issuer, code, done := caFlag.load(stderr)
	if done {
		return code
	}
	if err := cert.CheckSignatureFrom(issuer.Cert); err != nil {
		return fail(stderr, fmt.Errorf("demo-revoke: %s was not issued by %s: %v", *certFile, ca, err))
	}
	number := big.NewInt(1)
	var entries []x509.RevocationListEntry
	if b, err := os.ReadFile(*crlPath); err == nil {
		der := b
		if blk, _ := pem.Decode(b); blk != nil {
			der = blk.Bytes
		}
		old, err := x509.ParseRevocationList(der)
		if err != nil {
			return fail(stderr, fmt.Errorf("demo-revoke: %s: %w", *crlPath, err))
		}
		if old.Number != nil {
			number = old.Number
		}
		for _, e := range old.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				fmt.Fprintf(stdout, "already revoked: serial %x (%s) in CRL number %s\n", cert.SerialNumber, cert.Subject.CommonName, number)
				return exitOK
			}
			entries = append(entries, x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: e.ReasonCode})
		}
	} else if !os.IsNotExist(err) {
		return fail(stderr, fmt.Errorf("demo-revoke: %w", err))
	}
	now := time.Now().UTC().Truncate(time.Second)
	entries = append(entries, x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: now, ReasonCode: *reason})
	next := new(big.Int).Add(number, big.NewInt(1))
	b, err := testgen.DemoCRL(issuer, next, now.Add(-time.Minute), entries)
	if err != nil {
		return fail(stderr, fmt.Errorf("demo-revoke: %w", err))
	}
	tmp := *crlPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fail(stderr, fmt.Errorf("demo-revoke: %w", err))
	}
	if err := os.Rename(tmp, *crlPath); err != nil {
		return fail(stderr, fmt.Errorf("demo-revoke: %w", err))
	}
	fmt.Fprintf(stdout, "revoked serial %x (%s), CRL number %s with %d entries written to %s\n",
		cert.SerialNumber, cert.Subject.CommonName, next, len(entries), *crlPath)
	fmt.Fprintf(stderr, "DEMO revocation: a hub with %s in trust.revocation.crl_files refuses this certificate within seconds (certificate_revoked).\n", *crlPath)
	return exitOK
}

func readCertFile(file string) (*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}
