package pgkv

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable says whether err is the database being out of reach (the
// primary down, a failover under way, a connection lost, a commit whose
// outcome is unknown, a standby that does not take writes yet) rather
// than a fault of the request or of the data: the caller's client may
// try the same request again (axis answers 503 with Retry-After; an
// intake tried again stores nothing twice).
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrCommitUnknown) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutdown, crash, cannot connect now
			return true
		case pgErr.Code == "25006": // read-only transaction: reached a standby
			return true
		case pgErr.Code == "40001", pgErr.Code == "40P01": // serialization, deadlock: retries exhausted
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}
