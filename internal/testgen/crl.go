package testgen

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/axis-h40/axis/internal/demopki"
)

// CRL file names of the demo PKI (testdata/pki/NAME.crl): the root's (about
// the issuing CA) and the issuing CA's (about the agencies and the hub).
const (
	RootCRL    = RootCA + ".crl"
	IssuingCRL = IssuingCA + ".crl"
)

// WriteDemoCRLs writes the demo PKI's two CRLs, empty, number 1, valid for
// as long as the demo leaves. RSA PKCS#1 v1.5 is deterministic, so they are
// the same bytes every time.
func WriteDemoCRLs(pki string) error {
	for _, c := range []struct{ ca, file string }{{RootCA, RootCRL}, {IssuingCA, IssuingCRL}} {
		ca, err := demopki.Load(pki, c.ca)
		if err != nil {
			return err
		}
		b, err := DemoCRL(ca, big.NewInt(1), demopki.LeafFrom, nil)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(pki, c.file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// DemoCRL is a PEM CRL of ca listing revoked, valid from thisUpdate until
// the demo leaves expire.
func DemoCRL(ca *demopki.Cert, number *big.Int, thisUpdate time.Time, revoked []x509.RevocationListEntry) ([]byte, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: number, ThisUpdate: thisUpdate, NextUpdate: demopki.LeafUntil, RevokedCertificateEntries: revoked,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
