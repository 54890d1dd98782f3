package envelope_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

var (
	pkiDir = fixture.PKIDir
	envDir = fixture.EnvelopesDir
)

func newVerifier(t testing.TB, mod func(*envelope.Policy)) *envelope.Verifier {
	t.Helper()
	return fixture.VerifierWith(t, mod)
}

// TestHostile checks that every hostile case produces exactly its code, and
// that none can make Verify report a header other than the genuine one.
func TestHostile(t *testing.T) {
	v := newVerifier(t, nil)
	genuine, err := v.Verify(fixture.Envelope(t, "new.xml"))
	if err != nil {
		t.Fatalf("genuine sample: %v", err)
	}
	want := genuine.Message()
	for _, c := range fixture.HostileCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := v.Verify(c.Raw)
			if c.VerifyCode == "ok" {
				if err != nil {
					t.Fatalf("want it verified, got %v", err)
				}
				if c.HubOnly() {
					return
				}
			} else {
				sentinel := envelope.ErrorByCode(c.VerifyCode)
				if sentinel == nil {
					t.Fatalf("unknown code %q in testdata", c.VerifyCode)
				}
				if !errors.Is(err, sentinel) {
					t.Fatalf("want %s, got %v (code %q)", c.VerifyCode, err, envelope.CodeOf(err))
				}
				if got != nil {
					t.Fatalf("rejected envelope came with a Verified")
				}
				return
			}
			m := got.Message()
			if m.From.OrganID != want.From.OrganID || m.DocumentID != want.DocumentID || m.Subject != want.Subject ||
				len(m.To) != 1 || m.To[0].OrganID != want.To[0].OrganID {
				t.Fatalf("header changed: from %s to %v doc %s subject %q", m.From.OrganID, m.To, m.DocumentID, m.Subject)
			}
		})
	}
}

func TestSignedSamplesVerify(t *testing.T) {
	v := newVerifier(t, nil)
	files, _ := filepath.Glob(filepath.Join(envDir, "*.xml"))
	n := 0
	for _, f := range files {
		if strings.Contains(f, "unsigned") {
			continue
		}
		n++
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			got, err := v.Verify(fixture.ReadFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			m := got.Message()
			switch {
			case strings.HasPrefix(name, "status-"):
				code := strings.TrimSuffix(strings.TrimPrefix(name, "status-"), ".xml")
				if m.Kind != envelope.KindStatus || m.StatusCode != code || m.ResponseFor[0].OrganID != testgen.Commune {
					t.Fatalf("status: kind %s code %s", m.Kind, m.StatusCode)
				}
			default:
				types := map[string]int{"new.xml": 0, "revoke.xml": 1, "update.xml": 2, "replace.xml": 3}
				if m.Kind != envelope.KindDocument || m.BusinessDocType() != types[name] {
					t.Fatalf("kind %s type %d", m.Kind, m.BusinessDocType())
				}
				beyond := map[string]string{"to-central.xml": "000.00.00.G22", "to-other-province.xml": "000.00.11.H41"}
				if want, ok := beyond[name]; ok && (len(m.To) != 1 || m.To[0].OrganID != want || m.To[0].OrganName == "") {
					t.Fatalf("%s is addressed to %+v, want %s with its name", name, m.To, want)
				}
			}
			if got.Algorithms().Signature != envelope.AlgRSASHA256 || got.Algorithms().Digest != envelope.AlgSHA256 ||
				got.Algorithms().Canonicalization != envelope.AlgExcC14N {
				t.Fatalf("algorithms %+v", got.Algorithms())
			}
			if len(got.Chain()) != 3 {
				t.Fatalf("chain length %d, want leaf, issuing CA, root", len(got.Chain()))
			}
		})
	}
	if n != 15 {
		t.Fatalf("%d signed samples, want 15 (new, revoke, update, replace, 9 statuses, to a central body, to another province)", n)
	}
}

func TestVerifiedFields(t *testing.T) {
	v := newVerifier(t, nil)
	raw := fixture.Envelope(t, "new.xml")
	got, err := v.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Raw(), raw) {
		t.Fatal("Raw is not the input")
	}
	m := got.Message()
	want := testgen.NewDocument()
	if m.Code.String() != "15/UBND-VP" || m.Subject != want.Subject || m.From.OrganName != "UBND xã Hải Minh" {
		t.Fatalf("fields: %q %q %q", m.Code, m.Subject, m.From.OrganName)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Size != int64(len("%PDF-1.4 demo attachment of 15/UBND-VP\n")) {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	content, err := io.ReadAll(m.Attachments[0].Open())
	if err != nil || string(content) != "%PDF-1.4 demo attachment of 15/UBND-VP\n" {
		t.Fatalf("attachment content %q %v", content, err)
	}
	if got.Signer().Subject.SerialNumber != testgen.Commune {
		t.Fatalf("signer %s", got.Signer().Subject)
	}
}

func TestLegacySignatureNamespace(t *testing.T) {
	raw := fixture.Hostile(t, "signature-edxml-namespace").Raw
	if _, err := newVerifier(t, nil).Verify(raw); !errors.Is(err, envelope.ErrSignatureMissing) {
		t.Fatalf("default policy: %v", err)
	}
	got, err := newVerifier(t, func(p *envelope.Policy) { p.LegacySignatureNS = true }).Verify(raw)
	if err != nil {
		t.Fatalf("legacy policy: %v", err)
	}
	if got.Message().From.OrganID != testgen.Commune {
		t.Fatal(got.Message().From)
	}
}

func TestAllowSHA1(t *testing.T) {
	raw := fixture.Hostile(t, "rsa-sha1").Raw
	got, err := newVerifier(t, func(p *envelope.Policy) { p.AllowSHA1 = true }).Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Algorithms().Signature != envelope.AlgRSASHA1 {
		t.Fatal(got.Algorithms())
	}
}

func TestPinnedFingerprint(t *testing.T) {
	// The department's certificate signs a document From the district: refused,
	// unless its fingerprint is pinned for the district.
	m := testgen.NewDocument()
	m.From = testgen.Organ(testgen.District)
	s := fixture.Signer(t, testgen.Department)
	raw := fixture.SignWith(t, s, m)
	if _, err := newVerifier(t, nil).Verify(raw); !errors.Is(err, envelope.ErrSenderMismatch) {
		t.Fatalf("unpinned: %v", err)
	}
	fp := envelope.Fingerprint(s.Leaf())
	pinned := newVerifier(t, func(p *envelope.Policy) { p.Pins = map[string][]string{testgen.District: {strings.ToUpper(fp)}} })
	if _, err := pinned.Verify(raw); err != nil {
		t.Fatalf("pinned: %v", err)
	}
}

func TestClock(t *testing.T) {
	raw := fixture.Envelope(t, "new.xml")
	v := newVerifier(t, nil)
	if _, err := v.Verify(raw); err != nil {
		t.Fatal(err)
	}
	// Same verifier, chain now cached: a later clock must still expire it.
	late := newVerifier(t, func(p *envelope.Policy) { p.Now = func() time.Time { return demopki.LeafUntil.Add(time.Hour) } })
	if _, err := late.Verify(raw); !errors.Is(err, envelope.ErrCertificateExpired) {
		t.Fatalf("after expiry: %v", err)
	}
	now := demopki.TestNow
	moving := newVerifier(t, func(p *envelope.Policy) { p.Now = func() time.Time { return now } })
	if _, err := moving.Verify(raw); err != nil {
		t.Fatal(err)
	}
	now = demopki.LeafUntil.Add(time.Second)
	if _, err := moving.Verify(raw); !errors.Is(err, envelope.ErrCertificateExpired) {
		t.Fatalf("cached chain past expiry: %v", err)
	}
}

// largeDocument is the sample with n extra elements in ToPlaces, all before
// the Signature, and an attachment of attach bytes.
func largeDocument(t testing.TB, places, attach int) []byte {
	t.Helper()
	m := testgen.NewDocument()
	for i := 0; i < places; i++ {
		m.ToPlaces = append(m.ToPlaces, "Nơi nhận")
	}
	if attach > 0 {
		content := make([]byte, attach)
		for i := range content {
			content[i] = byte(i*7 + i/251)
		}
		m.Attachments = append(m.Attachments, envelope.NewAttachment("cid:2", "phu-luc.zip", "application/zip", content))
	}
	return fixture.Sign(t, m)
}

func TestFiftyThousandElementsBeforeSignature(t *testing.T) {
	raw := largeDocument(t, 50_000, 0)
	if n := bytes.Count(raw[:bytes.Index(raw, []byte("</ds:Signature>"))], []byte("<edXML:Place>")); n < 50_000 {
		t.Fatalf("%d elements before the signature's end", n)
	}
	got, err := newVerifier(t, nil).Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Message().ToPlaces) != 50_000 {
		t.Fatalf("%d places", len(got.Message().ToPlaces))
	}
}

func TestSignatureIsLastChildOfHeader(t *testing.T) {
	raw := fixture.Envelope(t, "new.xml")
	i := bytes.Index(raw, []byte("</ds:Signature>"))
	j := bytes.Index(raw, []byte("</edXML:edXMLHeader>"))
	if i < 0 || j < 0 || strings.TrimSpace(string(raw[i+len("</ds:Signature>"):j])) != "" {
		t.Fatal("Signature is not the last child of edXMLHeader")
	}
	if bytes.Count(raw, []byte("<ds:X509Certificate>")) != 2 {
		t.Fatal("KeyInfo should hold the leaf and the issuing CA")
	}
}

func TestLimits(t *testing.T) {
	raw := fixture.Envelope(t, "new.xml")
	v := newVerifier(t, func(p *envelope.Policy) { p.Limits = envelope.Limits{MaxBytes: int64(len(raw) - 1)} })
	if _, err := v.Verify(raw); !errors.Is(err, envelope.ErrTooLarge) {
		t.Fatalf("byte limit: %v", err)
	}
	v = newVerifier(t, func(p *envelope.Policy) { p.Limits = envelope.Limits{MaxElements: 20} })
	if _, err := v.Verify(raw); !errors.Is(err, envelope.ErrTooLarge) {
		t.Fatalf("element limit: %v", err)
	}
	v = newVerifier(t, func(p *envelope.Policy) { p.Limits = envelope.Limits{MaxDepth: 5} })
	if _, err := v.Verify(raw); !errors.Is(err, envelope.ErrTooDeep) {
		t.Fatalf("depth limit: %v", err)
	}
}

func TestCodeOf(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range envelope.Codes {
		if seen[e.Code()] || envelope.ErrorByCode(e.Code()) != e {
			t.Fatalf("code %s", e.Code())
		}
		seen[e.Code()] = true
	}
	for _, c := range []string{"malformed_xml", "doctype_forbidden", "too_large", "too_deep", "signature_missing",
		"signature_invalid", "digest_mismatch", "algorithm_forbidden", "certificate_untrusted", "certificate_expired",
		"certificate_usage", "sender_mismatch", "header_invalid"} {
		if !seen[c] {
			t.Fatalf("missing code %s", c)
		}
	}
	_, err := envelope.Parse([]byte("<a>"), nil)
	if envelope.CodeOf(err) != "malformed_xml" || !strings.HasPrefix(err.Error(), "envelope: malformed XML: ") {
		t.Fatalf("%v", err)
	}
}

// TestTestdataUpToDate regenerates the corpus from the committed PKI and
// compares: the committed files are exactly what the generator makes.
func TestTestdataUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates the whole corpus")
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "pki"), os.DirFS(pkiDir)); err != nil {
		t.Fatal(err)
	}
	if err := testgen.Generate(dir); err != nil {
		t.Fatal(err)
	}
	for _, crl := range []string{testgen.RootCRL, testgen.IssuingCRL} {
		if !bytes.Equal(fixture.ReadFile(t, filepath.Join(dir, "pki", crl)), fixture.ReadFile(t, filepath.Join(pkiDir, crl))) {
			t.Errorf("pki/%s differs from the generator's output (axisctl demo-revoke rewrites it: git checkout testdata/pki/%s)", crl, crl)
		}
	}
	for _, sub := range []string{"envelopes", "hostile", "demo"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if !bytes.Equal(fixture.ReadFile(t, p), fixture.ReadFile(t, filepath.Join("../testdata", rel))) {
				t.Errorf("%s differs from the generator's output: run go run ./internal/cmd/gentestdata", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestManyPrefixDeclarationsStayCheap: prefix declarations on every level
// must not cost memory per level (checkPrefixes once cloned its map there).
func TestManyPrefixDeclarationsStayCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<edXML xmlns="` + envelope.Namespace + `"`)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, ` xmlns:p%d="urn:x:%d"`, i, i)
	}
	b.WriteString(">")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, `<e%d xmlns:q%d="urn:q">`, i, i)
	}
	for i := 59; i >= 0; i-- {
		fmt.Fprintf(&b, `</e%d>`, i)
	}
	b.WriteString("</edXML>")
	if _, err := envelope.Parse([]byte(b.String()), nil); !errors.Is(err, envelope.ErrTooLarge) {
		t.Fatalf("default limits: want too_large (5,000 declarations on one element), got %v", err)
	}
	// Past the scan's caps, checkPrefixes itself must stay cheap.
	lim := &envelope.Limits{MaxNamespacesPerElement: 10_000, MaxAttributesPerElement: 10_000}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := envelope.Parse([]byte(b.String()), lim)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, envelope.ErrHeaderInvalid) {
		t.Fatalf("want header_invalid (no edXMLEnvelope), got %v", err)
	}
	t.Logf("allocated %d KB for %d bytes", (after.TotalAlloc-before.TotalAlloc)>>10, b.Len())
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 { // 3.4 MB now; 16 MB when the map was cloned per level
		t.Fatalf("parsing a %d-byte document allocated %d MB", b.Len(), alloc>>20)
	}
}
