package envelope_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
)

// The envelopes of the Verify benchmarks (bench_test.go) as files, for the
// verify rate of libxmlsec1 on the same bytes (issue 17: README's table,
// scripts/verify-compare.sh, which runs scripts/xmlsec-verify-bench.c).

// benchFileSizes are the sizes written, by name (20KB.xml, 2MB.xml).
var benchFileSizes = []benchSize{bench20KB, bench2MB}

// benchRootFile is the name of the copy of the demo root the files verify
// against.
const benchRootFile = "root-ca.crt"

// TestWriteBenchEnvelopes writes the bytes that BenchmarkVerify20KB,
// BenchmarkVerify2MB and BenchmarkBareGoxmldsig20KB/2MB verify to
// $AXIS_BENCH_ENVELOPES_DIR as 20KB.xml and 2MB.xml, with the demo root
// they chain to as root-ca.crt.
func TestWriteBenchEnvelopes(t *testing.T) {
	dir := os.Getenv("AXIS_BENCH_ENVELOPES_DIR")
	if dir == "" {
		// A tool, not a check (scripts/verify-compare.sh sets the
		// variable): skipping it hides nothing, so it skips in CI too.
		t.Skip("AXIS_BENCH_ENVELOPES_DIR not set: nothing to write")
	}
	writeBenchFiles(t, dir, benchFileSizes...)
}

// writeBenchFiles writes the files of TestWriteBenchEnvelopes to dir, of the
// sizes given, each envelope first checked: it verifies, and signing it
// again gives the same bytes (the benchmarks, in another process, build it
// again).
func writeBenchFiles(t *testing.T, dir string, sizes ...benchSize) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, nil)
	for _, s := range sizes {
		raw := benchEnvelope(t, s)
		if again := largeDocument(t, 0, s.attach); !bytes.Equal(again, raw) {
			t.Fatalf("%s: signing the same document twice gave different bytes", s.name)
		}
		if _, err := v.Verify(raw); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		writeFile(t, filepath.Join(dir, s.name+".xml"), raw)
	}
	writeFile(t, filepath.Join(dir, benchRootFile), fixture.ReadFile(t, fixture.RootCA))
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// xmlsecBenchHarness compiles scripts/xmlsec-verify-bench.c with gcc
// against libxmlsec1's OpenSSL engine, into a temp dir, as the script does.
// Skipped without gcc, pkg-config or libxmlsec1-dev on a developer's
// machine, never in CI.
func xmlsecBenchHarness(t *testing.T) string {
	t.Helper()
	gcc := fixture.Tool(t, "gcc", "gcc")
	pkgConfig := fixture.Tool(t, "pkg-config", "pkg-config")
	flags, err := exec.Command(pkgConfig, "--cflags", "--libs", "xmlsec1-openssl").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pkg-config xmlsec1-openssl: %v: libxmlsec1-dev is required in CI (apt-get install libxmlsec1-dev)", err)
		}
		t.Skip("libxmlsec1-dev not installed (pkg-config xmlsec1-openssl)")
	}
	bin := filepath.Join(t.TempDir(), "xmlsec-verify-bench")
	args := append([]string{"-O2", "-Wall", "-Werror", "-o", bin, filepath.Join(fixture.Root, "scripts", "xmlsec-verify-bench.c")}, strings.Fields(string(flags))...)
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// runHarness runs the harness for n verifications of file; its exit code,
// stdout and stderr.
func runHarness(t *testing.T, bin, root, file string, n string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-n", n, root, file)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

// TestXmlsecVerifyBenchHarness keeps the libxmlsec1 column of README's table
// honest: the harness verifies the 20 KB benchmark envelope, every time, and
// refuses it with one byte of the attachment changed and when it chains to
// another root.
func TestXmlsecVerifyBenchHarness(t *testing.T) {
	bin := xmlsecBenchHarness(t)
	dir := t.TempDir()
	writeBenchFiles(t, dir, bench20KB)
	root := filepath.Join(dir, benchRootFile)
	file := filepath.Join(dir, bench20KB.name+".xml")

	code, stdout, stderr := runHarness(t, bin, root, file, "7")
	line := regexp.MustCompile(`^BenchmarkLibxmlsec1Verify20KB\s+7\s+[0-9]+ ns/op\s+[0-9.]+ MB/s\s+[0-9]+ B/op\s+[0-9]+ allocs/op\s+[0-9.]+ verifies/s\n$`)
	if code != 0 || !line.MatchString(stdout) {
		t.Fatalf("genuine 20KB: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// One byte of the attachment's base64, in place: every other byte is
	// the benchmark's.
	raw := fixture.ReadFile(t, file)
	const open = "<ContentTransferEncoded>"
	i := bytes.LastIndex(raw, []byte(open)) + len(open)
	j := bytes.IndexByte(raw[i:], '<')
	if i < len(open) || j < 1000 {
		t.Fatalf("no attachment text of the 9 200-byte attachment (%d, %d)", i, j)
	}
	tampered := bytes.Clone(raw)
	k := i + j/2
	if tampered[k] == 'A' {
		tampered[k] = 'B'
	} else {
		tampered[k] = 'A'
	}
	if _, err := newVerifier(t, nil).Verify(tampered); !errors.Is(err, envelope.ErrDigestMismatch) {
		t.Fatalf("axis on the tampered copy: %v", err)
	}
	bad := filepath.Join(dir, "20KB-tampered.xml")
	writeFile(t, bad, tampered)
	code, stdout, stderr = runHarness(t, bin, root, bad, "3")
	if code != 1 || stdout != "" || !strings.Contains(stderr, bad+": verification #0: signature invalid (xmlSecDSigStatusInvalid)") {
		t.Fatalf("tampered: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// The chain is checked: a leaf of the rogue CA, with its chain in
	// KeyInfo, has no trusted key.
	rogue := fixture.Hostile(t, "cert-untrusted-root").Path
	code, stdout, stderr = runHarness(t, bin, root, rogue, "3")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "verification #0: xmlSecDSigCtxVerify failed") {
		t.Fatalf("untrusted root: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
