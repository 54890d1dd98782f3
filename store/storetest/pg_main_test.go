package storetest_test

import (
	"os"
	"testing"

	"github.com/axis-h40/axis/internal/pgtest"
)

// With AXIS_TEST_STORE=postgres the package's tests run on a
// PostgreSQL cluster started here (storetest.Open).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
