package httpapi

import (
	"net/http"
	"strings"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/console"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// New returns everything axisd serves for the hub: the web console under
// /admin/ (except /admin/v1/, the JSON API), the rest the hub's API (API),
// with request bodies guarded against stalling (Hub.GuardBodies).
//
// It dispatches by prefix, not with http.ServeMux, which would clean paths
// and redirect (a VDXP client whose base ends in / posts to //sendEdoc).
// The console uses the hub's client address (trusted_proxies) for its
// sign-in limit and logs.
func New(h *axis.Hub) http.Handler {
	api := API(h)
	admin := console.New(h, console.Options{ClientIP: h.ClientIP, SecureCookies: h.Config().Admin.SecureCookies})
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; (p == "/admin" || strings.HasPrefix(p, "/admin/")) && !strings.HasPrefix(p, "/admin/v1/") {
			admin.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	return h.GuardBodies(mux)
}

// API returns the hub's HTTP API:
//
//	POST /api/v1/envelopes                 raw edXML → 201 receipt (200 for the same bytes again, 202 held)
//	GET  /api/v1/inbox?limit=N&after=CUR   the caller's not-yet-acked documents and statuses
//	GET  /api/v1/envelopes/{id}            the exact bytes (sender, recipient, admin)
//	POST /api/v1/envelopes/{id}/ack        {"status":"done"|"fail","reason":...}
//	GET  /api/v1/envelopes/{id}/status     per-recipient state (sender, admin)
//	GET  /api/v1/envelopes/{id}/receipt    XML receipt signed by the hub
//	POST /api/v1/peer/reconcile            a peer hub's reconciliation question
//	POST /api/v1/peer/delivery-reports     a peer hub's reports of recipients' states
//	/admin/v1/...                          the administrators' API (admin.go)
//	{vdxp.base_path}/{operation}           the VDXP server (Hub.ServeVDXP)
//	GET  /healthz /readyz /metrics
func API(h *axis.Hub) http.Handler {
	s := &server{hub: h}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{}))
	e.Use(s.accessLog)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		if err := h.Ready(); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ready\n")
	})
	e.GET("/metrics", echo.WrapHandler(h.MetricsHandler()))

	api := e.Group("/api/v1", s.authenticate)
	api.POST("/envelopes", s.postEnvelope)
	api.GET("/inbox", s.getInbox)
	api.GET("/envelopes/:id", s.getEnvelope)
	api.POST("/envelopes/:id/ack", s.postAck)
	api.GET("/envelopes/:id/status", s.getStatus)
	api.GET("/envelopes/:id/receipt", s.getReceipt)
	api.POST("/peer/reconcile", s.postPeerReconcile)
	api.POST("/peer/delivery-reports", s.postDeliveryReports)

	if cfg := h.Config(); len(cfg.VDXP.Systems) > 0 {
		e.Any(cfg.VDXP.BasePath+"/*", echo.WrapHandler(http.HandlerFunc(h.ServeVDXP)))
	}

	s.adminRoutes(e.Group("/admin/v1", s.authenticate, requireAdmin))
	return e
}

// server is one hub's handlers.
type server struct{ hub *axis.Hub }
