package envelope

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/beevik/etree"
	"os"

	dsig "github.com/russellhaering/goxmldsig"
)

// Signer signs edXML envelopes: RSA-SHA256, exclusive c14n, enveloped,
// Reference URI="", the Signature (xmldsig namespace, prefix ds) as the last
// child of edXMLHeader, KeyInfo holding the leaf then its intermediates.
type Signer struct {
	key   crypto.Signer
	chain []*x509.Certificate
	lim   Limits
}

// NewSigner returns a Signer for an RSA key and its chain, leaf first (the
// root may be left out). The key is any crypto.Signer: an *rsa.PrivateKey
// read from PEM (LoadSigner), or a key held in a PKCS#11 token that never
// leaves it (axis/hsm.go). It must sign PKCS#1 v1.5 when given
// crypto.SHA256 as its options, as rsa.PrivateKey does.
func NewSigner(key crypto.Signer, chain []*x509.Certificate) (*Signer, error) {
	if len(chain) == 0 {
		return nil, errors.New("envelope: signer needs a certificate")
	}
	if key == nil {
		return nil, errors.New("envelope: signer needs a key")
	}
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return nil, errors.New("envelope: signer key must be RSA (ECDSA signatures do not interoperate with xmlsec1)")
	}
	pub, ok := chain[0].PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("envelope: the first certificate does not match the key")
	}
	return &Signer{key: key, chain: chain}, nil
}

// LoadSigner reads a PEM private key (PKCS#1 or PKCS#8) and a PEM chain file
// (leaf first).
func LoadSigner(keyFile, chainFile string) (*Signer, error) {
	key, err := readPEMFile(keyFile, ParsePrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	chain, err := readPEMFile(chainFile, ParseCertificatesPEM)
	if err != nil {
		return nil, err
	}
	return NewSigner(key, chain)
}

// readPEMFile reads file and parses it with parse; a parse error names the
// file.
func readPEMFile[T any](file string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := os.ReadFile(file)
	if err != nil {
		return zero, err
	}
	v, err := parse(b)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	return v, nil
}

// Leaf is the signing certificate.
func (s *Signer) Leaf() *x509.Certificate { return s.chain[0] }

// Sign returns raw with any existing Signature in edXMLHeader replaced by a
// new one. The document must be a well-formed edXML envelope within the
// default limits; its header is not validated (sign what you mean to send).
func (s *Signer) Sign(raw []byte) ([]byte, error) {
	doc, err := parseTree(raw, s.lim.withDefaults())
	if err != nil {
		return nil, err
	}
	sk, err := readSkeleton(doc.Root())
	if err != nil {
		return nil, err
	}
	for _, c := range sk.header.ChildElements() {
		if isSignature(c) {
			sk.header.RemoveChild(c)
		}
	}
	sig, err := s.signature(doc.Root())
	if err != nil {
		return nil, err
	}
	sk.header.AddChild(sig)
	return doc.WriteToBytes()
}

// signature computes an enveloped signature over root (RSA-SHA256, exclusive
// c14n, Reference URI="", KeyInfo = the chain) for the caller to insert.
func (s *Signer) signature(root *etree.Element) (*etree.Element, error) {
	certs := make([][]byte, len(s.chain))
	for i, c := range s.chain {
		certs[i] = c.Raw
	}
	ctx, err := dsig.NewSigningContext(s.key, certs)
	if err != nil {
		return nil, err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.IdAttribute = "\x00" // never matches: always Reference URI=""
	sig, err := ctx.ConstructSignature(root, true)
	if err != nil {
		return nil, fmt.Errorf("envelope: sign: %w", err)
	}
	return sig, nil
}

// ParsePrivateKeyPEM reads the first private key in PEM data.
func ParsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no private key in PEM data")
		}
		switch blk.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, errors.New("private key cannot sign")
			}
			return s, nil
		}
	}
}

// ParseCertificatesPEM reads every CERTIFICATE block in PEM data, in order.
func ParseCertificatesPEM(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate in PEM data")
	}
	return out, nil
}

// LoadRoots reads PEM files into a pool.
func LoadRoots(files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		certs, err := readPEMFile(f, ParseCertificatesPEM)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}

// SignXML signs any XML document (a receipt, say) the same way as an
// envelope, with the Signature appended as the last child of the root.
func (s *Signer) SignXML(raw []byte) ([]byte, error) {
	doc, err := parseTree(raw, s.lim.withDefaults())
	if err != nil {
		return nil, err
	}
	sig, err := s.signature(doc.Root())
	if err != nil {
		return nil, err
	}
	doc.Root().AddChild(sig)
	return doc.WriteToBytes()
}
