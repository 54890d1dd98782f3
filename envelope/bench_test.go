package envelope_test

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/axis-h40/axis/internal/demopki"
	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// benchSize is a signed envelope of about target bytes: the sample document
// with one extra attachment of attach bytes (base64 makes it 4/3 larger).
type benchSize struct {
	name           string
	target, attach int
}

var (
	bench20KB = benchSize{"20KB", 20_000, 9_200}
	bench2MB  = benchSize{"2MB", 2_000_000, 1_494_200}
)

var (
	benchMu   sync.Mutex
	benchDocs = map[benchSize][]byte{}
)

// benchEnvelope returns the signed envelope of size s, built once per process
// so that every benchmark of a size reads identical bytes. Its length must be
// within 10% of the target. TestWriteBenchEnvelopes writes the same bytes to
// files for libxmlsec1 (benchfiles_test.go).
func benchEnvelope(tb testing.TB, s benchSize) []byte {
	tb.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if raw, ok := benchDocs[s]; ok {
		return raw
	}
	raw := largeDocument(tb, 0, s.attach)
	if d := len(raw) - s.target; d*10 > s.target || -d*10 > s.target {
		tb.Fatalf("%s envelope is %d bytes, want %d ± 10%%", s.name, len(raw), s.target)
	}
	tb.Logf("%s envelope: %d bytes", s.name, len(raw))
	benchDocs[s] = raw
	return raw
}

func benchVerify(b *testing.B, s benchSize) {
	raw := benchEnvelope(b, s)
	v := newVerifier(b, nil)
	if _, err := v.Verify(raw); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify20KB(b *testing.B) { benchVerify(b, bench20KB) }
func BenchmarkVerify2MB(b *testing.B)  { benchVerify(b, bench2MB) }

// firstCertificate is the first X509Certificate of the document (the leaf:
// our Signer writes it first).
func firstCertificate(b *testing.B, raw []byte) *x509.Certificate {
	b.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		b.Fatal(err)
	}
	var found *etree.Element
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if found != nil {
				return
			}
			if c.Tag == "X509Certificate" && c.NamespaceURI() == dsig.Namespace {
				found = c
				return
			}
			walk(c)
		}
	}
	walk(doc.Root())
	if found == nil {
		b.Fatal("no X509Certificate")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(found.Text()), ""))
	if err != nil {
		b.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchBare is the baseline: goxmldsig v1.6.1 alone on the same bytes, with a
// store holding the leaf (no chain, no limits, no header).
func benchBare(b *testing.B, s benchSize) {
	raw := benchEnvelope(b, s)
	store := &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{firstCertificate(b, raw)}}
	validate := func() error {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			return err
		}
		ctx := dsig.NewDefaultValidationContext(store)
		ctx.Clock = dsig.NewFakeClockAt(demopki.TestNow)
		_, err := ctx.Validate(doc.Root())
		return err
	}
	if err := validate(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareGoxmldsig20KB(b *testing.B) { benchBare(b, bench20KB) }
func BenchmarkBareGoxmldsig2MB(b *testing.B)  { benchBare(b, bench2MB) }
