package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
)

func TestConcurrentIntakeShareCommits(t *testing.T) {
	var mu sync.Mutex
	var batches, total int
	db := storetest.OpenWith(t, &store.Options{
		MaxBatchDelay: 20 * time.Millisecond,
		OnBatch: func(n int) {
			mu.Lock()
			batches++
			total += n
			mu.Unlock()
		}})
	const n = 32
	vs := verifiedPool(t, 1000, n, 0)
	<-concurrently(t, n, func(i int) error {
		_, _, err := db.PutEnvelope(ctx, vs[i], local(testgen.Department), at, "")
		return err
	})
	if c, _ := db.Count(ctx); c != n {
		t.Fatalf("%d stored", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if total != n || batches >= n {
		t.Fatalf("%d intakes in %d commits: no commit was shared", total, batches)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// After Close a write is ErrClosed; a write whose context is done is not
// attempted.
func TestWritesAfterCloseAndCancel(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "axis.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := putRoutes(t, db, 900, at, local(testgen.Department)...)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.MarkFetched(cancelled, d.ID, testgen.Department, at); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a cancelled context: %v", err)
	}
	if dl := delivery(t, db, d.ID, testgen.Department); dl.State != store.StateQueued {
		t.Fatalf("the cancelled write happened: %+v", dl)
	}
	checked(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkFetched(ctx, d.ID, testgen.Department, at); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := db.SetRegistry(ctx, "x", []byte("y")); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("registry write after close: %v", err)
	}
}

// A store another process holds: a sentence that says so, not bbolt's
// bare "timeout", both to a second hub and to an offline verification of
// the live file (which says what to do instead).
func TestLockedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axis.db")
	first, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = store.Open(path, &store.Options{Timeout: 50 * time.Millisecond})
	want := "store: " + path + " is locked: another axisd holds it (waited 50ms); stop that one first: store: locked by another process"
	if !errors.Is(err, store.ErrLocked) || err.Error() != want {
		t.Fatalf("second open: %v\nwant %s", err, want)
	}
	_, err = store.VerifyChainFile(ctx, path)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), path+" is locked: a running axisd holds it; verify a backup of it (axisctl backup FILE)") {
		t.Fatalf("VerifyChainFile of a live store: %v", err)
	}
}
