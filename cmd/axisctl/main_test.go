package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/axis-h40/axis/internal/fixture"
)

const (
	pkiDir     = "../../testdata/pki"
	envDir     = "../../testdata/envelopes"
	samplesDir = "../../../shared/edxml-samples"

	testAt       = "2026-06-01T09:00:00Z"
	commune      = "000.07.35.H40"
	department   = "000.00.11.H40"
	district     = "000.00.35.H40"
	newSubject   = "Công văn về việc báo cáo kết quả chuyển đổi số năm 2026"
	algRSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	algRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
)

var rootCA = filepath.Join(pkiDir, "demo-root-ca.crt")

// axisctl runs the CLI in-process.
func axisctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

// verifyOutput is the JSON verify prints. The pointer fields tell an absent
// key from a zero value.
type verifyOutput struct {
	Verified     bool     `json:"verified"`
	SHA256       string   `json:"sha256"`
	From         string   `json:"from"`
	To           []string `json:"to"`
	DocumentID   string   `json:"document_id"`
	Kind         string   `json:"kind"`
	Code         string   `json:"code"`
	Subject      string   `json:"subject"`
	BusinessType *int     `json:"business_type"`
	StatusCode   *string  `json:"status_code"`
	Signer       struct {
		Subject           string `json:"subject"`
		FingerprintSHA256 string `json:"fingerprint_sha256"`
		NotAfter          string `json:"not_after"`
	} `json:"signer"`
	Algorithms struct {
		Canonicalization string `json:"canonicalization"`
		Signature        string `json:"signature"`
		Digest           string `json:"digest"`
	} `json:"algorithms"`
	CheckedAt string `json:"checked_at"`
}

// verifyOK runs verify, requires exit 0 and decodes the summary.
func verifyOK(t *testing.T, args ...string) verifyOutput {
	t.Helper()
	code, stdout, stderr := axisctl(t, append([]string{"verify"}, args...)...)
	if code != 0 {
		t.Fatalf("verify %v: exit %d, stderr:\n%s", args, code, stderr)
	}
	var v verifyOutput
	decodeStrict(t, "verify output", stdout, &v)
	if !v.Verified {
		t.Fatalf("verified is false:\n%s", stdout)
	}
	return v
}

// decodeStrict decodes JSON output into v, every key known to v.
func decodeStrict(t *testing.T, what, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
}

// refused runs verify or inspect, requires exit 1 and a last stderr line
// "code: ...", and returns that line.
func refused(t *testing.T, code string, args ...string) string {
	t.Helper()
	exit, stdout, stderr := axisctl(t, args...)
	if exit != 1 {
		t.Fatalf("%v: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args, exit, stdout, stderr)
	}
	line := lastLine(stderr)
	if !strings.HasPrefix(line, code+": ") {
		t.Fatalf("%v: last stderr line %q, want prefix %q", args, line, code+": ")
	}
	if stdout != "" {
		t.Errorf("%v: refused but printed to stdout:\n%s", args, stdout)
	}
	return line
}

// fingerprint is the SHA-256 of the first certificate in a PEM file,
// computed without the envelope package.
func fingerprint(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("%s: no certificate", file)
	}
	s := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(s[:])
}

func fileSHA256(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func signArgs(input string, extra ...string) []string {
	return append([]string{"sign",
		"--key", filepath.Join(pkiDir, "demo-agency-"+commune+".key"),
		"--cert", filepath.Join(pkiDir, "demo-agency-"+commune+".chain.pem"),
		input}, extra...)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	code, signed, stderr := axisctl(t, signArgs(filepath.Join(envDir, "unsigned-new.xml"))...)
	if code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	if !strings.Contains(signed, "<ds:Signature") {
		t.Fatalf("sign output has no ds:Signature:\n%.500s", signed)
	}
	file := filepath.Join(t.TempDir(), "signed.xml")
	if err := os.WriteFile(file, []byte(signed), 0o644); err != nil {
		t.Fatal(err)
	}

	v := verifyOK(t, "--roots", rootCA, "--at", testAt, file)
	if v.From != commune || !reflect.DeepEqual(v.To, []string{department}) {
		t.Errorf("from %q to %q, want %s to [%s]", v.From, v.To, commune, department)
	}
	if v.Code != "15/UBND-VP" || v.Kind != "document" || v.Subject != newSubject {
		t.Errorf("code %q kind %q subject %q", v.Code, v.Kind, v.Subject)
	}
	if v.DocumentID != commune+",2026/05/28,15/UBND-VP" {
		t.Errorf("document_id %q", v.DocumentID)
	}
	if v.BusinessType == nil || *v.BusinessType != 0 || v.StatusCode != nil {
		t.Errorf("business_type %v status_code %v, want 0 and absent", v.BusinessType, v.StatusCode)
	}
	if want := fileSHA256(t, file); v.SHA256 != want {
		t.Errorf("sha256 %s, want %s", v.SHA256, want)
	}
	if want := fingerprint(t, filepath.Join(pkiDir, "demo-agency-"+commune+".crt")); v.Signer.FingerprintSHA256 != want {
		t.Errorf("signer fingerprint %s, want %s", v.Signer.FingerprintSHA256, want)
	}
	if !strings.Contains(v.Signer.Subject, commune) || v.Signer.NotAfter != "2035-06-01T00:00:00Z" {
		t.Errorf("signer %+v", v.Signer)
	}
	if v.Algorithms.Signature != algRSASHA256 || v.CheckedAt != testAt {
		t.Errorf("algorithms %+v", v.Algorithms)
	}

	// Flags after the file, in --flag=value form, give the same result.
	w := verifyOK(t, file, "--roots="+rootCA, "--at="+testAt)
	if !reflect.DeepEqual(v, w) {
		t.Errorf("flags after the file: %+v, want %+v", w, v)
	}
}

func TestSignOutputFileAndStdin(t *testing.T) {
	// Not parallel: replaces stdin.
	in, err := os.ReadFile(filepath.Join(envDir, "unsigned-new.xml"))
	if err != nil {
		t.Fatal(err)
	}
	old := stdin
	stdin = bytes.NewReader(in)
	defer func() { stdin = old }()

	out := filepath.Join(t.TempDir(), "out.xml")
	code, stdout, stderr := axisctl(t, signArgs("-", "-o", out)...)
	if code != 0 || stdout != "" {
		t.Fatalf("sign - -o: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	v := verifyOK(t, "--roots", rootCA, "--at", testAt, out)
	if v.From != commune || v.Code != "15/UBND-VP" {
		t.Errorf("%+v", v)
	}
}

func TestSignRefusesMalformed(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out.xml")
	refused(t, "malformed_xml", signArgs(fixture.Hostile(t, "truncated").Path, "-o", out)...)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("failed sign created %s (%v)", out, err)
	}
}

func TestVerifyStatus(t *testing.T) {
	t.Parallel()
	v := verifyOK(t, "--roots", rootCA, "--at", testAt, filepath.Join(envDir, "status-13.xml"))
	if v.Kind != "status" || v.StatusCode == nil || *v.StatusCode != "13" || v.BusinessType != nil {
		t.Errorf("kind %q status_code %v business_type %v", v.Kind, v.StatusCode, v.BusinessType)
	}
	if v.From != department || v.To == nil || len(v.To) != 0 {
		t.Errorf("from %q to %#v", v.From, v.To)
	}
}

func TestVerifyBusinessTypes(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]int{"new.xml": 0, "revoke.xml": 1, "update.xml": 2, "replace.xml": 3} {
		v := verifyOK(t, "--roots", rootCA, "--at", testAt, filepath.Join(envDir, file))
		if v.BusinessType == nil || *v.BusinessType != want {
			t.Errorf("%s: business_type %v, want %d", file, v.BusinessType, want)
		}
	}
}

func TestVerifyHostile(t *testing.T) {
	t.Parallel()
	for _, c := range fixture.HostileCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			file := c.File(t)
			switch {
			case c.VerifyCode == "ok" && c.HubOnly(): // only the hub's store refuses it
				verifyOK(t, "--roots", rootCA, "--at", testAt, file)
			case c.VerifyCode == "ok":
				v := verifyOK(t, "--roots", rootCA, "--at", testAt, file)
				if v.Subject != newSubject || v.From != commune {
					t.Errorf("subject %q from %q", v.Subject, v.From)
				}
			default:
				refused(t, c.VerifyCode, "verify", "--roots", rootCA, "--at", testAt, file)
			}
		})
	}
}

func TestVerifyLegacyOptions(t *testing.T) {
	t.Parallel()
	legacy := fixture.Hostile(t, "signature-edxml-namespace").Path
	refused(t, "signature_missing", "verify", "--roots", rootCA, "--at", testAt, legacy)
	v := verifyOK(t, "--roots", rootCA, "--at", testAt, "--legacy-signature-ns", legacy)
	if v.From != commune || v.Code != "15/UBND-VP" {
		t.Errorf("legacy: %+v", v)
	}
	// A boolean flag before the file does not swallow it.
	verifyOK(t, "--legacy-signature-ns", legacy, "--roots", rootCA, "--at", testAt)

	sha1 := fixture.Hostile(t, "rsa-sha1").Path
	refused(t, "algorithm_forbidden", "verify", "--roots", rootCA, "--at", testAt, sha1)
	v = verifyOK(t, "--roots", rootCA, "--at", testAt, sha1, "--allow-sha1")
	if v.Algorithms.Signature != algRSASHA1 {
		t.Errorf("rsa-sha1 with --allow-sha1: algorithms %+v", v.Algorithms)
	}
}

func TestVerifyPin(t *testing.T) {
	t.Parallel()
	// The department's certificate signed a document From the commune.
	file := fixture.Hostile(t, "cert-other-agency").Path
	fp := fingerprint(t, filepath.Join(pkiDir, "demo-agency-"+department+".crt"))
	base := []string{"--roots", rootCA, "--at", testAt, file}

	refused(t, "sender_mismatch", append([]string{"verify"}, base...)...)
	v := verifyOK(t, append(base, "--pin", commune+"="+fp)...)
	if v.From != commune || v.Signer.FingerprintSHA256 != fp || !strings.Contains(v.Signer.Subject, department) {
		t.Errorf("pinned: %+v", v)
	}
	// Upper case with colons, among other pins, works too.
	var colons []string
	for i := 0; i < len(fp); i += 2 {
		colons = append(colons, strings.ToUpper(fp[i:i+2]))
	}
	verifyOK(t, append(base, "--pin", district+"="+strings.Repeat("ab", 32), "--pin="+commune+"="+strings.Join(colons, ":"))...)

	// Pinned for another organ, or another fingerprint: still refused.
	refused(t, "sender_mismatch", append(append([]string{"verify"}, base...), "--pin", district+"="+fp)...)
	refused(t, "sender_mismatch", append(append([]string{"verify"}, base...), "--pin", commune+"="+strings.Repeat("0", 64))...)
}

func TestVerifyClock(t *testing.T) {
	t.Parallel()
	file := filepath.Join(envDir, "new.xml")
	refused(t, "certificate_expired", "verify", "--roots", rootCA, "--at", "2035-06-01T00:00:01Z", file)
	refused(t, "certificate_expired", "verify", "--roots", rootCA, "--at", "2025-05-31T23:59:59Z", file)
	// Another root only: untrusted.
	refused(t, "certificate_untrusted", "verify", "--roots", filepath.Join(pkiDir, "demo-rogue-root-ca.crt"), "--at", testAt, file)
	// Several --roots.
	verifyOK(t, "--roots", filepath.Join(pkiDir, "demo-rogue-root-ca.crt"), "--roots", rootCA, "--at", testAt, file)
}

type inspectOutput struct {
	Unverified       bool   `json:"unverified"`
	Warning          string `json:"warning"`
	SignaturePresent bool   `json:"signature_present"`
	Validation       string `json:"validation"`
	Header           struct {
		Kind string `json:"kind"`
		From struct {
			OrganID string `json:"organ_id"`
		} `json:"from"`
		To []struct {
			OrganID string `json:"organ_id"`
		} `json:"to"`
		DocumentID  string `json:"document_id"`
		Subject     string `json:"subject"`
		StatusCode  string `json:"status_code"`
		ResponseFor []struct {
			OrganID    string `json:"organ_id"`
			DocumentID string `json:"document_id"`
		} `json:"response_for"`
		Business *struct {
			DocType int `json:"doc_type"`
		} `json:"business"`
	} `json:"header"`
}

func (o *inspectOutput) to() []string {
	var out []string
	for _, t := range o.Header.To {
		out = append(out, t.OrganID)
	}
	return out
}

func (o *inspectOutput) businessType() int {
	if o.Header.Business == nil {
		return 0
	}
	return o.Header.Business.DocType
}

func inspectOK(t *testing.T, file string) inspectOutput {
	t.Helper()
	code, stdout, stderr := axisctl(t, "inspect", file)
	if code != 0 {
		t.Fatalf("inspect %s: exit %d, stderr:\n%s", file, code, stderr)
	}
	if !strings.Contains(stderr, unverifiedWarning+"\n") {
		t.Errorf("inspect %s: no warning on stderr: %q", file, stderr)
	}
	var o inspectOutput
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("inspect %s: %v\n%s", file, err, stdout)
	}
	if !o.Unverified || o.Warning != unverifiedWarning {
		t.Errorf("inspect %s: unverified %v warning %q", file, o.Unverified, o.Warning)
	}
	return o
}

func TestInspect(t *testing.T) {
	t.Parallel()
	o := inspectOK(t, filepath.Join(envDir, "new.xml"))
	if !o.SignaturePresent || o.Validation != "" || o.Header.From.OrganID != commune || o.Header.Subject != newSubject {
		t.Errorf("new.xml: %+v", o)
	}
	o = inspectOK(t, filepath.Join(envDir, "unsigned-new.xml"))
	if o.SignaturePresent || o.Header.From.OrganID != commune {
		t.Errorf("unsigned-new.xml: signature_present %v from %q", o.SignaturePresent, o.Header.From.OrganID)
	}
	// Inspect shows what verify would refuse: a forged or invalid header.
	o = inspectOK(t, fixture.Hostile(t, "subject-changed").Path)
	if !strings.Contains(o.Header.Subject, "chuyển đổi sổ") {
		t.Errorf("subject-changed: subject %q", o.Header.Subject)
	}
	o = inspectOK(t, fixture.Hostile(t, "missing-from").Path)
	if !strings.HasPrefix(o.Validation, "envelope: header invalid: missing From/OrganId") {
		t.Errorf("missing-from: validation %q", o.Validation)
	}
	// Parse failures.
	refused(t, "doctype_forbidden", "inspect", fixture.Hostile(t, "billion-laughs").Path)
	refused(t, "header_invalid", "inspect", fixture.Hostile(t, "not-edxml").Path)
	refused(t, "too_large", "inspect", fixture.Hostile(t, "elements-2000000").File(t))
}

func TestHasSignatureElement(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		`<a><Signature xmlns="x"/></a>`: true,
		`<a><Signature>`:                true,
		`<a><ds:Signature>`:             true,
		`<a><ds:Signature/>`:            true,
		"<a><Signature\n>":              true,
		`<a><SignatureValue>`:           false,
		`<a><SignerInfo>`:               false,
		`<a>Signature</a>`:              false,
		`<a>Signature`:                  false,
		`Signature`:                     false,
		``:                              false,
	} {
		if got := hasSignatureElement([]byte(in)); got != want {
			t.Errorf("hasSignatureElement(%q) = %v, want %v", in, got, want)
		}
	}
}

// sample is what a field sample of ../shared/edxml-samples holds, read from
// the files by hand.
type sample struct {
	from       string
	to         []string
	documentID string
	business   int    // documents
	status     string // status messages
	signature  bool   // a Signature element is present
	responseID string // ResponseFor/DocumentId of a status message
}

const vpcpDocID = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"

var vpcpTo = []string{"000.00.00.H41", "000.00.00.H14", "000.00.00.G17"}

func statusSample(code string) sample {
	return sample{from: "000.00.00.H41", status: code, responseID: vpcpDocID}
}

var samples = map[string]sample{
	"vpcp_sdk_edoc_new.edxml":             {from: "000.00.00.A80", to: []string{"28.22.H17"}, documentID: vpcpDocID, business: 0, signature: true},
	"vpcp_sdk_edoc_revocation.edxml":      {from: "000.00.00.G22", to: vpcpTo, documentID: vpcpDocID, business: 1, signature: true},
	"vpcp_sdk_edoc_update.edxml":          {from: "000.00.00.G22", to: vpcpTo, documentID: vpcpDocID, business: 2, signature: true},
	"vpcp_sdk_edoc_replacement.edxml":     {from: "000.00.00.G22", to: vpcpTo, documentID: vpcpDocID, business: 3, signature: true},
	"real_received_2019_852e179c.edxml":   {from: "000.00.15.H51", to: []string{"000.00.15.H51"}, documentID: "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb", business: 0, signature: true},
	"vpcp_sdk_status.edxml":               statusSample("01"),
	"vpcp_sdk_status_inbox__01.edxml":     statusSample("01"),
	"vpcp_sdk_status_rejection_02.edxml":  statusSample("02"),
	"vpcp_sdk_status_acceptance_03.edxml": statusSample("03"),
	"vpcp_sdk_status_assignment_04.edxml": statusSample("04"),
	"vpcp_sdk_status_processing_05.edxml": statusSample("05"),
	"vpcp_sdk_status_finish_06.edxml":     statusSample("06"),
	"vpcp_sdk_status_cancellation_13.edxml": {
		from: "000.00.00.G22", status: "13", responseID: vpcpDocID, // the sender asks its recipient to give it back
	},
	"vpcp_sdk_status_change-acceptance_15.edxml": statusSample("15"),
	"vpcp_sdk_status_change-rejection_16.edxml":  statusSample("16"),
}

// malformedSample is not well-formed XML (an unbound xlink prefix).
const malformedSample = "vpcp_sdk_edoc.edxml"

func samplesPresent(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(samplesDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("field samples missing in CI: %v", err)
		}
		t.Skipf("field samples not here (%v); they are checked in CI", err)
	}
}

func TestFieldSamples(t *testing.T) {
	t.Parallel()
	samplesPresent(t)
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.edxml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		seen[name] = true
		if name == malformedSample {
			continue
		}
		want, ok := samples[name]
		if !ok {
			t.Errorf("%s: a new sample; add it to the table", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := inspectOK(t, file)
			h := o.Header
			if h.From.OrganID != want.from {
				t.Errorf("from %q, want %q", h.From.OrganID, want.from)
			}
			if got := o.to(); !reflect.DeepEqual(got, want.to) {
				t.Errorf("to %q, want %q", got, want.to)
			}
			if h.DocumentID != want.documentID {
				t.Errorf("document_id %q, want %q", h.DocumentID, want.documentID)
			}
			if want.status != "" {
				if h.Kind != "status" || h.StatusCode != want.status {
					t.Errorf("kind %q status_code %q, want status %q", h.Kind, h.StatusCode, want.status)
				}
				if len(h.ResponseFor) != 1 || h.ResponseFor[0].DocumentID != want.responseID {
					t.Errorf("response_for %+v, want document %q", h.ResponseFor, want.responseID)
				}
			} else if h.Kind != "document" || o.businessType() != want.business {
				t.Errorf("kind %q business type %d, want document %d", h.Kind, o.businessType(), want.business)
			}
			if o.SignaturePresent != want.signature {
				t.Errorf("signature_present %v, want %v", o.SignaturePresent, want.signature)
			}
			// Every well-formed field sample passes the hub's required-field
			// check (the update names its target in Bussiness/DocumentId).
			if o.Validation != "" {
				t.Errorf("validation %q, want none", o.Validation)
			}

			// None of the samples' signatures can verify: the documents'
			// Signature lacks the xmldsig namespace, the statuses have none.
			refused(t, "signature_missing", "verify", "--roots", rootCA, file)
		})
	}
	for name := range samples {
		if !seen[name] {
			t.Errorf("%s: in the table but not in %s", name, samplesDir)
		}
	}
	if !seen[malformedSample] {
		t.Errorf("%s: not in %s", malformedSample, samplesDir)
	}
}

func TestMalformedFieldSample(t *testing.T) {
	t.Parallel()
	samplesPresent(t)
	file := filepath.Join(samplesDir, malformedSample)
	refused(t, "malformed_xml", "inspect", file)
	refused(t, "malformed_xml", "verify", "--roots", rootCA, file)
}

// A file that is missing or not what it should be is a failure (exit 1),
// not a usage error (2): the command line was right.
func TestInputFileErrors(t *testing.T) {
	t.Parallel()
	env := filepath.Join(envDir, "new.xml")
	missing := filepath.Join(t.TempDir(), "missing.xml")
	noFile := "open " + missing + ": no such file or directory"
	for _, tc := range []struct {
		args []string
		want string // the last line of stderr
	}{
		{[]string{"verify", "--roots", rootCA, missing}, "error: verify: " + noFile},
		{[]string{"verify", "--roots", missing, env}, "error: verify: --roots: " + noFile},
		{[]string{"verify", "--roots", env, env}, "error: verify: --roots: " + env + ": no certificate in PEM data"},
		{[]string{"sign", "--key", missing, "--cert", filepath.Join(pkiDir, "demo-agency-"+commune+".chain.pem"), env}, "error: sign: " + noFile},
		{[]string{"sign", "--key", filepath.Join(pkiDir, "demo-agency-"+commune+".key"), "--cert", filepath.Join(pkiDir, "demo-agency-"+department+".chain.pem"), env},
			"error: sign: envelope: the first certificate does not match the key"},
		{signArgs(missing), "error: sign: " + noFile},
		{[]string{"inspect", missing}, "error: inspect: " + noFile},
		{[]string{"send", "--hub", "http://127.0.0.1:1", "--token", "t", missing}, "error: send: " + noFile},
	} {
		code, stdout, stderr := axisctl(t, tc.args...)
		if code != 1 || stdout != "" || lastLine(stderr) != tc.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	env := filepath.Join(envDir, "new.xml")
	for _, args := range [][]string{
		{},
		{"nope"},
		{"help", "nope"},
		{"verify"},
		{"verify", env},
		{"verify", "--roots", rootCA},
		{"verify", "--roots", rootCA, env, env},
		{"verify", "--roots", rootCA, "--at", "2026-06-01", env},
		{"verify", "--roots", rootCA, "--pin", "000.07.35.H40", env},
		{"verify", "--roots", rootCA, "--pin", "000.07.35.H40=abcd", env},
		{"verify", "--roots", rootCA, "--pin", "not an organ=" + strings.Repeat("ab", 32), env},
		{"verify", "--roots", rootCA, "--bogus", env},
		{"verify", "--roots"},
		{"sign", env},
		{"sign", "--key", filepath.Join(pkiDir, "demo-agency-"+commune+".key"), env},
		{"inspect"},
		{"inspect", env, env},
	} {
		code, stdout, stderr := axisctl(t, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\nstderr:\n%s", args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: usage error printed to stdout: %q", args, stdout)
		}
		if stderr == "" {
			t.Errorf("%q: no message on stderr", args)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := axisctl(t, "help")
	if code != 0 || stderr != "" {
		t.Fatalf("help: exit %d, stderr %q", code, stderr)
	}
	for name := range commands {
		sum, ok := summaries[name]
		if !ok || sum == "" {
			t.Errorf("command %s has no summary", name)
		}
		if !strings.Contains(stdout, fmt.Sprintf("  %s  ", name)) || !strings.Contains(stdout, sum) {
			t.Errorf("help does not list %s:\n%s", name, stdout)
		}
	}
	for name := range summaries {
		if _, ok := commands[name]; !ok {
			t.Errorf("summary for unknown command %s", name)
		}
	}
	// No arguments: the usage on stderr, exit 2.
	code, stdout2, stderr := axisctl(t)
	if code != 2 || stdout2 != "" || stderr != stdout {
		t.Errorf("no args: exit %d, stdout %q, stderr %q", code, stdout2, stderr)
	}
	// Per-command help lists the flags.
	code, stdout, _ = axisctl(t, "help", "verify")
	if code != 0 || !strings.Contains(stdout, "-roots") || !strings.Contains(stdout, "-legacy-signature-ns") {
		t.Errorf("help verify: exit %d\n%s", code, stdout)
	}
	code, _, stderr = axisctl(t, "sign", "-h")
	if code != 0 || !strings.Contains(stderr, "usage: axisctl sign") {
		t.Errorf("sign -h: exit %d\n%s", code, stderr)
	}
}

func TestFlagsFirst(t *testing.T) {
	t.Parallel()
	fs := newFlagSet("x", "", io.Discard)
	fs.String("s", "", "")
	fs.Bool("b", false, "")
	var l listFlag
	fs.Var(&l, "l", "")
	for _, c := range []struct{ in, want []string }{
		{nil, []string{"--"}},
		{[]string{"f"}, []string{"--", "f"}},
		{[]string{"f", "--s", "v"}, []string{"--s", "v", "--", "f"}},
		{[]string{"f", "-s=v", "g"}, []string{"-s=v", "--", "f", "g"}},
		{[]string{"--b", "f", "--l", "1", "--l=2"}, []string{"--b", "--l", "1", "--l=2", "--", "f"}},
		{[]string{"-b=false", "f"}, []string{"-b=false", "--", "f"}},
		{[]string{"-", "--s", "v"}, []string{"--s", "v", "--", "-"}},
		{[]string{"--s", "v", "--", "--b", "f"}, []string{"--s", "v", "--", "--b", "f"}},
		{[]string{"--unknown", "f"}, []string{"--unknown", "--", "f"}},
		{[]string{"f", "--s"}, []string{"--s", "--", "f"}},
	} {
		if got := flagsFirst(fs, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRefusalLines(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := axisctl(t, "verify", "--roots", rootCA, "--at", testAt, fixture.Hostile(t, "subject-changed").Path)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != 1 || stdout != "" || len(lines) != 2 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The message for people, then CODE: the same message.
	if !strings.HasPrefix(lines[0], "envelope: digest mismatch") || lines[1] != "digest_mismatch: "+lines[0] {
		t.Errorf("stderr lines %q", lines)
	}
}

// sign refuses to sign as another organ (every hub would refuse the
// envelope, sender_mismatch) unless --force: the forced envelope is signed
// and verify refuses it for that reason.
func TestSignRefusesAnotherOrgan(t *testing.T) {
	t.Parallel()
	asDepartment := []string{"sign",
		"--key", filepath.Join(pkiDir, "demo-agency-"+department+".key"),
		"--cert", filepath.Join(pkiDir, "demo-agency-"+department+".chain.pem"),
		filepath.Join(envDir, "unsigned-new.xml")} // From is the commune
	line := refused(t, "sender_mismatch", asDepartment...)
	if !strings.Contains(line, "is not bound to From/OrganId "+commune+" (a hub refuses it); --force signs anyway") {
		t.Errorf("refusal: %q", line)
	}
	out := filepath.Join(t.TempDir(), "forced.xml")
	if code, stdout, stderr := axisctl(t, append(asDepartment, "--force", "-o", out)...); code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("--force: exit %d %q %q", code, stdout, stderr)
	}
	refused(t, "sender_mismatch", "verify", "--roots", rootCA, out)
}
