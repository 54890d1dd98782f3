package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/record"
)

// Hub client defaults.
const (
	defaultHub     = "http://127.0.0.1:8080"
	envHub         = "AXIS_HUB"
	envToken       = "AXIS_TOKEN"
	defaultTimeout = 2 * time.Minute
	maxAnswerBytes = 32 << 20 // JSON answers (an inbox page of 1000 items is well under 1 MiB)
	maxProblemSize = 64 << 10
)

// hubFlags are the flags every hub command takes. The environment defaults
// are resolved after parsing, so that -h never prints a token.
type hubFlags struct {
	fs      *flag.FlagSet
	hub     *string
	token   *string
	timeout *time.Duration
}

// newHubFlagSet is newFlagSet for a command that calls a hub, with the hub
// flags: its usage line is "axisctl NAME [--hub URL] [--token TOKEN] ARGS",
// TOKEN T for an agency's token, ADMIN for an administrator's.
func newHubFlagSet(name, token, args string, stderr io.Writer) (*flag.FlagSet, *hubFlags) {
	fs := newFlagSet(name, "[--hub URL] [--token "+token+"] "+args, stderr)
	return fs, addHubFlags(fs)
}

func addHubFlags(fs *flag.FlagSet) *hubFlags {
	return &hubFlags{
		fs:      fs,
		hub:     fs.String("hub", "", "hub base URL (default $"+envHub+", else "+defaultHub+")"),
		token:   fs.String("token", "", "bearer token of the calling agency (default $"+envToken+")"),
		timeout: fs.Duration("timeout", defaultTimeout, "give up on one HTTP request after this long"),
	}
}

// parse parses a hub command's arguments: the flags, then check's verdict
// on the positional arguments (a message: a usage error), then the client.
// done: the command returns code at once.
func (f *hubFlags) parse(args []string, stderr io.Writer, check func(pos []string) string) (c *hubClient, pos []string, code int, done bool) {
	if pos, code, done = parseFlags(f.fs, args); done {
		return nil, nil, code, true
	}
	if msg := check(pos); msg != "" {
		return nil, nil, usageError(stderr, "%s", msg), true
	}
	c, err := f.client()
	if err != nil {
		return nil, nil, usageError(stderr, "%s: %v", f.fs.Name(), err), true
	}
	return c, pos, exitOK, false
}

// parseDoc is parse for a command on one document: its argument is
// exactly one DOC_ID.
func (f *hubFlags) parseDoc(args []string, stderr io.Writer) (c *hubClient, id string, code int, done bool) {
	c, pos, code, done := f.parse(args, stderr, func(pos []string) string {
		if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
			return fmt.Sprintf("%s: want exactly one DOC_ID, got %d arguments", f.fs.Name(), len(pos))
		}
		return ""
	})
	if done {
		return nil, "", code, true
	}
	return c, strings.TrimSpace(pos[0]), exitOK, false
}

// noArgs is a parse check: the command takes no arguments (msg says so).
func noArgs(msg string) func([]string) string {
	return func(pos []string) string {
		if len(pos) != 0 {
			return msg
		}
		return ""
	}
}

// client resolves the flags and the environment into a hub client.
func (f *hubFlags) client() (*hubClient, error) {
	base := *f.hub
	if base == "" {
		base = os.Getenv(envHub)
	}
	if base == "" {
		base = defaultHub
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--hub %q: want an http:// or https:// URL such as %s", base, defaultHub)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--hub %q: want a base URL without query or fragment", base)
	}
	token := *f.token
	if token == "" {
		token = os.Getenv(envToken)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, fmt.Errorf("--token (or $%s) is required: the hub answers only authenticated agencies", envToken)
	}
	if *f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive")
	}
	return &hubClient{
		base:  strings.TrimRight(u.String(), "/"),
		token: token,
		hc:    &http.Client{Timeout: *f.timeout},
	}, nil
}

// hubClient calls the hub's /api/v1.
type hubClient struct {
	base  string // no trailing slash
	token string
	hc    *http.Client
}

// hubError is an HTTP error answer of the hub: its problem+json code and
// detail, or for an answer that is not problem+json (a proxy's error page),
// a code made from the HTTP status.
type hubError struct {
	Method, Path string
	Status       int
	Code, Detail string
}

func (e *hubError) Error() string {
	return fmt.Sprintf("hub: %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Detail)
}

// failHub reports err and returns exitFailure: a hub error as the message for
// people then "CODE: detail"; any other error as fail does.
func failHub(stderr io.Writer, err error) int {
	var he *hubError
	if errors.As(err, &he) {
		fmt.Fprintf(stderr, "%s\n%s: %s\n", oneLine(he.Error()), he.Code, oneLine(he.Detail))
		return exitFailure
	}
	return fail(stderr, err)
}

// do sends a request and returns a 2xx response, whose body the caller
// closes. An HTTP error answer becomes a *hubError.
func (c *hubClient) do(ctx context.Context, method, path string, body []byte, contentType string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // interrupted
		}
		return nil, unreachable(c.base, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, problemFrom(method, path, resp)
	}
	return resp, nil
}

// call does a request and reads the whole (JSON or small) answer.
func (c *hubClient) call(ctx context.Context, method, path string, body []byte, contentType string) (int, []byte, error) {
	resp, err := c.do(ctx, method, path, body, contentType)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return 0, nil, fmt.Errorf("hub: %s %s: reading the answer: %w", method, path, err)
	}
	if len(b) > maxAnswerBytes {
		return 0, nil, fmt.Errorf("hub: %s %s: answer larger than %d bytes", method, path, maxAnswerBytes)
	}
	return resp.StatusCode, b, nil
}

// problemFrom reads an error answer. It never fails: an unreadable body
// still gives a code from the status.
func problemFrom(method, path string, resp *http.Response) *hubError {
	e := &hubError{Method: method, Path: path, Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemSize))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p api.Problem
		if json.Unmarshal(b, &p) == nil {
			e.Code, e.Detail = p.Code, p.Detail
			if e.Detail == "" {
				e.Detail = p.Title
			}
		}
	} else if s := strings.TrimSpace(string(b)); s != "" {
		e.Detail = truncate(s, 200)
	}
	if e.Code == "" {
		e.Code = statusCode(resp.StatusCode)
	}
	if e.Detail == "" {
		e.Detail = http.StatusText(resp.StatusCode)
	}
	return e
}

// statusCode makes a machine code from an HTTP status the way the hub does
// for its own HTTP errors ("Not Found" → "not_found").
func statusCode(status int) string {
	if t := http.StatusText(status); t != "" {
		return strings.ToLower(strings.ReplaceAll(t, " ", "_"))
	}
	return "http_" + strconv.Itoa(status)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// docPath is /api/v1/envelopes/{id}[suffix] with id escaped.
func docPath(id, suffix string) string {
	return "/api/v1/envelopes/" + url.PathEscape(id) + suffix
}

// printJSON re-indents a JSON answer for people; the content is the hub's.
func printJSON(w io.Writer, b []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(b), "", "  "); err != nil {
		return fmt.Errorf("hub answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// printOrFail prints a JSON answer re-indented for people, or fails when
// it is not JSON.
func printOrFail(stdout, stderr io.Writer, body []byte) int {
	if err := printJSON(stdout, body); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

// table is a tabwriter for a table for people, its header line written.
func table(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// cell makes remote text safe for one table cell: control characters
// (tabs, newlines, terminal escapes) become spaces; empty is "-".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// timeCell is a time as axisctl's tables show it: in Asia/Ho_Chi_Minh,
// with the offset (RFC 3339), as the console and the reports show times.
// --json output keeps the hub's own (UTC) form.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(record.Zone).Format(time.RFC3339)
}

// runSend: axisctl send FILE
func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, hf := newHubFlagSet("send", "T", "FILE|-", stderr)
	c, pos, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 1 {
			return fmt.Sprintf("send: want exactly one signed envelope file (or - for standard input), got %d", len(pos))
		}
		return ""
	})
	if done {
		return code
	}
	raw, err := readInput(pos[0])
	if err != nil {
		return fail(stderr, fmt.Errorf("send: %w", err)) // a missing input file is not a usage error: exit 1
	}
	status, body, err := c.call(ctx, http.MethodPost, "/api/v1/envelopes", raw, "application/xml")
	if err != nil {
		return failHub(stderr, err)
	}
	var rc api.Receipt
	if err := json.Unmarshal(body, &rc); err != nil || rc.DocID == "" {
		return fail(stderr, fmt.Errorf("hub: POST /api/v1/envelopes: %d answer is not a receipt: %s", status, truncate(string(body), 200)))
	}
	if err := printJSON(stdout, body); err != nil {
		return fail(stderr, err)
	}
	switch status {
	case http.StatusCreated:
		fmt.Fprintf(stderr, "created: %s for %d recipient(s)\n", rc.DocID, len(rc.Recipients))
	case http.StatusOK:
		fmt.Fprintf(stderr, "duplicate: the hub already had these exact bytes as %s; nothing new was stored\n", rc.DocID)
	default:
		fmt.Fprintf(stderr, "hub answered %d for %s\n", status, rc.DocID)
	}
	return exitOK
}

// runInbox: axisctl inbox [--limit N] [--after CURSOR] [--all] [--json]
func runInbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("inbox", "T", "[--limit N] [--after CURSOR | --all] [--json]", stderr)
	limit := fs.Int("limit", 100, "items per page, 1..1000")
	after := fs.String("after", "", "start after this cursor (the next of a previous page)")
	all := fs.Bool("all", false, "follow the next cursors to the end of the inbox")
	asJSON := fs.Bool("json", false, "print the hub's JSON (with --all, one page holding every item) instead of a table")
	c, _, code, done := hf.parse(args, stderr, func(pos []string) string {
		switch {
		case len(pos) != 0:
			return fmt.Sprintf("inbox: takes no arguments, got %d", len(pos))
		case *limit < 1 || *limit > 1000:
			return fmt.Sprintf("inbox: --limit must be 1..1000, got %d", *limit)
		}
		return ""
	})
	if done {
		return code
	}
	var (
		err   error
		items []api.InboxItem
		next  = *after
		raw   []byte
	)
	for {
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if next != "" {
			q.Set("after", next)
		}
		var page api.InboxPage
		body, err := c.callJSON(ctx, http.MethodGet, "/api/v1/inbox?"+q.Encode(), &page, "hub: GET /api/v1/inbox: answer is not an inbox page")
		if err != nil {
			return failHub(stderr, err)
		}
		raw = body
		items = append(items, page.Items...)
		if !*all || page.Next == "" || page.Next == next {
			next = page.Next
			break
		}
		next = page.Next
	}
	if *asJSON {
		if *all {
			err = writeJSON(stdout, api.InboxPage{Items: append([]api.InboxItem{}, items...)})
		} else {
			err = printJSON(stdout, raw)
		}
		if err != nil {
			return fail(stderr, err)
		}
	} else if len(items) > 0 {
		tw := table(stdout, "DOC_ID\tKIND\tFROM\tCODE\tSTATUS_CODE\tRECEIVED_AT\tSUBJECT")
		for _, it := range items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(it.DocID), cell(it.Kind), cell(it.From), cell(it.Code),
				cell(it.StatusCode), timeCell(it.ReceivedAt), cell(it.Subject))
		}
		if err := tw.Flush(); err != nil {
			return fail(stderr, err)
		}
	}
	switch {
	case len(items) == 0:
		fmt.Fprintln(stderr, "inbox: nothing waiting")
	case !*all && next != "":
		fmt.Fprintf(stderr, "inbox: %d item(s) shown, more waiting: axisctl inbox --after %s (or --all)\n", len(items), next)
	default:
		fmt.Fprintf(stderr, "inbox: %d item(s)\n", len(items))
	}
	return exitOK
}

// runFetch: axisctl fetch DOC_ID [-o FILE]
func runFetch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runDownload(ctx, "fetch", "", args, stdout, stderr)
}

// runReceipt: axisctl receipt DOC_ID [-o FILE]
func runReceipt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runDownload(ctx, "receipt", "/receipt", args, stdout, stderr)
}

// runDownload gets a document's bytes (fetch) or its signed receipt and
// writes them unchanged to stdout or a file.
func runDownload(ctx context.Context, name, suffix string, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet(name, "T", "[-o FILE] DOC_ID", stderr)
	out := fs.String("o", "", "write to this file (replaced only once the whole answer has arrived) instead of standard output")
	c, id, code, done := hf.parseDoc(args, stderr)
	if done {
		return code
	}
	if *out != "" {
		if err := outputFolder(*out); err != nil { // before the hub marks a fetch delivered
			return fail(stderr, err)
		}
	}
	path := docPath(id, suffix)
	resp, err := c.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return failHub(stderr, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, envelope.DefaultMaxBytes+1)
	if *out == "" {
		if _, err := io.Copy(stdout, body); err != nil {
			return fail(stderr, fmt.Errorf("hub: GET %s: %w", path, err))
		}
		return exitOK
	}
	if err := writeFileAtomic(*out, body); err != nil {
		return fail(stderr, fmt.Errorf("hub: GET %s: %w", path, err))
	}
	return exitOK
}

// writeFileAtomic writes r to a temporary file next to name and renames it
// over name once complete, so a broken transfer leaves no partial file.
func writeFileAtomic(name string, r io.Reader) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the reason, not the temporary file's name
		}
		return fmt.Errorf("cannot write %s: %w", name, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ackAnswer is the hub's answer to an ack.
type ackAnswer struct {
	DocID     string    `json:"doc_id"`
	OrganID   string    `json:"organ_id"`
	State     string    `json:"state"`
	UpdatedAt time.Time `json:"updated_at"`
}

// runAck: axisctl ack DOC_ID done|fail [--reason TEXT]
func runAck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("ack", "T", "[--reason TEXT] [--json] DOC_ID done|fail", stderr)
	reason := fs.String("reason", "", "why (most useful with fail)")
	asJSON := fs.Bool("json", false, "print the hub's JSON answer")
	c, pos, code, done := hf.parse(args, stderr, func(pos []string) string {
		if len(pos) != 2 || strings.TrimSpace(pos[0]) == "" {
			return fmt.Sprintf("ack: want DOC_ID and done or fail, got %d arguments", len(pos))
		}
		if pos[1] != "done" && pos[1] != "fail" {
			return fmt.Sprintf("ack: the outcome must be done or fail, got %q", pos[1])
		}
		return ""
	})
	if done {
		return code
	}
	req, err := json.Marshal(api.AckRequest{Status: pos[1], Reason: *reason})
	if err != nil {
		return fail(stderr, err)
	}
	_, body, err := c.call(ctx, http.MethodPost, docPath(strings.TrimSpace(pos[0]), "/ack"), req, "application/json")
	if err != nil {
		return failHub(stderr, err)
	}
	if *asJSON {
		return printOrFail(stdout, stderr, body)
	}
	var a ackAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return fail(stderr, fmt.Errorf("hub: ack answer is not JSON: %w", err))
	}
	fmt.Fprintf(stdout, "%s acked by %s: %s at %s\n", cell(a.DocID), cell(a.OrganID), cell(a.State), timeCell(a.UpdatedAt))
	return exitOK
}

// runStatus: axisctl status DOC_ID
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, hf := newHubFlagSet("status", "T", "[--json] DOC_ID", stderr)
	asJSON := fs.Bool("json", false, "print the hub's JSON instead of a table")
	c, id, code, done := hf.parseDoc(args, stderr)
	if done {
		return code
	}
	_, body, err := c.call(ctx, http.MethodGet, docPath(id, "/status"), nil, "")
	if err != nil {
		return failHub(stderr, err)
	}
	if *asJSON {
		return printOrFail(stdout, stderr, body)
	}
	var st api.DocStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return fail(stderr, fmt.Errorf("hub: status answer is not JSON: %w", err))
	}
	tw := table(stdout, "ORGAN_ID\tROUTE\tSTATE\tAT_HUB\tSTATUS_CODE\tSTATUS_AT\tUPDATED_AT")
	for _, r := range st.Recipients {
		statusAt := "-"
		if r.StatusAt != nil {
			statusAt = timeCell(*r.StatusAt)
		}
		// AT_HUB: where a relayed copy was delivered, once that hub
		// reported its state back.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(r.OrganID), cell(r.Route), cell(r.State), cell(r.AtHub), cell(r.StatusCode), statusAt, timeCell(r.UpdatedAt))
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

// unreachable says in one sentence that the hub at base could not be
// reached, why, and how to point axisctl at another one.
func unreachable(base string, err error) error {
	why := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		why = ue.Err.Error()
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused (is axisd running there?)"
	case errors.As(err, &ne) && ne.Timeout():
		why = "no answer in time"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		why = "no such host " + dns.Name
	}
	return fmt.Errorf("cannot reach the hub at %s: %s; give another with --hub URL or AXIS_HUB", base, why)
}

// outputFolder checks that the folder a file is to be written in exists:
// fetch -o and backup ask before the request (a fetch marks the copy
// delivered), emit before writing.
func outputFolder(name string) error {
	dir := filepath.Dir(name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s: folder %s does not exist", name, dir)
	}
	return nil
}
