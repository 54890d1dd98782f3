package main

import (
	"bytes"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/fixture/testhub"
	"github.com/axis-h40/axis/internal/testgen"
)

// FuzzIntakeHTTP posts fuzzed bodies to the real wiring, over HTTP, through
// every door an envelope comes in by, and fails on any 5xx: no input, valid
// or not, may make the hub answer a server error. The first byte picks the
// door; the rest is the body. Seeds: every sample and hostile envelope
// (those under 1 MiB; the big ones are the size tests' business).
//
//	go test ./cmd/axisd -run '^$' -fuzz '^FuzzIntakeHTTP$' -fuzztime 60s -fuzzminimizetime 2s
//
// (The default minimization of a new input, up to 60 s, stalls the run on
// the big seeds.)
func FuzzIntakeHTTP(f *testing.F) {
	var seeds [][]byte
	samples, _ := filepath.Glob(filepath.Join(fixture.EnvelopesDir, "*.xml"))
	for _, file := range samples {
		seeds = append(seeds, fixture.ReadFile(f, file))
	}
	for _, c := range fixture.HostileCases(f) {
		seeds = append(seeds, c.Raw)
	}
	seeds = slices.DeleteFunc(seeds, func(b []byte) bool { return len(b) >= 1<<20 })
	if len(seeds) < 40 {
		f.Fatalf("%d seeds", len(seeds))
	}
	for i, s := range seeds {
		f.Add(append([]byte{byte(i % doors)}, s...))
	}
	f.Add([]byte{doorAck, '{', '"', 's', '"', ':', '1', '}'})
	f.Add([]byte{doorAck})

	m := startWith(f, func(m *Main) {
		m.Options.Getenv = func(k string) string {
			if k == testgen.DemoVDXPSecretEnv {
				return testgen.DemoVDXPSecret
			}
			return testhub.StoreEnv(k) // the store's DSN in a PostgreSQL run, nothing else
		}
	}, func(c *axis.Config) { c.Limits.SpoolAboveBytes = 64 << 10 })
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		door, body := in[0]%doors, in[1:]
		var req *http.Request
		switch door {
		case doorAgency, doorAdmin:
			req, _ = http.NewRequest("POST", m.URL()+"/api/v1/envelopes", bytes.NewReader(body))
			token := tok(testgen.Commune)
			if door == doorAdmin {
				token = testgen.DemoAdminToken
			}
			req.Header.Set("Authorization", "Bearer "+token)
		case doorRecipients:
			req, _ = http.NewRequest("POST", m.URL()+"/api/v1/envelopes", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok(testgen.Commune))
			req.Header.Set(api.RecipientsHeader, testgen.Department+", "+printable(body[:min(len(body), 40)]))
		case doorAck:
			req, _ = http.NewRequest("POST", m.URL()+"/api/v1/envelopes/"+url.PathEscape(string(body[:min(len(body), 32)]))+"/ack", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok(testgen.Department))
		case doorVDXP:
			file := append(append([]byte{}, body...), '\r', '\n')
			req, _ = http.NewRequest("POST", m.URL()+"/vdxp/sendEdoc", bytes.NewReader(file))
			h := vdxp.Sign(testgen.DemoVDXPSystem, testgen.DemoVDXPSecret, vdxp.Timestamp(demopki.TestNow), "application/octet-stream",
				[]vdxp.Param{{Key: "servicetype", Value: "eDoc"}, {Key: "messagetype", Value: "edoc"}, {Key: "hash-file", Value: vdxp.HashFile(body)}, {Key: "from", Value: testgen.Commune}})
			for k, v := range h {
				req.Header[k] = v
			}
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		if req == nil {
			return // a path the fuzzer made unparseable is the client's problem
		}
		if r := send(t, http.DefaultClient, req); r.status >= 500 {
			t.Fatalf("door %d: %d %s", door, r.status, r.body)
		}
	})
}

// printable keeps what a client can put in a header value.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(b))
}

// The doors of FuzzIntakeHTTP.
const (
	doorAgency     = iota // POST /api/v1/envelopes as the commune
	doorAdmin             // the same as an administrator (not an agency)
	doorRecipients        // with an X-Axis-Recipients header
	doorAck               // POST /api/v1/envelopes/{id}/ack with a JSON body
	doorVDXP              // VDXP sendEdoc, correctly signed headers
	doors
)
