package main

import (
	"context"
	"io"
	"os"

	"github.com/axis-h40/axis/envelope"
)

// runSign: axisctl sign --key K.pem --cert CHAIN.pem [-o OUT] IN.xml
func runSign(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign", "--key KEY.pem --cert CHAIN.pem [-o OUT.xml] IN.xml|-", stderr)
	keyFile := fs.String("key", "", "PEM private key (PKCS#1 or PKCS#8, RSA)")
	certFile := fs.String("cert", "", "PEM certificate chain, leaf first")
	out := fs.String("o", "", "write the signed envelope to this file instead of standard output")
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
		return usageError(stderr, "sign: %v", err)
	}
	raw, err := readInput(pos[0])
	if err != nil {
		return usageError(stderr, "sign: %v", err)
	}
	signed, err := signer.Sign(raw)
	if err != nil {
		return fail(stderr, err)
	}
	if *out != "" {
		if err := os.WriteFile(*out, signed, 0o644); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	if _, err := stdout.Write(signed); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}
