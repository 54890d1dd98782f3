package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/axis-h40/axis/envelope"
)

// compose writes what sign signs and verify accepts: a document for a
// central body and a department of another province, with an attachment,
// and no XML editing.
func TestComposeSignVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pdf := filepath.Join(dir, "bao-cao.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4 the report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unsigned := filepath.Join(dir, "unsigned.xml")
	code, stdout, stderr := axisctl(t, "compose", "--from", commune, "--to", "000.00.00.G22=Văn phòng Chính phủ", "--to", "000.00.11.H41",
		"--subject", "Báo cáo kết quả chuyển đổi số", "--notation", "15/UBND-VP", "--date", "2026/06/01", "--attach", pdf, "-o", unsigned)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("compose: exit %d %q %q", code, stdout, stderr)
	}
	signed := filepath.Join(dir, "signed.xml")
	if code, _, stderr := axisctl(t, signArgs(unsigned, "-o", signed)...); code != 0 {
		t.Fatalf("sign: exit %d %s", code, stderr)
	}
	v := verifyOK(t, "--roots", rootCA, "--at", "2026-06-01T09:00:00Z", signed)
	if v.From != commune || !slices.Equal(v.To, []string{"000.00.00.G22", "000.00.11.H41"}) || v.Code != "15/UBND-VP" ||
		v.Subject != "Báo cáo kết quả chuyển đổi số" || v.DocumentID != commune+",2026/06/01,15/UBND-VP" || v.Kind != "document" {
		t.Fatalf("verified header %+v", v)
	}
	raw, _ := os.ReadFile(signed)
	m, err := envelope.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.To[0].OrganName != "Văn phòng Chính phủ" || m.PromulgationInfo.PromulgationDate != "2026/06/01" ||
		len(m.Attachments) != 1 || m.Attachments[0].Name != "bao-cao.pdf" || m.Attachments[0].ContentType != "application/pdf" ||
		m.Attachments[0].Size != 20 {
		t.Fatalf("parsed %+v", m)
	}
	if got, _ := io.ReadAll(m.Attachments[0].Open()); string(got) != "%PDF-1.4 the report\n" {
		t.Fatalf("attachment content %q", got)
	}
	// To standard output, the same bytes but for the trace timestamp.
	if code, stdout, _ := axisctl(t, "compose", "--from", commune, "--to", department, "--subject", "S", "--notation", "1/UBND"); code != 0 || !bytes.HasPrefix([]byte(stdout), []byte("<?xml")) {
		t.Fatalf("compose to stdout: exit %d %.80q", code, stdout)
	}
}

func TestComposeRefusals(t *testing.T) {
	t.Parallel()
	base := []string{"compose", "--from", commune, "--subject", "S", "--notation", "15/UBND-VP"}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{base, 2}, // no --to
		{append(slices.Clone(base), "--to", "not an organ"), 2},
		{[]string{"compose", "--from", "x", "--to", department, "--subject", "S", "--notation", "15/UBND-VP"}, 2},
		{[]string{"compose", "--from", commune, "--to", department, "--subject", "S", "--notation", "15"}, 2},
		{append(slices.Clone(base), "--to", department, "--date", "2026-06-01"), 2},
		{append(slices.Clone(base), "--to", department, "extra"), 2},
		{append(slices.Clone(base), "--to", department, "--attach", filepath.Join(t.TempDir(), "missing.pdf")), 1},
	} {
		code, stdout, stderr := axisctl(t, tc.args...)
		if code != tc.code || stdout != "" || stderr == "" {
			t.Errorf("%q: exit %d (want %d), stdout %q, stderr %q", tc.args, code, tc.code, stdout, stderr)
		}
	}
}
