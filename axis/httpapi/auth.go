package httpapi

import (
	"strconv"
	"strings"

	"github.com/axis-h40/axis/axis"
	"github.com/labstack/echo/v4"
)

const callerKey = "axis.caller"

// authenticate admits a request with a known bearer token (and, for a
// caller pinned to one, its TLS client certificate) and records its caller.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The credential first; only a failure meets the limiter
		// (axis/authlimit.go), so a valid token is never refused by it.
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return s.bearerRefused(c, "no bearer token")
		}
		caller, ok := s.hub.Authenticate(strings.TrimSpace(token))
		if !ok {
			return s.bearerRefused(c, "unknown token")
		}
		// A caller with client_cert_sha256 must also present that TLS
		// client certificate: the token alone is refused (axis/tls.go).
		if why := s.hub.ClientCertRefusal(c.Request(), caller); why != "" {
			return s.bearerRefused(c, why)
		}
		c.Set(callerKey, caller)
		axis.NoteCaller(c.Request().Context(), caller)
		return next(c)
	}
}

func callerOf(c echo.Context) axis.Caller { return c.Get(callerKey).(axis.Caller) }

// requireAdmin refuses every caller but an administrator.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !callerOf(c).Admin {
			return axis.Problemf(axis.ErrForbidden, "administrators only")
		}
		return next(c)
	}
}

// bearerRefused answers a missing or unknown bearer token: 401, or 429
// with Retry-After past the limit.
func (s *server) bearerRefused(c echo.Context, reason string) error {
	h, r := s.hub, c.Request()
	surface := axis.SurfaceAPI
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		surface = axis.SurfaceAdmin
	}
	client := h.ClientIP(r)
	wait, limited := h.AuthFailure(surface, client, h.Now())
	attrs := []any{"surface", surface, "remote_ip", client, "reason", reason, "method", r.Method, "path", r.URL.Path,
		axis.LogRequestID, c.Response().Header().Get(echo.HeaderXRequestID)}
	if limited {
		secs := axis.RetryAfterSeconds(wait)
		h.Logger().Warn("auth: refused, too many failures from this address", append(attrs, "retry_after_s", secs)...)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return axis.ErrTooManyRequests
	}
	h.Logger().Warn("auth: bearer token refused", attrs...)
	return axis.ErrUnauthorized
}
