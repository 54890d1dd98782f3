package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/axis-h40/axis/axis/archive"
	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/record"
)

// runArchive: axisctl archive seal|list|verify (README "Archives").
func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "archive: want seal, list, verify or anchor")
	}
	switch args[0] {
	case "anchor":
		return runArchiveAnchor(ctx, args[1:], stdout, stderr)
	case "seal":
		return runArchiveSeal(ctx, args[1:], stdout, stderr)
	case "list":
		return runArchiveList(ctx, args[1:], stdout, stderr)
	case "verify":
		return runArchiveVerify(args[1:], stdout, stderr)
	}
	return usageError(stderr, "archive: %q is not seal, list, verify or anchor", args[0])
}

// runArchiveAnchor: axisctl archive anchor: the chain anchored now
// (POST /admin/v1/anchor).
func runArchiveAnchor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("archive anchor", "ADMIN", "[--json]", stderr)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	c, _, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 0 {
			return "archive anchor: takes no arguments"
		}
		return ""
	})
	if done {
		return code
	}
	var r struct {
		Anchor *record.AnchorSummary `json:"anchor"`
		New    bool                  `json:"new"`
	}
	if _, err := c.callJSON(ctx, http.MethodPost, "/admin/v1/anchor", &r, "hub: anchor answer is not JSON"); err != nil {
		return failHub(stderr, err)
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		return printOrFail(stdout, stderr, b)
	}
	switch {
	case r.Anchor == nil:
		fmt.Fprintln(stdout, "nothing to anchor: the chain has no event")
	case r.New:
		fmt.Fprintf(stdout, "anchored: event %d (%s) stamped %s by %s\n", r.Anchor.Seq, r.Anchor.Hash, r.Anchor.Time.UTC().Format(time.RFC3339), r.Anchor.Signer)
	default:
		fmt.Fprintf(stdout, "nothing new since the last anchor: event %d, stamped %s\n", r.Anchor.Seq, r.Anchor.Time.UTC().Format(time.RFC3339))
	}
	return exitOK
}

// runArchiveSeal: axisctl archive seal --date YYYY-MM-DD [--force]
func runArchiveSeal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("archive seal", "ADMIN", "--date YYYY-MM-DD [--force]", stderr)
	date := fs.String("date", "", "the day to seal (Asia/Ho_Chi_Minh; default yesterday)")
	force := fs.Bool("force", false, "seal even if some documents are not settled (a drill, a migration); the archive says so")
	asJSON := fs.Bool("json", false, "print the seal as JSON")
	day := ""
	c, _, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 0 {
			return "archive seal: takes no arguments"
		}
		if day = *date; day == "" {
			day = record.Day(time.Now().Add(-24 * time.Hour))
		}
		if _, err := time.Parse("2006-01-02", day); err != nil {
			return fmt.Sprintf("archive seal: --date %q is not YYYY-MM-DD", day)
		}
		return ""
	})
	if done {
		return code
	}
	c.hc.Timeout = 0 // a big day takes its time; ctx still cancels
	v := url.Values{"date": {day}}
	if *force {
		v.Set("force", "true")
	}
	var s record.Sealed
	if _, err := c.callJSON(ctx, http.MethodPost, "/admin/v1/archive/seal?"+v.Encode(), &s, "hub: seal answer is not JSON"); err != nil {
		return failHub(stderr, err)
	}
	if *asJSON {
		b, _ := json.Marshal(s)
		return printOrFail(stdout, stderr, b)
	}
	fmt.Fprintf(stdout, "%s sealed in %s: %d documents, %d bytes, SHA-256 %s%s\n", s.Day, s.File, s.Documents, s.Bytes, s.SHA256, sealNote(&s))
	return exitOK
}

func sealNote(s *record.Sealed) string {
	switch {
	case s.Forced:
		return fmt.Sprintf(" (forced: %d not settled)", s.Unsettled)
	case s.Expired:
		return fmt.Sprintf(" (settle_after passed: %d not settled)", s.Unsettled)
	}
	return ""
}

// runArchiveList: axisctl archive list
func runArchiveList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("archive list", "ADMIN", "[--json]", stderr)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	c, _, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 0 {
			return "archive list: takes no arguments"
		}
		return ""
	})
	if done {
		return code
	}
	var r struct {
		Hub  string          `json:"hub"`
		Dir  string          `json:"dir"`
		Days []record.Sealed `json:"days"`
	}
	if _, err := c.getJSON(ctx, "/admin/v1/archive", &r); err != nil {
		return failHub(stderr, err)
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		return printOrFail(stdout, stderr, b)
	}
	fmt.Fprintf(stdout, "%s: %d days sealed in %s\n", r.Hub, len(r.Days), r.Dir)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tFILE\tDOCUMENTS\tBYTES\tRETIRED\tNOTE")
	for _, s := range r.Days {
		ret := "-"
		if !s.Retired.IsZero() {
			ret = s.Retired.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", s.Day, s.File, s.Documents, s.Bytes, ret, sealNote(&s))
	}
	tw.Flush()
	return exitOK
}

// runArchiveVerify: axisctl archive verify --hub-roots PEM [--tsa-roots PEM] FILE...
// Offline: nothing of the hub is asked. Exit 0 when every file verified,
// 1 when one did not.
func runArchiveVerify(args []string, stdout, stderr io.Writer) int {
	fs, _ := newHubFlagSet("archive verify", "", "--hub-roots PEM [--tsa-roots PEM] FILE...", stderr)
	hubRoots := fs.String("hub-roots", "", "the CA certificates (PEM) the hub's signing certificate chains to (trust.roots of the province's PKI)")
	tsaRoots := fs.String("tsa-roots", "", "the time-stamping authority's root certificates (PEM), as archive.tsa_roots; without it a token is checked against the certificate it carries only")
	asJSON := fs.Bool("json", false, "print the reports as JSON")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "archive verify: want one or more archive files")
	}
	if *hubRoots == "" {
		return usageError(stderr, "archive verify: --hub-roots is required (the manifest's signature is checked against it)")
	}
	var trust archive.Trust
	var err error
	if trust.HubRoots, err = envelope.LoadRoots(*hubRoots); err != nil {
		return fail(stderr, err)
	}
	if *tsaRoots != "" {
		if trust.TSARoots, err = tsa.LoadRoots([]string{*tsaRoots}); err != nil {
			return fail(stderr, err)
		}
	}
	reps := archive.Verify(pos, trust)
	bad := false
	for _, r := range reps {
		bad = bad || !r.OK()
	}
	if *asJSON {
		b, _ := json.Marshal(reps)
		if c := printOrFail(stdout, stderr, b); c != exitOK {
			return c
		}
	} else {
		for _, r := range reps {
			if r.OK() {
				fmt.Fprintf(stdout, "%s: OK: %s %s, %d documents, %d entries, events %d-%d (%d anchors), signed by %s", r.File, r.Hub, r.Day, r.Documents, r.Entries, r.Chain.First, r.Chain.Last, r.Anchors, r.Signer)
				if !r.Timestamp.IsZero() {
					fmt.Fprintf(stdout, ", timestamped %s by %s", r.Timestamp.Format(time.RFC3339), r.TSA)
				} else {
					fmt.Fprint(stdout, ", NOT timestamped")
				}
				if r.LinkedTo != "" {
					fmt.Fprintf(stdout, ", chain continues %s", r.LinkedTo)
				}
				if r.Forced || r.Expired {
					fmt.Fprintf(stdout, ", %d documents not settled when sealed", r.Unsettled)
				}
				fmt.Fprintln(stdout)
				continue
			}
			fmt.Fprintf(stdout, "%s: FAILED\n", r.File)
			for _, p := range r.Problems {
				fmt.Fprintf(stdout, "  %s\n", p)
			}
		}
	}
	if bad {
		return exitFailure
	}
	return exitOK
}
