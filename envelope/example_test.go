package envelope_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/testgen"
)

// The examples run from envelope/, so the repository's testdata is one
// folder up.
var (
	exampleTestdata = filepath.Join("..", "testdata")
	examplePKI      = filepath.Join(exampleTestdata, "pki")
)

// exampleVerifier trusts the demo root CA and checks certificates at the
// demo PKI's pinned clock (the demo certificates are valid 2025-2035; the
// tests read them on 2026-06-01).
func exampleVerifier() *envelope.Verifier {
	roots, err := envelope.LoadRoots(filepath.Join(examplePKI, "demo-root-ca.crt"))
	if err != nil {
		panic(err)
	}
	v, err := envelope.NewVerifier(envelope.Policy{
		Roots: roots,
		Now:   func() time.Time { return demopki.TestNow },
	})
	if err != nil {
		panic(err)
	}
	return v
}

// A QCVN 102 code reads right to left: level-1 unit H40 (Nam Định), district
// 35, commune 07. Parent zeroes the highest non-zero level until only the
// province is left.
func ExampleParseOrganID() {
	o, err := envelope.ParseOrganID("000.07.35.H40")
	if err != nil {
		panic(err)
	}
	fmt.Println(o, o.Scheme(), o.Unit())
	for p, ok := o.Parent(); ok; p, ok = p.Parent() {
		fmt.Println("parent:", p)
	}
	// Output:
	// 000.07.35.H40 QCVN102 H40
	// parent: 000.00.35.H40
	// parent: 000.00.00.H40
}

// A QĐ 20/2020 code reads left to right: its level-1 unit is first, and its
// parent drops the last segment.
func ExampleParseOrganID_qd20() {
	o, err := envelope.ParseOrganID("H40.35.07")
	if err != nil {
		panic(err)
	}
	p, _ := o.Parent()
	fmt.Println(o, o.Scheme(), o.Unit(), "parent:", p)

	_, err = envelope.ParseOrganID("h40.35")
	fmt.Println(envelope.CodeOf(err))
	// Output:
	// H40.35.07 QD20 H40 parent: H40.35
	// header_invalid
}

// Verify checks a signed envelope against the trust roots and returns what
// the signed bytes say. Route and store only from the *Verified.
func ExampleVerifier_Verify() {
	raw, err := os.ReadFile(filepath.Join(exampleTestdata, "envelopes", "new.xml"))
	if err != nil {
		panic(err)
	}
	ver, err := exampleVerifier().Verify(raw)
	if err != nil {
		fmt.Println(envelope.CodeOf(err), err)
		return
	}
	m := ver.Message()
	fmt.Println("from:", m.From.OrganID)
	for _, t := range m.To {
		fmt.Println("to:", t.OrganID)
	}
	fmt.Println("code:", m.Code)
	fmt.Println("subject:", m.Subject)
	// The commune's certificate carries its organ code in the subject
	// serialNumber (sender binding). Its SHA-256 changes with a new demo PKI
	// (make testdata ARGS=-pki): update the line below then.
	fmt.Println("signer:", ver.Signer().Subject.SerialNumber, ver.SignerFingerprint()[:16])
	// Output:
	// from: 000.07.35.H40
	// to: 000.00.11.H40
	// code: 15/UBND-VP
	// subject: Công văn về việc báo cáo kết quả chuyển đổi số năm 2026
	// signer: 000.07.35.H40 d489663850b24357
}

// Sign an envelope as the commune UBND xã Hải Minh (000.07.35.H40) with its
// demo key and certificate chain, then verify what was signed.
func ExampleSigner_Sign() {
	unsigned, err := envelope.Encode(testgen.NewDocument())
	if err != nil {
		panic(err)
	}
	s, err := envelope.LoadSigner(
		filepath.Join(examplePKI, "demo-agency-000.07.35.H40.key"),
		filepath.Join(examplePKI, "demo-agency-000.07.35.H40.chain.pem"))
	if err != nil {
		panic(err)
	}
	signed, err := s.Sign(unsigned)
	if err != nil {
		panic(err)
	}
	ver, err := exampleVerifier().Verify(signed)
	if err != nil {
		fmt.Println(envelope.CodeOf(err), err)
		return
	}
	fmt.Println("ok", ver.Message().From.OrganID, ver.Algorithms().Signature)
	// Output:
	// ok 000.07.35.H40 http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
}

// Every refusal carries one stable machine code. Here the envelope is signed
// by a valid certificate, but of another agency than its From/OrganId.
func ExampleCodeOf() {
	raw, err := os.ReadFile(filepath.Join(exampleTestdata, "hostile", "cert-other-agency", "envelope.xml"))
	if err != nil {
		panic(err)
	}
	_, err = exampleVerifier().Verify(raw)
	fmt.Println(envelope.CodeOf(err))
	fmt.Println(envelope.ErrorByCode(envelope.CodeOf(err)) == envelope.ErrSenderMismatch)
	// Output:
	// sender_mismatch
	// true
}

// Parse reads an envelope without verifying it, for inspection only: what it
// returns may not be routed or stored.
func ExampleParse() {
	raw, err := os.ReadFile(filepath.Join(exampleTestdata, "envelopes", "status-03.xml"))
	if err != nil {
		panic(err)
	}
	m, err := envelope.Parse(raw, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Kind, m.From.OrganID, m.StatusCode, envelope.StatusCodes[m.StatusCode])
	fmt.Println("answers:", m.ResponseFor[0].DocumentID)
	// Output:
	// status 000.00.11.H40 03 accepted
	// answers: 000.07.35.H40,2026/05/28,15/UBND-VP
}
