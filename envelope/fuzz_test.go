package envelope_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
)

// maxSeed is the largest corpus file used whole as a fuzz seed; larger ones
// (elements-2000000, 8 MB once decompressed) are seeded by a prefix.
const (
	maxSeed    = 1 << 20
	seedPrefix = 4 << 10
)

// fuzzSeeds adds every sample envelope, every hostile envelope and a few tiny
// inputs to f's seed corpus.
func fuzzSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(envDir, "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, file := range files {
		seeds = append(seeds, fixture.ReadFile(f, file))
	}
	for _, c := range fixture.HostileCases(f) {
		seeds = append(seeds, c.Raw)
	}
	for _, b := range seeds {
		if len(b) <= maxSeed {
			f.Add(b)
			continue
		}
		// Too big to mutate usefully: the truncated prefix as is, and the
		// prefix cut after a tag and closed with the document's own tail, so
		// that a well-formed small variant is seeded too.
		head := b[:seedPrefix]
		f.Add(bytes.Clone(head))
		if i := bytes.LastIndexByte(head, '>'); i > 0 {
			tail := b[len(b)-128:]
			if j := bytes.Index(tail, []byte("</")); j >= 0 {
				f.Add(append(bytes.Clone(head[:i+1]), tail[j:]...))
			}
		}
	}
	skeleton := `<edXML xmlns="` + envelope.Namespace + `"><edXMLEnvelope><edXMLHeader><MessageHeader>` +
		`<From><OrganId>000.07.35.H40</OrganId></From><To><OrganId>H40.35.07</OrganId></To><Subject>s</Subject>` +
		`</MessageHeader></edXMLHeader></edXMLEnvelope>` +
		`<AttachmentEncoded><Attachment><ContentTransferEncoded>QUJD</ContentTransferEncoded></Attachment></AttachmentEncoded></edXML>`
	for _, s := range []string{
		"", "<", ">", "<a/>", "<a>", "\xff", "<!DOCTYPE a>", "<a><![CDATA[x]]><!--c--><?p?></a>",
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n<edXML/>",
		skeleton,
	} {
		f.Add([]byte(s))
	}
}

// refused reports whether err is a refusal, which must carry a machine code
// and come without a result (withResult: one came, a what).
func refused(t *testing.T, err error, withResult bool, what string) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if envelope.CodeOf(err) == "" {
		t.Fatalf("error without a code: %v", err)
	}
	if withResult {
		t.Fatalf("error %v came with a %s", err, what)
	}
	return true
}

// FuzzParse looks for panics and hangs in the unverified parser, and checks
// that every refusal carries a machine code.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := envelope.Parse(data, nil)
		if refused(t, err, m != nil, "Message") {
			return
		}
		if err := m.Validate(); err != nil && !errors.Is(err, envelope.ErrHeaderInvalid) {
			t.Fatalf("Validate: %v (code %q), want header_invalid", err, envelope.CodeOf(err))
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		for i, a := range m.Attachments {
			content, err := io.ReadAll(a.Open())
			if err == nil && int64(len(content)) != a.Size {
				t.Fatalf("attachment %d: Size %d, decodes to %d bytes", i+1, a.Size, len(content))
			}
		}
	})
}

// FuzzVerify looks for panics and hangs in Verify, checks that every
// refusal carries a machine code, that whatever verifies is a valid
// message from a valid organ, and that goxmldsig's Validate in Verify's
// place gives the same answer (the same code, or the same Message).
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	v := newVerifier(f, nil)
	ref := v.WithGoxmldsigValidate()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := v.Verify(data)
		if refused(t, err, got != nil, "Verified") {
			sameVerdict(t, v, ref, "input", data)
			return
		}
		m := got.Message()
		if err := m.Validate(); err != nil {
			t.Fatalf("verified, but Validate: %v", err)
		}
		if _, err := envelope.ParseOrganID(m.From.OrganID); err != nil {
			t.Fatalf("verified, but From/OrganId: %v", err)
		}
		if !bytes.Equal(got.Raw(), data) {
			t.Fatal("Raw is not the input")
		}
		sameVerdict(t, v, ref, "input", data)
	})
}

// maxParentSteps bounds the Parent chain: a valid code is at most 35
// characters, so at most 18 dot-separated segments, and each step drops one.
const maxParentSteps = 17

// FuzzParseOrganID checks that a parsed code round-trips through its string
// and that its Parent chain is finite and made of valid codes.
func FuzzParseOrganID(f *testing.F) {
	for _, s := range []string{"000.07.35.H40", "000.00.00.H40", "28.22.H17", "H40.35.07", "", "000.00.11.h40"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := envelope.ParseOrganID(s)
		if err != nil {
			if !errors.Is(err, envelope.ErrHeaderInvalid) {
				t.Fatalf("%q: %v, want header_invalid", s, err)
			}
			return
		}
		if o.IsZero() {
			t.Fatalf("%q parsed to the zero OrganID", s)
		}
		again, err := envelope.ParseOrganID(o.String())
		if err != nil || again != o {
			t.Fatalf("%q: String %q reparses to %q (%v) %v, want %v", s, o, again, again.Scheme(), err, o.Scheme())
		}
		if strings.TrimSpace(s) != o.String() {
			t.Fatalf("%q: String %q", s, o)
		}
		cur := o
		for step := 1; ; step++ {
			p, ok := cur.Parent()
			if !ok {
				if !p.IsZero() {
					t.Fatalf("%q: no parent for %q, but a non-zero %q", s, cur, p)
				}
				break
			}
			if step > maxParentSteps {
				t.Fatalf("%q: Parent chain longer than %d steps", s, maxParentSteps)
			}
			if len(p.String()) >= len(cur.String()) && p.Scheme() == envelope.QD20 {
				t.Fatalf("%q: parent %q of %q is not shorter", s, p, cur)
			}
			if p == cur {
				t.Fatalf("%q: %q is its own parent", s, cur)
			}
			if _, err := envelope.ParseOrganID(p.String()); err != nil {
				t.Fatalf("%q: parent %q of %q does not parse: %v", s, p, cur, err)
			}
			cur = p
		}
	})
}
