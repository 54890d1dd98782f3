package main

import (
	"context"
	"fmt"
	"io"

	"github.com/axis-h40/axis/envelope"
)

// runSign: axisctl sign --key K.pem --cert CHAIN.pem [-o OUT] [--force] IN.xml
func runSign(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign", "--key KEY.pem --cert CHAIN.pem [-o OUT.xml] [--force] IN.xml|-", stderr)
	keyFile := fs.String("key", "", "PEM private key (PKCS#1 or PKCS#8, RSA)")
	certFile := fs.String("cert", "", "PEM certificate chain, leaf first")
	out := fs.String("o", "", "write the signed envelope to this file instead of standard output")
	force := fs.Bool("force", false, "sign even if the certificate is not bound to the envelope's From (a hub will refuse it: sender_mismatch)")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if code, done := requireFlags(fs, stderr, "key", "cert"); done {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "sign: want exactly one input file (or - for standard input), got %d", len(pos))
	}
	signer, err := envelope.LoadSigner(*keyFile, *certFile)
	if err != nil {
		return fail(stderr, fmt.Errorf("sign: %w", err)) // a missing file is not a usage error: exit 1
	}
	raw, err := readInput(pos[0])
	if err != nil {
		return fail(stderr, fmt.Errorf("sign: %w", err)) // a missing file is not a usage error: exit 1
	}
	// Signing as another organ makes an envelope every hub refuses
	// (sender_mismatch): said here, before it is sent.
	if m, err := envelope.Parse(raw, nil); err == nil && !*force && !envelope.BoundTo(signer.Leaf(), m.From.OrganID) {
		return fail(stderr, fmt.Errorf("sign: %w: the certificate %q is not bound to From/OrganId %s (a hub refuses it); --force signs anyway",
			envelope.ErrSenderMismatch, signer.Leaf().Subject.String(), m.From.OrganID))
	}
	signed, err := signer.Sign(raw)
	if err != nil {
		return fail(stderr, err)
	}
	return emit(stdout, stderr, *out, signed)
}
