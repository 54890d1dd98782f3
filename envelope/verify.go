package envelope

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// XML-DSig algorithm identifiers the verifier knows.
const (
	DSigNamespace = dsig.Namespace

	AlgRSASHA1   = dsig.RSASHA1SignatureMethod
	AlgRSASHA256 = dsig.RSASHA256SignatureMethod
	AlgRSASHA384 = dsig.RSASHA384SignatureMethod
	AlgRSASHA512 = dsig.RSASHA512SignatureMethod

	AlgSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	AlgSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

	AlgExcC14N     = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	AlgExcC14NCom  = string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId)
	AlgC14N10      = string(dsig.CanonicalXML10RecAlgorithmId)
	AlgC14N11      = string(dsig.CanonicalXML11AlgorithmId)
	AlgEnveloped   = string(dsig.EnvelopedSignatureAltorithmId)
	minRSAKeyBits  = 2048
	chainCacheSize = 4096
)

var (
	strongSignature = map[string]bool{AlgRSASHA256: true, AlgRSASHA384: true, AlgRSASHA512: true}
	strongDigest    = map[string]bool{AlgSHA256: true, AlgSHA384: true, AlgSHA512: true}
	canonicalizers  = map[string]bool{AlgExcC14N: true, AlgExcC14NCom: true, AlgC14N10: true, AlgC14N11: true}
)

// Policy is what a Verifier trusts.
type Policy struct {
	// Roots are the trust anchors. Intermediates come from each envelope's
	// KeyInfo.
	Roots *x509.CertPool
	// AllowSHA1 admits rsa-sha1 signatures and sha1 digests (legacy senders).
	AllowSHA1 bool
	// LegacySignatureNS admits a Signature that field systems emit without the
	// xmldsig namespace declaration (so it sits in the edXML namespace). The
	// signature is then checked as if it were declared in the xmldsig namespace.
	LegacySignatureNS bool
	// Pins maps an organ code to SHA-256 fingerprints (hex) of certificates
	// registered for it. A pinned certificate binds to that organ even when its
	// subject does not carry the code.
	Pins map[string][]string
	// Now is the clock certificates are checked at; nil means time.Now.
	Now func() time.Time
	// Limits bound the input; zero fields take the defaults.
	Limits Limits
	// Revocation answers whether the chain's certificates are revoked;
	// RevocationMode says what an unknown answer means (RevocationOff,
	// Prefer, Require, Hold; "" is off without a checker, prefer with one).
	Revocation     *RevocationChecker
	RevocationMode string
}

// Verifier checks envelopes against a Policy. It is safe for concurrent use.
type Verifier struct {
	p      Policy
	lim    Limits
	pins   map[string]map[string]bool
	mu     sync.Mutex
	chains map[[32]byte]chainResult // successful chain verifications
	// withValidate checks signatures with goxmldsig's Validate instead of
	// validate (tests only: the two must agree).
	withValidate bool
}

type chainResult struct {
	leafIdx   int                 // where the leaf stands in KeyInfo
	chain     []*x509.Certificate // leaf first
	notBefore time.Time           // latest NotBefore in the chain
	notAfter  time.Time           // earliest NotAfter in the chain
}

// NewVerifier returns a Verifier for p. Roots are required.
func NewVerifier(p Policy) (*Verifier, error) {
	if p.Roots == nil {
		return nil, errors.New("envelope: policy has no trust roots")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	v := &Verifier{p: p, lim: p.Limits.withDefaults(), pins: map[string]map[string]bool{}, chains: map[[32]byte]chainResult{}}
	for organ, fps := range p.Pins {
		set := map[string]bool{}
		for _, fp := range fps {
			set[normalizeFingerprint(fp)] = true
		}
		v.pins[organ] = set
	}
	return v, nil
}

func normalizeFingerprint(fp string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(fp))
}

// Verified is an envelope whose signature, certificate chain and sender
// binding held. Everything it says was read from the signed bytes only; only
// Verify makes one.
type Verified struct {
	raw     []byte
	sum     [32]byte
	msg     *Message
	signer  *x509.Certificate
	chain   []*x509.Certificate
	algs    Algorithms
	checked time.Time
	rev     *Revocation
}

// Revocation is what the revocation check established about the chain
// (nil when the mode is off). With mode hold its Status may be unknown:
// the hub then holds the envelope until it is known.
func (v *Verified) Revocation() *Revocation { return v.rev }

// Algorithms are what the envelope was signed with.
type Algorithms struct {
	Canonicalization string `json:"canonicalization"`
	Signature        string `json:"signature"`
	Digest           string `json:"digest"`
}

// Raw returns the exact bytes that were verified. Callers must not modify them.
func (v *Verified) Raw() []byte { return v.raw }

// SHA256 is the digest of Raw.
func (v *Verified) SHA256() [32]byte { return v.sum }

// SHA256Hex is SHA256 in lower-case hex.
func (v *Verified) SHA256Hex() string { return hex.EncodeToString(v.sum[:]) }

// Message is the verified header, manifest and attachments.
func (v *Verified) Message() *Message { return v.msg }

// Signer is the leaf certificate that signed.
func (v *Verified) Signer() *x509.Certificate { return v.signer }

// Chain is the verified chain, leaf first, root last.
func (v *Verified) Chain() []*x509.Certificate { return v.chain }

// SignerFingerprint is the SHA-256 of the signer certificate, lower-case hex.
func (v *Verified) SignerFingerprint() string { return Fingerprint(v.signer) }

// Algorithms returns what the envelope was signed with.
func (v *Verified) Algorithms() Algorithms { return v.algs }

// CheckedAt is the verifier's clock when the certificates were checked.
func (v *Verified) CheckedAt() time.Time { return v.checked }

// Fingerprint is a certificate's SHA-256 in lower-case hex.
func Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// Verify checks raw against the policy and returns the verified envelope, or
// an error wrapping exactly one of the sentinels in errors.go.
//
// Order: limits and well-formedness; edXML skeleton; exactly one Signature, a
// child of edXMLHeader; algorithms and the single Reference URI=""; the
// certificate chain (crypto/x509); the signature itself (goxmldsig, with a
// store holding exactly the verified leaf); required fields and sender binding,
// read from the element goxmldsig returns and never from the input tree;
// last, the authority rules that need no store (Message.CheckAuthority).
func (v *Verifier) Verify(raw []byte) (*Verified, error) {
	doc, err := parseTree(raw, v.lim)
	if err != nil {
		return nil, err
	}
	sk, err := readSkeleton(doc.Root())
	if err != nil {
		return nil, err
	}
	sig, err := v.findSignature(sk)
	if err != nil {
		return nil, err
	}
	algs, els, err := v.checkSignedInfo(sig)
	if err != nil {
		return nil, err
	}
	now := v.p.Now()
	chain, err := v.verifyChain(sig, now)
	if err != nil {
		return nil, err
	}
	leaf := chain[0]

	var signed *etree.Element
	if v.withValidate {
		signed, err = validateWithGoxmldsig(doc.Root(), sk.header, sig, leaf, now)
	} else {
		signed, err = validate(doc.Root(), sk.header, sig, els, algs, leaf)
	}
	if err != nil {
		return nil, err
	}

	// From here on, only the signed element.
	ssk, err := readSkeleton(signed)
	if err != nil {
		return nil, err
	}
	msg, err := readMessage(ssk)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	if err := v.checkSender(msg.From.OrganID, leaf); err != nil {
		return nil, err
	}
	if err := msg.CheckAuthority(); err != nil {
		return nil, err
	}
	rev, err := v.checkRevocation(chain)
	if err != nil {
		return nil, err
	}
	return &Verified{
		raw: raw, sum: sha256.Sum256(raw), msg: msg,
		signer: leaf, chain: chain, algs: algs, checked: now, rev: rev,
	}, nil
}

// checkRevocation asks the checker about every certificate of the chain
// below the root, last: everything cheaper has held by then.
func (v *Verifier) checkRevocation(chain []*x509.Certificate) (*Revocation, error) {
	mode := v.p.RevocationMode
	if mode == "" {
		mode = RevocationPrefer
	}
	if v.p.Revocation == nil || mode == RevocationOff {
		return nil, nil
	}
	rev := v.p.Revocation.Check(context.Background(), chain)
	switch rev.Status() {
	case StatusRevoked:
		for _, c := range rev.Certs {
			if c.Status == StatusRevoked {
				return nil, &RevocationError{Revocation: rev, err: fmt.Errorf("%w: %q (serial %s) revoked at %s (%s), says %s %s", ErrCertificateRevoked,
					c.Subject, c.Serial, c.RevokedAt.Format(time.RFC3339), c.Reason, c.Method, c.Source)}
			}
		}
	case StatusUnknown:
		if mode == RevocationRequire {
			for _, c := range rev.Certs {
				if c.Status == StatusUnknown {
					return nil, &RevocationError{Revocation: rev, err: fmt.Errorf("%w: %q (serial %s): %s", ErrRevocationUnknown, c.Subject, c.Serial, c.Reason)}
				}
			}
		}
	}
	return rev, nil
}

// RevocationError is a refusal by the revocation check (it wraps
// ErrCertificateRevoked or ErrRevocationUnknown) with what the check
// established, evidence included: a hub that refuses a held envelope keeps
// the proof of the revocation.
type RevocationError struct {
	Revocation *Revocation
	err        error
}

func (e *RevocationError) Error() string { return e.err.Error() }
func (e *RevocationError) Unwrap() error { return e.err }

// RevocationMode is the policy's mode ("" reads as off without a checker).
func (v *Verifier) RevocationMode() string {
	if v.p.Revocation == nil {
		return RevocationOff
	}
	if v.p.RevocationMode == "" {
		return RevocationPrefer
	}
	return v.p.RevocationMode
}

// validateWithGoxmldsig is validate by goxmldsig's Validate (what Verify
// did before validate; the differential tests and FuzzVerify hold the two
// to the same answers).
func validateWithGoxmldsig(root, header, sig *etree.Element, leaf *x509.Certificate, now time.Time) (*etree.Element, error) {
	// goxmldsig gives up after visiting ~1,000 elements before it meets the
	// Signature. The enveloped transform removes the Signature wherever it
	// sits, so moving it to the front of edXMLHeader changes nothing signed.
	header.RemoveChild(sig)
	header.InsertChildAt(0, sig)

	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{leaf}})
	vc.IdAttribute = "\x00" // never matches: only URI="" is accepted (checked above)
	vc.Clock = dsig.NewFakeClockAt(now)
	signed, err := vc.Validate(root)
	if err != nil {
		return nil, classifyDSig(err)
	}
	return signed, nil
}

// classifyDSig maps goxmldsig v1.6.1's errors to our codes. Its digest
// mismatch is the plain error "Signature could not be verified"; a bad
// signature value is crypto/rsa's verification error.
func classifyDSig(err error) error {
	switch {
	case errors.Is(err, rsa.ErrVerification):
		return fmt.Errorf("%w: signature value does not verify with the signer's key", ErrSignatureInvalid)
	case err.Error() == "Signature could not be verified":
		return fmt.Errorf("%w: the signed content does not match its digest", ErrDigestMismatch)
	case errors.Is(err, dsig.ErrMissingSignature):
		return fmt.Errorf("%w: %v", ErrSignatureMissing, err)
	}
	return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
}

func isSignature(el *etree.Element) bool { return el.Tag == "Signature" }

// findSignature returns the one Signature element. With the legacy option a
// Signature in the edXML namespace is moved into the xmldsig namespace (in
// memory only; the stored bytes never change).
func (v *Verifier) findSignature(sk *skeleton) (*etree.Element, error) {
	var dsigs, legacy []*etree.Element
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if isSignature(c) {
				switch c.NamespaceURI() {
				case DSigNamespace:
					dsigs = append(dsigs, c)
					continue
				case Namespace:
					legacy = append(legacy, c)
					continue
				}
			}
			walk(c)
		}
	}
	walk(sk.root)
	if v.p.LegacySignatureNS {
		for _, s := range legacy {
			if s.Space != "" {
				continue // a prefixed edXML:Signature is not the legacy form
			}
			s.CreateAttr("xmlns", DSigNamespace)
			dsigs = append(dsigs, s)
		}
		legacy = nil
	}
	switch {
	case len(dsigs) == 0 && len(legacy) > 0:
		return nil, fmt.Errorf("%w: the Signature is not in the xmldsig namespace (legacy form; the policy does not allow it)", ErrSignatureMissing)
	case len(dsigs) == 0:
		return nil, fmt.Errorf("%w: no Signature element", ErrSignatureMissing)
	case len(dsigs) > 1:
		return nil, fmt.Errorf("%w: %d Signature elements, want exactly one", ErrSignatureInvalid, len(dsigs))
	}
	sig := dsigs[0]
	if sig.Parent() != sk.header {
		return nil, fmt.Errorf("%w: the Signature must be a child of edXMLHeader", ErrSignatureInvalid)
	}
	if err := checkSignatureContent(sig); err != nil {
		return nil, err
	}
	return sig, nil
}

// signatureChildren are the elements XML-DSig allows in a Signature.
var signatureChildren = map[string]bool{"SignedInfo": true, "SignatureValue": true, "KeyInfo": true, "Object": true}

// checkSignatureContent refuses a Signature that carries anything but
// XML-DSig. The enveloped transform removes the whole Signature before
// digesting, so whatever it holds is unsigned: an edXML MessageHeader in a
// ds:Object would be delivered to recipients whose parsers may read it as
// the header. Field systems put SignatureProperties (sometimes in no
// namespace) in an Object; nothing else is allowed there.
func checkSignatureContent(sig *etree.Element) error {
	for _, c := range sig.ChildElements() {
		if c.NamespaceURI() != DSigNamespace || !signatureChildren[c.Tag] {
			return fmt.Errorf("%w: {%s}%s inside the Signature (only SignedInfo, SignatureValue, KeyInfo and Object)", ErrSignatureInvalid, c.NamespaceURI(), c.Tag)
		}
		if c.Tag != "Object" {
			continue
		}
		for _, p := range c.ChildElements() {
			if ns := p.NamespaceURI(); p.Tag != "SignatureProperties" || (ns != DSigNamespace && ns != "") {
				return fmt.Errorf("%w: {%s}%s inside a Signature's Object (only SignatureProperties)", ErrSignatureInvalid, p.NamespaceURI(), p.Tag)
			}
		}
	}
	var walk func(*etree.Element) error
	walk = func(el *etree.Element) error {
		for _, c := range el.ChildElements() {
			if inNS(c) {
				return fmt.Errorf("%w: the edXML element %s inside the Signature is not signed", ErrSignatureInvalid, c.Tag)
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(sig)
}

func dsigChildren(el *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == DSigNamespace {
			out = append(out, c)
		}
	}
	return out
}

func dsigOne(el *etree.Element, tag string) (*etree.Element, error) {
	cs := dsigChildren(el, tag)
	if len(cs) != 1 {
		return nil, fmt.Errorf("%w: %d %s elements, want exactly one", ErrSignatureInvalid, len(cs), tag)
	}
	return cs[0], nil
}

// checkSignedInfo enforces the algorithm allowlist and the one whole-document
// reference. It reads the unverified SignedInfo only to refuse: whatever it
// says is then bound by the signature value.
func (v *Verifier) checkSignedInfo(sig *etree.Element) (Algorithms, signedInfoEls, error) {
	var a Algorithms
	var els signedInfoEls
	si, err := dsigOne(sig, "SignedInfo")
	if err != nil {
		return a, els, err
	}
	sv, err := dsigOne(sig, "SignatureValue")
	if err != nil {
		return a, els, err
	}
	cm, err := dsigOne(si, "CanonicalizationMethod")
	if err != nil {
		return a, els, err
	}
	a.Canonicalization = cm.SelectAttrValue("Algorithm", "")
	if !canonicalizers[a.Canonicalization] {
		return a, els, fmt.Errorf("%w: canonicalization %q", ErrAlgorithmForbidden, a.Canonicalization)
	}
	sm, err := dsigOne(si, "SignatureMethod")
	if err != nil {
		return a, els, err
	}
	a.Signature = sm.SelectAttrValue("Algorithm", "")
	if !strongSignature[a.Signature] && !(v.p.AllowSHA1 && a.Signature == AlgRSASHA1) {
		return a, els, fmt.Errorf("%w: signature method %q", ErrAlgorithmForbidden, a.Signature)
	}
	ref, err := dsigOne(si, "Reference")
	if err != nil {
		return a, els, err
	}
	if uri := ref.SelectAttr("URI"); uri == nil || uri.Value != "" {
		return a, els, fmt.Errorf("%w: the Reference must be URI=\"\" (the whole document)", ErrSignatureInvalid)
	}
	enveloped := false
	for _, tr := range dsigChildren(first(dsigChildren(ref, "Transforms")), "Transform") {
		alg := tr.SelectAttrValue("Algorithm", "")
		switch {
		case alg == AlgEnveloped && enveloped:
			return a, els, fmt.Errorf("%w: the enveloped-signature transform twice", ErrSignatureInvalid)
		case alg == AlgEnveloped:
			enveloped = true
		case canonicalizers[alg]:
		default:
			return a, els, fmt.Errorf("%w: transform %q", ErrAlgorithmForbidden, alg)
		}
	}
	if !enveloped {
		return a, els, fmt.Errorf("%w: the Reference lacks the enveloped-signature transform", ErrSignatureInvalid)
	}
	dm, err := dsigOne(ref, "DigestMethod")
	if err != nil {
		return a, els, err
	}
	a.Digest = dm.SelectAttrValue("Algorithm", "")
	if !strongDigest[a.Digest] && !(v.p.AllowSHA1 && a.Digest == AlgSHA1) {
		return a, els, fmt.Errorf("%w: digest method %q", ErrAlgorithmForbidden, a.Digest)
	}
	els = signedInfoEls{signedInfo: si, value: sv}
	return a, els, nil
}

// verifyChain parses KeyInfo's certificates, puts the leaf first (in the
// in-memory tree too, since goxmldsig takes the first one), and verifies the
// chain to the policy roots at now. Successful chains are cached by their
// exact certificate bytes; the validity window is checked on every call.
func (v *Verifier) verifyChain(sig *etree.Element, now time.Time) ([]*x509.Certificate, error) {
	xd := dsigChildren(first(dsigChildren(sig, "KeyInfo")), "X509Data")
	certEls := dsigChildren(first(xd), "X509Certificate")
	if len(certEls) == 0 {
		return nil, fmt.Errorf("%w: no X509Certificate in KeyInfo", ErrCertificateUntrusted)
	}
	// The cache key is the certificates' text as it stands: the same text
	// decodes to the same certificates, so a hit needs no base64 decoding
	// and no x509 parsing (other line breaks in the same certificates only
	// miss the cache).
	texts := make([]string, len(certEls))
	h := sha256.New()
	for i, el := range certEls {
		texts[i] = el.Text()
		h.Write([]byte(texts[i]))
		h.Write([]byte{0})
	}
	var key [32]byte
	h.Sum(key[:0])
	v.mu.Lock()
	cr, ok := v.chains[key]
	v.mu.Unlock()
	if ok && !now.Before(cr.notBefore) && !now.After(cr.notAfter) {
		leafFirst(certEls, cr.leafIdx)
		return cr.chain, nil
	}

	certs := make([]*x509.Certificate, 0, len(certEls))
	leafIdx := -1
	for i, text := range texts {
		der, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, text))
		if err != nil {
			return nil, fmt.Errorf("%w: KeyInfo certificate %d is not base64", ErrCertificateUntrusted, i+1)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: KeyInfo certificate %d: %v", ErrCertificateUntrusted, i+1, err)
		}
		if leafIdx < 0 && !c.IsCA {
			leafIdx = i
		}
		certs = append(certs, c)
	}
	if leafIdx < 0 {
		leafIdx = 0
	}
	certs[0], certs[leafIdx] = certs[leafIdx], certs[0]
	leafFirst(certEls, leafIdx)
	leaf := certs[0]

	if leaf.PublicKeyAlgorithm != x509.RSA {
		return nil, fmt.Errorf("%w: signer key is %v, only RSA interoperates", ErrAlgorithmForbidden, leaf.PublicKeyAlgorithm)
	}
	if pk, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || pk.N.BitLen() < minRSAKeyBits {
		return nil, fmt.Errorf("%w: RSA key shorter than %d bits", ErrAlgorithmForbidden, minRSAKeyBits)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.p.Roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, fmt.Errorf("%w: %v", ErrCertificateExpired, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCertificateUntrusted, err)
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("%w: %q has no digitalSignature key usage", ErrCertificateUsage, leaf.Subject.String())
	}
	chain := chains[0]
	cr = chainResult{chain: chain, notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter, leafIdx: leafIdx}
	for _, c := range chain[1:] {
		if c.NotBefore.After(cr.notBefore) {
			cr.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(cr.notAfter) {
			cr.notAfter = c.NotAfter
		}
	}
	v.mu.Lock()
	if len(v.chains) >= chainCacheSize {
		clear(v.chains)
	}
	v.chains[key] = cr
	v.mu.Unlock()
	return chain, nil
}

// leafFirst moves the certificate element at i to the front of its X509Data
// in the tree (goxmldsig's Validate takes the first one).
func leafFirst(certEls []*etree.Element, i int) {
	if i == 0 {
		return
	}
	parent := certEls[i].Parent()
	parent.RemoveChild(certEls[i])
	parent.InsertChildAt(certEls[0].Index(), certEls[i])
}

func dropSpace(r rune) rune {
	if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
		return -1
	}
	return r
}

// BoundTo reports whether a certificate names the organ as its own: its
// subject's OU or serialNumber is the organ code. (A Verifier also accepts
// a certificate pinned for the organ, Policy.Pins.)
func BoundTo(leaf *x509.Certificate, organ string) bool {
	for _, ou := range leaf.Subject.OrganizationalUnit {
		if strings.TrimSpace(ou) == organ {
			return true
		}
	}
	return strings.TrimSpace(leaf.Subject.SerialNumber) == organ
}

// checkSender binds the signer to From/OrganId: the leaf's subject OU or
// serialNumber is the organ code, or its fingerprint is pinned for the organ.
func (v *Verifier) checkSender(organ string, leaf *x509.Certificate) error {
	if BoundTo(leaf, organ) || v.pins[organ][Fingerprint(leaf)] {
		return nil
	}
	return fmt.Errorf("%w: From/OrganId is %s but the certificate %q is not bound to it", ErrSenderMismatch, organ, leaf.Subject.String())
}
