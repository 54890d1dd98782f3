package axis

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/store"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Log keys.
const (
	logRequestID = "request_id"
	logCaller    = "caller"
	logCode      = "code"
	logDocID     = "doc_id"
)

const callerKey = "axis.caller"

// Handler returns the hub's HTTP API:
//
//	POST /api/v1/envelopes                 raw edXML → 201 receipt (200 for the same bytes again)
//	GET  /api/v1/inbox?limit=N&after=CUR   the caller's not-yet-acked documents and statuses
//	GET  /api/v1/envelopes/{id}            the exact bytes (sender, recipient, admin)
//	POST /api/v1/envelopes/{id}/ack        {"status":"done"|"fail","reason":...}
//	GET  /api/v1/envelopes/{id}/status     per-recipient state (sender, admin)
//	GET  /api/v1/envelopes/{id}/receipt    XML receipt signed by the hub
//	GET  /healthz /readyz /metrics
func (h *Hub) Handler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{}))
	e.Use(h.accessLog)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		if err := h.Ready(); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ready\n")
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})))

	api := e.Group("/api/v1", h.authenticate)
	api.POST("/envelopes", h.postEnvelope)
	api.GET("/inbox", h.getInbox)
	api.GET("/envelopes/:id", h.getEnvelope)
	api.POST("/envelopes/:id/ack", h.postAck)
	api.GET("/envelopes/:id/status", h.getStatus)
	api.GET("/envelopes/:id/receipt", h.getReceipt)
	api.POST("/peer/reconcile", h.postPeerReconcile)

	if len(h.cfg.VDXP.Systems) > 0 {
		e.Any(h.cfg.VDXP.BasePath+"/*", h.serveVDXP)
	}

	h.adminRoutes(e.Group("/admin/v1", h.authenticate, requireAdmin))
	return e
}

// requireAdmin refuses every caller but an administrator.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !callerOf(c).Admin {
			return problemf(ErrForbidden, "administrators only")
		}
		return next(c)
	}
}

func (h *Hub) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The credential first; only a failure meets the limiter
		// (authlimit.go), so a valid token is never refused by it.
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return h.bearerRefused(c, "no bearer token")
		}
		caller, ok := h.dir.Authenticate(strings.TrimSpace(token))
		if !ok {
			return h.bearerRefused(c, "unknown token")
		}
		// A caller with client_cert_sha256 must also present that TLS
		// client certificate: the token alone is refused (tls.go).
		if why := h.clientCertRefusal(c.Request(), caller); why != "" {
			return h.bearerRefused(c, why)
		}
		c.Set(callerKey, caller)
		return next(c)
	}
}

func callerOf(c echo.Context) Caller { return c.Get(callerKey).(Caller) }

// accessLog logs one line per request with its id; 5xx at error level.
func (h *Hub) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		h.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{
			logRequestID, c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if v, ok := c.Get(callerKey).(Caller); ok {
			attrs = append(attrs, logCaller, v.String())
		}
		if code, ok := c.Get(logCode).(string); ok {
			attrs = append(attrs, logCode, code)
		}
		if id, ok := c.Get(logDocID).(string); ok {
			attrs = append(attrs, logDocID, id)
		}
		h.log.Log(c.Request().Context(), level, "http", attrs...)
		return nil
	}
}

// problem is the application/problem+json body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// errorHandler is the one place errors become HTTP answers.
func (h *Hub) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	var status int
	var code, detail string
	if errors.As(err, &he) {
		status, code, detail = he.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_")), fmt.Sprint(he.Message)
	} else {
		status, code, detail = problemOf(err)
	}
	if status >= 500 {
		h.log.Error("internal error", logRequestID, c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	}
	c.Set(logCode, code)
	if code == errBodyTimeout.Code {
		c.Response().Header().Set(echo.HeaderConnection, "close") // the rest of that body is not waited for
	}
	p := problem{Type: "https://axis.invalid/problems/" + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	_ = encodeJSON(c.Response(), p)
}

func (h *Hub) postEnvelope(c echo.Context) error {
	limit := h.cfg.Limits.MaxEnvelopeBytes
	req := c.Request()
	tooLarge := func() error {
		h.metrics.intake.WithLabelValues("too_large").Inc()
		return &Problem{"too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("envelope larger than %d bytes", limit)}
	}
	if req.ContentLength > limit {
		return tooLarge()
	}
	body, err := h.receiveBody(c, limit) // in memory or spooled (body.go)
	if err != nil {
		return err
	}
	defer body.Close()
	if body.Len() > limit {
		return tooLarge()
	}
	var forRecipients []string
	if v := req.Header.Get(RecipientsHeader); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				forRecipients = append(forRecipients, o)
			}
		}
	}
	r, created, err := h.intakeLoaded(c.Request().Context(), callerOf(c), body.Bytes, forRecipients)
	if err != nil {
		_, code, _ := problemOf(err)
		h.metrics.intake.WithLabelValues(code).Inc()
		return err
	}
	c.Set(logDocID, r.DocID)
	if !created {
		h.metrics.intake.WithLabelValues("duplicate").Inc()
		return c.JSON(http.StatusOK, r)
	}
	if r.State == store.StateHeld {
		// Stored durably, not yet routed: the revocation status of the
		// signer's chain is not known (trust.revocation.mode hold).
		h.metrics.intake.WithLabelValues("held").Inc()
		return c.JSON(http.StatusAccepted, r)
	}
	h.metrics.intake.WithLabelValues("created").Inc()
	return c.JSON(http.StatusCreated, r)
}

// readBody reads at most limit+1 bytes, in one allocation when the length
// is announced (a 2 MB envelope read by doubling would be copied ~12 times).
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	buf := make([]byte, length+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case (err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) == length:
		return buf[:n], nil
	case err == nil:
		return nil, fmt.Errorf("body longer than its Content-Length")
	}
	return nil, err
}

func (h *Hub) getInbox(c echo.Context) error {
	limit := 100
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return problemf(ErrBadRequest, "limit must be 1..1000")
		}
		limit = n
	}
	var after uint64
	if s := c.QueryParam("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return problemf(ErrBadRequest, "after is not a cursor from a previous page")
		}
		after = n
	}
	items, more, err := h.Inbox(c.Request().Context(), callerOf(c), after, limit)
	if err != nil {
		return err
	}
	page := InboxPage{Items: []InboxItem{}}
	for _, it := range items {
		d := it.Doc
		page.Items = append(page.Items, InboxItem{DocID: d.ID, From: d.From, Kind: d.Kind, Code: d.Code, Subject: d.Subject,
			StatusCode: d.StatusCode, RespondsTo: d.RespondsTo, ReceivedAt: d.ReceivedAt})
		if more {
			page.Next = strconv.FormatUint(it.Seq, 10)
		}
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Hub) getEnvelope(c echo.Context) error {
	raw, err := h.Fetch(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(logDocID, c.Param("id"))
	return c.Blob(http.StatusOK, "application/xml", raw)
}

func (h *Hub) postAck(c echo.Context) error {
	var req AckRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errBodyTimeout // GuardBodies cut a body that stalled
		}
		return problemf(ErrBadRequest, "ack body: %v", err)
	}
	if req.Status != "done" && req.Status != "fail" {
		return problemf(ErrBadRequest, `status must be "done" or "fail"`)
	}
	dl, err := h.Ack(c.Request().Context(), callerOf(c), c.Param("id"), req.Status == "done", req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"doc_id": dl.DocID, "organ_id": dl.OrganID, "state": dl.State, "updated_at": dl.UpdatedAt})
}

func (h *Hub) getStatus(c echo.Context) error {
	s, err := h.Status(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h *Hub) getReceipt(c echo.Context) error {
	r, err := h.SignedReceipt(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/xml", r)
}
