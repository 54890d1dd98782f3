// Command axisctl is the tool of the people around a hub: offline, it signs
// edXML envelopes, verifies them against a trust policy and looks inside
// them; as an agency, it sends, lists the inbox, fetches, acks and asks for
// statuses and receipts; as an administrator, it traces, searches, lists
// what is stuck, re-drives, reconciles, verifies the audit chain and takes
// backups; for demos and tests, it issues and revokes DEMO certificates and
// measures a hub's intake (bench). `axisctl help` lists every command.
//
// Exit codes: 0 success; 1 the envelope was refused or the operation failed,
// with the last line of stderr "CODE: detail" when the failure has a machine
// code (see envelope.Codes) and "error: detail" otherwise; 2 the command line
// is wrong (unknown command or flag, missing argument, unreadable file).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/version"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// A command runs one subcommand with its arguments (the subcommand name
// removed) and returns the exit code. ctx is cancelled on interrupt.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// commands is the subcommand table. Add a command here and its one-line
// description to summaries.
var commands = map[string]command{
	"compose": runCompose,
	"sign":    runSign,
	"verify":  runVerify,
	"inspect": runInspect,

	"send":        runSend,
	"inbox":       runInbox,
	"fetch":       runFetch,
	"ack":         runAck,
	"receipt":     runReceipt,
	"status":      runStatus,
	"demo-cert":   runDemoCert,
	"demo-revoke": runDemoRevoke,
	"bench":       runBench,

	"vdxp-headers": runVDXPHeaders,

	"trace":        runTrace,
	"search":       runSearch,
	"stuck":        runStuck,
	"redrive":      runRedrive,
	"stats":        runStats,
	"audit-verify": runAuditVerify,
	"backup":       runBackup,
	"archive":      runArchive,
	"reconcile":    runReconcile,

	"migrate-store": runMigrateStore,
	"compact":       runCompact,

	"version": runVersion,
}

// summaries holds the one-line description of each command for the usage.
var summaries = map[string]string{
	"compose": "write an unsigned edXML document (from, to, subject, notation, attachments) for sign",
	"sign":    "sign an edXML envelope with an agency key and certificate chain",
	"verify":  "verify an envelope's signature, certificate and sender against a trust policy",
	"inspect": "show an envelope's header WITHOUT verifying it (untrusted)",

	"send":        "post a signed envelope to the hub and print its receipt",
	"inbox":       "list the documents and status messages waiting for the calling agency",
	"fetch":       "download a document's exact bytes from the hub",
	"ack":         "acknowledge a received document as done or fail",
	"receipt":     "download the hub's signed XML receipt of a document",
	"status":      "show a sent document's per-recipient delivery state",
	"demo-cert":   "issue a DEMO agency certificate for any organ code from the demo issuing CA",
	"demo-revoke": "revoke a DEMO agency certificate: rewrite the demo issuing CA's CRL, which the demo hub re-reads",
	"bench":       "measure the hub's intake throughput and latency against a verify-only baseline",

	"vdxp-headers": "print the XroadVnpt-* headers the national SDK would send for a VDXP call (debugging integrations)",

	"trace":        "admin: a document's whole timeline (by doc id or notation), --follow across peer hubs",
	"search":       "admin: find documents by notation, Subject words, sender, recipient, days, state",
	"stuck":        "admin: deliveries not fetched or acked within the SLA, relays retrying or dead",
	"redrive":      "admin: put a document's dead relays back in their outboxes",
	"stats":        "admin: per-agency traffic of one day",
	"audit-verify": "admin: verify the hash-chained event log (of a hub, or of a store file with --db)",
	"backup":       "admin: stream a hot backup of the hub's store to FILE and verify it",
	"archive":      "admin: the daily archives: seal --date D [--force], list, anchor (the chain, now); offline: verify FILE... (hashes, signature, time-stamp, chain)",
	"reconcile":    "admin: the day's proof that nothing was lost: report.json/csv/html; exit 2 when discrepancies remain",

	"migrate-store": "offline: copy a whole store into an empty one, bbolt file or PostgreSQL, and check it (runs axisd migrate-store)",
	"compact":       "offline: rewrite a stopped hub's bbolt store file without its free pages, shrinking it (runs axisd compact)",

	"version": "print which build of axisctl this is (version, commit, Go)",
}

// stdin is read when an input file is "-". Tests may replace it.
var stdin io.Reader = os.Stdin

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args (without the program name) and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return exitOK
		}
		cmd, ok := commands[rest[0]]
		if !ok {
			return usageError(stderr, "unknown command %q (see axisctl help)", rest[0])
		}
		return cmd(ctx, []string{"-h"}, stdout, stdout)
	}
	cmd, ok := commands[name]
	if !ok {
		return usageError(stderr, "unknown command %q (see axisctl help)", name)
	}
	return cmd(ctx, rest, stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: axisctl COMMAND [flags] [args]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, summaries[n])
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show this list, or a command's flags (axisctl help COMMAND)")
	fmt.Fprintf(w, "\nFlags may also follow the arguments. Exit codes: 0 ok, 1 refused or failed (a missing or unreadable file too), 2 usage error.\n")
}

// newFlagSet returns a flag set for a command whose usage line is
// "axisctl NAME ARGS" followed by the flag defaults.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: axisctl %s %s\n\n%s.\n", name, args, summaries[name])
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, flags allowed anywhere, and returns the positional
// arguments. done is true when the command must return code at once: -h
// (exit 0) or a flag error, which the flag package has already reported
// (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, code int, done bool) {
	if err := fs.Parse(flagsFirst(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, true
		}
		return nil, exitUsage, true
	}
	return fs.Args(), exitOK, false
}

// parseNoArgs is parseFlags for a command that takes flags only: any
// positional argument is a usage error ("NAME: takes no arguments, got N").
func parseNoArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, done bool) {
	pos, code, done := parseFlags(fs, args)
	if done {
		return code, true
	}
	if len(pos) != 0 {
		return usageError(stderr, "%s: takes no arguments, got %d", fs.Name(), len(pos)), true
	}
	return exitOK, false
}

// requireFlags checks that each named flag was given a value: the first
// left empty is a usage error ("NAME: --FLAG is required"). done: the
// command returns code at once.
func requireFlags(fs *flag.FlagSet, stderr io.Writer, names ...string) (code int, done bool) {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return usageError(stderr, "%s: --%s is required", fs.Name(), n), true
		}
	}
	return exitOK, false
}

// flagsFirst reorders args so that every flag (with its value) comes before
// the positional arguments, which the flag package needs: it stops at the
// first non-flag. It knows "-f value", "--f value", "-f=value", "--f=value"
// and boolean flags (which take no separate value). A lone "-" is positional
// (standard input); "--" ends the flags, everything after it is positional.
// Unknown flags are kept as they are, for fs.Parse to report.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(a[1:], "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil || isBoolFlag(f) {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// listFlag is a flag that may be repeated; each use adds a value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// usageError reports a command-line error and returns exitUsage.
func usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "error: %s\n", oneLine(fmt.Sprintf(format, a...)))
	return exitUsage
}

// fail reports err and returns exitFailure. An error with an envelope code
// takes two lines, the message for people and then "CODE: detail" for
// scripts; any other error is "error: detail". Either way the last line of
// stderr is the one to parse.
func fail(stderr io.Writer, err error) int {
	msg := oneLine(err.Error())
	code := envelope.CodeOf(err)
	if code == "" {
		fmt.Fprintf(stderr, "error: %s\n", msg)
		return exitFailure
	}
	fmt.Fprintf(stderr, "%s\n%s: %s\n", msg, code, msg)
	return exitFailure
}

// oneLine keeps a message on one line so that it stays the last line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// readInput reads a file named on the command line, or standard input for
// "-". It reads at most one byte more than the envelope size limit, so an
// oversized input is refused by the envelope package (too_large) without
// being read whole.
func readInput(name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return io.ReadAll(io.LimitReader(r, envelope.DefaultMaxBytes+1))
}

// writeJSON writes v as indented JSON with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// runVersion: axisctl version
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", stderr)
	if code, done := parseNoArgs(fs, args, stderr); done {
		return code
	}
	fmt.Fprintln(stdout, version.String("axisctl"))
	return exitOK
}

// emit writes a command's result to the file out, or to stdout when out
// is empty.
func emit(stdout, stderr io.Writer, out string, b []byte) int {
	if out != "" {
		if err := outputFolder(out); err != nil {
			return fail(stderr, err)
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	if _, err := stdout.Write(b); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}
