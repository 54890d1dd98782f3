package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/axis/api"
	"github.com/labstack/echo/v4"
)

// errorHandler is the one place errors become HTTP answers: a handler's
// error through axis.ProblemOf, Echo's own (no route, wrong method) by its
// status.
func (s *server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	var status int
	var code, detail string
	if errors.As(err, &he) {
		status, code, detail = he.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_")), fmt.Sprint(he.Message)
	} else {
		status, code, detail = axis.ProblemOf(err)
	}
	if status >= 500 {
		s.hub.Logger().Error("internal error", axis.LogRequestID, c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
	}
	if n := axis.NotesOf(c.Request().Context()); n != nil {
		n.Code = code
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "2")
	}
	if code == axis.ErrBodyTimeout.Code {
		c.Response().Header().Set(echo.HeaderConnection, "close") // the rest of that body is not waited for
	}
	p := api.Problem{Type: "https://axis.invalid/problems/" + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	_ = encodeJSON(c.Response(), p)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// decodeJSON reads one small JSON object, refusing unknown fields.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	return nil
}
