package envelope

import "errors"

// Error is a rejection with a stable machine code. Every sentinel below is an
// *Error; wrap one with fmt.Errorf("%w: ...") to add detail, and test with
// errors.Is. CodeOf recovers the code from any wrapped error.
type Error struct {
	code string
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Code is the stable machine code, e.g. "signature_invalid".
func (e *Error) Code() string { return e.code }

func newError(code, msg string) *Error { return &Error{code: code, msg: "envelope: " + msg} }

// Input errors: the bytes are not an acceptable XML document.
var (
	// ErrMalformedXML: not well-formed XML, invalid UTF-8, a charset other than
	// UTF-8, truncated input, or more than one root element.
	ErrMalformedXML = newError("malformed_xml", "malformed XML")
	// ErrDoctypeForbidden: any DOCTYPE (and so any entity declaration) is refused.
	ErrDoctypeForbidden = newError("doctype_forbidden", "DOCTYPE is forbidden")
	// ErrTooLarge: more bytes or more elements than the limits allow.
	ErrTooLarge = newError("too_large", "envelope too large")
	// ErrTooDeep: elements nested deeper than the limit.
	ErrTooDeep = newError("too_deep", "envelope nested too deep")
)

// Signature errors: the XML-DSig does not hold.
var (
	// ErrSignatureMissing: no Signature in the xmldsig namespace.
	ErrSignatureMissing = newError("signature_missing", "signature missing")
	// ErrSignatureInvalid: the signature is misplaced, duplicated, malformed,
	// references something other than the whole document, or its value does not
	// verify.
	ErrSignatureInvalid = newError("signature_invalid", "signature invalid")
	// ErrDigestMismatch: the signed content was changed after signing.
	ErrDigestMismatch = newError("digest_mismatch", "digest mismatch: content changed after signing")
	// ErrAlgorithmForbidden: an algorithm outside the policy's allowlist.
	ErrAlgorithmForbidden = newError("algorithm_forbidden", "algorithm forbidden by policy")
)

// Certificate errors: the signer is not one we trust for this envelope.
var (
	// ErrCertificateUntrusted: no certificate, or no chain to a policy root.
	ErrCertificateUntrusted = newError("certificate_untrusted", "certificate untrusted")
	// ErrCertificateExpired: a certificate of the chain is expired or not yet
	// valid at the verifier's clock.
	ErrCertificateExpired = newError("certificate_expired", "certificate expired or not yet valid")
	// ErrCertificateUsage: the signing certificate lacks digitalSignature key usage.
	ErrCertificateUsage = newError("certificate_usage", "certificate not allowed for digital signatures")
	// ErrSenderMismatch: the certificate does not belong to From/OrganId.
	ErrSenderMismatch = newError("sender_mismatch", "signer certificate does not belong to the sender")
	// ErrCertificateRevoked: a certificate of the chain is revoked (its CA's
	// OCSP responder or CRL says so); refused in every revocation mode but off.
	ErrCertificateRevoked = newError("certificate_revoked", "certificate revoked")
	// ErrRevocationUnknown: the status of a certificate of the chain could
	// not be established (revocation mode require; hold refuses with it after
	// hold_max).
	ErrRevocationUnknown = newError("revocation_unknown", "certificate revocation status unknown")
)

// Header errors: the signed envelope is not a usable edXML message.
var (
	// ErrHeaderInvalid: the edXML structure or a required header field is
	// missing or malformed; the detail names the field.
	ErrHeaderInvalid = newError("header_invalid", "header invalid")
)

// Authority errors: the signer may not do what the envelope asks.
var (
	// ErrNotEntitled: a revoke, update or replace of another agency's
	// document, or a status about a document the sender did not receive;
	// the detail names the rule.
	ErrNotEntitled = newError("not_entitled", "the sender is not entitled to do this")
)

// Codes lists every sentinel, in a stable order.
var Codes = []*Error{
	ErrMalformedXML, ErrDoctypeForbidden, ErrTooLarge, ErrTooDeep,
	ErrSignatureMissing, ErrSignatureInvalid, ErrDigestMismatch, ErrAlgorithmForbidden,
	ErrCertificateUntrusted, ErrCertificateExpired, ErrCertificateUsage, ErrSenderMismatch,
	ErrCertificateRevoked, ErrRevocationUnknown,
	ErrHeaderInvalid, ErrNotEntitled,
}

// CodeOf returns the machine code of err, or "" if err carries none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return ""
}

// ErrorByCode returns the sentinel with that code, or nil.
func ErrorByCode(code string) *Error {
	for _, e := range Codes {
		if e.code == code {
			return e
		}
	}
	return nil
}
