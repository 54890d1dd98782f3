package vdxp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The two worked examples of VDXP.md, copied from the text.
const (
	exFile       = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML>demo</edXML>\n"
	exHashFile   = "df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac"
	exTimestamp  = "15032024T103045+0123"
	exSendKeys   = "systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type"
	exSendSign   = `{"XroadVnpt-systemid":"demo-system","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac","XroadVnpt-from":"000.00.00.H40","XroadVnpt-timestamp":"15032024T103045+0123","XroadVnpt-Content-Type":"application/octet-stream"}`
	exSendMAC    = "e9b6bce9a56638db885a916f51021b93d5d10090e166e8c5ed85e2c7ceed4c32"
	exListKeys   = "systemid;servicetype;messagetype;timestamp;Content-Type"
	exListSign   = `{"XroadVnpt-systemid":"demo-system","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-timestamp":"15032024T103045+0123","XroadVnpt-Content-Type":"application/json"}`
	exListMAC    = "94253196943fc0742abbf9d13c8a402d1e78663752772d9e8d67056d83fae2dd"
	exSystem     = "demo-system"
	exSecret     = "demo-secret"
	exSendParams = "servicetype=eDoc messagetype=edoc hash-file=" + exHashFile + " from=000.00.00.H40"
)

func secrets(id string) (string, bool) {
	if id == exSystem {
		return exSecret, true
	}
	return "", false
}

func TestTimestampFormat(t *testing.T) {
	ts := time.Date(2024, 3, 15, 10, 30, 45, 123_000_000, time.UTC)
	if got := Timestamp(ts); got != exTimestamp {
		t.Fatalf("Timestamp = %q, want %q", got, exTimestamp)
	}
}

func TestHashFileUnpadded(t *testing.T) {
	got := HashFile([]byte(exFile))
	if got != exHashFile || len(got) != 62 {
		t.Fatalf("HashFile = %q (%d chars), want %q (62)", got, len(got), exHashFile)
	}
	padded := "df038deb2f50e50b45bb"
	if !strings.HasPrefix(paddedHex(exFile), padded) {
		t.Fatalf("padded hash starts %q, VDXP.md says %q", paddedHex(exFile)[:20], padded)
	}
	for _, h := range []string{exHashFile, paddedHex(exFile), strings.ToUpper(exHashFile)} {
		if !HashFileMatches([]byte(exFile), h) {
			t.Errorf("HashFileMatches(%q) = false", h)
		}
	}
	if HashFileMatches([]byte(exFile+" "), exHashFile) || HashFileMatches([]byte(exFile), exHashFile[:61]) {
		t.Error("HashFileMatches accepted a hash of other bytes")
	}
}

func paddedHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The client's header builder reproduces both examples byte for byte.
func TestSignWorkedExamples(t *testing.T) {
	send := Sign(exSystem, exSecret, exTimestamp, "application/octet-stream", []Param{
		{"servicetype", "eDoc"}, {"messagetype", "edoc"}, {"hash-file", HashFile([]byte(exFile))}, {"from", "000.00.00.H40"}})
	list := Sign(exSystem, exSecret, exTimestamp, "application/json", []Param{{"servicetype", "eDoc"}, {"messagetype", "edoc"}})
	for _, c := range []struct {
		name             string
		h                http.Header
		keys, sign, hash string
	}{{"sendEdoc", send, exSendKeys, exSendSign, exSendMAC}, {"getReceivedEdocList", list, exListKeys, exListSign, exListMAC}} {
		if got := sent(c.h, HeaderSignHeaderKey)[0]; got != c.keys {
			t.Errorf("%s: sign-header-key = %q, want %q", c.name, got, c.keys)
		}
		if got := sent(c.h, HeaderSignHeader)[0]; got != c.sign {
			t.Errorf("%s: sign-header =\n%s\nwant\n%s", c.name, got, c.sign)
		}
		if got := sent(c.h, HeaderHashHeader)[0]; got != c.hash {
			t.Errorf("%s: hash-header = %s, want %s", c.name, got, c.hash)
		}
		if got := sent(c.h, "XroadVnpt-systemid"); len(got) != 1 || got[0] != exSystem {
			t.Errorf("%s: the systemid header is not sent with the SDK's case: %v", c.name, c.h)
		}
	}
	if got := sent(send, "XroadVnpt-hash-file"); len(got) != 1 || got[0] != exHashFile {
		t.Errorf("hash-file header = %v", got)
	}
}

// sent reads a header as the client wrote it (the SDK's case, not
// canonicalized).
func sent(h http.Header, k string) []string { return h[k] }

// exampleHeaders builds the headers of the sendEdoc example as a server
// sees them (net/http canonicalizes names; values are the wire bytes).
func exampleHeaders(sign, mac string, extra ...string) http.Header {
	h := http.Header{}
	h.Set(HeaderSignHeaderKey, exSendKeys)
	h.Set(HeaderSignHeader, sign)
	h.Set(HeaderHashHeader, mac)
	h.Set("User-Agent", UserAgent)
	h.Set(HeaderVersion, Version)
	h.Set("Content-Type", "application/octet-stream")
	for _, kv := range strings.Fields("systemid=demo-system timestamp=15032024T103045+0123 Content-Type=application/octet-stream " + exSendParams) {
		k, v, _ := strings.Cut(kv, "=")
		h.Add(Prefix+k, v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return h
}

func TestVerifyWorkedExamples(t *testing.T) {
	r, err := Verify(exampleHeaders(exSendSign, exSendMAC), secrets)
	if err != nil {
		t.Fatalf("sendEdoc example refused: %v", err)
	}
	if r.SystemID != exSystem || r.Get("from") != "000.00.00.H40" || r.Get("hash-file") != exHashFile || r.Get("messagetype") != "edoc" || r.Latin1 {
		t.Fatalf("parameters = %+v", r)
	}
	lh := http.Header{}
	lh.Set(HeaderSignHeaderKey, exListKeys)
	lh.Set(HeaderSignHeader, exListSign)
	lh.Set(HeaderHashHeader, exListMAC)
	lh.Set(HeaderSystemID, exSystem)
	lh.Set(Prefix+"servicetype", "eDoc")
	lh.Set(Prefix+"messagetype", "edoc")
	if r, err := Verify(lh, secrets); err != nil || r.Get("Content-Type") != "application/json" {
		t.Fatalf("getReceivedEdocList example: %+v, %v", r, err)
	}
}

// A Java client writes header values as Latin-1: a signed value with é is
// HMACed as UTF-8 but arrives as one byte 0xE9.
func TestVerifyLatin1Headers(t *testing.T) {
	sign := strings.Replace(exSendSign, `"XroadVnpt-from":"000.00.00.H40"`, `"XroadVnpt-from":"000.00.00.H40","XroadVnpt-filePath":"C:\\Tài liệu cũ"`, 1)
	sign = strings.Replace(sign, "liệu cũ", "lieu", 1) // only Latin-1 characters survive a Java header
	mac := MAC(exSecret, sign)                         // over the UTF-8 bytes
	wire := toLatin1(t, sign)
	if wire == sign {
		t.Fatal("test is wrong: the Latin-1 bytes equal the UTF-8 ones")
	}
	h := exampleHeaders(wire, mac, Prefix+"filePath", toLatin1(t, `C:\Tài lieu`))
	r, err := Verify(h, secrets)
	if err != nil {
		t.Fatalf("Latin-1 header refused: %v", err)
	}
	if !r.Latin1 || r.Get("filePath") != `C:\Tài lieu` {
		t.Fatalf("Latin1=%v filePath=%q", r.Latin1, r.Get("filePath"))
	}
	// The worked example itself is ASCII, so its Latin-1 reading is itself.
	if _, err := Verify(exampleHeaders(toLatin1(t, exSendSign), exSendMAC), secrets); err != nil {
		t.Fatalf("worked example read as Latin-1: %v", err)
	}
}

func toLatin1(t *testing.T, s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			t.Fatalf("%q is not Latin-1", r)
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// The SDK never clears its parameter map: later calls carry stale keys
// (filePath, status, docId and docid with different values).
func TestVerifyStaleKeysAndDocIDCase(t *testing.T) {
	h := Sign(exSystem, exSecret, exTimestamp, "application/json", []Param{
		{"docid", "stale-from-an-earlier-call"}, {"filePath", "/tmp/x"}, {"status", "done"}, {"docId", "wanted"}})
	srv := http.Header{}
	for k, v := range h { // as a server receives them: canonical names
		for _, x := range v {
			srv.Add(k, x)
		}
	}
	r, err := Verify(srv, secrets)
	if err != nil {
		t.Fatalf("stale keys refused: %v", err)
	}
	if got := r.Get("docId"); got != "wanted" {
		t.Fatalf("docId = %q, want the exact-case key's value", got)
	}
	if got := r.Get("DOCID"); got != "stale-from-an-earlier-call" {
		t.Fatalf("case-insensitive lookup = %q, want the first match", got)
	}
	// An extra unsigned header is ignored; it is not a parameter.
	srv.Add(Prefix+"unsigned", "x")
	if r, err := Verify(srv, secrets); err != nil || r.Get("unsigned") != "" {
		t.Fatalf("unsigned header: %v %q", err, r.Get("unsigned"))
	}
}

func TestVerifyRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		h    http.Header
		want error
	}{
		{"wrong secret", exampleHeaders(exSendSign, MAC("not-the-secret", exSendSign)), ErrBadSignature},
		{"unknown system", func() http.Header {
			h := exampleHeaders(exSendSign, exSendMAC)
			h.Set(HeaderSystemID, "someone-else")
			return h
		}(), ErrUnknownSystem},
		{"edited sign-header", exampleHeaders(strings.Replace(exSendSign, "H40", "H41", 1), exSendMAC), ErrBadSignature},
		{"plain header disagrees", func() http.Header {
			h := exampleHeaders(exSendSign, exSendMAC)
			h.Set(Prefix+"from", "000.00.00.H41")
			return h
		}(), ErrMismatch},
		{"systemid header disagrees with the signed one", func() http.Header {
			sign := strings.Replace(exSendSign, "demo-system", "other", 1)
			h := exampleHeaders(sign, MAC(exSecret, sign))
			return h
		}(), ErrMismatch},
		{"a key listed but not signed", func() http.Header {
			h := exampleHeaders(exSendSign, exSendMAC)
			h.Set(HeaderSignHeaderKey, exSendKeys+";to")
			return h
		}(), ErrMismatch},
		{"no hash-header", func() http.Header {
			h := exampleHeaders(exSendSign, exSendMAC)
			h.Del(HeaderHashHeader)
			return h
		}(), ErrUnauthenticated},
		{"not hex", exampleHeaders(exSendSign, "zz"), ErrBadSignature},
	} {
		if _, err := Verify(c.h, secrets); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestGsonQuote(t *testing.T) {
	in := "a\"b\\c\td\be\nf\rg\fh\x01i\u2028j/<>&='é"
	want := `"a\"b\\c\td\be\nf\rg\fh\u0001i\u2028j/<>&='é"`
	if got := GsonQuote(in); got != want {
		t.Fatalf("GsonQuote = %s, want %s", got, want)
	}
}

func TestASCIIJSON(t *testing.T) {
	got := string(ASCIIJSON([]byte(`{"ErrorDesc":"Thành công 𝄞"}`)))
	want := `{"ErrorDesc":"Th\u00e0nh c\u00f4ng \ud834\udd1e"}`
	if got != want {
		t.Fatalf("ASCIIJSON = %s, want %s", got, want)
	}
}

func TestStripCRLF(t *testing.T) {
	for in, want := range map[string]string{"a\r\n": "a", "a\r\n\r\n": "a\r\n", "a\n": "a\n", "a": "a"} {
		if got := string(StripCRLF([]byte(in))); got != want {
			t.Errorf("StripCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}
