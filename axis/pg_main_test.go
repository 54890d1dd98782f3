package axis

import (
	"os"
	"testing"

	"github.com/axis-h40/axis/internal/pgtest"
)

// With AXIS_TEST_STORE=postgres the package's hubs run on a PostgreSQL
// cluster started here (testhub.UseEngine).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
