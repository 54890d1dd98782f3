package store_test

import (
	"os"
	"testing"

	"github.com/axis-h40/axis/internal/pgtest"
)

// With AXIS_TEST_STORE=postgres every test of the package runs on a
// PostgreSQL cluster started here (storetest.Open, openFileStore).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
