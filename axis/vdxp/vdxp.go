// Package vdxp is the wire protocol of the national document axis's SDK
// (VDXP, "SDKVXP"): parameters as XroadVnpt-* headers, an HMAC-SHA256 over a
// JSON copy of the signed ones, and JSON answers that are always HTTP 200.
// It knows nothing of hubs: axis serves the protocol with Verify and speaks
// it with Client. Read ../shared/VDXP.md for the protocol itself; the rules
// that matter here are quoted where they are implemented.
//
// Serve leniently, speak exactly: Verify checks the HMAC over the
// sign-header exactly as received (then as Latin-1, which is how Java's
// HTTP stack writes non-ASCII header values), takes the parameters from the
// signed JSON with their case, and tolerates the SDK's stale keys; Sign
// builds the compact JSON in sending order with Gson's escaping.
package vdxp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Prefix starts every VDXP parameter header.
const Prefix = "XroadVnpt-"

// Header names that are not parameters of the operation.
const (
	HeaderSystemID      = Prefix + "systemid"
	HeaderTimestamp     = Prefix + "timestamp"
	HeaderSignHeaderKey = Prefix + "sign-header-key"
	HeaderSignHeader    = Prefix + "sign-header"
	HeaderHashHeader    = Prefix + "hash-header"
	HeaderVersion       = Prefix + "version"
	// Version is what the SDK sends in XroadVnpt-version.
	Version = "3.0.201608"
	// UserAgent is the SDK's.
	UserAgent = "JAVASDKAgent/1.0.0 XRoad/VPCP"
)

// Param is one request parameter, without the XroadVnpt- prefix.
type Param struct{ Key, Value string }

// Timestamp formats t as the SDK does: ddMMyyyy'T'HHmmss+SSSS, where the
// '+' is literal and SSSS is the milliseconds in four digits.
func Timestamp(t time.Time) string {
	return fmt.Sprintf("%02d%02d%04dT%02d%02d%02d+%04d", t.Day(), int(t.Month()), t.Year(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
}

// Zone is the zone of the SDK's timestamps: Asia/Ho_Chi_Minh (UTC+7, no
// daylight saving), the local time of the JVMs it runs on. Client writes its
// timestamps in it, so a server checking their age (axis: a system's
// max_age) reads them right whatever the zone of either machine.
var Zone = time.FixedZone("Asia/Ho_Chi_Minh", 7*60*60)

// ParseTimestamp reads a Timestamp (ddMMyyyy'T'HHmmss+SSSS) as a time in
// loc; the SDK writes its JVM's local time, Asia/Ho_Chi_Minh in Vietnam.
// The milliseconds may be missing ("ddMMyyyy'T'HHmmss"); anything else is
// an error.
func ParseTimestamp(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) < 15 {
		return time.Time{}, fmt.Errorf("vdxp: timestamp %q: want ddMMyyyy'T'HHmmss+SSSS", s)
	}
	t, err := time.ParseInLocation("02012006T150405", s[:15], loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("vdxp: timestamp %q: want ddMMyyyy'T'HHmmss+SSSS", s)
	}
	if rest := s[15:]; rest != "" {
		ms, ok := strings.CutPrefix(rest, "+")
		n, err := strconv.Atoi(ms)
		if !ok || err != nil || len(ms) < 1 || len(ms) > 4 || n < 0 || n > 999 {
			return time.Time{}, fmt.Errorf("vdxp: timestamp %q: want ddMMyyyy'T'HHmmss+SSSS", s)
		}
		t = t.Add(time.Duration(n) * time.Millisecond)
	}
	return t, nil
}

// HashFile is the SDK's hash-file: SHA-256 of b, each byte in hex WITHOUT
// zero padding (Java Integer.toHexString(b & 0xff)), so 33 to 64 characters.
func HashFile(b []byte) string {
	sum := sha256.Sum256(b)
	var s strings.Builder
	for _, c := range sum {
		fmt.Fprintf(&s, "%x", c)
	}
	return s.String()
}

// HashFileMatches reports whether h is b's hash-file, in the SDK's unpadded
// form or the usual padded one (either case).
func HashFileMatches(b []byte, h string) bool {
	h = strings.ToLower(strings.TrimSpace(h))
	sum := sha256.Sum256(b)
	return h == HashFile(b) || h == hex.EncodeToString(sum[:])
}

// GsonQuote writes s as a JSON string the way Gson does with HTML escaping
// off: \" \\ \t \b \n \r \f, other controls and U+2028/U+2029 as \u00xx,
// everything else (including / < > & = ' and non-ASCII) as is.
func GsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\u2028', '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Sign returns the headers of a request: every parameter as its own
// XroadVnpt-<key> header (key case kept), and the sign-header-key,
// sign-header and hash-header over systemid, params (in order), timestamp
// and Content-Type, in that order, as the SDK builds them.
func Sign(systemID, secret, timestamp, contentType string, params []Param) http.Header {
	all := make([]Param, 0, len(params)+3)
	all = append(all, Param{"systemid", systemID})
	all = append(all, params...)
	all = append(all, Param{"timestamp", timestamp}, Param{"Content-Type", contentType})
	h := http.Header{}
	keys := make([]string, len(all))
	var js strings.Builder
	js.WriteByte('{')
	for i, p := range all {
		keys[i] = p.Key
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString(GsonQuote(Prefix + p.Key))
		js.WriteByte(':')
		js.WriteString(GsonQuote(p.Value))
		h[Prefix+p.Key] = []string{p.Value} // not canonicalized: the SDK's case
	}
	js.WriteByte('}')
	h[HeaderSignHeaderKey] = []string{strings.Join(keys, ";")}
	h[HeaderSignHeader] = []string{js.String()}
	h[HeaderHashHeader] = []string{MAC(secret, js.String())}
	h[HeaderVersion] = []string{Version}
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", UserAgent)
	return h
}

// MAC is the hash-header of a sign-header: lower-case hex HMAC-SHA256 keyed
// with the secret's UTF-8 bytes as they are (never base64-decoded).
func MAC(secret, signHeader string) string {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, signHeader)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify, for errors.Is.
var (
	ErrUnauthenticated = errors.New("vdxp: missing authentication headers")
	ErrUnknownSystem   = errors.New("vdxp: unknown system id")
	ErrBadSignature    = errors.New("vdxp: hash-header does not match the sign-header")
	ErrMismatch        = errors.New("vdxp: a header disagrees with the signed parameters")
)

// Request is a verified request's signed parameters.
type Request struct {
	SystemID string
	// Params in the order they were signed, keys without the prefix, with
	// their case; the SDK's stale keys are there too.
	Params []Param
	// Latin1 is set when the HMAC held only over the sign-header's bytes
	// read as Latin-1.
	Latin1 bool
}

// Get returns a parameter: the exact-case key first, then the first
// case-insensitive match, else "".
func (r *Request) Get(key string) string {
	for _, p := range r.Params {
		if p.Key == key {
			return p.Value
		}
	}
	for _, p := range r.Params {
		if strings.EqualFold(p.Key, key) {
			return p.Value
		}
	}
	return ""
}

// latin1 reads each byte of s as one Latin-1 character.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// Verify authenticates a request by its headers. secretOf returns the
// shared secret of a system id. The HMAC is checked over the sign-header
// exactly as received and, failing that, over its bytes read as Latin-1;
// the parameters are then taken from that JSON, and every plain
// XroadVnpt-<key> header present for a signed key must carry the signed
// value. Timestamps are not checked for age (the SDK reuses one per
// service object): a server that wants it reads the signed "timestamp"
// with ParseTimestamp (axis does, for systems with max_age).
func Verify(h http.Header, secretOf func(systemID string) (string, bool)) (*Request, error) {
	sys := h.Get(HeaderSystemID)
	sign := h.Values(HeaderSignHeader)
	mac := strings.TrimSpace(h.Get(HeaderHashHeader))
	if sys == "" || len(sign) != 1 || mac == "" {
		return nil, ErrUnauthenticated
	}
	secret, ok := secretOf(sys)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSystem, sys)
	}
	want, err := hex.DecodeString(strings.ToLower(mac))
	if err != nil {
		return nil, ErrBadSignature
	}
	r := &Request{}
	signed := sign[0]
	if !macEqual(secret, signed, want) {
		if signed = latin1(sign[0]); !macEqual(secret, signed, want) {
			return nil, ErrBadSignature
		}
		r.Latin1 = true
	}
	if r.Params, err = parseObject(signed); err != nil {
		return nil, fmt.Errorf("%w: sign-header: %v", ErrMismatch, err)
	}
	r.SystemID = r.Get("systemid")
	if r.SystemID != sys {
		return nil, fmt.Errorf("%w: systemid %q is signed as %q", ErrMismatch, sys, r.SystemID)
	}
	for _, k := range strings.Split(h.Get(HeaderSignHeaderKey), ";") {
		if k = strings.TrimSpace(k); k != "" && !r.has(k) {
			return nil, fmt.Errorf("%w: %s is in sign-header-key but not signed", ErrMismatch, k)
		}
	}
	for _, p := range r.Params {
		vals := h.Values(Prefix + p.Key)
		if len(vals) == 0 {
			continue
		}
		agree := false
		for _, v := range vals {
			if v == p.Value || (utf8.ValidString(p.Value) && latin1(v) == p.Value) {
				agree = true
			}
		}
		// Stale keys that differ only in case (docId, docid) share one
		// canonical header in net/http: any of their signed values will do.
		for _, q := range r.Params {
			if q.Key != p.Key && strings.EqualFold(q.Key, p.Key) {
				for _, v := range vals {
					agree = agree || v == q.Value
				}
			}
		}
		if !agree {
			return nil, fmt.Errorf("%w: %s", ErrMismatch, p.Key)
		}
	}
	return r, nil
}

func (r *Request) has(key string) bool {
	for _, p := range r.Params {
		if p.Key == key {
			return true
		}
	}
	return false
}

func macEqual(secret, msg string, want []byte) bool {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, msg)
	return hmac.Equal(m.Sum(nil), want)
}

// parseObject reads a flat JSON object of strings, keeping order and
// repeated keys; keys must carry the prefix, which is stripped.
func parseObject(s string) ([]Param, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []Param
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		v, ok := vt.(string)
		if !ok {
			return nil, fmt.Errorf("%s: not a string", k)
		}
		key, ok := strings.CutPrefix(k, Prefix)
		if !ok {
			return nil, fmt.Errorf("%q has no %s prefix", k, Prefix)
		}
		out = append(out, Param{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	return out, nil
}

// StripCRLF removes exactly one trailing CRLF: the SDK appends it to
// sendEdoc bodies, and hash-file is over the bytes without it.
func StripCRLF(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return b
}
