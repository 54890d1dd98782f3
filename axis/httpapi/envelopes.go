package httpapi

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store"
	"github.com/labstack/echo/v4"
)

// The agencies' API: send, collect, acknowledge, follow.

func (s *server) postEnvelope(c echo.Context) error {
	req := c.Request()
	var forRecipients []string
	if v := req.Header.Get(api.RecipientsHeader); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				forRecipients = append(forRecipients, o)
			}
		}
	}
	r, created, err := s.hub.ReceiveEnvelope(c.Response(), req, callerOf(c), forRecipients)
	if err != nil {
		return err
	}
	axis.NoteDocID(req.Context(), r.DocID)
	switch {
	case !created:
		return c.JSON(http.StatusOK, r)
	case r.State == store.StateHeld:
		// Stored durably, not yet routed: the revocation status of the
		// signer's chain is not known (trust.revocation.mode hold).
		return c.JSON(http.StatusAccepted, r)
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *server) getInbox(c echo.Context) error {
	limit := 100
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			return axis.Problemf(axis.ErrBadRequest, "limit must be 1..1000")
		}
		limit = n
	}
	var after uint64
	if q := c.QueryParam("after"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			return axis.Problemf(axis.ErrBadRequest, "after is not a cursor from a previous page")
		}
		after = n
	}
	items, more, err := s.hub.Inbox(c.Request().Context(), callerOf(c), after, limit)
	if err != nil {
		return err
	}
	page := api.InboxPage{Items: []api.InboxItem{}}
	for _, it := range items {
		d := it.Doc
		page.Items = append(page.Items, api.InboxItem{DocID: d.ID, From: d.From, Kind: d.Kind, Code: d.Code, Subject: d.Subject,
			StatusCode: d.StatusCode, RespondsTo: d.RespondsTo, ReceivedAt: d.ReceivedAt})
		if more {
			page.Next = strconv.FormatUint(it.Seq, 10)
		}
	}
	return c.JSON(http.StatusOK, page)
}

func (s *server) getEnvelope(c echo.Context) error {
	raw, err := s.hub.Fetch(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	axis.NoteDocID(c.Request().Context(), c.Param("id"))
	return c.Blob(http.StatusOK, "application/xml", raw)
}

func (s *server) postAck(c echo.Context) error {
	var req api.AckRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return axis.ErrBodyTimeout // GuardBodies cut a body that stalled
		}
		return axis.Problemf(axis.ErrBadRequest, "ack body: %v", err)
	}
	if req.Status != "done" && req.Status != "fail" {
		return axis.Problemf(axis.ErrBadRequest, `status must be "done" or "fail"`)
	}
	dl, err := s.hub.Ack(c.Request().Context(), callerOf(c), c.Param("id"), req.Status == "done", req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"doc_id": dl.DocID, "organ_id": dl.OrganID, "state": dl.State, "updated_at": dl.UpdatedAt})
}

func (s *server) getStatus(c echo.Context) error {
	st, err := s.hub.Status(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *server) getReceipt(c echo.Context) error {
	r, err := s.hub.SignedReceipt(c.Request().Context(), callerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/xml", r)
}
