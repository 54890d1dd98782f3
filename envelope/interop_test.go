package envelope_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// Interop with Debian's xmlsec1 (libxmlsec1), the independent XML-DSig
// implementation: it must verify what axis signs, and axis must verify what it
// signs. Skipped without xmlsec1 on a developer's machine, never in CI.

func xmlsec1(t *testing.T) string {
	t.Helper()
	return fixture.Tool(t, "xmlsec1", "xmlsec1")
}

func pki(name string) string { return filepath.Join(pkiDir, name) }

func TestXmlsec1VerifiesAxisSignatures(t *testing.T) {
	xmlsec1(t)
	for name, raw := range map[string][]byte{
		"small":          fixture.Envelope(t, "new.xml"),
		"status":         fixture.Envelope(t, "status-03.xml"),
		"2MB-attachment": largeDocument(t, 0, 2<<20),
	} {
		t.Run(name, func(t *testing.T) {
			if ok, out := fixture.XmlsecVerify(t, fixture.WriteTemp(t, "signed.xml", raw)); !ok {
				t.Fatalf("xmlsec1 refused:\n%s", out)
			}
		})
	}
	// The check can fail: xmlsec1 refuses a changed Subject and a rogue CA.
	for _, c := range []string{"subject-changed", "cert-untrusted-root"} {
		if ok, _ := fixture.XmlsecVerify(t, fixture.Hostile(t, c).Path); ok {
			t.Fatalf("xmlsec1 accepted %s", c)
		}
	}
}

// template inserts an xmlsec1 signature template as the last child of
// edXMLHeader.
func template(t *testing.T, unsigned []byte, sigAlg, digestAlg, indent string) []byte {
	t.Helper()
	tmpl := `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">` + indent +
		`<SignedInfo>` + indent +
		`<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` + indent +
		`<SignatureMethod Algorithm="` + sigAlg + `"/>` + indent +
		`<Reference URI="">` + indent + `<Transforms>` +
		`<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` + `</Transforms>` + indent +
		`<DigestMethod Algorithm="` + digestAlg + `"/>` + indent + `<DigestValue/>` + indent +
		`</Reference>` + indent + `</SignedInfo>` + indent +
		`<SignatureValue/>` + indent + `<KeyInfo><X509Data/></KeyInfo>` + indent + `</Signature>`
	s := string(unsigned)
	if strings.Count(s, "</edXML:edXMLHeader>") != 1 {
		t.Fatal("template: no edXMLHeader end tag")
	}
	return []byte(strings.Replace(s, "</edXML:edXMLHeader>", tmpl+"</edXML:edXMLHeader>", 1))
}

func xmlsecSign(t *testing.T, tmpl []byte) []byte {
	t.Helper()
	in := fixture.WriteTemp(t, "template.xml", tmpl)
	out := filepath.Join(t.TempDir(), "signed.xml")
	leaf := testgen.AgencyName(testgen.Commune)
	keys := strings.Join([]string{pki(leaf + ".key"), pki(leaf + ".crt"), pki(testgen.IssuingCA + ".crt")}, ",")
	if b, err := exec.Command(xmlsec1(t), "--sign", "--privkey-pem", keys, "--output", out, in).CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, b)
	}
	return fixture.ReadFile(t, out)
}

func unsigned(t *testing.T, m *envelope.Message) []byte {
	t.Helper()
	raw, err := envelope.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAxisVerifiesXmlsec1Signatures(t *testing.T) {
	xmlsec1(t)
	small := unsigned(t, testgen.NewDocument())
	big := testgen.NewDocument()
	content := make([]byte, 2<<20)
	for i := range content {
		content[i] = byte(i * 31)
	}
	big.Attachments = append(big.Attachments, envelope.NewAttachment("cid:2", "phu-luc.zip", "application/zip", content))
	pretty := strings.NewReplacer(
		"<edXML:MessageHeader>", "<!-- header written by a field DMS -->\n      <edXML:MessageHeader>\n        <!-- from -->",
		"chuyển đổi số", "chuyển đổi<!-- a comment inside signed text --> số",
		"<edXML:Subject>", "\n\t\t<edXML:Subject>",
	).Replace(string(small))
	pretty = strings.Replace(pretty, "<edXML ", "<!-- before the root -->\n<edXML ", 1)

	cases := []struct {
		name, sigAlg, digestAlg, indent string
		doc                             []byte
		sha1                            bool
	}{
		{"small", envelope.AlgRSASHA256, envelope.AlgSHA256, "", small, false},
		{"2MB-attachment", envelope.AlgRSASHA256, envelope.AlgSHA256, "", unsigned(t, big), false},
		{"pretty-with-comments", envelope.AlgRSASHA256, envelope.AlgSHA256, "\n          ", []byte(pretty), false},
		{"rsa-sha1", envelope.AlgRSASHA1, envelope.AlgSHA1, "\n", small, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signed := xmlsecSign(t, template(t, c.doc, c.sigAlg, c.digestAlg, c.indent))
			strict := newVerifier(t, nil)
			got, err := strict.Verify(signed)
			if c.sha1 {
				if !errors.Is(err, envelope.ErrAlgorithmForbidden) {
					t.Fatalf("default policy on rsa-sha1: %v", err)
				}
				got, err = newVerifier(t, func(p *envelope.Policy) { p.AllowSHA1 = true }).Verify(signed)
			}
			if err != nil {
				t.Fatalf("axis refused what xmlsec1 signed: %v", err)
			}
			m := got.Message()
			if m.From.OrganID != testgen.Commune || m.To[0].OrganID != testgen.Department ||
				m.Subject != testgen.NewDocument().Subject {
				t.Fatalf("header: %s %v %q", m.From.OrganID, m.To, m.Subject)
			}
			if got.Algorithms().Signature != c.sigAlg {
				t.Fatalf("algorithm %s", got.Algorithms().Signature)
			}
			// And a changed byte in the signed content is caught.
			tampered := []byte(strings.Replace(string(signed), "Hải Minh", "Hải Mính", 1))
			if _, err := newVerifier(t, func(p *envelope.Policy) { p.AllowSHA1 = true }).Verify(tampered); !errors.Is(err, envelope.ErrDigestMismatch) {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
}
