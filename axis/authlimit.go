package axis

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Failed authentications, one limiter per hub for every surface: a wrong
// or missing bearer token on /api/v1 and /admin/v1, a VDXP request whose
// HMAC, system, timestamp or address check fails, a console sign-in with a
// wrong or non-administrator token. They are counted per client address
// (ClientIP) in a sliding window of AuthWindow; past
// limits.auth_failures_per_5m in the window, further FAILURES are answered
// 429 with Retry-After (until the oldest counted failure leaves the
// window).
//
// Decisions:
//   - The credential is checked first and only a failure consults the
//     limiter: a valid credential is never refused, so a neighbour behind
//     the same NAT (or an attacker) cannot lock an agency out. The price:
//     the limiter does not stop online guessing (a right guess past the
//     limit still succeeds); it bounds the noise, and the tokens and
//     secrets must be long random strings (they are: 256-bit demo tokens,
//     hashed configuration).
//   - A success does not forget the address's failures (the console's old
//     limiter did): one valid agency token would otherwise reset the count
//     between guesses at an administrator's.
//   - A failure answered 429 is not counted again, so a client that waits
//     Retry-After gets its next try; the failures counted are kept to the
//     limit per address.
//   - IPv6 clients are counted per /64 (one host's usual allocation), IPv4
//     per address; logs carry the full address.
//   - A valid agency token on /admin/v1 (403) is not an authentication
//     failure: the credential is valid, only not an administrator's.
//   - Memory: at most maxAuthTracked addresses × the limit timestamps
//     (8 bytes each: 16 MB at the defaults). When the table is full, the
//     addresses whose failures all left the window are dropped, then
//     arbitrary ones down to 90% (an attacker with that many addresses is
//     beyond a per-address limiter anyway).

// AuthWindow is the sliding window of limits.auth_failures_per_5m.
const AuthWindow = 5 * time.Minute

// maxAuthTracked bounds the addresses the limiter remembers.
const maxAuthTracked = 100_000

// ErrTooManyRequests answers a failed authentication past the limit.
var ErrTooManyRequests = &Problem{"too_many_requests", http.StatusTooManyRequests, "too many failed authentications from this address; retry later"}

// Auth-failure surfaces (the metric's label).
const (
	SurfaceAPI     = "api"
	SurfaceAdmin   = "admin"
	SurfaceVDXP    = "vdxp"
	SurfaceConsole = "console"
)

// authLimiter counts failures per key in a sliding window.
type authLimiter struct {
	mu     sync.Mutex
	m      map[string][]int64 // key → unix nanoseconds of its counted failures in the window, oldest first
	limit  int
	window time.Duration
	max    int
}

func newAuthLimiter(limit int, window time.Duration, maxKeys int) *authLimiter {
	return &authLimiter{m: map[string][]int64{}, limit: limit, window: window, max: maxKeys}
}

// prune drops key's failures that left the window; l.mu is held.
func (l *authLimiter) prune(key string, now int64) []int64 {
	fs := l.m[key]
	i := 0
	for i < len(fs) && now-fs[i] >= int64(l.window) {
		i++
	}
	if i == len(fs) {
		delete(l.m, key)
		return nil
	}
	fs = fs[i:]
	l.m[key] = fs
	return fs
}

// fail handles one failure of key at now: past the limit it is not
// counted and the answer is how long until the oldest counted failure
// leaves the window; otherwise it is counted.
func (l *authLimiter) fail(key string, now time.Time) (time.Duration, bool) {
	t := now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.prune(key, t)
	if len(fs) >= l.limit {
		return time.Duration(fs[len(fs)-l.limit] + int64(l.window) - t), true
	}
	if fs == nil && len(l.m) >= l.max {
		l.makeRoom(t)
	}
	// A fresh slice when full, so the array does not grow with the history.
	if len(fs) == cap(fs) {
		fs = append(make([]int64, 0, min(max(2*len(fs), 4), l.limit)), fs...)
	}
	l.m[key] = append(fs, t)
	return 0, false
}

// makeRoom drops keys whose failures left the window, then arbitrary keys
// down to 90% of the bound; l.mu is held.
func (l *authLimiter) makeRoom(now int64) {
	for k := range l.m {
		l.prune(k, now)
	}
	for k := range l.m {
		if len(l.m) <= l.max*9/10 {
			break
		}
		delete(l.m, k)
	}
}

// tracked is how many keys the limiter holds (tests).
func (l *authLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// limiterKey is the limiter's key for a client address: IPv6 by /64.
func limiterKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	if a.Is6() && !a.Is4In6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.Unmap().String()
}

// authGuard is the hub's authentication state: trusted proxies, the
// limiter and its counter.
type authGuard struct {
	proxies  []netip.Prefix
	limiter  *authLimiter
	failures *prometheus.CounterVec
}

func newAuthGuard(cfg *Config, reg *prometheus.Registry, log *slog.Logger) *authGuard {
	proxies, err := parsePrefixes(cfg.TrustedProxies)
	if err != nil {
		// Config.check refuses this; a config made in code that skipped it
		// trusts no proxy (the socket's address is the client).
		log.Error("trusted_proxies ignored", "err", err)
		proxies = nil
	}
	limit := cfg.Limits.AuthFailuresPer5m
	if limit <= 0 {
		limit = DefaultAuthFailuresPer5m
	}
	g := &authGuard{proxies: proxies, limiter: newAuthLimiter(limit, AuthWindow, maxAuthTracked),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axis_auth_failures_total",
			Help: "Failed authentications by surface (api, admin, vdxp, console) and result (refused: counted and answered 401 or its surface's refusal; limited: past limits.auth_failures_per_5m, answered 429).",
		}, []string{"surface", "result"}),
	}
	for _, s := range []string{SurfaceAPI, SurfaceAdmin, SurfaceVDXP, SurfaceConsole} {
		for _, r := range []string{"refused", "limited"} {
			g.failures.WithLabelValues(s, r)
		}
	}
	reg.MustRegister(g.failures)
	return g
}

// AuthFailure records a failed authentication from the client address on a
// surface (SurfaceAPI, ...) at now. limited is true past the limit: answer
// 429 with Retry-After retryAfter. Call it only after the credential was
// checked and refused.
func (h *Hub) AuthFailure(surface, client string, now time.Time) (retryAfter time.Duration, limited bool) {
	retryAfter, limited = h.auth.limiter.fail(limiterKey(client), now)
	h.auth.failures.WithLabelValues(surface, map[bool]string{false: "refused", true: "limited"}[limited]).Inc()
	return retryAfter, limited
}

// RetryAfterSeconds is a wait as Retry-After says it: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
