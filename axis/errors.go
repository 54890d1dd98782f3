package axis

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
)

// Problem is an error with a stable machine code and an HTTP status, served
// as application/problem+json.
type Problem struct {
	Code   string
	Status int
	Title  string
}

func (p *Problem) Error() string { return "axis: " + p.Title }

// Hub errors, beside the envelope package's verification codes.
var (
	ErrUnauthorized     = &Problem{"unauthorized", http.StatusUnauthorized, "missing or unknown bearer token"}
	ErrForbidden        = &Problem{"forbidden", http.StatusForbidden, "not allowed for this caller"}
	ErrNotFound         = &Problem{"not_found", http.StatusNotFound, "no such document for this caller"}
	ErrUnknownRecipient = &Problem{"unknown_recipient", http.StatusUnprocessableEntity, "unknown recipient"}
	ErrCallerMismatch   = &Problem{"sender_mismatch", http.StatusForbidden, "the authenticated caller is not the envelope's sender"}
	ErrBadRequest       = &Problem{"bad_request", http.StatusBadRequest, "bad request"}
	ErrConflict         = &Problem{"conflict", http.StatusConflict, "state conflict"}
	ErrUnavailable      = &Problem{"unavailable", http.StatusServiceUnavailable, "hub is shutting down"}
	// ErrStoreUnavailable is the store's database out of reach (a
	// PostgreSQL failover under way): nothing was acknowledged, the same
	// request may be sent again (an intake sent again stores nothing twice).
	ErrStoreUnavailable = &Problem{"store_unavailable", http.StatusServiceUnavailable, "the store's database is out of reach (a failover may be under way): send the same request again"}
	ErrInternal         = &Problem{"internal", http.StatusInternalServerError, "internal error"}
)

// verification codes → HTTP status; bad input is never a 5xx.
var envelopeStatus = map[string]int{
	"malformed_xml":         http.StatusBadRequest,
	"doctype_forbidden":     http.StatusBadRequest,
	"too_large":             http.StatusRequestEntityTooLarge,
	"too_deep":              http.StatusBadRequest,
	"header_invalid":        http.StatusBadRequest,
	"signature_missing":     http.StatusUnprocessableEntity,
	"signature_invalid":     http.StatusUnprocessableEntity,
	"digest_mismatch":       http.StatusUnprocessableEntity,
	"algorithm_forbidden":   http.StatusUnprocessableEntity,
	"certificate_untrusted": http.StatusUnprocessableEntity,
	"certificate_expired":   http.StatusUnprocessableEntity,
	"certificate_usage":     http.StatusUnprocessableEntity,
	"sender_mismatch":       http.StatusForbidden,
	"not_entitled":          http.StatusForbidden,
	"certificate_revoked":   http.StatusUnprocessableEntity,
	"revocation_unknown":    http.StatusUnprocessableEntity,
}

// ProblemOf maps any error to its HTTP status, stable code and detail: the
// one table from the hub's and envelope's errors to answers (a Problem,
// an envelope verification code, the store's not found and conflict;
// anything else is a 500 internal error whose detail says nothing).
func ProblemOf(err error) (int, string, string) {
	if m, ok := err.(*mapped); ok {
		return m.status, m.code, m.detail
	}
	var p *Problem
	if errors.As(err, &p) {
		return p.Status, p.Code, err.Error()
	}
	if code := envelope.CodeOf(err); code != "" {
		return envelopeStatus[code], code, err.Error()
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, ErrNotFound.Code, ErrNotFound.Title
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, ErrConflict.Code, err.Error()
	case store.Unavailable(err):
		return http.StatusServiceUnavailable, ErrStoreUnavailable.Code, ErrStoreUnavailable.Title
	}
	return http.StatusInternalServerError, ErrInternal.Code, ErrInternal.Title
}

func Problemf(p *Problem, format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{p}, a...)...)
}

// mapped is an error already mapped by ProblemOf (intake maps a refusal
// once, for its metric label, and the answer reuses that).
type mapped struct {
	err          error
	status       int
	code, detail string
}

func (m *mapped) Error() string { return m.err.Error() }
func (m *mapped) Unwrap() error { return m.err }

// mapOnce maps err with ProblemOf and keeps the result with it.
func mapOnce(err error) *mapped {
	status, code, detail := ProblemOf(err)
	return &mapped{err: err, status: status, code: code, detail: detail}
}
