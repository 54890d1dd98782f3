package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/record"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// compactFiller is how many bytes of blobs compactTestStore writes and
// deletes again: the free pages compaction drops.
const compactFiller = 48 << 20

// compactTestStore writes a store file in a fresh folder: documents
// through intake (real signed envelopes) and synthetic ones with their
// deliveries acked, then compactFiller bytes in a scratch bucket that is
// deleted again (the store has no delete), as a purge leaves a file: big,
// mostly free pages. It returns the file and one of the documents, as the
// store reads it back.
func compactTestStore(t *testing.T) (string, *record.Document) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "axis.db")
	db, err := store.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for i := range 4 {
		v := fixture.Verified(t, fixture.Numbered(fmt.Sprintf("CP%d", i)))
		d, created, err := db.PutEnvelope(ctx, v, []record.Route{{OrganID: testgen.Department}}, fixture.Now(), "")
		if err != nil || !created {
			t.Fatalf("PutEnvelope: %v created=%v", err, created)
		}
		id = d.ID
	}
	var syn []storetest.Synthetic
	for i := range 300 {
		syn = append(syn, storetest.Synthetic{Raw: []byte(fmt.Sprintf("<edXML>synthetic %d</edXML>", i)), From: testgen.Commune,
			Routes: []record.Route{{OrganID: testgen.Department}, {OrganID: testgen.District}}, Code: fmt.Sprintf("%d/UBND-VP", i),
			Subject: "Công văn tổng hợp", DocumentID: fmt.Sprintf("%s,2026/05/28,S%d/UBND-VP", testgen.Commune, i),
			At: fixture.Now().Add(time.Duration(i) * time.Minute), Acked: i%2 == 0})
	}
	if err := storetest.LoadSynthetic(ctx, db, syn); err != nil {
		t.Fatal(err)
	}
	doc, err := db.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	bdb, err := bolt.Open(file, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte("filler "), 1<<20/7)
	for n := 0; n < compactFiller; {
		err := bdb.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("compact-test-filler"))
			if err != nil {
				return err
			}
			for range 8 {
				if err := b.Put([]byte(strconv.Itoa(n)), blob); err != nil {
					return err
				}
				n += len(blob)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bdb.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("compact-test-filler")) }); err != nil {
		t.Fatal(err)
	}
	bdb.NoFreelistSync = false // and close with the freelist written, as the store's Close does
	if err := bdb.Update(func(tx *bolt.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	return file, doc
}

func runCompactCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := compact(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func compactSHA(t *testing.T, file string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func compactSize(t *testing.T, file string) int64 {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// compactNothingLeft fails the test if compaction left a copy or a backup
// of file.
func compactNothingLeft(t *testing.T, file string, backupToo bool) {
	t.Helper()
	names := []string{file + ".compact.tmp"}
	if backupToo {
		names = append(names, file+".precompact")
	}
	for _, n := range names {
		if _, err := os.Lstat(n); err == nil {
			t.Errorf("%s was left behind", n)
		}
	}
}

// A store that held much more than it does shrinks to its live pages: the
// event chain, every document and the consistency check say the same
// after; the original is kept, byte for byte, as FILE.precompact, and the
// file keeps its mode.
func TestCompactShrinksStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file, doc := compactTestStore(t)
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	before, sum := compactSize(t, file), compactSHA(t, file)
	if before < compactFiller {
		t.Fatalf("the store is %d bytes: the filler did not make it big", before)
	}
	chain, err := store.VerifyChainFile(ctx, file)
	if err != nil || !chain.OK() || chain.Events < 300 {
		t.Fatalf("the chain before: %+v %v", chain, err)
	}

	code, out, errOut := runCompactCmd(t, "--db", file)
	if code != 0 || errOut != "" {
		t.Fatalf("compact: exit %d\n%s%s", code, out, errOut)
	}
	after := compactSize(t, file)
	want := fmt.Sprintf("compacted %s: %d → %d bytes (%d%% smaller); the original is %s.precompact\n", file, before, after, (before-after)*100/before, file)
	if out != want {
		t.Errorf("compact said %q, want %q", out, want)
	}
	// The filler was 48 MiB; what is left is a few hundred documents.
	if after > before-compactFiller+compactFiller/8 || after > 8<<20 {
		t.Errorf("compact: %d → %d bytes: the free pages were not dropped", before, after)
	}
	t.Logf("%s", out)
	if got := compactSHA(t, file+".precompact"); got != sum {
		t.Error("FILE.precompact is not the original")
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("the compacted file's mode: %v %v, want 0640", st.Mode(), err)
	}
	compactNothingLeft(t, file, false)

	got, err := store.VerifyChainFile(ctx, file)
	if err != nil || !got.OK() || got.Events != chain.Events || got.Head != chain.Head {
		t.Fatalf("the chain after: %+v %v; before %+v", got, err, chain)
	}
	db, err := store.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(ctx); err != nil {
		t.Fatalf("the compacted store's check: %v", err)
	}
	back, err := db.Document(ctx, doc.ID)
	if err != nil || !reflect.DeepEqual(back, doc) {
		t.Fatalf("the document read back: %+v %v\nwant %+v", back, err, doc)
	}
	if _, err := db.Blob(ctx, doc.ID); err != nil {
		t.Fatalf("its envelope: %v", err)
	}
	// Still a store that takes writes.
	v := fixture.Verified(t, fixture.Numbered("CP-after"))
	if _, created, err := db.PutEnvelope(ctx, v, []record.Route{{OrganID: testgen.Department}}, fixture.Now(), ""); err != nil || !created {
		t.Fatalf("intake after compaction: %v created=%v", err, created)
	}
}

// --json: the report as one object; a second compaction refuses while the
// first one's FILE.precompact is there, and changes nothing.
func TestCompactJSONAndExistingBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file, _ := compactTestStore(t)
	// Run as root on a store the hub's system user owns, the copy keeps
	// that owner (the hub must still open it).
	root := os.Getuid() == 0
	if root {
		if err := os.Chown(file, 4242, 4243); err != nil {
			t.Fatal(err)
		}
	}
	before := compactSize(t, file)
	chain, err := store.VerifyChainFile(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCompactCmd(t, "--db", file, "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("compact --json: exit %d\n%s%s", code, out, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	want := map[string]any{"file": file, "before_bytes": float64(before), "after_bytes": float64(compactSize(t, file)),
		"backup": file + ".precompact", "events": float64(chain.Events), "head": chain.Head}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("compact --json said %v, want %v", r, want)
	}

	if root {
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 4242 || sys.Gid != 4243 {
			t.Errorf("the compacted file belongs to %d:%d, want the original's 4242:4243", sys.Uid, sys.Gid)
		}
	}

	sum, backupSum := compactSHA(t, file), compactSHA(t, file+".precompact")
	code, out, errOut = runCompactCmd(t, "--db", file)
	if code != 1 || out != "" || !strings.Contains(errOut, file+".precompact exists") || !strings.Contains(errOut, "remove it") {
		t.Fatalf("with a FILE.precompact there: exit %d %q %q", code, out, errOut)
	}
	if compactSHA(t, file) != sum || compactSHA(t, file+".precompact") != backupSum {
		t.Error("a refused compaction changed the files")
	}
	compactNothingLeft(t, file, false)
}

// What is not a store, or not there, is refused with its name, and nothing
// is left behind or changed.
func TestCompactRefusesNonStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notBolt, bytes.Repeat([]byte("this is not a bbolt file\n"), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	otherBolt := filepath.Join(dir, "other.db") // a bbolt file, not an axis store
	bdb, err := bolt.Open(otherBolt, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("things"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	for _, tc := range []struct{ file, why string }{
		{notBolt, "does not open as a bbolt store file"},
		{empty, "is empty"},
		{otherBolt, "is not an axis store"},
		{dir, "is not a regular file"},
		{filepath.Join(dir, "missing.db"), "does not exist"},
	} {
		var sum [32]byte
		if tc.file != dir && !strings.Contains(tc.file, "missing") {
			sum = compactSHA(t, tc.file)
		}
		code, out, errOut := runCompactCmd(t, "--db", tc.file)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.file) || !strings.Contains(errOut, tc.why) {
			t.Errorf("%s: exit %d %q %q, want 1 and %q", tc.file, code, out, errOut, tc.why)
		}
		compactNothingLeft(t, tc.file, true)
		if sum != ([32]byte{}) && compactSHA(t, tc.file) != sum {
			t.Errorf("%s was changed", tc.file)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("compacting a missing file created it")
	}
	// A FILE.compact.tmp already there (a compaction stopped half way) is
	// refused and left alone: it is not this run's to remove.
	file, _ := compactTestStore(t)
	if err := os.WriteFile(file+".compact.tmp", []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := compactSHA(t, file)
	code, _, errOut := runCompactCmd(t, "--db", file)
	if code != 1 || !strings.Contains(errOut, file+".compact.tmp exists") {
		t.Errorf("with a FILE.compact.tmp there: exit %d %q", code, errOut)
	}
	if b, err := os.ReadFile(file + ".compact.tmp"); err != nil || string(b) != "half" {
		t.Errorf("the FILE.compact.tmp there: %q %v", b, err)
	}
	if compactSHA(t, file) != sum {
		t.Error("a refused compaction changed the store")
	}
}

// A store a running hub holds is refused after the 2s wait, saying so.
func TestCompactRefusesLockedStore(t *testing.T) {
	t.Parallel()
	file, _ := compactTestStore(t)
	sum := compactSHA(t, file)
	// Its lock taken as a running axisd holds it (bbolt's own open: it
	// writes nothing at open or close, so the bytes can be compared after).
	db, err := bolt.Open(file, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	code, out, errOut := runCompactCmd(t, "--db", file)
	if code != 1 || out != "" || !regexp.MustCompile(regexp.QuoteMeta(file)+` is locked: a running axisd holds it; stop it first`).MatchString(errOut) {
		t.Fatalf("a locked store: exit %d %q %q", code, out, errOut)
	}
	if took := time.Since(t0); took < 1500*time.Millisecond || took > 10*time.Second {
		t.Errorf("the lock was waited for %s, want 2s", took)
	}
	compactNothingLeft(t, file, true)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if compactSHA(t, file) != sum {
		t.Error("a refused compaction changed the store")
	}
}

func TestCompactUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"--db"}, {"--db", "a.db", "extra"}, {"--bogus"}} {
		code, out, errOut := runCompactCmd(t, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d %q %q, want 2 and a message", args, code, out, errOut)
		}
	}
}

// A store whose event chain does not verify is not compacted: the copy
// could not be checked against it.
func TestCompactRefusesBrokenChain(t *testing.T) {
	t.Parallel()
	file, _ := compactTestStore(t)
	bdb, err := bolt.Open(file, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k, v := b.Cursor().Seek(binary.BigEndian.AppendUint64(nil, 7))
		var e map[string]any
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		e["detail"] = "rewritten"
		nv, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(k, nv)
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	sum := compactSHA(t, file)
	code, out, errOut := runCompactCmd(t, "--db", file)
	if code != 1 || out != "" || !strings.Contains(errOut, "the event chain of "+file+" is broken at event 7") {
		t.Fatalf("a broken chain: exit %d %q %q", code, out, errOut)
	}
	compactNothingLeft(t, file, true)
	if compactSHA(t, file) != sum {
		t.Error("a refused compaction changed the store")
	}
}
