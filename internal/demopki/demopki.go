// Package demopki makes the demo PKI of testdata/pki: a root CA, an issuing
// CA, a hub certificate and agency certificates whose subject OU (or
// serialNumber) is the agency's organ code. Everything it makes is for demos
// and tests only: the private keys are committed in testdata/ and say "demo"
// in their file names.
package demopki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// KeyBits is the RSA key size of every demo key.
const KeyBits = 2048

// Org is the subject Organization of every demo certificate.
const Org = "DEMO axis PKI (not for production)"

// Cert is a certificate with its key.
type Cert struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// Spec describes a certificate to issue.
type Spec struct {
	CommonName   string
	OU           string // organ code, when bound by OU
	SerialNumber string // organ code, when bound by subject serialNumber
	NotBefore    time.Time
	NotAfter     time.Time
	CA           bool
	KeyUsage     x509.KeyUsage // 0 means the usual for the kind
	// ExtKeyUsage replaces a leaf's usual (email protection, client auth):
	// server auth for a TLS server, OCSP signing for a responder.
	ExtKeyUsage []x509.ExtKeyUsage
	// Subject alternative names (TLS servers).
	DNSNames    []string
	IPAddresses []net.IP
	// Where relying parties ask about revocation: the issuer's OCSP
	// responder (AIA) and CRL distribution points.
	OCSPServer            []string
	CRLDistributionPoints []string
}

// Issue makes a certificate signed by parent, or self-signed when parent is nil.
func Issue(parent *Cert, s Spec) (*Cert, error) {
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	subj := pkix.Name{CommonName: s.CommonName, Organization: []string{Org}, Country: []string{"VN"}, SerialNumber: s.SerialNumber}
	if s.OU != "" {
		subj.OrganizationalUnit = []string{s.OU}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subj,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.CA,
		KeyUsage:              s.KeyUsage,
	}
	if tmpl.KeyUsage == 0 {
		if s.CA {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		} else {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		}
	}
	if !s.CA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth}
	}
	if s.ExtKeyUsage != nil {
		tmpl.ExtKeyUsage = s.ExtKeyUsage
	}
	tmpl.DNSNames, tmpl.IPAddresses = s.DNSNames, s.IPAddresses
	tmpl.OCSPServer, tmpl.CRLDistributionPoints = s.OCSPServer, s.CRLDistributionPoints
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: c, Key: key}, nil
}

// Write stores name.key (PKCS#8), name.crt (the certificate) and, when chain
// is given, name.chain.pem (the certificate then chain, for signing) in dir.
func (c *Cert) Write(dir, name string, chain ...*Cert) error {
	kb, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), CertPEM(c.Cert), 0o644); err != nil {
		return err
	}
	if len(chain) == 0 {
		return nil
	}
	all := CertPEM(c.Cert)
	for _, p := range chain {
		all = append(all, CertPEM(p.Cert)...)
	}
	return os.WriteFile(filepath.Join(dir, name+".chain.pem"), all, 0o644)
}

// CertPEM encodes one certificate.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Load reads name.key and name.crt from dir.
func Load(dir, name string) (*Cert, error) {
	kb, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return nil, fmt.Errorf("%s.key: no PEM", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s.key: not RSA", name)
	}
	cb, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	blk, _ = pem.Decode(cb)
	if blk == nil {
		return nil, fmt.Errorf("%s.crt: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: c, Key: rk}, nil
}

// Validity windows of the demo PKI. Tests pin their clock to TestNow.
var (
	RootFrom  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	RootUntil = time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	CAUntil   = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	LeafFrom  = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	LeafUntil = time.Date(2035, 6, 1, 0, 0, 0, 0, time.UTC)
	TestNow   = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
)

// IssueAgency issues an agency certificate bound to organ by subject OU.
func IssueAgency(ca *Cert, organ, name string) (*Cert, error) {
	return Issue(ca, Spec{CommonName: name, OU: organ, NotBefore: LeafFrom, NotAfter: LeafUntil})
}
