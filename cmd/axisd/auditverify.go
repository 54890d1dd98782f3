package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/store"
)

// auditVerify is `axisd audit-verify --db FILE`: it opens a store file
// read-only (a backup, a copy; not the live store, whose lock a running
// hub holds), walks its event chain and prints the record.ChainReport as
// one line of JSON. It exits 0 when the file was read, whether or not the
// chain holds (the report says), 1 when the file does not open as a store,
// 2 on a usage error.
//
// It lives here, not in axisctl, because reading a store file takes the
// storage engine, which the client does not link: `axisctl audit-verify
// --db` and `axisctl backup` run it (axisctl's storefile.go).
func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("axisd audit-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the store file to verify, opened read-only")
	roots := fs.String("tsa-roots", "", "check the anchors' tokens against this TSA root certificate file (PEM)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *db == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: axisd audit-verify --db FILE [--tsa-roots PEM]")
		return 2
	}
	var pool *x509.CertPool
	if *roots != "" {
		var err error
		if pool, err = tsa.LoadRoots([]string{*roots}); err != nil {
			fmt.Fprintln(stderr, "axisd:", err)
			return 1
		}
	}
	r, err := store.VerifyChainFile(ctx, *db, pool)
	if err != nil {
		fmt.Fprintln(stderr, "axisd:", err)
		return 1
	}
	b, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(stderr, "axisd:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
