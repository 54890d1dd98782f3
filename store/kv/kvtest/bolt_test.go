package kvtest_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/axis-h40/axis/store/kv"
	"github.com/axis-h40/axis/store/kv/kvtest"
)

// The suite on bbolt, the reference engine: a real file per subtest.
func TestBolt(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB {
		// A mapping large enough never to be grown while a View is open
		// (bbolt's writer would wait for the reader to end).
		db, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{InitialMmapSize: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return kv.NewBolt(db)
	})
}
