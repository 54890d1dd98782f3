package main

// An independent VDXP client, written only from VDXP.md (the national SDK's
// protocol), run against the real axisd wiring. It deliberately does not use
// the hub's own VDXP package: the header construction below is what a DMS
// vendor would write from the spec, so a shared bug cannot hide here.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

const (
	vdxpTestSystem = "demo-dms-h40"
	vdxpTestSecret = "vdxp-test-secret-ß/<>&='\"" // odd bytes, used as is
	vdxpCommune    = "000.07.35.H40"
	vdxpDept       = "000.00.11.H40"
	vdxpOutsider   = "000.00.12.H40" // in the province, not an agency of the system
)

// vdxpParam is one SDK parameter, sent as XroadVnpt-<key>.
type vdxpParam struct{ key, value string }

// vdxpSDK is a client as the SDK behaves: one timestamp per service object.
type vdxpSDK struct {
	base      string // the configured endpoint; the URL is base + "/" + op
	system    string
	secret    string
	timestamp string
	client    *http.Client
}

func newVDXPSDK(base, system, secret string) *vdxpSDK {
	return &vdxpSDK{base: base, system: system, secret: secret, timestamp: vdxpTimestamp(time.Now()),
		client: &http.Client{
			Timeout: 30 * time.Second,
			// A redirect is a failure: the SDK does not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}

// vdxpTimestamp is ddMMyyyy'T'HHmmss+SSSS (SSSS = milliseconds in 4 digits).
func vdxpTimestamp(t time.Time) string {
	return t.Format("02012006T150405") + fmt.Sprintf("+%04d", t.Nanosecond()/int(time.Millisecond))
}

// gsonEscapes is Gson's JsonWriter with HTML escaping off, as the SDK
// builds its sign-header: its REPLACEMENT_CHARS table (every control
// character as \u00xx but the five with a short escape, the quote and the
// backslash), then U+2028 and U+2029, which JsonWriter escapes for
// JavaScript; everything else as is.
var gsonEscapes = func() *strings.Replacer {
	short := map[rune]string{'"': `\"`, '\\': `\\`, '\t': `\t`, '\b': `\b`, '\n': `\n`, '\r': `\r`, '\f': `\f`}
	var pairs []string
	for c := rune(0); c < 0x80; c++ {
		if e, ok := short[c]; ok {
			pairs = append(pairs, string(c), e)
		} else if c < 0x20 {
			pairs = append(pairs, string(c), fmt.Sprintf(`\u%04x`, c))
		}
	}
	return strings.NewReplacer(append(pairs, "\u2028", `\u2028`, "\u2029", `\u2029`)...)
}()

// gsonQuote writes s as a JSON string the way Gson does (gsonEscapes).
func gsonQuote(s string) string { return `"` + gsonEscapes.Replace(s) + `"` }

// vdxpHashFile is SHA-256 hex without zero padding per byte (Java
// Integer.toHexString(b & 0xff)); padded gives the ordinary form.
func vdxpHashFile(file []byte, padded bool) string {
	sum := sha256.Sum256(file)
	if padded {
		return hex.EncodeToString(sum[:])
	}
	var b strings.Builder
	for _, x := range sum {
		b.WriteString(strconv.FormatUint(uint64(x), 16))
	}
	return b.String()
}

// signed is the signed parameter list: systemid, the params in order,
// timestamp, Content-Type.
func (c *vdxpSDK) signed(params []vdxpParam, contentType string) []vdxpParam {
	all := []vdxpParam{{"systemid", c.system}}
	all = append(all, params...)
	return append(all, vdxpParam{"timestamp", c.timestamp}, vdxpParam{"Content-Type", contentType})
}

// signHeaders returns sign-header-key, sign-header and hash-header.
func (c *vdxpSDK) signHeaders(all []vdxpParam) (keys, signHeader, hash string) {
	var ks, kv []string
	for _, p := range all {
		ks = append(ks, p.key)
		kv = append(kv, gsonQuote("XroadVnpt-"+p.key)+":"+gsonQuote(p.value))
	}
	signHeader = "{" + strings.Join(kv, ",") + "}"
	mac := hmac.New(sha256.New, []byte(c.secret))
	mac.Write([]byte(signHeader))
	return strings.Join(ks, ";"), signHeader, hex.EncodeToString(mac.Sum(nil))
}

// request builds the SDK's request; tamper, when set, may change the plain
// headers after signing.
func (c *vdxpSDK) request(t *testing.T, method, op string, params []vdxpParam, contentType string, body []byte, tamper func(http.Header)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, c.base+"/"+op, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	all := c.signed(params, contentType)
	keys, signHeader, hash := c.signHeaders(all)
	// Assigned directly: Header.Set would canonicalize the names.
	for _, p := range all {
		req.Header["XroadVnpt-"+p.key] = []string{p.value}
	}
	req.Header["XroadVnpt-sign-header-key"] = []string{keys}
	req.Header["XroadVnpt-sign-header"] = []string{signHeader}
	req.Header["XroadVnpt-hash-header"] = []string{hash}
	req.Header["XroadVnpt-version"] = []string{"3.0.201608"}
	req.Header.Set("User-Agent", "JAVASDKAgent/1.0.0 XRoad/VPCP")
	req.Header.Set("Content-Type", contentType)
	if tamper != nil {
		tamper(req.Header)
	}
	return req
}

type vdxpReply struct {
	op     string
	status int
	header http.Header
	body   []byte
	obj    map[string]any // the strict reader's result (JSON answers)
}

func (c *vdxpSDK) do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	r := send(t, c.client, req)
	return r.status, r.header, r.body
}

// call sends a JSON operation (POST, Content-Type application/json, empty
// body) and reads the answer strictly.
func (c *vdxpSDK) call(t *testing.T, op string, params ...vdxpParam) vdxpReply {
	t.Helper()
	return c.callTampered(t, op, nil, params...)
}

func (c *vdxpSDK) callTampered(t *testing.T, op string, tamper func(http.Header), params ...vdxpParam) vdxpReply {
	t.Helper()
	st, h, b := c.do(t, c.request(t, "POST", op, params, "application/json", nil, tamper))
	r := vdxpReply{op: op, status: st, header: h, body: b}
	r.obj = vdxpStrict(t, op, st, h, b)
	return r
}

// sendEdoc posts file + CRLF with hash-file (nil hashFile: the right one).
func (c *vdxpSDK) sendEdoc(t *testing.T, file []byte, messageType, from string, hashFile *string, tamper func(http.Header)) vdxpReply {
	t.Helper()
	hf := vdxpHashFile(file, false)
	if hashFile != nil {
		hf = *hashFile
	}
	params := []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", messageType}, {"hash-file", hf}, {"from", from}}
	body := append(append([]byte{}, file...), '\r', '\n')
	st, h, b := c.do(t, c.request(t, "POST", "sendEdoc", params, "application/octet-stream", body, tamper))
	r := vdxpReply{op: "sendEdoc", status: st, header: h, body: b}
	r.obj = vdxpStrict(t, "sendEdoc", st, h, b)
	for i, x := range b {
		if x >= 0x80 {
			t.Errorf("sendEdoc answer has a non-ASCII byte 0x%02x at %d (the SDK reads it as US-ASCII): %s", x, i, b)
			break
		}
	}
	// DocId is always present, a string, even on failure.
	if _, ok := r.obj["DocId"].(string); !ok {
		t.Errorf("sendEdoc answer without a string DocId: %s", b)
	}
	return r
}

// vdxpStrict is what a strict SDK-side reader accepts: HTTP 200, JSON, no
// null anywhere, status/ErrorCode/ErrorDesc strings, ErrorCode "0" iff OK.
func vdxpStrict(t *testing.T, op string, status int, h http.Header, body []byte) map[string]any {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("%s: HTTP %d (want 200 always): %s", op, status, body)
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		t.Fatalf("%s: Content-Type %q, want JSON: %s", op, h.Get("Content-Type"), body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", op, err, body)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: data after the JSON value: %s", op, body)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a JSON object: %s", op, body)
	}
	if where := vdxpFindNull(v, "$"); where != "" {
		t.Fatalf("%s: JSON null at %s (the SDK's Gson aborts): %s", op, where, body)
	}
	for _, k := range []string{"status", "ErrorCode", "ErrorDesc"} {
		if _, ok := obj[k].(string); !ok {
			t.Fatalf("%s: %q missing or not a string: %s", op, k, body)
		}
	}
	if (obj["ErrorCode"] == "0") != (obj["status"] == "OK") {
		t.Fatalf("%s: ErrorCode %q with status %q: %s", op, obj["ErrorCode"], obj["status"], body)
	}
	if s := obj["status"]; s != "OK" && s != "FAIL" {
		t.Fatalf("%s: status %q (want OK or FAIL): %s", op, s, body)
	}
	return obj
}

func vdxpFindNull(v any, at string) string {
	switch x := v.(type) {
	case nil:
		return at
	case map[string]any:
		for k, e := range x {
			if w := vdxpFindNull(e, at+"."+k); w != "" {
				return w
			}
		}
	case []any:
		for i, e := range x {
			if w := vdxpFindNull(e, fmt.Sprintf("%s[%d]", at, i)); w != "" {
				return w
			}
		}
	}
	return ""
}

func (r vdxpReply) ok(t *testing.T) vdxpReply {
	t.Helper()
	if r.obj["status"] != "OK" || r.obj["ErrorCode"] != "0" {
		t.Fatalf("%s: want OK, got %s", r.op, r.body)
	}
	return r
}

func (r vdxpReply) fail(t *testing.T, what string) vdxpReply {
	t.Helper()
	if r.obj["status"] != "FAIL" || r.obj["ErrorCode"] == "0" {
		t.Errorf("%s (%s): want FAIL with a non-zero ErrorCode, got %s", r.op, what, r.body)
	} else {
		t.Logf("%s (%s): refused: %s", r.op, what, r.body)
	}
	return r
}

// rows is data[] with every listed field required as a string.
func (r vdxpReply) rows(t *testing.T, fields ...string) []map[string]string {
	t.Helper()
	data, ok := r.obj["data"].([]any)
	if !ok {
		t.Fatalf("%s: data is not an array: %s", r.op, r.body)
	}
	var out []map[string]string
	for i, e := range data {
		o, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("%s: data[%d] is not an object", r.op, i)
		}
		row := map[string]string{}
		for _, f := range fields {
			s, ok := o[f].(string)
			if !ok {
				t.Fatalf("%s: data[%d].%s is %T %v, want a string: %v", r.op, i, f, o[f], o[f], o)
			}
			row[f] = s
		}
		out = append(out, row)
	}
	return out
}

var vdxpListFields = []string{"docId", "serviceType", "messageType", "created_time", "updated_time", "from", "to", "status", "status_desc"}

var vdxpSentFields = []string{"senderDocId", "receiverDocId", "fromCode", "toCode", "sendStatus", "sendStatusDesc",
	"receiveStatus", "receiveStatusDesc", "title", "notation", "sentTime", "receivedTime", "serviceType", "messageType"}

func (c *vdxpSDK) received(t *testing.T, messageType string) map[string]map[string]string {
	t.Helper()
	r := c.call(t, "getReceivedEdocList", vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", messageType}).ok(t)
	out := map[string]map[string]string{}
	for _, row := range r.rows(t, vdxpListFields...) {
		out[row["docId"]] = row
	}
	return out
}

func (c *vdxpSDK) count(t *testing.T, op string) int64 {
	t.Helper()
	r := c.call(t, op, vdxpParam{"servicetype", "eDoc"}).ok(t)
	n, ok := r.obj["count"].(json.Number)
	if !ok {
		t.Fatalf("%s: count is not a JSON number: %s", op, r.body)
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("%s: count %s is not an int", op, n)
	}
	return v
}

// TestVDXPClientWorkedExample checks this client against VDXP.md's test
// vector before it is trusted against the hub.
func TestVDXPClientWorkedExample(t *testing.T) {
	file := []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML>demo</edXML>\n")
	if len(file) != 59 {
		t.Fatalf("file is %d bytes", len(file))
	}
	if sum := sha256.Sum256(file); !strings.HasPrefix(hex.EncodeToString(sum[:]), "df038deb2f50e50b45bb") {
		t.Fatalf("sha256 %x", sum)
	}
	if got := vdxpHashFile(file, false); got != "df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac" {
		t.Fatalf("hash-file %s", got)
	}
	c := newVDXPSDK("http://example.invalid", "demo-system", "demo-secret")
	c.timestamp = "15032024T103045+0123"
	hf := vdxpHashFile(file, false)
	req := c.request(t, "POST", "sendEdoc", []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", "edoc"}, {"hash-file", hf}, {"from", "000.00.00.H40"}},
		"application/octet-stream", append(append([]byte{}, file...), '\r', '\n'), nil)
	want := map[string]string{
		"XroadVnpt-sign-header-key": "systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type",
		"XroadVnpt-sign-header":     `{"XroadVnpt-systemid":"demo-system","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-hash-file":"df38deb2f50e5b45bb3a517c6b3f16a43210da2e13183c9a5ff8dde5f793ac","XroadVnpt-from":"000.00.00.H40","XroadVnpt-timestamp":"15032024T103045+0123","XroadVnpt-Content-Type":"application/octet-stream"}`,
		"XroadVnpt-hash-header":     "e9b6bce9a56638db885a916f51021b93d5d10090e166e8c5ed85e2c7ceed4c32",
		"XroadVnpt-systemid":        "demo-system",
		"XroadVnpt-hash-file":       hf,
		"XroadVnpt-Content-Type":    "application/octet-stream",
		"XroadVnpt-timestamp":       "15032024T103045+0123",
	}
	for k, v := range want {
		if got := req.Header[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if req.URL.Path != "/sendEdoc" || req.ContentLength != 61 || req.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("path %s, length %d, type %s", req.URL.Path, req.ContentLength, req.Header.Get("Content-Type"))
	}
	req = c.request(t, "POST", "getReceivedEdocList", []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", "edoc"}}, "application/json", nil, nil)
	if got := asSent(req.Header, "XroadVnpt-sign-header"); got != `{"XroadVnpt-systemid":"demo-system","XroadVnpt-servicetype":"eDoc","XroadVnpt-messagetype":"edoc","XroadVnpt-timestamp":"15032024T103045+0123","XroadVnpt-Content-Type":"application/json"}` {
		t.Errorf("list sign-header %s", got)
	}
	if got := asSent(req.Header, "XroadVnpt-hash-header"); got != "94253196943fc0742abbf9d13c8a402d1e78663752772d9e8d67056d83fae2dd" {
		t.Errorf("list hash-header %s", got)
	}
	if got := gsonQuote("a\"\\\t\b\n\r\f\x01\u2028/<>&='é"); got != `"a\"\\\t\b\n\r\f\u0001\u2028/<>&='é"` {
		t.Errorf("gson %s", got)
	}
	if ts := vdxpTimestamp(time.Date(2026, 11, 25, 20, 30, 6, 109*int(time.Millisecond), time.UTC)); ts != "25112026T203006+0109" {
		t.Errorf("timestamp %s", ts)
	}
}

// TestVDXPSDKAgainstHub runs the SDK's calls against the demo hub.
func TestVDXPSDKAgainstHub(t *testing.T) {
	t.Setenv(testgen.DemoVDXPSecretEnv, vdxpTestSecret)
	m := start(t)
	c := newVDXPSDK(m.URL()+"/vdxp", vdxpTestSystem, vdxpTestSecret)
	sCommune, sDept, sOutsider := signerFor(t, vdxpCommune), signerFor(t, vdxpDept), signerFor(t, vdxpOutsider)

	// 1. sendEdoc of a document from the commune to the department.
	raw := fixture.SignWith(t, sCommune, fixture.Numbered("15"))
	r := c.sendEdoc(t, raw, "edoc", vdxpCommune, nil, nil).ok(t)
	id, _ := r.obj["DocId"].(string)
	if id == "" {
		t.Fatalf("sendEdoc: empty DocId: %s", r.body)
	}

	// 2. The native API sees the same document, the same bytes (no CRLF).
	if got := call(t, m, "GET", "/api/v1/envelopes/"+id, tok(vdxpDept), nil); got.status != 200 || !bytes.Equal(got.body, raw) {
		t.Fatalf("native fetch of %s: %d, bytes equal %v", id, got.status, bytes.Equal(got.body, raw))
	}

	// 3. Listed to the system, counted.
	row, ok := c.received(t, "edoc")[id]
	if !ok {
		t.Fatalf("getReceivedEdocList edoc does not list %s", id)
	}
	if row["from"] != vdxpCommune || !strings.Contains(row["to"], vdxpDept) || row["messageType"] != "edoc" || row["serviceType"] != "eDoc" ||
		row["created_time"] == "" || row["status"] == "" {
		t.Errorf("list row %v", row)
	}
	if n := c.count(t, "countReceiveEdoc"); n < 1 {
		t.Errorf("countReceiveEdoc = %d", n)
	}

	// 4. getEdoc (base64) and downloadEdoc (raw bytes, GET).
	r = c.call(t, "getEdoc", vdxpParam{"docId", id}).ok(t)
	if s, _ := r.obj["data"].(string); s != base64.StdEncoding.EncodeToString(raw) {
		t.Errorf("getEdoc data is not base64 of the signed bytes: %.200s", r.body)
	}
	st, _, body := c.do(t, c.request(t, "GET", "downloadEdoc", []vdxpParam{{"docId", id}}, "application/json", nil, nil))
	if st != 200 || !bytes.Equal(body, raw) {
		t.Errorf("downloadEdoc: %d, bytes equal %v: %.200s", st, bytes.Equal(body, raw), body)
	}
	// An unknown document: downloadEdoc answers JSON, not bytes.
	st, h, body := c.do(t, c.request(t, "GET", "downloadEdoc", []vdxpParam{{"docId", "no-such-doc"}}, "application/json", nil, nil))
	vdxpReply{op: "downloadEdoc", obj: vdxpStrict(t, "downloadEdoc", st, h, body), body: body}.fail(t, "unknown docId")
	c.call(t, "getEdoc", vdxpParam{"docId", "no-such-doc"}).fail(t, "unknown docId")

	// 10. The SDK's stale keys: docid (stale) and docId both signed and sent;
	// the exact-case docId wins, in either order.
	for _, params := range [][]vdxpParam{
		{{"docid", "stale-" + id}, {"docId", id}},
		{{"docId", id}, {"docid", "stale-" + id}},
		{{"docId", id}, {"docid", "stale-" + id}, {"filePath", "C:\\edoc\\in"}},
	} {
		r = c.call(t, "getEdoc", params...)
		if r.obj["status"] != "OK" {
			t.Errorf("getEdoc with a stale docid %v: %s", params, r.body)
		} else if s, _ := r.obj["data"].(string); s != base64.StdEncoding.EncodeToString(raw) {
			t.Errorf("getEdoc with a stale docid %v read another document", params)
		}
	}

	// 5. updateStatus done: off the list, acked_done on the native status.
	c.call(t, "updateStatus", vdxpParam{"docId", id}, vdxpParam{"status", "done"}).ok(t)
	if _, ok := c.received(t, "edoc")[id]; ok {
		t.Errorf("%s still listed after updateStatus done", id)
	}
	ds := status(t, m, vdxpCommune, id)
	if len(ds.Recipients) != 1 || ds.Recipients[0].OrganID != vdxpDept || ds.Recipients[0].State != "acked_done" {
		t.Errorf("native status after updateStatus done: %+v", ds)
	}

	// 6. A status message from the department comes back to the commune
	// (both agencies of this system): on the status list, not the edoc list.
	stMsg := testgen.Status("03", "Đã vào sổ")
	stMsg.ResponseFor[0].DocumentID = fixture.Numbered("15").DocumentID
	stRaw := fixture.SignWith(t, sDept, stMsg)
	r = c.sendEdoc(t, stRaw, "status", vdxpDept, nil, nil).ok(t)
	stID, _ := r.obj["DocId"].(string)
	if stID == "" || stID == id {
		t.Fatalf("status sendEdoc DocId %q: %s", stID, r.body)
	}
	if row, ok := c.received(t, "status")[stID]; !ok {
		t.Errorf("getReceivedEdocList status does not list %s", stID)
	} else if row["from"] != vdxpDept || !strings.Contains(row["to"], vdxpCommune) || row["messageType"] != "status" {
		t.Errorf("status row %v", row)
	}
	if _, ok := c.received(t, "edoc")[stID]; ok {
		t.Errorf("the status message %s is on the edoc list", stID)
	}
	if n := c.count(t, "countReceiveStatus"); n < 1 {
		t.Errorf("countReceiveStatus = %d", n)
	}
	if ds := status(t, m, vdxpCommune, id); ds.Recipients[0].StatusCode != "03" {
		t.Errorf("status 03 not attached to the document: %+v", ds.Recipients[0])
	}

	// 7. getSentEdocList and getAgenciesList.
	r = c.call(t, "getSentEdocList", vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", "edoc"}, vdxpParam{"docId", id}).ok(t)
	sent := r.rows(t, vdxpSentFields...)
	if len(sent) != 1 || sent[0]["senderDocId"] != id || sent[0]["fromCode"] != vdxpCommune || sent[0]["toCode"] != vdxpDept ||
		sent[0]["messageType"] != "edoc" || sent[0]["serviceType"] != "eDoc" || sent[0]["notation"] == "" || sent[0]["title"] == "" {
		t.Errorf("getSentEdocList %v", sent)
	}
	r = c.call(t, "getAgenciesList").ok(t)
	byCode := map[string]map[string]string{}
	for _, a := range r.rows(t, "id", "pid", "code", "name", "mail", "oldCode") {
		byCode[a["code"]] = a
	}
	for _, code := range []string{"000.00.00.H40", vdxpDept, "000.00.35.H40", vdxpCommune} {
		if a, ok := byCode[code]; !ok || a["name"] == "" || a["id"] == "" {
			t.Errorf("getAgenciesList: %s: %v", code, a)
		}
	}
	if len(byCode) <= 4 {
		t.Errorf("getAgenciesList lists %d agencies", len(byCode))
	}

	// 9. A base with a trailing slash: //sendEdoc works, no redirect.
	slash := newVDXPSDK(m.URL()+"/vdxp/", vdxpTestSystem, vdxpTestSecret)
	raw9 := fixture.SignWith(t, sCommune, fixture.Numbered("19"))
	r = slash.sendEdoc(t, raw9, "edoc", vdxpCommune, nil, nil).ok(t)
	id9, _ := r.obj["DocId"].(string)
	if _, ok := slash.received(t, "edoc")[id9]; id9 == "" || !ok {
		t.Errorf("//sendEdoc gave %q, listed %v", id9, ok)
	}
	if got := call(t, m, "GET", "/api/v1/envelopes/"+id9, tok(vdxpDept), nil); !bytes.Equal(got.body, raw9) {
		t.Errorf("//sendEdoc: native fetch %d", got.status)
	}

	// hash-file in the padded form is accepted too.
	raw10 := fixture.SignWith(t, sCommune, fixture.Numbered("20"))
	padded := vdxpHashFile(raw10, true)
	r = c.sendEdoc(t, raw10, "edoc", vdxpCommune, &padded, nil)
	if r.obj["status"] != "OK" {
		t.Errorf("padded hash-file refused: %s", r.body)
	}

	// 8. Refusals: HTTP 200, JSON, FAIL, nothing stored.
	t.Run("refusals", func(t *testing.T) {
		listed := len(c.received(t, "edoc"))
		inboxLen := len(inbox(t, m, vdxpDept).Items)
		unchanged := func(what string) {
			t.Helper()
			if n := len(c.received(t, "edoc")); n != listed {
				t.Errorf("%s: the edoc list went from %d to %d", what, listed, n)
			}
			if n := len(inbox(t, m, vdxpDept).Items); n != inboxLen {
				t.Errorf("%s: the department's native inbox went from %d to %d", what, inboxLen, n)
			}
		}
		rawR := fixture.SignWith(t, sCommune, fixture.Numbered("30"))

		wrong := newVDXPSDK(m.URL()+"/vdxp", vdxpTestSystem, "not-the-secret")
		wrong.call(t, "getReceivedEdocList", vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", "edoc"}).fail(t, "wrong secret")
		wrong.call(t, "getEdoc", vdxpParam{"docId", id}).fail(t, "wrong secret")
		wrong.sendEdoc(t, rawR, "edoc", vdxpCommune, nil, nil).fail(t, "wrong secret")
		unchanged("wrong secret")

		unknown := newVDXPSDK(m.URL()+"/vdxp", "no-such-system", vdxpTestSecret)
		unknown.call(t, "getReceivedEdocList", vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", "edoc"}).fail(t, "unknown system")
		unknown.sendEdoc(t, rawR, "edoc", vdxpCommune, nil, nil).fail(t, "unknown system")
		unchanged("unknown system")

		bad := vdxpHashFile(append(append([]byte{}, rawR...), ' '), false)
		c.sendEdoc(t, rawR, "edoc", vdxpCommune, &bad, nil).fail(t, "hash-file of other bytes")
		unchanged("hash-file mismatch")
		// The hash of the body with its CRLF is not the hash-file either.
		withCRLF := vdxpHashFile(append(append([]byte{}, rawR...), '\r', '\n'), false)
		c.sendEdoc(t, rawR, "edoc", vdxpCommune, &withCRLF, nil).fail(t, "hash-file over the CRLF")
		unchanged("hash-file over the CRLF")

		rawOut := fixture.SignWith(t, sOutsider, func() *envelope.Message {
			d := fixture.Numbered("31")
			d.From = envelope.Organization{OrganID: vdxpOutsider, OrganName: "Sở Tư pháp tỉnh Nam Định", Email: "stp@namdinh.gov.vn"}
			d.DocumentID = vdxpOutsider + ",2026/05/28,31/UBND-VP"
			d.TraceHeaders = []envelope.TraceHeader{{OrganID: vdxpOutsider, Timestamp: "2026/05/28 08:30:00"}}
			return d
		}())
		c.sendEdoc(t, rawOut, "edoc", vdxpOutsider, nil, nil).fail(t, "from an agency the system does not act for")
		unchanged("from another agency")

		// A plain header that disagrees with the signed one.
		c.sendEdoc(t, rawR, "edoc", vdxpCommune, nil, func(h http.Header) {
			h["XroadVnpt-from"] = []string{vdxpOutsider}
		}).fail(t, "plain from differs from the signed from")
		unchanged("plain header tampered")
		// And the other way: signed as the outsider, plain header the commune.
		c.sendEdoc(t, rawR, "edoc", vdxpOutsider, nil, func(h http.Header) {
			h["XroadVnpt-from"] = []string{vdxpCommune}
		}).fail(t, "signed from differs from the plain from")
		unchanged("plain header tampered the other way")
		// A sign-header changed after signing.
		c.callTampered(t, "getEdoc", func(h http.Header) {
			h["XroadVnpt-sign-header"] = []string{strings.Replace(h["XroadVnpt-sign-header"][0], id, id9, 1)}
			h["XroadVnpt-docId"] = []string{id9}
		}, vdxpParam{"docId", id}).fail(t, "sign-header altered")

		// The refused documents were valid: the outsider's is taken on the
		// native API with its own token, and the commune's with the right
		// headers.
		if r := call(t, m, "POST", "/api/v1/envelopes", tok(vdxpOutsider), rawOut); r.status != 201 {
			t.Errorf("control: the outsider's document on the native API: %d %s", r.status, r.body)
		}
		r := c.sendEdoc(t, rawR, "edoc", vdxpCommune, nil, nil).ok(t)
		if _, ok := c.received(t, "edoc")[r.obj["DocId"].(string)]; !ok {
			t.Errorf("the refused document, sent properly, is not listed")
		}
	})
}

// asSent reads a header under the exact name the client set (not
// canonicalized, as the SDK sends it).
func asSent(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// registerAgency and deleteAgency by an admin system change the directory
// and are each an admin event in the hub's hash chain naming that system;
// the chain still verifies.
func TestVDXPRegistryChangesAreAudited(t *testing.T) {
	m := startVDXP(t, nil)
	const code, name = "000.98.35.H40", "UBND xã Kiểm Toán"
	admin := sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, 0)
	admin.registerAgency(t, code, name).ok(t)
	if !listed(t, m, code) {
		t.Fatal("registerAgency did not register the agency")
	}
	admin.call(t, "deleteAgency", vdxpParam{"AgencyCode", code}).ok(t)
	if listed(t, m, code) {
		t.Fatal("deleteAgency left the agency listed")
	}
	// Refused (not an admin system; an agency never registered): no event.
	sdkAt(m, vdxpTestSystem, vdxpTestSecret, 0).call(t, "deleteAgency", vdxpParam{"AgencyCode", code}).errorCode(t, "forbidden")
	admin.call(t, "deleteAgency", vdxpParam{"AgencyCode", "000.97.35.H40"}).errorCode(t, "not_found")

	evs, err := m.Hub.Store().Events(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+e.Detail)
	}
	want := []string{"admin vdxp:" + vdxpAdminSystem + ": register agency " + code, "admin vdxp:" + vdxpAdminSystem + ": delete agency " + code}
	if !slices.Equal(got, want) {
		t.Fatalf("the admin trail\n got %q\nwant %q", got, want)
	}
	if v := call(t, m, "GET", "/admin/v1/audit/verify", testgen.DemoAdminToken, nil); v.status != 200 || !strings.Contains(string(v.body), `"ok":true`) {
		t.Fatalf("audit verify: %d %s", v.status, v.body)
	}
}
