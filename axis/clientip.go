package axis

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The client address of a request, one function for every surface (the
// auth-failure limiter, VDXP allow_from, the console's logs and sessions).
//
// The address is the socket peer's (RemoteAddr), unless that peer is one of
// trusted_proxies: then X-Forwarded-For is walked right to left (every
// X-Forwarded-For header in order, comma-separated), skipping trusted
// proxies, and the first untrusted address is the client. Decisions:
//   - Only X-Forwarded-For is read (not Forwarded, X-Real-IP): one header,
//     the one every reverse proxy appends to.
//   - Entries may carry a port ("192.0.2.1:443", "[2001:db8::1]:443") or
//     brackets; zones are dropped and IPv4-mapped IPv6 reads as IPv4.
//   - Empty entries are skipped. An entry that is not an address (garbage,
//     RFC 7239 "unknown") ends the walk and the hop that reported it (the
//     last trusted proxy) is the client: varying garbage then buys no fresh
//     limiter bucket, and nobody who can write garbage there is stopped from
//     writing an address instead.
//   - When every hop is trusted (or a trusted proxy sent no header), the
//     left-most trusted hop is the client.

// parsePrefixes reads CIDRs; a bare address is a /32 or /128.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, netip.PrefixFrom(p.Addr().Unmap(), unmapBits(p)).Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR or an IP address", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// unmapBits is the prefix length of p once its address is unmapped
// (::ffff:10.0.0.0/104 is 10.0.0.0/8).
func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

// inPrefixes reports whether a is inside one of ps.
func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one address: bare, bracketed, or with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(s); err2 == nil {
			a, err = ap.Addr(), nil
		} else if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
			a, err = netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		}
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// clientAddr is the client of a request whose socket peer is remoteAddr and
// whose X-Forwarded-For headers are xff, given the trusted proxies. The
// second result is false when remoteAddr itself is not an address (then
// the caller names the client by remoteAddr's text).
func clientAddr(remoteAddr string, xff []string, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, ok := parseHop(remoteAddr)
	if !ok {
		if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
			peer, ok = parseHop(host)
		}
	}
	if !ok {
		return netip.Addr{}, false
	}
	if !inPrefixes(peer, trusted) {
		return peer, true
	}
	var hops []string
	for _, v := range xff {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		if strings.TrimSpace(hops[i]) == "" {
			continue
		}
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return client, true
}

// clientIP is clientAddr for a request, as text.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	a, ok := clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
	if !ok {
		return r.RemoteAddr
	}
	return a.String()
}

// ClientIP is the client address of a request: the socket peer's, or the
// one X-Forwarded-For names when the peer is in trusted_proxies (see the
// rules above). The console gets it through console.Options.ClientIP.
func (h *Hub) ClientIP(r *http.Request) string { return clientIP(r, h.auth.proxies) }
