// Package envelope is the trust boundary of axis: it parses, verifies and
// signs edXML envelopes (QCVN 102:2016) and knows organ codes. It imports
// nothing else of axis, and neither Echo nor bbolt: it knows nothing of hubs,
// stores or HTTP.
//
// # Basics
//
// A hub builds one Verifier from its Policy and calls Verify on every body it
// receives:
//
//	roots, _ := envelope.LoadRoots("testdata/pki/demo-root-ca.crt")
//	v, _ := envelope.NewVerifier(envelope.Policy{Roots: roots})
//	ver, err := v.Verify(raw)
//	if err != nil {
//		code := envelope.CodeOf(err) // "signature_invalid", "sender_mismatch", ...
//	}
//	msg := ver.Message() // read from the signed bytes only
//
// Only a *Verified should be stored or routed: its fields are unexported and
// only Verify fills them, so the type marks the trust boundary. Its Raw bytes
// are exactly the input (never re-serialized), its Message was read from the
// element goxmldsig returned, and Signer, Chain, Algorithms and Revocation say
// how it was established.
//
// An agency (or axisctl sign) signs with a Signer: RSA-SHA256, exclusive
// c14n, enveloped, Reference URI="", the Signature last in edXMLHeader,
// KeyInfo holding the leaf then its intermediates. The key is any
// crypto.Signer (a PEM key through LoadSigner, or a PKCS#11 token):
//
//	s, _ := envelope.LoadSigner("agency.key", "agency.chain.pem")
//	raw, _ := envelope.Encode(msg) // a *Message to XML
//	signed, err := s.Sign(raw)
//
// ParseOrganID validates an organization code, in the QCVN 102 form
// (V1V2V3.Z1Z2.Y1Y2.L, read right to left: "000.07.35.H40") or the QĐ 20/2020
// form (dot-separated 0-9/A-Z, read left to right: "H40.35.07"); OrganID.Unit
// and OrganID.Parent walk up the hierarchy.
//
// Parse reads an envelope WITHOUT verifying it, for looking at what a field
// system sent (axisctl inspect). Nothing it returns may be trusted, routed or
// stored.
//
// Verify, in order: byte, depth, element and token limits and a refusal of
// any DOCTYPE, by a strict scan of the bytes before any tree is built (scan.go:
// XML that libxml2, .NET or Java would refuse is refused here too); the edXML
// skeleton; exactly one Signature, in the xmldsig namespace, a child of
// edXMLHeader, holding nothing but XML-DSig; an algorithm allowlist and a
// single Reference URI="" with the enveloped transform; the certificate
// chain from KeyInfo to Policy.Roots at Policy.Now, with digitalSignature key
// usage; the signature itself with goxmldsig's parts on the one parsed tree
// (dsig.go: its namespace detaching and canonicalizers, the reference read
// from the verified canonical SignedInfo, the canonical document streamed
// into the digest); then, from the tree as it was digested, the header, its
// required fields and lengths, the sender binding
// (the leaf's subject OU or serialNumber is From/OrganId, or its SHA-256
// fingerprint is pinned for it in Policy.Pins), the authority rules that need
// no store (Message.CheckAuthority: only a document's sender may revoke,
// update or replace it), and last the revocation check.
//
// Every rejection wraps exactly one sentinel of errors.go, each with a stable
// machine code (Error.Code, CodeOf, ErrorByCode, Codes); test with errors.Is.
//
// # Caveats
//
// goxmldsig v1.6.1's Validate copies the whole tree twice, holds the
// canonical form in memory and parses it again to return what was signed:
// two thirds of a verification, and eight times a big envelope's size in
// memory. Verify does what Validate does with goxmldsig's exported parts, in
// the same order, on the tree it parsed once (dsig.go says step by step);
// a 20 KB envelope verifies in half the time of bare goxmldsig and a 2 MB one
// allocates about three times its size. Validate stays the reference:
// TestVerifyAgreesWithValidate (every envelope of testdata, hostile ones
// included, the field samples, and tampered copies) and FuzzVerify require
// the same code, or the same Message, from both.
//
// goxmldsig does no chain validation: Validate only checks that the first
// X509Certificate in KeyInfo equals one in its store. The chain is therefore
// verified here with crypto/x509 (roots from the policy, intermediates from
// KeyInfo, the leaf moved first), and the signature is checked with exactly
// that leaf. Successful chains are cached per exact certificate bytes; the
// validity window is still checked at every call.
//
// goxmldsig also accepts RSA-SHA1 and SHA-1 digests: the allowlist here admits
// RSA-SHA256/384/512 with SHA-256/384/512 digests, and SHA-1 only with
// Policy.AllowSHA1 (legacy senders).
//
// goxmldsig's Validate gives up ("traversal limit reached") when ~1,000
// elements precede the Signature; the reference path (tests only) moves the
// Signature to the front of edXMLHeader in memory first: the enveloped
// transform removes it wherever it sits, so nothing signed changes. The
// stored bytes are never rewritten.
//
// Field systems often emit the Signature without the xmldsig namespace
// declaration (so it lands in the edXML namespace). Policy.LegacySignatureNS
// accepts that form, unprefixed only, by checking it as if the declaration
// were there; it is off by default, and without it such an envelope is
// ErrSignatureMissing.
//
// RSA only, at least 2048 bits: ECDSA signatures from goxmldsig and xmlsec1 do
// not interoperate (DER versus r‖s), so NewSigner refuses an ECDSA key and
// Verify refuses an ECDSA signer (ErrAlgorithmForbidden).
//
// Revocation is checked last, for every certificate of the chain below the
// root, by a RevocationChecker (OCSP first, then CRLs; answers verified,
// cached and refreshed in the background). Policy.RevocationMode says what an
// answer means: RevocationOff asks nothing; RevocationPrefer (the default
// with a checker) refuses a revoked certificate and accepts an unknown status,
// recording it; RevocationRequire also refuses an unknown status
// (ErrRevocationUnknown); RevocationHold accepts it with Revocation().Status()
// unknown, for the hub to hold the envelope until the status is known. A
// revoked certificate is ErrCertificateRevoked in every mode but off, and the
// error is a *RevocationError carrying the evidence.
package envelope
