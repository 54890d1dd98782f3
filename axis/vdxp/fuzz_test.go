package vdxp

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary sign-headers, hash-headers and plain headers
// to the server's verifier: it must never panic, and whatever it accepts
// must carry the systemid it was asked about and a correct MAC.
func FuzzVerify(f *testing.F) {
	f.Add(exSendSign, exSendMAC, "000.00.00.H40", exSendKeys)
	f.Add(exListSign, exListMAC, "", exListKeys)
	f.Add(`{"XroadVnpt-systemid":"demo-system","XroadVnpt-docId":"a","XroadVnpt-docid":"b"}`, "", "x", "systemid;docId")
	f.Add(`{"XroadVnpt-systemid":"demo-system",`, "00", "", "")
	f.Add(`{"XroadVnpt-systemid":"demo-system","XroadVnpt-x":{"a":1}}`, "zz", "\xe9", ";;")
	f.Fuzz(func(t *testing.T, sign, mac, from, keys string) {
		for _, m := range []string{mac, MAC(exSecret, sign)} {
			h := http.Header{}
			h.Set(HeaderSystemID, exSystem)
			h.Set(HeaderSignHeader, sign)
			h.Set(HeaderHashHeader, m)
			h.Set(HeaderSignHeaderKey, keys)
			if from != "" {
				h.Set(Prefix+"from", from)
			}
			r, err := Verify(h, secrets)
			if err != nil {
				if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				continue
			}
			if r.SystemID != exSystem {
				t.Fatalf("accepted with systemid %q", r.SystemID)
			}
			if lm := strings.ToLower(strings.TrimSpace(m)); MAC(exSecret, sign) != lm && MAC(exSecret, latin1(sign)) != lm {
				t.Fatalf("accepted a wrong MAC")
			}
		}
	})
}
