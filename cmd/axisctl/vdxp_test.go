package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vdxp-headers reproduces VDXP.md's worked sendEdoc example from the file
// and the parameters a DMS would send.
func TestVDXPHeadersWorkedExample(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "demo.xml")
	if err := os.WriteFile(f, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML>demo</edXML>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AXIS_VDXP_SECRET", "demo-secret")
	code, out, errOut := axisctl(t, "vdxp-headers", "--system", "demo-system", "--timestamp", "15032024T103045+0123", "--file", f,
		"--url", "http://127.0.0.1:8080/vdxp/", "sendEdoc", "servicetype=eDoc", "messagetype=edoc", "from=000.00.00.H40")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"XroadVnpt-sign-header-key: systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type\n",
		`XroadVnpt-sign-header: {"XroadVnpt-systemid":"demo-system","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac","XroadVnpt-from":"000.00.00.H40","XroadVnpt-timestamp":"15032024T103045+0123","XroadVnpt-Content-Type":"application/octet-stream"}` + "\n",
		"XroadVnpt-hash-header: e9b6bce9a56638db885a916f51021b93d5d10090e166e8c5ed85e2c7ceed4c32\n",
		"XroadVnpt-hash-file: df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac\n",
		"curl -sS -X POST ",
		"'http://127.0.0.1:8080/vdxp/sendEdoc'\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Setenv("AXIS_VDXP_SECRET", "")
	if code, _, errOut := axisctl(t, "vdxp-headers", "--system", "demo-system", "getReceivedEdocList"); code != 2 || !strings.Contains(errOut, "AXIS_VDXP_SECRET") {
		t.Fatalf("without a secret: exit %d, %q", code, errOut)
	}
}
