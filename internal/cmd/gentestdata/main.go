// Command gentestdata regenerates testdata/envelopes and testdata/hostile
// from the demo PKI in testdata/pki; with -pki it first makes a new demo PKI
// (new keys: every signed file changes).
//
//	go run ./internal/cmd/gentestdata [-pki] [-dir testdata]
package main

import (
	"flag"
	"log"
	"path/filepath"

	"github.com/axis-h40/axis/internal/testgen"
)

func main() {
	dir := flag.String("dir", "testdata", "testdata folder")
	newPKI := flag.Bool("pki", false, "make a new demo PKI first")
	flag.Parse()
	if *newPKI {
		if err := testgen.GeneratePKI(filepath.Join(*dir, "pki")); err != nil {
			log.Fatal(err)
		}
	}
	if err := testgen.Generate(*dir); err != nil {
		log.Fatal(err)
	}
}
