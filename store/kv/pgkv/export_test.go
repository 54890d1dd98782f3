package pgkv

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NeverPing has the engines opened from now on hand out pooled
// connections without pinging them, however long idle (as a busy pool
// does), until restore.
func NeverPing() (restore func()) {
	testShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	return func() { testShouldPing = nil }
}
