package envelope_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
)

// samplesDir holds the field samples (../shared/edxml-samples, present in CI).
const samplesDir = "../../shared/edxml-samples"

// sameVerdict fails t unless Verify (validate on the one tree) and the same
// Verifier checking with goxmldsig's Validate give the same answer for raw:
// the same code, or the same verified envelope read as the same Message.
// It returns the fast path's result.
func sameVerdict(t *testing.T, v, ref *envelope.Verifier, name string, raw []byte) (*envelope.Verified, error) {
	t.Helper()
	got, err := v.Verify(raw)
	want, wantErr := ref.Verify(raw)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%s: Verify: %v; with goxmldsig's Validate: %v", name, err, wantErr)
	case err != nil:
		if envelope.CodeOf(err) != envelope.CodeOf(wantErr) {
			t.Fatalf("%s: Verify: %v (%s); with goxmldsig's Validate: %v (%s)", name, err, envelope.CodeOf(err), wantErr, envelope.CodeOf(wantErr))
		}
		return nil, err
	}
	if !reflect.DeepEqual(got.Message(), want.Message()) {
		t.Fatalf("%s: Verify reads\n%+v\nValidate's signed element reads\n%+v", name, got.Message(), want.Message())
	}
	if got.Algorithms() != want.Algorithms() || got.SignerFingerprint() != want.SignerFingerprint() || got.SHA256() != want.SHA256() {
		t.Fatalf("%s: algorithms %v/%v, signer %s/%s", name, got.Algorithms(), want.Algorithms(), got.SignerFingerprint(), want.SignerFingerprint())
	}
	return got, nil
}

// TestVerifyAgreesWithValidate holds Verify to goxmldsig's Validate on every
// envelope of testdata (valid and hostile), the field samples, and each
// valid envelope with one byte of its signed content changed, under the
// default policy and the lenient one (legacy Signature namespace, SHA-1).
func TestVerifyAgreesWithValidate(t *testing.T) {
	var inputs []struct {
		name string
		raw  []byte
	}
	add := func(name string, raw []byte) {
		inputs = append(inputs, struct {
			name string
			raw  []byte
		}{name, raw})
	}
	files, _ := filepath.Glob(filepath.Join(envDir, "*.xml"))
	samples, _ := filepath.Glob(filepath.Join(samplesDir, "*.edxml"))
	if len(files) < 5 {
		t.Fatalf("%d envelopes in %s", len(files), envDir)
	}
	if len(samples) == 0 && os.Getenv("CI") == "true" {
		t.Fatalf("no field samples in %s", samplesDir)
	}
	for _, f := range append(files, samples...) {
		add(filepath.Base(f), fixture.ReadFile(t, f))
	}
	for _, c := range fixture.HostileCases(t) {
		add("hostile/"+c.Name, c.Raw)
	}
	lenient := func(p *envelope.Policy) { p.LegacySignatureNS, p.AllowSHA1 = true, true }
	for _, policy := range []struct {
		name string
		mod  func(*envelope.Policy)
	}{{"default", nil}, {"lenient", lenient}} {
		t.Run(policy.name, func(t *testing.T) {
			v := newVerifier(t, policy.mod)
			ref := v.WithGoxmldsigValidate()
			accepted, refusedCodes := 0, map[string]int{}
			for _, in := range inputs {
				got, err := sameVerdict(t, v, ref, in.name, in.raw)
				if err != nil {
					refusedCodes[envelope.CodeOf(err)]++
					continue
				}
				accepted++
				// The same envelope with one byte of signed text changed:
				// the subject's first letter (inside MessageHeader).
				i := bytes.Index(in.raw, []byte("<Subject>"))
				if i < 0 || got.Message().Subject == "" {
					continue
				}
				tampered := bytes.Clone(in.raw)
				tampered[i+len("<Subject>")] ^= 0x01
				if _, err := sameVerdict(t, v, ref, in.name+" (tampered)", tampered); envelope.CodeOf(err) != "digest_mismatch" {
					t.Fatalf("%s tampered: %v, want digest_mismatch", in.name, err)
				}
			}
			// Both sides of the comparison are exercised.
			if accepted < 5 || len(refusedCodes) < 8 {
				t.Fatalf("%d accepted, refusals by code %v: the corpus no longer covers both", accepted, refusedCodes)
			}
			t.Logf("%d inputs: %d accepted, refused %v", len(inputs), accepted, refusedCodes)
		})
	}
}

// TestLeafNotFirstInKeyInfo: KeyInfo may list the issuing CA before the
// leaf (KeyInfo is not signed: reordering it keeps the signature). Verify
// finds the leaf, on a first verification and on the chain cache's hit
// alike, and so does the Validate path (which needs the leaf moved first
// in the tree).
func TestLeafNotFirstInKeyInfo(t *testing.T) {
	raw := fixture.Envelope(t, "new.xml")
	const open, end = "<ds:X509Certificate>", "</ds:X509Certificate>"
	i := bytes.Index(raw, []byte(open))
	j := bytes.Index(raw[i:], []byte(end)) + i + len(end)
	k := bytes.Index(raw[j:], []byte(end)) + j + len(end)
	if i < 0 || j < i || k < j || !bytes.HasPrefix(bytes.TrimLeft(raw[j:], " \t\r\n"), []byte(open)) {
		t.Fatal("new.xml no longer has two X509Certificate elements side by side")
	}
	leafEl, caEl := raw[i:j], bytes.TrimLeft(raw[j:k], " \t\r\n")
	swapped := append(append(append(bytes.Clone(raw[:i]), caEl...), leafEl...), raw[k:]...)

	v := newVerifier(t, nil)
	ref := v.WithGoxmldsigValidate()
	want, err := v.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second is a chain cache hit
		got, err := sameVerdict(t, v, ref, "swapped KeyInfo", swapped)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got.SignerFingerprint() != want.SignerFingerprint() || len(got.Chain()) != len(want.Chain()) {
			t.Fatalf("round %d: signer %s (chain %d), want %s (chain %d)", round, got.Signer().Subject, len(got.Chain()), want.Signer().Subject, len(want.Chain()))
		}
	}
}
