package axis

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/axis-h40/axis/axis/vdxp"
	"github.com/axis-h40/axis/store"
)

// VDXP hardening beyond the HMAC (README: "What the VDXP HMAC protects, and
// what it does not"). The HMAC authenticates the system id and binds the
// signed headers, but a captured request can be replayed as is, and the
// SDK reuses one timestamp per service object. So each system may set:
//   - max_age: the signed XroadVnpt-timestamp, read in Asia/Ho_Chi_Minh
//     (store.Zone, the SDK's JVM time), must be within max_age of the hub's
//     clock, in the past or the future. Off by default for agency and peer
//     systems (the SDK's reused timestamps would be refused); an admin
//     system (registerAgency, deleteAgency) always has one, AdminVDXPMaxAge
//     unless set lower. A request with max_age whose timestamp is not among
//     the signed parameters, or does not parse, is refused.
//   - allow_from: the client address (ClientIP) must be inside one of these
//     CIDRs.
//
// Either refusal is the usual VDXP answer with ErrorCode "unauthorized"
// (errVDXPAuth) and counts as a failed authentication, like a bad HMAC.

// AdminVDXPMaxAge is the max_age of an admin VDXP system, unless set lower.
const AdminVDXPMaxAge = 10 * time.Minute

// vdxpGuard is what loadVDXPSystems derives from a system's config.
type vdxpGuard struct {
	maxAge time.Duration  // 0: timestamps are not checked
	allow  []netip.Prefix // nil: from anywhere
}

// newVDXPGuard reads max_age and allow_from; an admin system's max_age is
// capped at AdminVDXPMaxAge here too (Config.check does it for files, this
// for configs made in code).
func newVDXPGuard(s VDXPSystem) (vdxpGuard, error) {
	g := vdxpGuard{maxAge: s.MaxAge.Duration}
	if g.maxAge < 0 {
		return g, fmt.Errorf("max_age %s is negative", g.maxAge)
	}
	if s.Admin && (g.maxAge == 0 || g.maxAge > AdminVDXPMaxAge) {
		g.maxAge = AdminVDXPMaxAge
	}
	var err error
	if g.allow, err = parsePrefixes(s.AllowFrom); err != nil {
		return g, fmt.Errorf("allow_from: %w", err)
	}
	if s.AllowFrom != nil && len(g.allow) == 0 {
		return g, fmt.Errorf("allow_from is empty (leave it out to admit every address)")
	}
	return g, nil
}

// vdxpAdmit checks a verified request against its system's max_age and
// allow_from.
func (h *Hub) vdxpAdmit(r *http.Request, sys *vdxpSystem, req *vdxp.Request) error {
	g := sys.guard
	if g.allow != nil {
		client := h.ClientIP(r)
		a, err := netip.ParseAddr(client)
		if err != nil || !inPrefixes(a.Unmap(), g.allow) {
			return fmt.Errorf("system %s is not admitted from %s (allow_from)", sys.ID, client)
		}
	}
	if g.maxAge > 0 {
		ts := req.Get("timestamp")
		if ts == "" {
			return fmt.Errorf("system %s: the timestamp is not signed (max_age %s)", sys.ID, g.maxAge)
		}
		at, err := vdxp.ParseTimestamp(ts, store.Zone)
		if err != nil {
			return err
		}
		now := h.now()
		if age := now.Sub(at); age > g.maxAge || age < -g.maxAge {
			return fmt.Errorf("timestamp %s is %s from the hub's clock, past system %s's max_age %s", ts, age.Round(time.Second), sys.ID, g.maxAge)
		}
	}
	return nil
}

// vdxpRefused answers a failed VDXP authentication: ErrorCode
// "unauthorized", or past the limit "too_many_requests" with a Retry-After
// header (HTTP 200 still, as every VDXP answer).
func (h *Hub) vdxpRefused(w http.ResponseWriter, r *http.Request, op string, cause error, fields map[string]any) {
	client := h.ClientIP(r)
	wait, limited := h.AuthFailure(SurfaceVDXP, client, h.now())
	attrs := []any{"op", op, "system", r.Header.Get(vdxp.HeaderSystemID), "remote_ip", client, "err", cause}
	if limited {
		secs := RetryAfterSeconds(wait)
		h.log.Warn("vdxp: refused, too many failures from this address", append(attrs, "retry_after_s", secs)...)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeVDXP(w, h.vdxpFail(op, ErrTooManyRequests, fields))
		return
	}
	h.log.Warn("vdxp: authentication failed", attrs...)
	writeVDXP(w, h.vdxpFail(op, Problemf(errVDXPAuth, "%v", cause), fields))
}
