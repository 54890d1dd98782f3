package main

// Failed authentications and the VDXP hardening over real HTTP (issue 11):
// one limiter per hub keyed on the client address (trusted_proxies), never
// refusing a valid credential; VDXP max_age and allow_from.

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
)

func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// wantRefused asserts a 401 "unauthorized" problem without Retry-After.
func wantRefused(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.code(t) != "unauthorized" || r.header.Get("Retry-After") != "" {
		t.Fatalf("%s: %d Retry-After %q %s, want 401 unauthorized", what, r.status, r.header.Get("Retry-After"), r.body)
	}
}

// wantLimited asserts a 429 "too_many_requests" problem with a Retry-After
// within the window.
func wantLimited(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.code(t) != "too_many_requests" {
		t.Fatalf("%s: %d %s, want 429 too_many_requests", what, r.status, r.body)
	}
	wantRetryAfter(t, what, r.header)
}

func wantRetryAfter(t *testing.T, what string, h http.Header) {
	t.Helper()
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > int(axis.AuthWindow/time.Second) {
		t.Fatalf("%s: Retry-After %q, want 1..300 seconds", what, h.Get("Retry-After"))
	}
}

// consoleSignIn signs in to the web console as a fresh browser would, with
// token, sending hdr on both requests; it returns the POST's answer and
// whether a session cookie was set.
func consoleSignIn(t *testing.T, m *Main, token string, hdr http.Header) (response, bool) {
	t.Helper()
	_, r, session := consoleLogin(t, m, token, hdr)
	return r, session
}

// metricValue is a sample of /metrics, by its name with labels as
// exposed (labels sorted by name).
func metricValue(t testing.TB, m *Main, sample string) string {
	t.Helper()
	r := call(t, m, "GET", "/metrics", "", nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in /metrics", sample)
	return ""
}

// Done #5: 40 wrong tokens from one address: 401 twenty times, then 429
// with Retry-After; the right tokens from the same address still work on
// /api/v1, /admin/v1 and the console. Without trusted_proxies the
// X-Forwarded-For header is ignored.
func TestAuthFailuresLimitedButValidTokensPass(t *testing.T) {
	m := start(t)
	limit := m.Config.Limits.AuthFailuresPer5m
	if limit != axis.DefaultAuthFailuresPer5m || axis.DefaultAuthFailuresPer5m != 20 {
		t.Fatalf("auth_failures_per_5m = %d, want the default 20", limit)
	}
	for i := range 40 {
		r := call(t, m, "GET", "/api/v1/inbox", fmt.Sprintf("wrong-token-%d", i), nil)
		if i < limit {
			wantRefused(t, fmt.Sprintf("wrong token #%d", i+1), r)
		} else {
			wantLimited(t, fmt.Sprintf("wrong token #%d", i+1), r)
		}
	}
	// The pinned clock: the oldest counted failure leaves in exactly 5m.
	if r := call(t, m, "GET", "/api/v1/inbox", "wrong", nil); r.header.Get("Retry-After") != "300" {
		t.Errorf("Retry-After %q, want 300 (the clock is pinned)", r.header.Get("Retry-After"))
	}
	// The same address past the limit: the right tokens still pass.
	if r := call(t, m, "GET", "/api/v1/inbox", tok(testgen.Commune), nil); r.status != http.StatusOK {
		t.Fatalf("right agency token past the limit: %d %s", r.status, r.body)
	}
	if r := call(t, m, "GET", "/admin/v1/overview", testgen.DemoAdminToken, nil); r.status != http.StatusOK {
		t.Fatalf("right admin token past the limit: %d %s", r.status, r.body)
	}
	// One limiter for every surface: /admin/v1 with a wrong or no token,
	// and X-Forwarded-For (no trusted proxy) does not move the count away
	// from 127.0.0.1.
	wantLimited(t, "admin API, wrong token", call(t, m, "GET", "/admin/v1/overview", "wrong", nil))
	wantLimited(t, "admin API, no token", call(t, m, "GET", "/admin/v1/overview", "", nil))
	wantLimited(t, "XFF without trusted_proxies", callWith(t, m, "GET", "/api/v1/inbox", "wrong", xff("203.0.113.8")))
	// A valid agency token on the admin API is forbidden, not a failure.
	if r := call(t, m, "GET", "/admin/v1/overview", tok(testgen.Commune), nil); r.status != http.StatusForbidden || r.code(t) != "forbidden" {
		t.Fatalf("agency token on /admin/v1: %d %s", r.status, r.body)
	}

	// The console shares the count: a wrong token is answered with the
	// lock-out page, the admin token still signs in.
	r, session := consoleSignIn(t, m, "wrong", nil)
	if r.status != http.StatusTooManyRequests || session || !strings.Contains(string(r.body), "Đăng nhập sai quá nhiều lần") {
		t.Fatalf("console, wrong token past the limit: %d session %v", r.status, session)
	}
	wantRetryAfter(t, "console", r.header)
	r, session = consoleSignIn(t, m, tok(testgen.Commune), nil)
	if r.status != http.StatusTooManyRequests || session {
		t.Fatalf("console, an agency's token past the limit: %d session %v", r.status, session)
	}
	if r, session := consoleSignIn(t, m, testgen.DemoAdminToken, nil); r.status != http.StatusSeeOther || !session || r.header.Get("Location") != "/admin/" {
		t.Fatalf("console, admin token past the limit: %d session %v", r.status, session)
	}

	// Counted on /metrics by surface and result.
	for sample, want := range map[string]string{
		`axis_auth_failures_total{result="refused",surface="api"}`:     "20",
		`axis_auth_failures_total{result="limited",surface="api"}`:     "22",
		`axis_auth_failures_total{result="limited",surface="admin"}`:   "2",
		`axis_auth_failures_total{result="limited",surface="console"}`: "2",
		`axis_auth_failures_total{result="refused",surface="vdxp"}`:    "0",
	} {
		if got := metricValue(t, m, sample); got != want {
			t.Errorf("%s = %s, want %s", sample, got, want)
		}
	}
}

// Done #5 behind a reverse proxy: with trusted_proxies the limit applies
// to the forwarded address, for the API and for the console.
func TestAuthFailuresBehindTrustedProxy(t *testing.T) {
	m := start(t, func(c *axis.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	for i := range 25 {
		r := callWith(t, m, "GET", "/api/v1/inbox", "wrong", xff("203.0.113.7"))
		if i < 20 {
			wantRefused(t, fmt.Sprintf("203.0.113.7 #%d", i+1), r)
		} else {
			wantLimited(t, fmt.Sprintf("203.0.113.7 #%d", i+1), r)
		}
	}
	wantRefused(t, "another forwarded client", callWith(t, m, "GET", "/api/v1/inbox", "wrong", xff("203.0.113.8")))
	wantRefused(t, "the proxy itself (no XFF)", call(t, m, "GET", "/api/v1/inbox", "wrong", nil))
	// A client cannot escape by prepending addresses: the right-most
	// untrusted one is the client.
	wantLimited(t, "spoofed XFF prefix", callWith(t, m, "GET", "/api/v1/inbox", "wrong", xff("198.51.100.1, 203.0.113.7")))
	if r := callWith(t, m, "GET", "/api/v1/inbox", tok(testgen.Commune), xff("203.0.113.7")); r.status != http.StatusOK {
		t.Fatalf("right token from the limited client: %d %s", r.status, r.body)
	}

	// The console reads the same address (axisd passes the hub's ClientIP).
	r, session := consoleSignIn(t, m, "wrong", xff("203.0.113.7"))
	if r.status != http.StatusTooManyRequests || session {
		t.Fatalf("console, limited forwarded client: %d", r.status)
	}
	wantRetryAfter(t, "console behind the proxy", r.header)
	if r, _ := consoleSignIn(t, m, "wrong", xff("203.0.113.8")); r.status != http.StatusUnauthorized {
		t.Fatalf("console, another forwarded client: %d", r.status)
	}
	if r, session := consoleSignIn(t, m, testgen.DemoAdminToken, xff("203.0.113.7")); r.status != http.StatusSeeOther || !session {
		t.Fatalf("console, admin token from the limited client: %d session %v", r.status, session)
	}
}

const (
	vdxpAdminSystem = "axis-admin-test"
	vdxpAdminSecret = "admin-secret-for-tests"
	vdxpAdminEnv    = "AXIS_TEST_VDXP_ADMIN_SECRET"
)

// startVDXP runs the demo hub with the demo document system, an admin
// system, and whatever configure adds; secrets come from a map, not the
// process environment.
func startVDXP(t *testing.T, secrets map[string]string, configure ...func(*axis.Config)) *Main {
	t.Helper()
	all := map[string]string{testgen.DemoVDXPSecretEnv: vdxpTestSecret, vdxpAdminEnv: vdxpAdminSecret}
	for k, v := range secrets {
		all[k] = v
	}
	return startWith(t, func(m *Main) {
		m.Options.Getenv = func(k string) string {
			if strings.HasPrefix(k, "AXIS_TEST_DSN_") { // the store's, in a PostgreSQL run
				return os.Getenv(k)
			}
			return all[k]
		}
	},
		append([]func(*axis.Config){func(c *axis.Config) {
			c.VDXP.Systems = append(c.VDXP.Systems, axis.VDXPSystem{ID: vdxpAdminSystem, SecretEnv: vdxpAdminEnv, Admin: true})
		}}, configure...)...)
}

// sdkAt is the SDK client with its timestamp set at hub time + offset, in
// Vietnamese time as the SDK's JVM writes it.
func sdkAt(m *Main, system, secret string, offset time.Duration) *vdxpSDK {
	c := newVDXPSDK(m.URL()+"/vdxp", system, secret)
	c.timestamp = vdxpTimestamp(demopki.TestNow.Add(offset).In(store.Zone))
	return c
}

// registerAgency posts registerAgency's JSON body.
func (c *vdxpSDK) registerAgency(t *testing.T, code, name string) vdxpReply {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"id":%q,"pcode":"000.00.35.H40","code":%q,"name":%q,"mail":"","mobile":"","fax":""}`, code, code, name))
	st, h, b := c.do(t, c.request(t, "POST", "registerAgency", nil, "application/json", body, nil))
	return vdxpReply{op: "registerAgency", status: st, header: h, body: b, obj: vdxpStrict(t, "registerAgency", st, h, b)}
}

func (r vdxpReply) errorCode(t *testing.T, want string) vdxpReply {
	t.Helper()
	if r.obj["ErrorCode"] != want {
		t.Fatalf("%s: ErrorCode %v, want %q: %s", r.op, r.obj["ErrorCode"], want, r.body)
	}
	return r
}

// listed reports whether getAgenciesList lists code.
func listed(t *testing.T, m *Main, code string) bool {
	t.Helper()
	r := sdkAt(m, vdxpTestSystem, vdxpTestSecret, 0).call(t, "getAgenciesList").ok(t)
	for _, row := range r.rows(t, "code") {
		if row["code"] == code {
			return true
		}
	}
	return false
}

// Done #6: an admin system's request replayed past max_age (10m by
// default) is refused and changes nothing; fresh, the same request works.
func TestVDXPAdminReplayRefused(t *testing.T) {
	m := startVDXP(t, nil)
	const code, name = "000.99.35.H40", "UBND xã Thử Nghiệm"
	before := storeBytes(t, m)
	for _, offset := range []time.Duration{-11 * time.Minute, 11 * time.Minute, -24 * time.Hour} {
		r := sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, offset).registerAgency(t, code, name)
		r.errorCode(t, "unauthorized")
		if !strings.Contains(r.obj["ErrorDesc"].(string), "max_age") {
			t.Errorf("timestamp %v away: ErrorDesc %q does not say max_age", offset, r.obj["ErrorDesc"])
		}
	}
	// An unsigned or unreadable timestamp is refused too when max_age is on.
	c := sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, 0)
	c.timestamp = "yesterday"
	c.registerAgency(t, code, name).errorCode(t, "unauthorized")
	if !bytes.Equal(storeBytes(t, m), before) {
		t.Fatal("a refused registerAgency changed the store")
	}
	if listed(t, m, code) {
		t.Fatal("a refused registerAgency registered the agency")
	}
	if got := metricValue(t, m, `axis_auth_failures_total{result="refused",surface="vdxp"}`); got != "4" {
		t.Errorf("vdxp failures counted: %s, want 4", got)
	}

	// Fresh (within 10 minutes either way): registered.
	sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, -9*time.Minute).registerAgency(t, code, name).ok(t)
	if !listed(t, m, code) {
		t.Fatal("registerAgency with a fresh timestamp did not register the agency")
	}
	// The agency system has no max_age: the SDK's reused, month-old
	// timestamp is accepted.
	sdkAt(m, vdxpTestSystem, vdxpTestSecret, -30*24*time.Hour).call(t, "getReceivedEdocList",
		vdxpParam{"servicetype", "eDoc"}, vdxpParam{"messagetype", "edoc"}).ok(t)
}

// max_age on an agency system, an admin max_age set lower than 10m, and
// allow_from, with and without a trusted proxy.
func TestVDXPMaxAgeAndAllowFrom(t *testing.T) {
	secrets := map[string]string{"S_FAR": "far-secret", "S_LOCAL": "local-secret", "S_AGED": "aged-secret"}
	systems := func(c *axis.Config) {
		for i := range c.VDXP.Systems {
			if c.VDXP.Systems[i].ID == vdxpAdminSystem {
				c.VDXP.Systems[i].MaxAge = axis.Duration{Duration: 2 * time.Minute}
			}
		}
		c.VDXP.Systems = append(c.VDXP.Systems,
			axis.VDXPSystem{ID: "far", SecretEnv: "S_FAR", Agencies: []string{vdxpDept}, AllowFrom: []string{"10.9.9.0/24"}},
			axis.VDXPSystem{ID: "local", SecretEnv: "S_LOCAL", Agencies: []string{vdxpDept}, AllowFrom: []string{"127.0.0.0/8"}},
			axis.VDXPSystem{ID: "aged", SecretEnv: "S_AGED", Agencies: []string{vdxpDept}, MaxAge: axis.Duration{Duration: 5 * time.Minute}})
	}
	list := []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", "edoc"}}

	m := startVDXP(t, secrets, systems)
	r := sdkAt(m, "far", "far-secret", 0).call(t, "getReceivedEdocList", list...).errorCode(t, "unauthorized")
	if !strings.Contains(r.obj["ErrorDesc"].(string), "allow_from") {
		t.Errorf("allow_from refusal: %s", r.body)
	}
	sdkAt(m, "local", "local-secret", 0).call(t, "getReceivedEdocList", list...).ok(t)
	// X-Forwarded-For is not read without trusted_proxies.
	sdkAt(m, "far", "far-secret", 0).callTampered(t, "getReceivedEdocList", func(h http.Header) { h.Set("X-Forwarded-For", "10.9.9.5") }, list...).errorCode(t, "unauthorized")
	sdkAt(m, "aged", "aged-secret", -6*time.Minute).call(t, "getReceivedEdocList", list...).errorCode(t, "unauthorized")
	sdkAt(m, "aged", "aged-secret", -4*time.Minute).call(t, "getReceivedEdocList", list...).ok(t)
	// The admin's max_age set lower than 10m holds.
	sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, -3*time.Minute).call(t, "getAgenciesList").errorCode(t, "unauthorized")
	sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, -time.Minute).call(t, "getAgenciesList").ok(t)

	// Behind a trusted proxy, allow_from reads the forwarded address.
	p := startVDXP(t, secrets, systems, func(c *axis.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	fwd := func(a string) func(http.Header) { return func(h http.Header) { h.Set("X-Forwarded-For", a) } }
	sdkAt(p, "far", "far-secret", 0).callTampered(t, "getReceivedEdocList", fwd("10.9.9.5"), list...).ok(t)
	sdkAt(p, "far", "far-secret", 0).callTampered(t, "getReceivedEdocList", fwd("10.9.8.5"), list...).errorCode(t, "unauthorized")
	sdkAt(p, "local", "local-secret", 0).callTampered(t, "getReceivedEdocList", fwd("10.9.9.5"), list...).errorCode(t, "unauthorized")
}

// VDXP failures count like the others: past the limit, a bad request is
// answered HTTP 200 with ErrorCode "too_many_requests" and Retry-After, a
// good one still works.
func TestVDXPAuthFailuresLimited(t *testing.T) {
	m := startVDXP(t, nil, func(c *axis.Config) { c.Limits.AuthFailuresPer5m = 3 })
	list := []vdxpParam{{"servicetype", "eDoc"}, {"messagetype", "edoc"}}
	bad := sdkAt(m, vdxpTestSystem, "not-the-secret", 0)
	for i := range 3 {
		r := bad.call(t, "getReceivedEdocList", list...).errorCode(t, "unauthorized")
		if r.header.Get("Retry-After") != "" {
			t.Fatalf("failure #%d has Retry-After", i+1)
		}
	}
	r := bad.call(t, "getReceivedEdocList", list...).errorCode(t, "too_many_requests")
	wantRetryAfter(t, "vdxp", r.header)
	// sendEdoc keeps its DocId even so.
	bad.sendEdoc(t, []byte("<edXML/>"), "edoc", vdxpCommune, nil, nil).errorCode(t, "too_many_requests")
	// An admin system's stale replay is a failure too, and limited.
	sdkAt(m, vdxpAdminSystem, vdxpAdminSecret, -time.Hour).call(t, "getAgenciesList").errorCode(t, "too_many_requests")
	// The right secret is never refused by the limiter.
	sdkAt(m, vdxpTestSystem, vdxpTestSecret, 0).call(t, "getReceivedEdocList", list...).ok(t)
	// Nor is the bearer API's right token: the count is the address's.
	wantLimited(t, "bearer after VDXP failures", call(t, m, "GET", "/api/v1/inbox", "wrong", nil))
	if r := call(t, m, "GET", "/api/v1/inbox", tok(testgen.Commune), nil); r.status != http.StatusOK {
		t.Fatalf("right token: %d", r.status)
	}
}
