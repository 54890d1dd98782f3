package axis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store"
)

// ProblemOf is the one table from errors to answers.
func TestProblemOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
		detail string
	}{
		{Problemf(ErrForbidden, "administrators only"), 403, "forbidden", "axis: not allowed for this caller: administrators only"},
		{fmt.Errorf("intake: %w", envelope.ErrDigestMismatch), 422, "digest_mismatch", "intake: envelope: digest mismatch: content changed after signing"},
		{envelope.ErrTooLarge, 413, "too_large", "envelope: envelope too large"},
		{envelope.ErrNotEntitled, 403, "not_entitled", "envelope: the sender is not entitled to do this"},
		{fmt.Errorf("doc x: %w", store.ErrNotFound), 404, "not_found", "no such document for this caller"},
		{fmt.Errorf("ack: %w", store.ErrConflict), 409, "conflict", "ack: " + store.ErrConflict.Error()},
		// Anything else is ours: a 500 whose detail says nothing of it.
		{errors.New("disk on fire at /var/lib/axis"), 500, "internal", "internal error"},
	} {
		status, code, detail := ProblemOf(tc.err)
		if status != tc.status || code != tc.code || detail != tc.detail {
			t.Errorf("ProblemOf(%v) = %d %s %q, want %d %s %q", tc.err, status, code, detail, tc.status, tc.code, tc.detail)
		}
		// Mapped once (intake's metric), answered the same, still the
		// same error underneath.
		m := mapOnce(tc.err)
		if s2, c2, d2 := ProblemOf(m); s2 != status || c2 != code || d2 != detail || !errors.Is(m, tc.err) || m.Error() != tc.err.Error() {
			t.Errorf("mapped %v answers %d %s %q", tc.err, s2, c2, d2)
		}
	}
}

// Every verification code of package envelope has its status here, and
// none is a 5xx: bad input never is.
func TestEveryEnvelopeCodeHasAStatus(t *testing.T) {
	for _, e := range envelope.Codes {
		code := e.Code()
		s, ok := envelopeStatus[code]
		if !ok || s < 400 || s >= 500 {
			t.Errorf("envelope code %s answers %d (in table: %v)", code, s, ok)
		}
	}
	if len(envelopeStatus) != len(envelope.Codes) {
		t.Errorf("%d statuses for %d codes", len(envelopeStatus), len(envelope.Codes))
	}
}
