package envelope

import (
	"bufio"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
	"github.com/russellhaering/goxmldsig/types"

	_ "crypto/sha1"   // the digests XML-DSig names, for crypto.Hash.New
	_ "crypto/sha256" //
	_ "crypto/sha512" //
)

// The signature check on the one tree.
//
// goxmldsig's ValidationContext.Validate copies the tree it is given,
// canonicalizes the copy, and then parses the canonical bytes once more to
// return "only what was signed": a second full parse of every envelope, two
// deep copies and the canonical form held in memory whole (for a 64 MB
// envelope, three more 64 MB). validate performs the same steps with
// goxmldsig's own parts, in the same order, on the tree Verify already
// parsed:
//
//  1. SignedInfo is detached with its in-scope namespaces
//     (etreeutils.NSDetatch) and canonicalized by goxmldsig's canonicalizer
//     of its CanonicalizationMethod, exactly as Validate does;
//  2. the SignatureValue is checked over those bytes with the signer's
//     certificate (x509.Certificate.CheckSignature, as Validate does);
//  3. the Reference is read from the canonical SignedInfo bytes that were
//     verified (encoding/xml into goxmldsig's types.SignedInfo), never from
//     the tree;
//  4. its transforms are applied in order: enveloped-signature removes the
//     Signature, the last canonicalization method is goxmldsig's
//     canonicalizer (exclusive C14N transforms the tree in place with
//     etreeutils.TransformExcC14n and is serialized straight into the
//     digest, with the settings of goxmldsig's canonical serializer, so the
//     canonical form is never held in memory);
//  5. the digest is compared with the verified DigestValue.
//
// What Verify then reads comes from the tree after step 4, which is what
// was digested: the Signature is gone; comments are gone (exclusive C14N
// without comments removes them from the tree, and Element.Text skips them
// anyway); CDATA sections and character references read as the text they
// stand for, as in a reparse of the canonical bytes. FuzzVerify checks that
// validate and Validate agree on every input, and that what they return
// reads as the same Message (verifyValidate below is the Validate path).

// canonical serialization settings: goxmldsig's canonicalSerialize.
var canonicalWrite = etree.WriteSettings{CanonicalAttrVal: true, CanonicalEndTags: true, CanonicalText: true}

// signatureHash is the hash of each allowed SignatureMethod.
var signatureHash = map[string]x509.SignatureAlgorithm{
	AlgRSASHA1:   x509.SHA1WithRSA,
	AlgRSASHA256: x509.SHA256WithRSA,
	AlgRSASHA384: x509.SHA384WithRSA,
	AlgRSASHA512: x509.SHA512WithRSA,
}

// digestHash is the hash of each allowed DigestMethod.
var digestHash = map[string]crypto.Hash{
	AlgSHA1:   crypto.SHA1,
	AlgSHA256: crypto.SHA256,
	AlgSHA384: crypto.SHA384,
	AlgSHA512: crypto.SHA512,
}

// canonicalizer is goxmldsig's canonicalizer for a C14N algorithm, with an
// InclusiveNamespaces prefix list for the exclusive ones; nil if unknown.
func canonicalizer(alg, prefixList string) dsig.Canonicalizer {
	switch alg {
	case AlgExcC14N:
		return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList)
	case AlgExcC14NCom:
		return dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList(prefixList)
	case AlgC14N11:
		return dsig.MakeC14N11Canonicalizer()
	case AlgC14N10:
		return dsig.MakeC14N10RecCanonicalizer()
	}
	return nil
}

// charData is all the character data directly inside el (encoding/xml's
// ",chardata", which goxmldsig reads SignatureValue with).
func charData(el *etree.Element) string {
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

var digestWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 32<<10) }}

// signedInfoEls are the Signature's SignedInfo and SignatureValue, found
// (exactly one of each) by checkSignedInfo.
type signedInfoEls struct{ signedInfo, value *etree.Element }

// validate checks the signature sig (a child of header, in root's tree)
// with leaf's key and returns the signed element: root, transformed as it
// was digested. els and algs are checkSignedInfo's (the unverified
// SignedInfo's, as Validate reads them). The tree is changed whatever the
// outcome.
func validate(root, header, sig *etree.Element, els signedInfoEls, algs Algorithms, leaf *x509.Certificate) (*etree.Element, error) {
	signedInfo := els.signedInfo
	// 1. The canonical SignedInfo.
	ctx, err := etreeutils.NSBuildParentContext(signedInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	detached, err := etreeutils.NSDetatch(ctx, signedInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	c14n := canonicalizer(algs.Canonicalization, "")
	if c14n == nil {
		return nil, fmt.Errorf("%w: canonicalization %q", ErrAlgorithmForbidden, algs.Canonicalization)
	}
	canonicalSI, err := c14n.Canonicalize(detached)
	if err != nil {
		return nil, fmt.Errorf("%w: canonicalizing SignedInfo: %v", ErrSignatureInvalid, err)
	}

	// 2. The signature value over it.
	alg, ok := signatureHash[algs.Signature]
	if !ok {
		return nil, fmt.Errorf("%w: signature method %q", ErrAlgorithmForbidden, algs.Signature)
	}
	value, err := base64.StdEncoding.DecodeString(charData(els.value))
	if err != nil {
		return nil, fmt.Errorf("%w: the SignatureValue is not base64", ErrSignatureInvalid)
	}
	if err := leaf.CheckSignature(alg, canonicalSI, value); err != nil {
		return nil, classifyDSig(err)
	}

	// 3. The reference, from the verified bytes only.
	var si types.SignedInfo
	if err := xml.Unmarshal(canonicalSI, &si); err != nil {
		return nil, fmt.Errorf("%w: the signed SignedInfo: %v", ErrSignatureInvalid, err)
	}
	var ref *types.Reference
	for i := range si.References {
		if u := si.References[i].URI; u == "" || u == "#" { // Validate's match with no Id attribute
			ref = &si.References[i]
			break
		}
	}
	if ref == nil {
		return nil, fmt.Errorf("%w: the signed SignedInfo has no reference to the whole document", ErrSignatureInvalid)
	}
	h, ok := digestHash[ref.DigestAlgo.Algorithm]
	if !ok || !h.Available() {
		return nil, fmt.Errorf("%w: digest method %q", ErrAlgorithmForbidden, ref.DigestAlgo.Algorithm)
	}
	want, err := base64.StdEncoding.DecodeString(ref.DigestValue)
	if err != nil {
		return nil, fmt.Errorf("%w: the DigestValue is not base64", ErrSignatureInvalid)
	}

	// 4. The transforms, in order; the last canonicalization wins.
	finalAlg, prefixList := "", ""
	for _, t := range ref.Transforms.Transforms {
		switch t.Algorithm {
		case AlgEnveloped:
			if sig.Parent() != header { // a second one (checkSignedInfo refuses that)
				return nil, fmt.Errorf("%w: the enveloped-signature transform twice", ErrSignatureInvalid)
			}
			header.RemoveChild(sig)
		default:
			if canonicalizer(t.Algorithm, "") == nil {
				return nil, fmt.Errorf("%w: transform %q", ErrAlgorithmForbidden, t.Algorithm)
			}
			finalAlg, prefixList = t.Algorithm, ""
			if t.InclusiveNamespaces != nil {
				prefixList = t.InclusiveNamespaces.PrefixList
			}
		}
	}

	// 5. The digest of the canonical document.
	d := h.New()
	switch finalAlg {
	case AlgExcC14N, AlgExcC14NCom:
		if err := etreeutils.TransformExcC14n(root, prefixList, finalAlg == AlgExcC14NCom); err != nil {
			return nil, fmt.Errorf("%w: canonicalizing the document: %v", ErrSignatureInvalid, err)
		}
		if err := writeCanonical(d, root); err != nil {
			return nil, err
		}
	default:
		final := dsig.MakeNullCanonicalizer() // Validate's, without a canonicalization transform
		if finalAlg != "" {
			final = canonicalizer(finalAlg, prefixList)
		}
		b, err := final.Canonicalize(root)
		if err != nil {
			return nil, fmt.Errorf("%w: canonicalizing the document: %v", ErrSignatureInvalid, err)
		}
		d.Write(b)
	}
	got := d.Sum(nil)
	if len(got) < 20 || subtle.ConstantTimeCompare(got, want) != 1 {
		return nil, fmt.Errorf("%w: the signed content does not match its digest", ErrDigestMismatch)
	}
	return root, nil
}

// writeCanonical serializes el into d as goxmldsig's canonical serializer
// does, through a pooled buffer.
func writeCanonical(d hash.Hash, el *etree.Element) error {
	bw := digestWriters.Get().(*bufio.Writer)
	bw.Reset(d)
	el.WriteTo(bw, &canonicalWrite)
	err := bw.Flush()
	bw.Reset(io.Discard)
	digestWriters.Put(bw)
	return err
}
