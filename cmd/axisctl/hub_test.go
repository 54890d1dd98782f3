package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// startHub runs a real hub for the demo province on httptest
// (testhub.Open: a temp store, the demo PKI's clock, checked at cleanup)
// and returns its URL.
func startHub(t *testing.T) string {
	t.Helper()
	return testhub.Serve(t, testhub.Open(t, testhub.Options{}))
}

// hubCmd runs axisctl NAME --hub URL --token demo-token-AS ARGS...
func hubCmd(t *testing.T, url, as, name string, args ...string) (int, string, string) {
	t.Helper()
	return axisctl(t, append([]string{name, "--hub", url, "--token", testgen.DemoToken(as)}, args...)...)
}

// hubOK is hubCmd that requires exit 0.
func hubOK(t *testing.T, url, as, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := hubCmd(t, url, as, name, args...)
	if code != 0 {
		t.Fatalf("%s %q as %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, args, as, code, stdout, stderr)
	}
	return stdout, stderr
}

// hubRefused requires exit 1, nothing on stdout and a last stderr line
// "code: ...".
func hubRefused(t *testing.T, code string, url, as, name string, args ...string) string {
	t.Helper()
	exit, stdout, stderr := hubCmd(t, url, as, name, args...)
	if exit != 1 {
		t.Fatalf("%s %q: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", name, args, exit, stdout, stderr)
	}
	if stdout != "" {
		t.Errorf("%s %q: refused but printed to stdout:\n%s", name, args, stdout)
	}
	line := lastLine(stderr)
	if !strings.HasPrefix(line, code+": ") {
		t.Fatalf("%s %q: last stderr line %q, want prefix %q", name, args, line, code+": ")
	}
	return line
}

func decodeReceipt(t *testing.T, s string) api.Receipt {
	t.Helper()
	var rc api.Receipt
	decodeStrict(t, "receipt", s, &rc)
	return rc
}

// hubJSON is hubOK decoding the command's JSON output into v; it returns
// stderr.
func hubJSON(t *testing.T, v any, url, as, name string, args ...string) string {
	t.Helper()
	stdout, stderr := hubOK(t, url, as, name, args...)
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stdout)
	}
	return stderr
}

func TestHubRoundTrip(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	raw := fixture.Sign(t, testgen.NewDocument())
	file := fixture.WriteTemp(t, "new.xml", raw)

	// send: 201 and a receipt.
	stdout, stderr := hubOK(t, url, testgen.Commune, "send", file)
	rc := decodeReceipt(t, stdout)
	if len(rc.DocID) != 32 || len(rc.SHA256) != 64 || !rc.ReceivedAt.Equal(demopki.TestNow) ||
		len(rc.Recipients) != 1 || rc.Recipients[0].OrganID != testgen.Department || rc.Recipients[0].Route != "local" {
		t.Fatalf("receipt %+v", rc)
	}
	if stderr != "created: "+rc.DocID+" for 1 recipient(s)\n" {
		t.Errorf("send stderr %q", stderr)
	}

	// The same bytes again (flags after the file this time): 200, same receipt.
	code, stdout, stderr := axisctl(t, "send", file, "--hub", url, "--token", testgen.DemoToken(testgen.Commune))
	if code != 0 {
		t.Fatalf("duplicate send: exit %d\n%s", code, stderr)
	}
	if dup := decodeReceipt(t, stdout); dup.DocID != rc.DocID || dup.SHA256 != rc.SHA256 {
		t.Errorf("duplicate receipt %+v, want doc %s", dup, rc.DocID)
	}
	if !strings.HasPrefix(stderr, "duplicate: ") || !strings.Contains(stderr, rc.DocID) {
		t.Errorf("duplicate send stderr %q", stderr)
	}

	// inbox as the department: the table and the JSON.
	stdout, stderr = hubOK(t, url, testgen.Department, "inbox")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "DOC_ID ") || !strings.Contains(lines[0], "SUBJECT") {
		t.Fatalf("inbox table:\n%s", stdout)
	}
	// 09:00 UTC, shown as in Hà Nội with the offset, as the console does.
	for _, want := range []string{rc.DocID, "document", testgen.Commune, "15/UBND-VP", "2026-06-01T16:00:00+07:00", newSubject} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("inbox row lacks %q: %q", want, lines[1])
		}
	}
	if stderr != "inbox: 1 item(s)\n" {
		t.Errorf("inbox stderr %q", stderr)
	}
	var page api.InboxPage
	hubJSON(t, &page, url, testgen.Department, "inbox", "--json", "--limit", "10")
	if len(page.Items) != 1 || page.Items[0].DocID != rc.DocID || page.Items[0].From != testgen.Commune ||
		page.Items[0].Kind != "document" || page.Items[0].Code != "15/UBND-VP" || page.Next != "" {
		t.Fatalf("inbox page %+v", page)
	}
	// The sender's inbox is empty.
	stdout, stderr = hubOK(t, url, testgen.Commune, "inbox")
	if stdout != "" || stderr != "inbox: nothing waiting\n" {
		t.Errorf("commune inbox: stdout %q stderr %q", stdout, stderr)
	}

	// fetch: byte-identical, to stdout and to a file.
	stdout, _ = hubOK(t, url, testgen.Department, "fetch", rc.DocID)
	if !bytes.Equal([]byte(stdout), raw) {
		t.Fatalf("fetch to stdout: %d bytes, not the %d sent", len(stdout), len(raw))
	}
	out := filepath.Join(t.TempDir(), "got.xml")
	if stdout, _ = hubOK(t, url, testgen.Department, "fetch", "-o", out, rc.DocID); stdout != "" {
		t.Errorf("fetch -o printed %q", stdout)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("fetch -o: %v, equal %v", err, bytes.Equal(got, raw))
	}

	// status before the ack: delivered (the department fetched it).
	stdout, _ = hubOK(t, url, testgen.Commune, "status", rc.DocID)
	if !strings.Contains(stdout, testgen.Department) || !strings.Contains(stdout, " delivered ") {
		t.Errorf("status after fetch:\n%s", stdout)
	}

	// ack done, then the commune sees acked_done.
	stdout, _ = hubOK(t, url, testgen.Department, "ack", rc.DocID, "done", "--reason", "vào sổ")
	if stdout != rc.DocID+" acked by "+testgen.Department+": acked_done at 2026-06-01T16:00:00+07:00\n" {
		t.Errorf("ack output %q", stdout)
	}
	stdout, _ = hubOK(t, url, testgen.Commune, "status", rc.DocID)
	rows := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "ORGAN_ID ") || strings.Fields(rows[1])[0] != testgen.Department ||
		strings.Fields(rows[1])[1] != "local" || strings.Fields(rows[1])[2] != "acked_done" {
		t.Fatalf("status table:\n%s", stdout)
	}
	var st api.DocStatus
	hubJSON(t, &st, url, testgen.Commune, "status", "--json", rc.DocID)
	if st.DocID != rc.DocID || len(st.Recipients) != 1 || st.Recipients[0].State != "acked_done" {
		t.Fatalf("status %+v", st)
	}
	// Acked: gone from the department's inbox; acking again is idempotent.
	if stdout, stderr = hubOK(t, url, testgen.Department, "inbox", "--json"); !strings.Contains(stdout, `"items": []`) {
		t.Errorf("inbox after ack: %s %s", stdout, stderr)
	}
	stdout, _ = hubOK(t, url, testgen.Department, "ack", "--json", rc.DocID, "done")
	var ack map[string]any
	if err := json.Unmarshal([]byte(stdout), &ack); err != nil || ack["state"] != "acked_done" || ack["doc_id"] != rc.DocID {
		t.Errorf("ack --json: %v %s", err, stdout)
	}
	// A failure ack after done is a conflict.
	hubRefused(t, "conflict", url, testgen.Department, "ack", rc.DocID, "fail")

	// receipt: XML naming the document, to stdout and to a file.
	stdout, _ = hubOK(t, url, testgen.Commune, "receipt", rc.DocID)
	if !strings.HasPrefix(stdout, "<?xml") || !strings.Contains(stdout, "<DocId>"+rc.DocID+"</DocId>") ||
		!strings.Contains(stdout, `xmlns="`+axis.ReceiptNamespace+`"`) || !strings.Contains(stdout, "Signature") {
		t.Fatalf("receipt:\n%s", stdout)
	}
	rf := filepath.Join(t.TempDir(), "receipt.xml")
	hubOK(t, url, testgen.Department, "receipt", rc.DocID, "-o", rf)
	if got, err := os.ReadFile(rf); err != nil || string(got) != stdout {
		t.Errorf("receipt -o differs from stdout (%v); the receipt is deterministic", err)
	}
}

func TestHubErrors(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	file := fixture.WriteTemp(t, "new.xml", fixture.Sign(t, testgen.NewDocument()))

	// A wrong token, for every command.
	for _, args := range [][]string{
		{"send", file}, {"inbox"}, {"fetch", "x"}, {"ack", "x", "done"}, {"receipt", "x"}, {"status", "x"},
	} {
		code, stdout, stderr := axisctl(t, append(args, "--hub", url, "--token", "wrong-token")...)
		if code != 1 || stdout != "" {
			t.Errorf("%q with a wrong token: exit %d, stdout %q", args, code, stdout)
		}
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "unauthorized: ") || !strings.Contains(lines[0], "401") {
			t.Errorf("%q with a wrong token: stderr %q", args, stderr)
		}
	}

	// Unknown ids: not_found.
	hubRefused(t, "not_found", url, testgen.Department, "fetch", "0123456789abcdef0123456789abcdef")
	hubRefused(t, "not_found", url, testgen.Department, "fetch", "no/such id")
	hubRefused(t, "not_found", url, testgen.Commune, "status", "0123456789abcdef0123456789abcdef")
	hubRefused(t, "not_found", url, testgen.Commune, "receipt", "0123456789abcdef0123456789abcdef")
	hubRefused(t, "not_found", url, testgen.Department, "ack", "0123456789abcdef0123456789abcdef", "done")
	out := filepath.Join(t.TempDir(), "never.xml")
	hubRefused(t, "not_found", url, testgen.Department, "fetch", "-o", out, "0123456789abcdef0123456789abcdef")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed fetch -o left %s (%v)", out, err)
	}

	// The hub's envelope codes come through: the department may not send as
	// the commune, and an unsigned envelope is refused.
	hubRefused(t, "sender_mismatch", url, testgen.Department, "send", file)
	hubRefused(t, "signature_missing", url, testgen.Commune, "send", filepath.Join(envDir, "unsigned-new.xml"))
	// The status of someone else's document is hidden.
	stdout, _ := hubOK(t, url, testgen.Commune, "send", file)
	rc := decodeReceipt(t, stdout)
	// Into a folder that does not exist: said so, with the path asked for.
	missing := filepath.Join(t.TempDir(), "no-such-folder", "copy.xml")
	code, stdout, stderr := axisctl(t, "fetch", "-o", missing, rc.DocID, "--hub", url, "--token", testgen.DemoToken(testgen.Department))
	if want := "error: cannot write " + missing + ": folder " + filepath.Dir(missing) + " does not exist\n"; code != 1 || stdout != "" || stderr != want {
		t.Errorf("fetch into a missing folder: exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, want)
	}
	hubRefused(t, "not_found", url, testgen.Province, "status", rc.DocID)
	hubRefused(t, "not_found", url, testgen.Province, "fetch", rc.DocID)

	// A server that hangs up without answering: a network error, exit 1
	// "error: ...".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	code, stdout, stderr = axisctl(t, "inbox", "--hub", "http://"+ln.Addr().String(), "--token", "t")
	if code != 1 || stdout != "" || !strings.HasPrefix(lastLine(stderr), "error: cannot reach the hub at http://"+ln.Addr().String()+": ") {
		t.Errorf("dead hub: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Nothing listening: one sentence with the URL, the cause and how to
	// name another hub, never a bare dial error.
	stopped, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := stopped.Addr().String()
	stopped.Close()
	code, stdout, stderr = axisctl(t, "inbox", "--hub", "http://"+addr, "--token", "t")
	want := "error: cannot reach the hub at http://" + addr + ": connection refused (is axisd running there?); give another with --hub URL or AXIS_HUB\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("stopped hub: exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, want)
	}
}

func TestHubUsageErrors(t *testing.T) {
	t.Parallel()
	const u = "http://127.0.0.1:1"
	for _, args := range [][]string{
		{"send", "--hub", u, "--token", "t"},
		{"send", "--hub", u, "--token", "t", "a", "b"},
		{"send", "--hub", "ftp://x", "--token", "t", "-"},
		{"send", "--hub", "127.0.0.1:8080", "--token", "t", "-"},
		{"inbox", "--hub", u, "--token", "t", "--limit", "0"},
		{"inbox", "--hub", u, "--token", "t", "--limit", "1001"},
		{"inbox", "--hub", u, "--token", "t", "extra"},
		{"fetch", "--hub", u, "--token", "t"},
		{"fetch", "--hub", u, "--token", "t", "a", "b"},
		{"ack", "--hub", u, "--token", "t", "id"},
		{"ack", "--hub", u, "--token", "t", "id", "maybe"},
		{"receipt", "--hub", u, "--token", "t"},
		{"status", "--hub", u, "--token", "t"},
		{"status", "--hub", u, "--token", "t", "--bogus", "id"},
		{"demo-cert", "--out", t.TempDir()},
		{"demo-cert", "--organ", "000.03.33.H40"},
		{"demo-cert", "--organ", "not an organ", "--out", t.TempDir()},
		{"demo-cert", "--organ", "000.03.33.H40", "--out", t.TempDir(), "--ca", filepath.Join(t.TempDir(), "no-ca")},
		{"demo-cert", "--organ", "000.03.33.H40", "--out", t.TempDir(), "--ca", filepath.Join(pkiDir, "demo-agency-"+commune)},
		{"bench", "--hub", u, "--token", "t"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to", department, "--to-demo-offices", "2"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to-demo-offices", "999"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to", "bad organ"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to", department, "--size", "huge"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to", department, "--concurrency", "0"},
		{"bench", "--hub", u, "--token", "t", "--key", "k", "--cert", "c", "--roots", rootCA, "--from", commune, "--to", department},
	} {
		code, stdout, stderr := axisctl(t, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\nstderr:\n%s", args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: usage error printed to stdout: %q", args, stdout)
		}
		if !strings.HasPrefix(lastLine(stderr), "error: ") && !strings.Contains(stderr, "usage: axisctl") {
			t.Errorf("%q: stderr %q", args, stderr)
		}
	}
}

// TestHubEnvDefaults: no --hub and no --token come from AXIS_HUB and
// AXIS_TOKEN; with neither token, the command line is wrong.
func TestHubEnvDefaults(t *testing.T) {
	url := startHub(t)
	t.Setenv(envHub, url)
	t.Setenv(envToken, testgen.DemoToken(testgen.Department))
	code, _, stderr := axisctl(t, "inbox")
	if code != 0 || stderr != "inbox: nothing waiting\n" {
		t.Errorf("inbox from the environment: exit %d, stderr %q", code, stderr)
	}
	t.Setenv(envToken, "")
	code, stdout, stderr := axisctl(t, "inbox")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "--token") {
		t.Errorf("no token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// -h does not show the environment's token.
	t.Setenv(envToken, "secret-token-value")
	_, _, stderr = axisctl(t, "inbox", "-h")
	if strings.Contains(stderr, "secret-token-value") || !strings.Contains(stderr, "-token") {
		t.Errorf("inbox -h:\n%s", stderr)
	}
}

func TestInboxPaging(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	var ids []string
	for i := range 5 {
		m := testgen.NewDocument()
		m.Code.CodeNumber = "9" + string(rune('0'+i))
		stdout, _ := hubOK(t, url, testgen.Commune, "send", fixture.WriteTemp(t, "d.xml", fixture.Sign(t, m)))
		ids = append(ids, decodeReceipt(t, stdout).DocID)
	}
	// One page of 2: a next cursor, said on stderr.
	var page api.InboxPage
	stderr := hubJSON(t, &page, url, testgen.Department, "inbox", "--limit", "2", "--json")
	if len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first page: %+v", page)
	}
	if !strings.Contains(stderr, "--after "+page.Next) {
		t.Errorf("first page stderr %q", stderr)
	}
	// --after continues from there.
	var page2 api.InboxPage
	hubJSON(t, &page2, url, testgen.Department, "inbox", "--limit", "2", "--after", page.Next, "--json")
	if len(page2.Items) != 2 || page2.Items[0].DocID != ids[2] {
		t.Fatalf("second page: %+v", page2)
	}
	// --all follows every cursor: all five, in order, no next.
	var all api.InboxPage
	hubJSON(t, &all, url, testgen.Department, "inbox", "--limit", "2", "--all", "--json")
	if len(all.Items) != 5 || all.Next != "" {
		t.Fatalf("--all: %+v", all)
	}
	for i, it := range all.Items {
		if it.DocID != ids[i] {
			t.Errorf("--all item %d is %s, want %s", i, it.DocID, ids[i])
		}
	}
	stdout, stderr := hubOK(t, url, testgen.Department, "inbox", "--limit", "2", "--all")
	if n := strings.Count(stdout, "\n"); n != 6 || stderr != "inbox: 5 item(s)\n" {
		t.Errorf("--all table: %d lines, stderr %q\n%s", n, stderr, stdout)
	}
}

func TestDemoCertSendsAsAnyAgency(t *testing.T) {
	t.Parallel()
	const organ = "000.03.33.H40"
	url := startHub(t)
	dir := filepath.Join(t.TempDir(), "pki")
	ca := filepath.Join(pkiDir, testgen.IssuingCA)

	code, stdout, stderr := axisctl(t, "demo-cert", "--organ", organ, "--ca", ca, "--out", dir)
	if code != 0 {
		t.Fatalf("demo-cert: exit %d\n%s", code, stderr)
	}
	keyFile := filepath.Join(dir, "demo-agency-"+organ+".key")
	crtFile := filepath.Join(dir, "demo-agency-"+organ+".crt")
	chainFile := filepath.Join(dir, "demo-agency-"+organ+".chain.pem")
	if stdout != "key   "+keyFile+"\ncert  "+crtFile+"\nchain "+chainFile+"\n" {
		t.Errorf("demo-cert stdout %q", stdout)
	}
	if !strings.Contains(stderr, "DEMO") || !strings.Contains(stderr, testgen.DemoToken(organ)) {
		t.Errorf("demo-cert stderr %q", stderr)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}

	// The certificate: OU is the organ, and it chains to the demo root.
	leaf := readCert(t, crtFile)
	if ou := leaf.Subject.OrganizationalUnit; len(ou) != 1 || ou[0] != organ {
		t.Errorf("OU %q, want %s", ou, organ)
	}
	if !strings.Contains(leaf.Subject.CommonName, "Vụ Bản") || !strings.Contains(leaf.Subject.CommonName, "DEMO") {
		t.Errorf("CN %q", leaf.Subject.CommonName)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, rootCA))
	inter := x509.NewCertPool()
	chainPEM, err := os.ReadFile(chainFile)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for rest := chainPEM; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) != 2 || !chain[0].Equal(leaf) {
		t.Fatalf("chain.pem holds %d certificates, leaf first %v", len(chain), len(chain) > 0 && chain[0].Equal(leaf))
	}
	inter.AddCert(chain[1])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: demopki.TestNow,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("does not chain to the demo root: %v", err)
	}

	// Again without --force: refused, files untouched.
	code, _, stderr = axisctl(t, "demo-cert", "--organ", organ, "--ca", ca, "--out", dir)
	if code != 1 || !strings.Contains(stderr, "--force") {
		t.Errorf("second demo-cert: exit %d, stderr %q", code, stderr)
	}
	if again := readCert(t, crtFile); !again.Equal(leaf) {
		t.Error("the refused demo-cert replaced the certificate")
	}

	// Sign an envelope from that organ with axisctl sign and send it.
	m := testgen.NewDocument()
	m.From = envelope.Organization{OrganID: organ, OrganName: "UBND xã số 3, huyện Vụ Bản"}
	m.DocumentID = organ + ",2026/05/28,15/UBND-VP"
	m.TraceHeaders = []envelope.TraceHeader{{OrganID: organ, Timestamp: "2026/05/28 08:30:00"}}
	raw, err := envelope.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := fixture.WriteTemp(t, "unsigned.xml", raw)
	signed := filepath.Join(t.TempDir(), "signed.xml")
	if code, _, stderr := axisctl(t, "sign", "--key", keyFile, "--cert", chainFile, "-o", signed, unsigned); code != 0 {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}
	stdout, stderr = hubOK(t, url, organ, "send", signed)
	rc := decodeReceipt(t, stdout)
	if !strings.HasPrefix(stderr, "created: "+rc.DocID) || len(rc.Recipients) != 1 || rc.Recipients[0].OrganID != testgen.Department {
		t.Fatalf("send as %s: %+v, stderr %q", organ, rc, stderr)
	}
	// The department sees it from that organ.
	stdout, _ = hubOK(t, url, testgen.Department, "inbox")
	if !strings.Contains(stdout, rc.DocID) || !strings.Contains(stdout, organ) {
		t.Errorf("department inbox:\n%s", stdout)
	}
	// The same envelope with another agency's token: sender_mismatch.
	hubRefused(t, "sender_mismatch", url, testgen.Commune, "send", signed)
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// benchArgs is a tiny bench scenario from the commune.
func benchArgs(url string, extra ...string) []string {
	return append([]string{"bench", "--hub", url, "--token", testgen.DemoToken(commune),
		"--key", filepath.Join(pkiDir, "demo-agency-"+commune+".key"),
		"--cert", filepath.Join(pkiDir, "demo-agency-"+commune+".chain.pem"),
		"--roots", rootCA, "--from", commune,
		"--pool", "20", "--concurrency", "2", "--duration", "1s", "--size", "20KB"}, extra...)
}

func TestBench(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	code, stdout, stderr := axisctl(t, benchArgs(url, "--to", department)...)
	if code != 0 {
		t.Fatalf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	get := func(prefix string) string {
		for _, l := range lines {
			if s, ok := strings.CutPrefix(l, prefix); ok {
				return s
			}
		}
		t.Fatalf("no %q line in:\n%s", prefix, stdout)
		return ""
	}
	if s := get("scenario: "); !strings.Contains(s, commune+" → 1 recipient ("+department+")") || !strings.Contains(s, "concurrency 2") {
		t.Errorf("scenario line %q", s)
	}
	if s := get("pool: "); !strings.HasPrefix(s, "20 distinct envelopes") {
		t.Errorf("pool line %q", s)
	}
	var created, sent int
	var secs, rate float64
	if _, err := fmt.Sscanf(get("intake: "), "%d created of %d sent in %fs = %f envelopes/s", &created, &sent, &secs, &rate); err != nil {
		t.Fatalf("intake line: %v\n%s", err, stdout)
	}
	if created < 1 || created != sent || created > 20 || rate <= 0 {
		t.Errorf("intake: %d created of %d sent, %.1f/s", created, sent, rate)
	}
	if get("errors: ") != "0" {
		t.Errorf("errors line %q", get("errors: "))
	}
	var p50, p95, p99, pmax float64
	if _, err := fmt.Sscanf(get("latency (created): "), "p50 %f ms, p95 %f ms, p99 %f ms, max %f ms", &p50, &p95, &p99, &pmax); err != nil ||
		p50 <= 0 || p95 < p50 || p99 < p95 || pmax < p99 {
		t.Errorf("latency line %q: %v", get("latency (created): "), err)
	}
	var ratio float64
	if _, err := fmt.Sscanf(get("ratio intake/verify-only: "), "%f", &ratio); err != nil || ratio <= 0 {
		t.Errorf("ratio line %q: %v", get("ratio intake/verify-only: "), err)
	}
	var vrate float64
	if _, err := fmt.Sscanf(get("verify-only: "), "%f envelopes/s", &vrate); err != nil || vrate <= 0 {
		t.Errorf("verify-only line: %v", err)
	}
	// The ceiling the client's own CPU sets is verify / (verify + client),
	// from the two figures the line prints.
	var ccpu, vcpu, ceiling float64
	if _, err := fmt.Sscanf(get("client CPU: "), "%f ms per post beside %f ms per verification; on the hub's cores the ratio cannot pass %f",
		&ccpu, &vcpu, &ceiling); err != nil || ccpu <= 0 || vcpu <= 0 || ceiling <= 0 || ceiling >= 1 ||
		math.Abs(ceiling-vcpu/(vcpu+ccpu)) > 0.01 {
		t.Errorf("client CPU line %q: %v", get("client CPU: "), err)
	}
	// The test hub shares this process, so only the line's form is checked:
	// its figure is the hub's process_cpu_seconds_total over the intakes.
	var hcpu, hver float64
	if _, err := fmt.Sscanf(get("hub CPU: "), "%f ms per intake (%f verifications;", &hcpu, &hver); err != nil || hcpu < 0 ||
		math.Abs(hver-hcpu/vcpu) > 0.01+0.05*hver {
		t.Errorf("hub CPU line %q: %v", get("hub CPU: "), err)
	}
	// The department's inbox holds what the bench created.
	var page api.InboxPage
	if hubJSON(t, &page, url, testgen.Department, "inbox", "--all", "--json"); len(page.Items) != created {
		t.Fatalf("inbox after bench: %d items, want %d", len(page.Items), created)
	}
	for _, it := range page.Items {
		if it.From != commune || !strings.HasPrefix(it.Code, "B") || !strings.HasSuffix(it.Code, "/UBND-VP") {
			t.Errorf("bench document %+v", it)
		}
	}
}

func TestBenchDemoOfficesJSON(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	code, stdout, stderr := axisctl(t, benchArgs(url, "--to-demo-offices", "3", "--pool", "6", "--size", "4KB", "--json")...)
	if code != 0 {
		t.Fatalf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r benchReport
	decodeStrict(t, "bench --json", stdout, &r)
	if r.Recipients != 3 || r.Pool != 6 || r.From != commune || r.Created < 1 || r.Created != r.Sent || r.Errors != 0 ||
		r.IntakePerSec <= 0 || r.VerifyOnlyPerSec <= 0 || r.Ratio <= 0 || r.LatencyMs.P50 <= 0 || r.LatencyMs.P99 < r.LatencyMs.P50 ||
		r.VerifyCPUms <= 0 || r.ClientCPUms <= 0 || r.HubCPUms == nil || *r.HubCPUms < 0 || math.Abs(r.Ceiling-r.VerifyCPUms/(r.VerifyCPUms+r.ClientCPUms)) > 1e-9 {
		t.Fatalf("report %+v", r)
	}
	// 4 KiB asked; the signed envelope is the base sample's size at least.
	if r.EnvelopeBytes < 4<<10 || r.EnvelopeBytes > 8<<10 {
		t.Errorf("envelope size %d", r.EnvelopeBytes)
	}
	// The text report goes to stderr with --json.
	if !strings.Contains(stderr, "ratio intake/verify-only: ") || !strings.Contains(stderr, "errors: 0\n") {
		t.Errorf("text report on stderr:\n%s", stderr)
	}
	// Each of the three offices got every created envelope.
	for _, o := range []string{"000.00.31.H40", "000.00.32.H40", "000.00.33.H40"} {
		var page api.InboxPage
		if hubJSON(t, &page, url, o, "inbox", "--all", "--json"); len(page.Items) != r.Created {
			t.Errorf("inbox of %s: %d items, want %d", o, len(page.Items), r.Created)
		}
	}
}

// TestBenchRefusals: a wrong token stops bench before it signs anything; a
// key that does not match the sender stops it before the load.
func TestBenchRefusals(t *testing.T) {
	t.Parallel()
	url := startHub(t)
	args := benchArgs(url, "--to", department)
	args[4] = "wrong-token"
	code, stdout, stderr := axisctl(t, args...)
	if code != 1 || stdout != "" || !strings.HasPrefix(lastLine(stderr), "unauthorized: ") || strings.Contains(stderr, "signing") {
		t.Errorf("wrong token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Signed by the department's key, claiming to be from the commune.
	args = benchArgs(url, "--to", testgen.Province)
	args[6] = filepath.Join(pkiDir, "demo-agency-"+department+".key")
	args[8] = filepath.Join(pkiDir, "demo-agency-"+department+".chain.pem")
	code, stdout, stderr = axisctl(t, args...)
	if code != 1 || stdout != "" || !strings.HasPrefix(lastLine(stderr), "sender_mismatch: ") {
		t.Errorf("wrong sender key: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
