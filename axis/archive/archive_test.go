package archive_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/archive"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
	"github.com/axis-h40/axis/store/record"
)

var update = flag.Bool("update", false, "rewrite testdata/archive/demo-archive-axis-h40-2026-06-01.zip")

// seedFile is a DEMO archive (the demo hub key, no token) that seeds the
// fuzz target and must keep verifying.
var seedFile = filepath.Join(fixture.Testdata, "archive", "demo-archive-axis-h40-2026-06-01.zip")

func hubSigner(t testing.TB) *envelope.Signer {
	t.Helper()
	s, err := testgen.Signer(fixture.PKIDir, "demo-hub-h40")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func demoRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	p, err := envelope.LoadRoots(fixture.RootCA)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chain is n linked events from prev, the first at seq first.
func chain(first uint64, prev string, n int) []record.Event {
	var out []record.Event
	for i := range n {
		e := record.Event{Seq: first + uint64(i), At: time.Date(2026, 6, 1, 2, i, 0, 0, time.UTC), DocID: fmt.Sprintf("doc%d", i), Type: "received", Prev: prev}
		e.Hash = e.ChainHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

// spec is a day of two documents (one of 3 MB) and its chain segment.
func spec(t testing.TB, path string, evs []record.Event) *archive.Spec {
	big := bytes.Repeat([]byte("<edXMLBody>QUJDREVGR0g=</edXMLBody>\n"), 3<<20/36)
	s := &archive.Spec{Path: path, Hub: "axis-h40", Day: "2026-06-01", Sign: hubSigner(t).SignXML,
		Chain: archive.ChainInfo{First: evs[0].Seq, Last: evs[len(evs)-1].Seq, Prev: evs[0].Prev, Head: evs[len(evs)-1].Hash}}
	for i, body := range [][]byte{[]byte("<edXMLEnvelope>small</edXMLEnvelope>"), big} {
		id := fmt.Sprintf("doc%d", i)
		s.Entries = append(s.Entries,
			archive.Entry{Name: archive.EnvelopeDir + id + ".edxml", DocID: id, Write: func(w io.Writer) error { _, err := w.Write(body); return err }},
			archive.Entry{Name: archive.DocumentDir + id + ".json", DocID: id, Write: func(w io.Writer) error {
				return json.NewEncoder(w).Encode(archive.Doc{Document: record.Document{ID: id}, Settled: true})
			}})
	}
	s.Entries = append(s.Entries, archive.Entry{Name: archive.ChainName, Write: func(w io.Writer) error {
		for _, e := range evs {
			b, _ := json.Marshal(e)
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	}})
	return s
}

func TestSealVerify(t *testing.T) {
	dir := t.TempDir()
	evs := chain(1, "", 4)
	path := filepath.Join(dir, archive.FileName("axis-h40", "2026-06-01"))
	res, err := archive.Seal(context.Background(), spec(t, path, evs))
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 6 || res.Resumed != 0 || !strings.HasSuffix(path, "2026/06/axis-axis-h40-2026-06-01.zip") {
		t.Fatalf("seal: %+v", res)
	}
	rep := archive.Verify([]string{path}, archive.Trust{HubRoots: demoRoots(t)})[0]
	if !rep.OK() || rep.Documents != 2 || rep.Events != 4 || rep.Entries != 6 || !strings.Contains(rep.Signer, "DEMO axis hub") || !rep.Timestamp.IsZero() {
		t.Fatalf("verify: %+v", rep)
	}
	if *update {
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(seedFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The committed seed still verifies.
	if rep := archive.Verify([]string{seedFile}, archive.Trust{HubRoots: demoRoots(t)})[0]; !rep.OK() {
		t.Fatalf("%s: %v", seedFile, rep.Problems)
	}

	// The next day continues the chain; a day whose segment does not is
	// named.
	next := filepath.Join(dir, archive.FileName("axis-h40", "2026-06-02"))
	s2 := spec(t, next, chain(5, evs[3].Hash, 2))
	s2.Day = "2026-06-02"
	if _, err := archive.Seal(context.Background(), s2); err != nil {
		t.Fatal(err)
	}
	reps := archive.Verify([]string{next, path}, archive.Trust{HubRoots: demoRoots(t)})
	if reps[0].Day != "2026-06-01" || !reps[1].OK() || reps[1].LinkedTo != path {
		t.Fatalf("two days: %+v %+v", reps[0], reps[1])
	}
	other := filepath.Join(t.TempDir(), archive.FileName("axis-h40", "2026-06-02"))
	s3 := spec(t, other, chain(5, strings.Repeat("a", 64), 2))
	s3.Day = "2026-06-02"
	if _, err := archive.Seal(context.Background(), s3); err != nil {
		t.Fatal(err)
	}
	reps = archive.Verify([]string{path, other}, archive.Trust{HubRoots: demoRoots(t)})
	if reps[1].OK() || !strings.Contains(strings.Join(reps[1].Problems, ";"), "the chain does not continue 2026-06-01's") {
		t.Fatalf("a break between days: %+v", reps[1])
	}

	// Another root: the signature's certificate does not chain.
	if rep := archive.Verify([]string{path}, archive.Trust{HubRoots: x509.NewCertPool()})[0]; rep.OK() {
		t.Fatal("verified against an empty pool")
	}
	// Not a zip.
	junk := fixture.WriteTemp(t, "junk.zip", []byte("PK\x03\x04 not really"))
	if rep := archive.Verify([]string{junk}, archive.Trust{HubRoots: demoRoots(t)})[0]; rep.OK() || !strings.Contains(rep.Problems[0], "not a readable zip") {
		t.Fatalf("junk: %+v", rep)
	}
}

// A sealing stopped after an entry resumes from the journal and writes the
// bytes an uninterrupted one writes.
func TestSealResumes(t *testing.T) {
	evs := chain(1, "", 3)
	whole := filepath.Join(t.TempDir(), "whole.zip")
	if _, err := archive.Seal(context.Background(), spec(t, whole, evs)); err != nil {
		t.Fatal(err)
	}
	for stopAfter := 1; stopAfter <= 5; stopAfter++ {
		path := filepath.Join(t.TempDir(), "cut.zip")
		ctx, cancel := context.WithCancel(context.Background())
		s := spec(t, path, evs)
		n := 0
		s.OnEntry = func(string) {
			if n++; n == stopAfter {
				cancel()
			}
		}
		if _, err := archive.Seal(ctx, s); !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped after %d: %v", stopAfter, err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("stopped after %d: the archive is there", stopAfter)
		}
		res, err := archive.Seal(context.Background(), spec(t, path, evs))
		if err != nil {
			t.Fatal(err)
		}
		if res.Resumed != stopAfter {
			t.Errorf("stopped after %d: resumed %d", stopAfter, res.Resumed)
		}
		a, _ := os.ReadFile(whole)
		b, _ := os.ReadFile(path)
		if !bytes.Equal(a, b) {
			t.Errorf("stopped after %d entries: %d bytes, the uninterrupted seal %d, not the same", stopAfter, len(b), len(a))
		}
		if _, err := os.Stat(path + ".journal"); !os.IsNotExist(err) {
			t.Errorf("journal left: %v", err)
		}
	}
}

// Any file given to verify gives a report, never a panic; the seed
// verifies.
func FuzzVerify(f *testing.F) {
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	roots := demoRoots(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "a.zip")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep := archive.Verify([]string{p}, archive.Trust{HubRoots: roots})[0]
		if bytes.Equal(b, seed) && !rep.OK() {
			t.Fatalf("the seed: %v", rep.Problems)
		}
	})
}
