package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	bolt "go.etcd.io/bbolt"
)

// compactTestFile writes a store file with a document through intake and
// 24 MiB of blobs in a scratch bucket deleted again: free pages.
func compactTestFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "axis.db")
	db, err := store.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := fixture.Verified(t, fixture.Numbered("CPCTL"))
	if _, created, err := db.PutEnvelope(context.Background(), v, []record.Route{{OrganID: testgen.Department}}, fixture.Now(), ""); err != nil || !created {
		t.Fatalf("PutEnvelope: %v created=%v", err, created)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(file, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte{'x'}, 1<<20)
	err = bdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("compact-test-filler"))
		if err != nil {
			return err
		}
		for i := range 24 {
			if err := b.Put([]byte(strconv.Itoa(i)), blob); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = bdb.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("compact-test-filler")) })
	}
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func compactFileSum(t *testing.T, file string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// axisctl compact runs the real axisd compact ($AXISD, built here) and
// answers as it does: its output, its exit code.
func TestCompactRunsAxisd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds axisd")
	}
	bin := filepath.Join(t.TempDir(), "axisd")
	if out, err := exec.Command("go", "build", "-o", bin, "../axisd").CombinedOutput(); err != nil {
		t.Fatalf("building axisd: %v\n%s", err, out)
	}
	t.Setenv("AXISD", bin)

	file := compactTestFile(t)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := compactFileSum(t, file)
	code, out, errOut := axisctl(t, "compact", "--db", file)
	if code != 0 || errOut != "" {
		t.Fatalf("compact: exit %d\n%s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`^compacted ` + regexp.QuoteMeta(file) + `: (\d+) → (\d+) bytes \(\d+% smaller\); the original is ` + regexp.QuoteMeta(file+".precompact") + "\n$").FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("compact said %q", out)
	}
	before, _ := strconv.ParseInt(m[1], 10, 64)
	after, _ := strconv.ParseInt(m[2], 10, 64)
	if before != st.Size() || after > before-20<<20 {
		t.Errorf("compact: %d → %d bytes; the file was %d, with 24 MiB free", before, after, st.Size())
	}
	if compactFileSum(t, file+".precompact") != sum {
		t.Error("FILE.precompact is not the original")
	}
	chain, err := store.VerifyChainFile(context.Background(), file)
	if err != nil || !chain.OK() || chain.Events == 0 {
		t.Fatalf("the compacted file's chain: %+v %v", chain, err)
	}

	// Again: the backup there is refused, with axisd's message and code.
	code, out, errOut = axisctl(t, "compact", "--db", file, "--json")
	if code != 1 || out != "" || !strings.Contains(errOut, file+".precompact exists") {
		t.Fatalf("with FILE.precompact there: exit %d %q %q", code, out, errOut)
	}
	if err := os.Remove(file + ".precompact"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = axisctl(t, "compact", "--db", file, "--json")
	var r struct {
		File   string `json:"file"`
		Backup string `json:"backup"`
		Events uint64 `json:"events"`
		Head   string `json:"head"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.File != file || r.Backup != file+".precompact" || r.Events != chain.Events || r.Head != chain.Head {
		t.Fatalf("compact --json: exit %d %q %q", code, out, errOut)
	}

	// Usage errors are axisd's: exit 2.
	if code, _, errOut := axisctl(t, "compact"); code != 2 || !strings.Contains(errOut, "usage: axisd compact --db FILE") {
		t.Errorf("compact without --db: exit %d %q", code, errOut)
	}
	// No axisd: said so.
	t.Setenv("AXISD", filepath.Join(t.TempDir(), "no-axisd"))
	if code, _, errOut := axisctl(t, "compact", "--db", file); code != 1 || !strings.Contains(errOut, "no-axisd") {
		t.Errorf("without axisd: exit %d %q", code, errOut)
	}
}
