package httpapi

import (
	"log/slog"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/labstack/echo/v4"
)

// accessLog logs one line per request with its id, caller, problem code
// and document (axis.RequestNotes); 5xx at error level. It counts the
// request in axis_http_requests_total by route and status.
func (s *server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		ctx, notes := axis.WithRequestNotes(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		s.hub.CountRequest(c.Path(), status)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{
			axis.LogRequestID, c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if notes.Caller != nil {
			attrs = append(attrs, axis.LogCaller, notes.Caller.String())
		}
		if notes.Code != "" {
			attrs = append(attrs, axis.LogCode, notes.Code)
		}
		if notes.DocID != "" {
			attrs = append(attrs, axis.LogDocID, notes.DocID)
		}
		s.hub.Logger().Log(ctx, level, "http", attrs...)
		return nil
	}
}
