package main

// The documents the tests send: the demo document addressed to given
// organs, fresh numbered documents signed by a given signer, and pools
// signed ahead of a test's clock. (Signers for organs beyond the demo PKI's
// agencies: relay_test.go's signerFor.)

import (
	"testing"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

// docTo is the demo document (testgen.NewDocument) addressed to to.
func docTo(to ...envelope.Organization) *envelope.Message {
	d := testgen.NewDocument()
	d.To = to
	return d
}

// organs is the organs with these ids as recipients, without names.
func organs(ids ...string) []envelope.Organization {
	to := make([]envelope.Organization, len(ids))
	for i, id := range ids {
		to[i].OrganID = id
	}
	return to
}

// signedBy signs a fresh document (its own number, so each is new bytes).
func signedBy(t *testing.T, s *envelope.Signer, n string) []byte {
	t.Helper()
	return fixture.SignWith(t, s, fixture.Numbered(n))
}

// signPool signs envelopes on every core.
func signPool(t *testing.T, pool [][]byte, msg func(i int) *envelope.Message) {
	t.Helper()
	done := make(chan struct{})
	for w := 0; w < 2; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(pool); i += 2 {
				pool[i] = fixture.Sign(t, msg(i))
			}
		}()
	}
	<-done
	<-done
}
