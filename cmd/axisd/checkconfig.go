package main

import (
	"fmt"
	"io"
	"time"

	"github.com/axis-h40/axis/axis"
)

// axisd --check-config [--config FILE] [--data-dir DIR ...]: the config
// read and checked as a start would (axis.LoadConfig, then axis.CheckConfig:
// certificates, TLS files, the directory, the peers' secrets), without
// opening the store (a running axisd holds its lock), binding the listen
// address or logging in to a PKCS#11 token. What the config holds goes to
// stdout; each problem to stderr as "axisd: FILE:LINE: what" (the line of
// the YAML error or of the key at fault), warnings as "axisd: warning:
// FILE:LINE: what". Exit 0: good (warnings or not); 1: a problem; 2: a
// usage error (an unknown flag).

// CheckConfig is --check-config on m's config file (m.ParseFlags read the
// flags and, with CheckOnly, left the file to this).
func (m *Main) CheckConfig(stdout, stderr io.Writer) int {
	cfg, err := m.loadConfig()
	if err != nil {
		return printConfigErrors(stderr, err)
	}
	getenv, now := m.Options.Getenv, time.Now
	if m.Options.Now != nil {
		now = m.Options.Now
	}
	rep, err := axis.CheckConfig(cfg, getenv, now())
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "axisd: warning: %v\n", w)
	}
	if err != nil {
		return printConfigErrors(stderr, err)
	}
	fmt.Fprintf(stdout, "config: %s: good\n", m.ConfigPath)
	for _, l := range rep.Summary {
		fmt.Fprintln(stdout, l)
	}
	return 0
}

// printConfigErrors writes each problem of a config error on its own line,
// "axisd: FILE:LINE: what", and returns the exit code 1; an error that is
// not about the file (none so far) is 1 as well.
func printConfigErrors(w io.Writer, err error) int {
	for _, e := range axis.ConfigErrors(err) {
		fmt.Fprintf(w, "axisd: %v\n", e)
	}
	return 1
}
