package tsa_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/tsatest"
)

func TestStampVerify(t *testing.T) {
	a := tsatest.Start(t)
	other := tsatest.Start(t) // another authority: its roots must not accept a's tokens
	ctx := context.Background()
	sum := sha256.Sum256([]byte("chain head"))
	resp, err := (&tsa.Client{URL: a.URL}).Stamp(ctx, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.LoadRoots([]string{a.RootPEM})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tsa.Verify(resp, sum[:], roots)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(tok.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("token time %s, not now", tok.Time)
	}
	if !strings.Contains(tok.Signer, "axis test TSA") {
		t.Errorf("signer %q", tok.Signer)
	}
	// openssl, the independent implementation, agrees on the bytes kept.
	f := filepath.Join(t.TempDir(), "anchor.tsr")
	if err := os.WriteFile(f, resp, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, out := a.VerifyDigest(t, f, hex.EncodeToString(sum[:])); !ok {
		t.Fatalf("openssl ts -verify refused the token: %s", out)
	}
	if ok, out := a.VerifyDigest(t, f, strings.Repeat("ab", 32)); ok {
		t.Fatalf("openssl accepted a wrong digest: %s", out)
	}

	other2 := sha256.Sum256([]byte("another head"))
	if _, err := tsa.Verify(resp, other2[:], roots); !errors.Is(err, tsa.ErrToken) || !strings.Contains(err.Error(), "covers") {
		t.Errorf("token over another digest: %v", err)
	}
	if _, err := tsa.Verify(resp, sum[:], other.Roots); !errors.Is(err, tsa.ErrToken) || !strings.Contains(err.Error(), "signer") {
		t.Errorf("token checked against another TSA's roots: %v", err)
	}
	bad := append([]byte(nil), resp...)
	bad[len(bad)-10] ^= 0xff // in the signature
	if _, err := tsa.Verify(bad, sum[:], roots); !errors.Is(err, tsa.ErrToken) {
		t.Errorf("altered token: %v", err)
	}

	a.SetDown(true)
	if _, err := (&tsa.Client{URL: a.URL}).Stamp(ctx, sum[:]); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("TSA down: %v", err)
	}
	if _, err := (&tsa.Client{URL: a.URL}).Stamp(ctx, sum[:4]); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("short digest: %v", err)
	}
	if _, err := tsa.LoadRoots([]string{f}); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("roots from a non-PEM file: %v", err)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/archive/demo-tsa-token.tsr and demo-tsa-root.pem from a TSA run by the test")

var (
	seedToken = filepath.Join(fixture.Testdata, "archive", "demo-tsa-token.tsr")
	seedRoot  = filepath.Join(fixture.Testdata, "archive", "demo-tsa-root.pem")
	seedSum   = sha256.Sum256([]byte("axis demo chain head"))
)

// The committed DEMO token (from openssl ts -reply, kept with its TSA's
// root) verifies over its digest, and not over another.
func TestSeedToken(t *testing.T) {
	if *update {
		a := tsatest.Start(t)
		resp, err := (&tsa.Client{URL: a.URL}).Stamp(context.Background(), seedSum[:])
		if err != nil {
			t.Fatal(err)
		}
		root, _ := os.ReadFile(a.RootPEM)
		if err := os.WriteFile(seedToken, resp, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(seedRoot, root, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := os.ReadFile(seedToken)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.LoadRoots([]string{seedRoot})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tsa.Verify(resp, seedSum[:], roots); err != nil {
		t.Fatal(err)
	}
	if _, err := tsa.Verify(resp, make([]byte, 32), roots); !errors.Is(err, tsa.ErrToken) {
		t.Fatalf("another digest: %v", err)
	}
}

// Any bytes given as a token are refused with ErrToken or verify, never
// panic; the seed verifies.
func FuzzVerify(f *testing.F) {
	resp, err := os.ReadFile(seedToken)
	if err != nil {
		f.Fatal(err)
	}
	roots, err := tsa.LoadRoots([]string{seedRoot})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(resp)
	f.Add(resp[:len(resp)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := tsa.Verify(b, seedSum[:], roots)
		if err != nil && !errors.Is(err, tsa.ErrToken) {
			t.Fatalf("not ErrToken: %v", err)
		}
		if bytes.Equal(b, resp) && err != nil {
			t.Fatalf("the seed: %v", err)
		}
	})
}
