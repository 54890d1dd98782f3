package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/labstack/echo/v4"
)

// The administrators' API (/admin/v1, admins only): overview, trace,
// search, stuck, re-drive, statistics, agencies, audit, reconciliation,
// backup, revocation evidence.
func (s *server) adminRoutes(g *echo.Group) {
	h := s.hub
	g.GET("/overview", func(c echo.Context) error {
		o, err := h.Overview(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, o)
	})
	g.GET("/documents/:id", func(c echo.Context) error {
		t, err := h.Trace(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, t)
	})
	g.GET("/documents/:id/revocation-evidence", s.getRevocationEvidence)
	g.GET("/documents/:id/trace", func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		var visited []string
		if v := c.QueryParam("visited"); v != "" {
			visited = strings.Split(v, ",")
		}
		if slices.Contains(visited, h.Name()) {
			return c.NoContent(http.StatusNoContent)
		}
		hops := 0
		if f := c.QueryParam("follow"); f == "true" {
			hops = axis.MaxFollowHops
		} else if f != "" {
			n, err := strconv.Atoi(f)
			if err != nil {
				return axis.Problemf(axis.ErrBadRequest, "follow is true or a number of hops")
			}
			hops = min(n, axis.MaxFollowHops)
		}
		t, err := h.TraceFollow(ctx, id, visited, hops)
		if err != nil {
			return err
		}
		axis.NoteDocID(ctx, id)
		return c.JSON(http.StatusOK, t)
	})
	g.GET("/search", func(c echo.Context) error {
		q, err := axis.ParseQuery(c.QueryParams())
		if err != nil {
			return err
		}
		r, err := h.Search(c.Request().Context(), q)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	})
	g.GET("/stuck", func(c echo.Context) error {
		st, err := h.Stuck(c.Request().Context(), axis.StuckCap)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, it := range st {
			counts[it.Reason]++
		}
		adm := h.Config().Admin
		return c.JSON(http.StatusOK, map[string]any{"items": st, "counts": counts, "sla": map[string]string{
			"fetch": adm.SLAFetch.String(), "ack": adm.SLAAck.String(), "relay": adm.SLARelay.String()}})
	})
	g.POST("/redrive/:id", func(c echo.Context) error {
		id := c.Param("id")
		n, err := h.Redrive(c.Request().Context(), callerOf(c), id, c.QueryParam("recipient"))
		if err != nil {
			return err
		}
		axis.NoteDocID(c.Request().Context(), id)
		return c.JSON(http.StatusOK, map[string]any{"doc_id": id, "redriven": n})
	})
	g.GET("/stats", func(c echo.Context) error {
		day := c.QueryParam("date")
		if day == "" {
			day = store.Day(h.Now())
		} else if _, err := time.Parse("2006-01-02", day); err != nil {
			return axis.Problemf(axis.ErrBadRequest, "date %q is not YYYY-MM-DD", day)
		}
		st, err := h.Stats(c.Request().Context(), day)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"date": day, "hub": h.Name(), "agencies": st})
	})
	g.GET("/agencies/:organ", func(c echo.Context) error {
		v, err := h.AgencyView(c.Request().Context(), c.Param("organ"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	})
	verify := func(c echo.Context) error {
		r, err := h.Store().VerifyChain(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"hub": h.Name(), "ok": r.OK(), "report": r})
	}
	g.GET("/audit/verify", verify)
	g.POST("/audit/verify", verify)
	// The daily archives (axis/archive.go): the seals, sealing a day on
	// demand, anchoring the chain now.
	g.GET("/archive", func(c echo.Context) error {
		seals, err := h.Store().Seals(c.Request().Context())
		if err != nil {
			return err
		}
		if seals == nil {
			seals = []record.Sealed{}
		}
		return c.JSON(http.StatusOK, map[string]any{"hub": h.Name(), "dir": h.ArchiveDir(), "days": seals})
	})
	g.POST("/archive/seal", func(c echo.Context) error {
		day := c.QueryParam("date")
		if day == "" {
			day = store.Day(h.Now().Add(-24 * time.Hour))
		}
		s, err := h.SealDayAs(c.Request().Context(), callerOf(c), day, c.QueryParam("force") == "true")
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, s)
	})
	g.POST("/anchor", func(c echo.Context) error {
		if callerOf(c).Viewer {
			return axis.Problemf(axis.ErrForbidden, "a viewer may not anchor")
		}
		a, made, err := h.Anchor(c.Request().Context(), "asked by "+callerOf(c).String())
		if err != nil {
			var p *axis.Problem
			if errors.As(err, &p) {
				return err
			}
			// Not the caller's fault, nor the hub's: the authority's (409
			// rather than a 5xx, which would say the hub is failing).
			return axis.Problemf(axis.ErrConflict, "the time-stamping authority gave no token (the anchor loop tries again): %v", err)
		}
		return c.JSON(http.StatusOK, map[string]any{"anchor": a, "new": made})
	})
	g.POST("/reconcile", func(c echo.Context) error {
		day := c.QueryParam("date")
		if day == "" {
			day = store.Day(h.Now().Add(-24 * time.Hour))
		}
		r, err := h.ReconcileAs(c.Request().Context(), callerOf(c), day, c.QueryParam("repair") == "true")
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	})
	g.GET("/backup", func(c echo.Context) error {
		w := c.Response()
		w.Header().Set(echo.HeaderContentType, "application/octet-stream")
		w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="axis-`+h.Name()+`-`+h.Now().UTC().Format("20060102T150405Z")+`.db"`)
		w.WriteHeader(http.StatusOK)
		n, err := h.Store().Backup(c.Request().Context(), w)
		if err != nil {
			h.Logger().Error("backup failed mid-stream", "bytes", n, "err", err)
			return nil // the status is sent; the client sees a short body
		}
		h.Logger().Info("backup streamed", "bytes", n)
		return nil
	})
}

// getRevocationEvidence serves the DER that proved a certificate's status
// (GET /admin/v1/documents/{id}/revocation-evidence?cert=N, N=0 the signer):
// an OCSP response (openssl ocsp -respin) or a CRL (openssl crl).
func (s *server) getRevocationEvidence(c echo.Context) error {
	i := 0
	if q := c.QueryParam("cert"); q != "" {
		if _, err := fmt.Sscanf(q, "%d", &i); err != nil || i < 0 {
			return axis.Problemf(axis.ErrBadRequest, "cert is the index in the chain (0 is the signer)")
		}
	}
	der, method, err := s.hub.RevocationEvidence(c.Request().Context(), c.Param("id"), i)
	if err != nil {
		return err
	}
	ct := "application/pkix-crl"
	if method == "ocsp" {
		ct = "application/ocsp-response"
	}
	c.Response().Header().Set("X-Axis-Revocation-Method", method)
	return c.Blob(http.StatusOK, ct, der)
}

// postPeerReconcile answers a peer hub's reconciliation: which of its ids
// are here, and what came here through it on the date.
func (s *server) postPeerReconcile(c echo.Context) error {
	caller := callerOf(c)
	if caller.Peer == "" {
		return axis.Problemf(axis.ErrForbidden, "peer hubs only")
	}
	var req api.PeerReconcileRequest
	b, err := axis.ReadBody(c.Request().Body, c.Request().ContentLength, 16<<20)
	if err != nil || json.Unmarshal(b, &req) != nil {
		return axis.Problemf(axis.ErrBadRequest, `body is {"date":"YYYY-MM-DD","ids":[...]}`)
	}
	if _, err := time.Parse("2006-01-02", req.Date); err != nil {
		return axis.Problemf(axis.ErrBadRequest, "date %q is not YYYY-MM-DD", req.Date)
	}
	a, err := s.hub.PeerReconcile(c.Request().Context(), caller.Peer, &req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// postDeliveryReports takes a peer hub's reports of the states of
// recipients this hub relayed documents to it for.
func (s *server) postDeliveryReports(c echo.Context) error {
	var req api.DeliveryReports
	b, err := axis.ReadBody(c.Request().Body, c.Request().ContentLength, 4<<20)
	if err != nil || json.Unmarshal(b, &req) != nil {
		return axis.Problemf(axis.ErrBadRequest, `body is {"reports":[{"doc_id","organ_id","state","at_hub","at"},...]}`)
	}
	a, err := s.hub.ApplyDeliveryReports(c.Request().Context(), callerOf(c), &req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}
