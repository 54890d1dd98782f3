package axis

import (
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustPrefixes(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	ps, err := parsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestClientIP(t *testing.T) {
	trusted := mustPrefixes(t, "127.0.0.1", "10.0.0.0/8", "2001:db8:ffff::/48")
	for _, c := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxies: the socket", "192.0.2.1:5000", []string{"203.0.113.7"}, nil, "192.0.2.1"},
		{"untrusted peer: XFF ignored", "192.0.2.1:5000", []string{"203.0.113.7"}, trusted, "192.0.2.1"},
		{"trusted peer: the forwarded client", "127.0.0.1:5000", []string{"203.0.113.7"}, trusted, "203.0.113.7"},
		{"spoofed left part is skipped", "127.0.0.1:5000", []string{"1.1.1.1, 203.0.113.7"}, trusted, "203.0.113.7"},
		{"chain of trusted proxies, right to left", "127.0.0.1:5000", []string{"198.51.100.9, 203.0.113.7, 10.1.2.3, 10.0.0.1"}, trusted, "203.0.113.7"},
		{"several XFF headers in order", "127.0.0.1:5000", []string{"198.51.100.9", "203.0.113.7", "10.1.2.3"}, trusted, "203.0.113.7"},
		{"every hop trusted: the left-most", "127.0.0.1:5000", []string{"10.0.0.2, 10.0.0.1"}, trusted, "10.0.0.2"},
		{"trusted peer without XFF", "127.0.0.1:5000", nil, trusted, "127.0.0.1"},
		{"empty XFF", "127.0.0.1:5000", []string{""}, trusted, "127.0.0.1"},
		{"empty entries skipped", "127.0.0.1:5000", []string{"203.0.113.7, ,"}, trusted, "203.0.113.7"},
		{"garbage: the hop that reported it", "127.0.0.1:5000", []string{"203.0.113.7, not-an-ip"}, trusted, "127.0.0.1"},
		{"garbage behind a second proxy", "127.0.0.1:5000", []string{"evil<script>, 10.0.0.5"}, trusted, "10.0.0.5"},
		{"garbage left of the client is never read", "127.0.0.1:5000", []string{"garbage, 203.0.113.7"}, trusted, "203.0.113.7"},
		{"unknown (RFC 7239) is garbage", "127.0.0.1:5000", []string{"unknown"}, trusted, "127.0.0.1"},
		{"entry with a port", "127.0.0.1:5000", []string{"203.0.113.7:443"}, trusted, "203.0.113.7"},
		{"IPv6 socket", "[2001:db8::1]:5000", []string{"203.0.113.7"}, trusted, "2001:db8::1"},
		{"IPv6 trusted proxy, IPv6 client", "[2001:db8:ffff::2]:5000", []string{"2001:db8:1::42"}, trusted, "2001:db8:1::42"},
		{"IPv6 bracketed with port", "[2001:db8:ffff::2]:5000", []string{"[2001:db8:1::42]:8443"}, trusted, "2001:db8:1::42"},
		{"IPv6 bracketed", "[2001:db8:ffff::2]:5000", []string{"[2001:db8:1::42]"}, trusted, "2001:db8:1::42"},
		{"IPv6 zone dropped", "[fe80::1%eth0]:5000", nil, trusted, "fe80::1"},
		{"IPv4-mapped peer is IPv4 (trusted)", "[::ffff:127.0.0.1]:5000", []string{"203.0.113.7"}, trusted, "203.0.113.7"},
		{"IPv4-mapped client is IPv4", "127.0.0.1:5000", []string{"::ffff:203.0.113.7"}, trusted, "203.0.113.7"},
		{"a bare IP trusts only itself", "127.0.0.2:5000", []string{"203.0.113.7"}, trusted, "127.0.0.2"},
		{"a socket address that is not one", "pipe", []string{"203.0.113.7"}, trusted, "pipe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, c.trusted); got != c.want {
				t.Errorf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	ps := mustPrefixes(t, "127.0.0.1", "10.1.2.3/8", "::1", "2001:db8::/32", "::ffff:192.168.0.0/112")
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8::/32", "192.168.0.0/16"}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.org", "10.0.0", "fe80::1%eth0"} {
		if _, err := parsePrefixes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestConfigCheckAuth(t *testing.T) {
	base := func() *Config {
		return &Config{Hub: HubConfig{Name: "h"}, Trust: TrustConfig{Roots: []string{"root.pem"}},
			Agencies: []Agency{{OrganID: "000.00.00.H40", Name: "UBND"}}}
	}
	c := base()
	c.VDXP.Systems = []VDXPSystem{
		{ID: "adm", SecretEnv: "S", Admin: true},
		{ID: "adm-long", SecretEnv: "S", Admin: true, MaxAge: Duration{time.Hour}},
		{ID: "adm-short", SecretEnv: "S", Admin: true, MaxAge: Duration{time.Minute}},
		{ID: "dms", SecretEnv: "S", Agencies: []string{"000.00.00.H40"}},
		{ID: "dms-aged", SecretEnv: "S", Agencies: []string{"000.00.00.H40"}, MaxAge: Duration{time.Hour}, AllowFrom: []string{"10.0.0.0/8", "192.0.2.1"}},
	}
	c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{AdminVDXPMaxAge, AdminVDXPMaxAge, time.Minute, 0, time.Hour} {
		if got := c.VDXP.Systems[i].MaxAge.Duration; got != want {
			t.Errorf("%s: max_age %s, want %s", c.VDXP.Systems[i].ID, got, want)
		}
	}
	if c.Limits.AuthFailuresPer5m != DefaultAuthFailuresPer5m {
		t.Errorf("auth_failures_per_5m default %d", c.Limits.AuthFailuresPer5m)
	}

	for name, bad := range map[string]func(*Config){
		"trusted_proxies": func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.example"} },
		"allow_from": func(c *Config) {
			c.VDXP.Systems = []VDXPSystem{{ID: "dms", SecretEnv: "S", Agencies: []string{"000.00.00.H40"}, AllowFrom: []string{"10.0.0.0/40"}}}
		},
		"max_age": func(c *Config) {
			c.VDXP.Systems = []VDXPSystem{{ID: "dms", SecretEnv: "S", Agencies: []string{"000.00.00.H40"}, MaxAge: Duration{-time.Minute}}}
		},
	} {
		c := base()
		bad(c)
		if err := c.check(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}

	// From a file too: an unknown CIDR is a config error naming the key.
	dir := t.TempDir()
	f := filepath.Join(dir, "axis.yaml")
	os.WriteFile(f, []byte("hub: {name: h}\ntrust: {roots: [r.pem]}\ntrusted_proxies: [\"127.0.0.1/32\", \"10.0.0.0/99\"]\n"), 0o644)
	if _, err := LoadConfig(f); err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
		t.Errorf("LoadConfig with a bad CIDR: %v", err)
	}
}
