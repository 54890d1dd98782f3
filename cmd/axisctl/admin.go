package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store/record"
)

// Administrator commands: they call /admin/v1 with an admin token
// (--token or $AXIS_TOKEN).

// adminQuery turns search flags into the admin API's parameters.
type searchFlags struct {
	code, subject, from, to, since, until, state, kind *string
	limit                                              *int
}

func addSearchFlags(fs *flag.FlagSet) *searchFlags {
	return &searchFlags{
		code:    fs.String("code", "", "notation, e.g. 15/UBND-VP (case and spaces ignored)"),
		subject: fs.String("subject", "", "words of the Subject, with or without diacritics"),
		from:    fs.String("from", "", "sender organ code"),
		to:      fs.String("to", "", "recipient organ code"),
		since:   fs.String("since", "", "first day, YYYY-MM-DD (Asia/Ho_Chi_Minh)"),
		until:   fs.String("until", "", "last day, YYYY-MM-DD"),
		state:   fs.String("state", "", "a recipient's state: queued, delivered, acked_done, acked_fail, relaying, relayed, dead"),
		kind:    fs.String("kind", "", "document or status"),
		limit:   fs.Int("limit", 50, "at most this many (1..500)"),
	}
}

func (s *searchFlags) values() url.Values {
	v := url.Values{}
	for k, p := range map[string]*string{"code": s.code, "subject": s.subject, "from": s.from, "to": s.to,
		"since": s.since, "until": s.until, "state": s.state, "kind": s.kind} {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	v.Set("limit", fmt.Sprint(*s.limit))
	return v
}

// callJSON sends a request without a body and decodes the JSON answer into
// v. An answer that does not decode is the error "WHAT: why" (what names
// the answer); any other, as call's.
func (c *hubClient) callJSON(ctx context.Context, method, path string, v any, what string) ([]byte, error) {
	_, body, err := c.call(ctx, method, path, nil, "")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return body, nil
}

func (c *hubClient) getJSON(ctx context.Context, path string, v any) ([]byte, error) {
	return c.callJSON(ctx, http.MethodGet, path, v, "hub: GET "+path+": answer is not JSON")
}

// getOrPrint GETs path into v; with asJSON it prints the answer for people
// instead. done: the command returns code.
func (c *hubClient) getOrPrint(ctx context.Context, path string, v any, asJSON bool, stdout, stderr io.Writer) (code int, done bool) {
	body, err := c.getJSON(ctx, path, v)
	if err != nil {
		return failHub(stderr, err), true
	}
	if asJSON {
		return printOrFail(stdout, stderr, body), true
	}
	return exitOK, false
}

// runSearch: axisctl search [filters]
func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("search", "ADMIN", "[--code NOTATION] [--subject WORDS] [--from ORGAN] [--to ORGAN] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--state STATE] [--kind KIND] [--json]", stderr)
	sf := addSearchFlags(fs)
	asJSON := fs.Bool("json", false, "print the hub's JSON")
	c, _, code, done := hf.parse(args, stderr, noArgs("search: takes no arguments, only flags"))
	if done {
		return code
	}
	var r record.SearchResult
	if code, done := c.getOrPrint(ctx, "/admin/v1/search?"+sf.values().Encode(), &r, *asJSON, stdout, stderr); done {
		return code
	}
	tw := table(stdout, "RECEIVED\tDOC_ID\tFROM\tCODE\tSUBJECT")
	for _, d := range r.Docs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", timeCell(d.ReceivedAt), d.ID, cell(d.From), cell(d.Code), cell(truncate(d.Subject, 80)))
	}
	tw.Flush()
	if r.Truncated {
		fmt.Fprintf(stdout, "(stopped after %d index entries: narrow the search)\n", r.Scanned)
	}
	if r.Next != 0 {
		fmt.Fprintf(stdout, "(more: the hub's cursor is before=%d)\n", r.Next)
	}
	return exitOK
}

// runTrace: axisctl trace DOC_ID|NOTATION [--follow]
func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("trace", "ADMIN", "[--follow] [--json] DOC_ID|NOTATION", stderr)
	follow := fs.Bool("follow", false, "also ask the peer hubs the document went through (one timeline across hubs)")
	asJSON := fs.Bool("json", false, "print JSON: every event with hub, at, event, organ_id and detail")
	c, ref, code, done := hf.parseDoc(args, stderr)
	if done {
		return code
	}
	ids := []string{ref}
	if !api.IsDocID(ref) { // a notation: every document with it, newest first
		var r record.SearchResult
		if _, err := c.getJSON(ctx, "/admin/v1/search?"+url.Values{"code": {ref}, "limit": {"10"}}.Encode(), &r); err != nil {
			return failHub(stderr, err)
		}
		if len(r.Docs) == 0 {
			fmt.Fprintf(stderr, "no document with notation %q at this hub\nnot_found: %s\n", ref, ref)
			return exitFailure
		}
		ids = ids[:0]
		for _, d := range r.Docs {
			ids = append(ids, d.ID)
		}
	}
	var traces []api.Trace
	for _, id := range ids {
		path := "/admin/v1/documents/" + url.PathEscape(id) + "/trace"
		if *follow {
			path += "?follow=true"
		}
		var t api.Trace
		if _, err := c.getJSON(ctx, path, &t); err != nil {
			return failHub(stderr, err)
		}
		traces = append(traces, t)
	}
	if *asJSON {
		var b []byte
		if len(traces) == 1 {
			b, _ = json.Marshal(traces[0])
		} else {
			b, _ = json.Marshal(traces)
		}
		return printOrFail(stdout, stderr, b)
	}
	for i, t := range traces {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		d := t.Document
		fmt.Fprintf(stdout, "document %s  %s  %s\nfrom %s, received %s at %s; hubs: %s\n", d.ID, cell(d.Code), cell(truncate(d.Subject, 80)),
			cell(d.From), timeCell(d.ReceivedAt), t.Hub, strings.Join(t.Hubs, ", "))
		for peer, why := range t.Unreachable {
			fmt.Fprintf(stdout, "not followed: %s: %s\n", peer, oneLine(why))
		}
		tw := table(stdout, "AT\tHUB\tEVENT\tORGAN_ID\tDETAIL")
		for _, e := range t.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.In(record.Zone).Format("2006-01-02T15:04:05.000-07:00"), cell(e.Hub), cell(e.Event), cell(e.OrganID), cell(truncate(e.Detail, 120)))
		}
		tw.Flush()
	}
	return exitOK
}

// runStuck: axisctl stuck
func runStuck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("stuck", "ADMIN", "[--json]", stderr)
	asJSON := fs.Bool("json", false, "print the hub's JSON")
	c, _, code, done := hf.parse(args, stderr, noArgs("stuck: takes no arguments"))
	if done {
		return code
	}
	var r struct {
		Items []record.StuckItem `json:"items"`
	}
	if code, done := c.getOrPrint(ctx, "/admin/v1/stuck", &r, *asJSON, stdout, stderr); done {
		return code
	}
	tw := table(stdout, "REASON\tSINCE\tDOC_ID\tORGAN_ID\tPEER\tATTEMPTS\tLAST_ERROR")
	for _, it := range r.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.Reason, timeCell(it.Since), it.DocID, cell(it.OrganID), cell(it.Peer), it.Attempts, cell(truncate(it.LastError, 80)))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d stuck\n", len(r.Items))
	return exitOK
}

// runRedrive: axisctl redrive DOC_ID [--recipient ORGAN]
func runRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("redrive", "ADMIN", "[--recipient ORGAN] DOC_ID", stderr)
	recipient := fs.String("recipient", "", "only the dead relays for this recipient")
	c, id, code, done := hf.parseDoc(args, stderr)
	if done {
		return code
	}
	path := "/admin/v1/redrive/" + url.PathEscape(id)
	if *recipient != "" {
		path += "?recipient=" + url.QueryEscape(*recipient)
	}
	_, body, err := c.call(ctx, http.MethodPost, path, nil, "")
	if err != nil {
		return failHub(stderr, err)
	}
	var r struct {
		Redriven int `json:"redriven"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "%s: %d relay entries put back in their outboxes\n", id, r.Redriven)
	return exitOK
}

// runStats: axisctl stats [--date YYYY-MM-DD]
func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("stats", "ADMIN", "[--date YYYY-MM-DD] [--all] [--json]", stderr)
	date := fs.String("date", "", "the day (Asia/Ho_Chi_Minh; default today)")
	all := fs.Bool("all", false, "also list agencies with no traffic that day")
	asJSON := fs.Bool("json", false, "print the hub's JSON")
	c, _, code, done := hf.parse(args, stderr, noArgs("stats: takes no arguments"))
	if done {
		return code
	}
	path := "/admin/v1/stats"
	if *date != "" {
		path += "?date=" + url.QueryEscape(*date)
	}
	var r struct {
		Date     string            `json:"date"`
		Hub      string            `json:"hub"`
		Agencies []record.DayStats `json:"agencies"`
	}
	if code, done := c.getOrPrint(ctx, path, &r, *asJSON, stdout, stderr); done {
		return code
	}
	fmt.Fprintf(stdout, "%s, %s\n", r.Hub, r.Date)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	// RELAYED, RELAYING, DEAD: copies addressed to the organ that went to a
	// peer; SENT_RELAYED: copies of what it sent that a peer took.
	fmt.Fprintln(tw, "ORGAN_ID\tSENT\tRECEIVED\tFETCHED\tACKED_DONE\tACKED_FAIL\tPENDING\tRELAYED\tRELAYING\tDEAD\tSENT_RELAYED\t")
	var tot record.DayStats
	for _, s := range r.Agencies {
		if !*all && s.Sent+s.Received == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.OrganID, s.Sent, s.Received, s.Fetched, s.AckedDone, s.AckedFail, s.Pending, s.Relayed, s.Relaying, s.Dead, s.SentRelayed)
		tot.Sent, tot.Received, tot.Fetched, tot.AckedDone, tot.AckedFail = tot.Sent+s.Sent, tot.Received+s.Received, tot.Fetched+s.Fetched, tot.AckedDone+s.AckedDone, tot.AckedFail+s.AckedFail
		tot.Pending, tot.Relayed, tot.Relaying, tot.Dead = tot.Pending+s.Pending, tot.Relayed+s.Relayed, tot.Relaying+s.Relaying, tot.Dead+s.Dead
		tot.SentRelayed += s.SentRelayed
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", tot.Sent, tot.Received, tot.Fetched, tot.AckedDone, tot.AckedFail, tot.Pending, tot.Relayed, tot.Relaying, tot.Dead, tot.SentRelayed)
	tw.Flush()
	return exitOK
}

// runAuditVerify: axisctl audit-verify [--db FILE]
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("audit-verify", "ADMIN", "[--db FILE] [--json]", stderr)
	dbFile := fs.String("db", "", "verify this store file (a backup, a copy) offline, read-only, instead of asking a hub")
	tsaRoots := fs.String("tsa-roots", "", "with --db: check the anchors' time-stamp tokens against this TSA root certificate file (PEM), as archive.tsa_roots")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "audit-verify: takes no arguments")
	}
	var rep record.ChainReport
	where := *dbFile
	if *dbFile != "" {
		r, err := verifyStoreFile(ctx, *dbFile, *tsaRoots)
		if err != nil {
			return fail(stderr, err)
		}
		rep = *r
	} else {
		c, err := hf.client()
		if err != nil {
			return usageError(stderr, "audit-verify: %v", err)
		}
		var r struct {
			Hub    string             `json:"hub"`
			Report record.ChainReport `json:"report"`
		}
		if _, err := c.getJSON(ctx, "/admin/v1/audit/verify", &r); err != nil {
			return failHub(stderr, err)
		}
		rep, where = r.Report, "hub "+r.Hub
	}
	if *asJSON {
		b, _ := json.Marshal(rep)
		if code := printOrFail(stdout, stderr, b); code != exitOK {
			return code
		}
	} else {
		if rep.OK() {
			fmt.Fprintf(stdout, "%s: event chain verified: %d events, head %s\n", where, rep.Events, rep.Head)
		} else {
			fmt.Fprintf(stdout, "%s: event chain BROKEN at event %d: %s\n", where, rep.BrokenAt, rep.BrokenWhy)
		}
		if rep.BaseSeq > 0 {
			fmt.Fprintf(stdout, "events 1 to %d are in the daily archives (axisctl archive verify); the store's chain starts after %s\n", rep.BaseSeq, rep.BaseHash)
		}
		if a := rep.LastAnchor; a != nil {
			how := "against the TSA's roots"
			if !rep.AnchorRoots {
				how = "against the certificates they carry only (no TSA roots given)"
			}
			fmt.Fprintf(stdout, "anchors: %d time-stamp tokens checked %s; last anchored %s (event %d, by %s)\n",
				rep.Anchors, how, a.Time.UTC().Format(time.RFC3339), a.Seq, a.Signer)
		} else if rep.OK() {
			fmt.Fprintln(stdout, "anchors: none (archive.tsa_url is not set, or the first is not made yet)")
		}
	}
	if !rep.OK() {
		return exitFailure
	}
	return exitOK
}

// runBackup: axisctl backup FILE
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, hf := newHubFlagSet("backup", "ADMIN", "FILE", stderr)
	c, pos, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 1 || pos[0] == "" {
			return "backup: want exactly one FILE"
		}
		return ""
	})
	if done {
		return code
	}
	if err := outputFolder(pos[0]); err != nil {
		return fail(stderr, err)
	}
	c.hc.Timeout = 0 // a large store takes its time; ctx still cancels
	t0 := time.Now()
	resp, err := c.do(ctx, http.MethodGet, "/admin/v1/backup", nil, "")
	if err != nil {
		return failHub(stderr, err)
	}
	defer resp.Body.Close()
	if err := writeFileAtomic(pos[0], resp.Body); err != nil {
		return fail(stderr, fmt.Errorf("backup: %w", err))
	}
	// The copy is only a backup if it opens and its chain holds.
	rep, err := verifyStoreFile(ctx, pos[0])
	if err != nil {
		return fail(stderr, fmt.Errorf("backup written to %s but it does not open as a store: %w", pos[0], err))
	}
	if !rep.OK() {
		return fail(stderr, fmt.Errorf("backup written to %s but its event chain is broken at %d: %s", pos[0], rep.BrokenAt, rep.BrokenWhy))
	}
	st, _ := os.Stat(pos[0])
	fmt.Fprintf(stdout, "%s: %d bytes in %s; %d events, chain verified\n", pos[0], st.Size(), time.Since(t0).Round(time.Millisecond), rep.Events)
	return exitOK
}

// runReconcile: axisctl reconcile --date YYYY-MM-DD [--repair] --out DIR
// Exit codes: 0 clean (or everything repaired), 2 discrepancies remain,
// 1 the reconciliation could not run.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("reconcile", "ADMIN", "--date YYYY-MM-DD [--repair] [--out DIR]", stderr)
	date := fs.String("date", "", "the day to reconcile (Asia/Ho_Chi_Minh; default yesterday)")
	repair := fs.Bool("repair", false, "queue again what a peer lost, restore altered bytes from a peer's copy")
	out := fs.String("out", "", "write report.json, report.csv and report.html here (default reconcile-DATE)")
	day := ""
	c, _, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 0 {
			return "reconcile: takes no arguments"
		}
		if day = *date; day == "" {
			day = record.Day(time.Now().Add(-24 * time.Hour))
		}
		if _, err := time.Parse("2006-01-02", day); err != nil {
			return fmt.Sprintf("reconcile: --date %q is not YYYY-MM-DD", day)
		}
		return ""
	})
	if done {
		return code
	}
	dir := *out
	if dir == "" {
		dir = "reconcile-" + day
	}
	c.hc.Timeout = 0 // a big day takes its time; ctx still cancels
	v := url.Values{"date": {day}}
	if *repair {
		v.Set("repair", "true")
	}
	var r api.Report
	if _, err := c.callJSON(ctx, http.MethodPost, "/admin/v1/reconcile?"+v.Encode(), &r, "hub: reconcile answer is not JSON"); err != nil {
		return failHub(stderr, err)
	}
	if err := api.WriteReportFiles(dir, &r); err != nil {
		return fail(stderr, err)
	}
	t := r.Totals
	fmt.Fprintf(stdout, "%s %s: %d accepted, %d deliveries (%d acked, %d pending, %d overdue), %d relayed (%d confirmed), chain %s\n",
		r.Hub, r.Date, t.Accepted, t.Deliveries, t.AckedDone+t.AckedFail, t.Pending, t.Overdue, t.Relayed, t.Confirmed, map[bool]string{true: "verified", false: "BROKEN"}[t.ChainOK])
	for _, d := range r.Discrepancies {
		state := "remains"
		if d.Repaired {
			state = "repaired"
		}
		fmt.Fprintf(stdout, "  %-16s %s %s %s: %s (%s)\n", d.Kind, d.DocID, cell(d.OrganID), cell(d.Peer), oneLine(d.Detail), state)
	}
	fmt.Fprintf(stdout, "%d discrepancies, %d repaired, %d remain; report in %s\n", t.Discrepancies, t.Repaired, t.Remaining, dir)
	if !r.Clean() {
		return 2
	}
	return exitOK
}
