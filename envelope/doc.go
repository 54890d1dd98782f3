// Package envelope is the trust boundary of axis: it parses, verifies and
// signs edXML envelopes (QCVN 102:2016) and knows organ codes. It imports
// nothing else of axis, and neither Echo nor bbolt.
//
// # Basics
//
// A hub builds one Verifier from its Policy and calls Verify on every body it
// receives:
//
//	v, _ := envelope.NewVerifier(envelope.Policy{Roots: roots})
//	ver, err := v.Verify(raw)
//	if err != nil {
//		code := envelope.CodeOf(err) // "signature_invalid", "sender_mismatch", ...
//	}
//	msg := ver.Message() // read from the signed bytes only
//
// Only a *Verified should be stored or routed: its fields are unexported and
// only Verify fills them, so the type marks the trust boundary. Parse reads an
// envelope without verifying it, for inspection only.
//
// Verify, in order: byte, depth and element limits and a refusal of any
// DOCTYPE (before a tree is built); well-formed UTF-8 XML with one root; the
// edXML skeleton; exactly one Signature, in the xmldsig namespace, a child of
// edXMLHeader; an algorithm allowlist (RSA with SHA-256 or stronger; SHA-1
// only with Policy.AllowSHA1) and a single Reference URI="" with the
// enveloped transform; the certificate chain from KeyInfo to Policy.Roots with
// crypto/x509 at Policy.Now, with digitalSignature key usage; the signature
// itself with goxmldsig, given a certificate store holding exactly the
// verified leaf; then, from the element goxmldsig returns, the header, its
// required fields, and the sender binding (the leaf's subject OU or
// serialNumber is From/OrganId, or its SHA-256 fingerprint is pinned for it).
//
// Every rejection wraps exactly one sentinel of errors.go, each with a stable
// machine code (Error.Code, CodeOf).
//
// # Caveats
//
// goxmldsig v1.6.1 does no chain validation, accepts SHA-1, and gives up
// ("traversal limit reached") when a Signature follows ~1,000 elements; this
// package covers all three (the Signature is moved to the front of
// edXMLHeader in memory before validation: the enveloped transform removes it
// wherever it sits, so nothing signed changes). The stored bytes are never
// rewritten.
//
// Field systems often emit the Signature without the xmldsig namespace
// declaration. Policy.LegacySignatureNS accepts that form by checking it as
// if the declaration were there; it is off by default.
//
// Successful chain verifications are cached per exact certificate bytes (the
// validity window is still checked at every call), so an agency that signs
// thousands of documents with one certificate pays for its chain once.
package envelope
