package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/axis-h40/axis/envelope"
)

const unverifiedWarning = "NOT VERIFIED: this content was read without checking its signature; do not trust it"

// inspectReport is what inspect prints. Nothing in it has been verified.
type inspectReport struct {
	Unverified       bool              `json:"unverified"`
	Warning          string            `json:"warning"`
	SignaturePresent bool              `json:"signature_present"`
	Validation       string            `json:"validation"`
	Header           *envelope.Message `json:"header"`
}

// runInspect: axisctl inspect FILE
func runInspect(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", "FILE|-", stderr)
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "inspect: want exactly one envelope file (or - for standard input), got %d", len(pos))
	}
	raw, err := readInput(pos[0])
	if err != nil {
		return fail(stderr, fmt.Errorf("inspect: %w", err)) // a missing input file is not a usage error: exit 1
	}
	m, err := envelope.Parse(raw, nil)
	if err != nil {
		return fail(stderr, err)
	}
	r := inspectReport{
		Unverified:       true,
		Warning:          unverifiedWarning,
		SignaturePresent: hasSignatureElement(raw),
		Header:           m,
	}
	if err := m.Validate(); err != nil {
		r.Validation = err.Error()
	}
	fmt.Fprintln(stderr, unverifiedWarning)
	if err := writeJSON(stdout, r); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

// hasSignatureElement is a cheap byte search for a Signature start tag,
// prefixed or not ("<Signature", "<ds:Signature"), in any namespace. It does
// not parse, so it can be fooled by such text in a comment or CDATA; it is a
// hint for the operator, not a check.
func hasSignatureElement(raw []byte) bool {
	const name = "Signature"
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte(name))
		if j < 0 {
			return false
		}
		k := i + j
		i = k + len(name)
		if k == 0 || (raw[k-1] != '<' && raw[k-1] != ':') {
			continue
		}
		if i < len(raw) {
			switch raw[i] {
			case '>', '/', ' ', '\t', '\n', '\r':
				return true
			}
		}
	}
}
