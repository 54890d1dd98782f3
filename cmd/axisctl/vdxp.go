package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/vdxp"
)

// runVDXPHeaders prints the headers a VDXP request would carry, exactly as
// the national SDK builds them, for debugging an integration: compare them
// with what a document system sends.
func runVDXPHeaders(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("vdxp-headers", "--system ID [--secret-env VAR] [--timestamp ddMMyyyyTHHmmss+SSSS] [--file EDXML] [--url BASE] OPERATION [key=value...]", stderr)
	system := fs.String("system", "", "the system id (XroadVnpt-systemid)")
	secretEnv := fs.String("secret-env", "AXIS_VDXP_SECRET", "the environment variable holding the system's secret (kept off the command line)")
	ts := fs.String("timestamp", "", "the timestamp to sign (default: now)")
	file := fs.String("file", "", "an edXML file: adds hash-file (before from, as the SDK does) and sets Content-Type application/octet-stream")
	contentType := fs.String("content-type", "", "Content-Type (default application/json, or application/octet-stream with --file)")
	base := fs.String("url", "", "also print a curl command for this endpoint (e.g. http://127.0.0.1:8080/vdxp)")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if *system == "" || len(pos) == 0 {
		fs.Usage()
		return exitUsage
	}
	secret := os.Getenv(*secretEnv)
	if secret == "" {
		return usageError(stderr, "vdxp-headers: $%s is empty", *secretEnv)
	}
	op := pos[0]
	var params []vdxp.Param
	for _, kv := range pos[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError(stderr, "vdxp-headers: %q is not key=value", kv)
		}
		params = append(params, vdxp.Param{Key: k, Value: v})
	}
	ct := "application/json"
	var body []byte
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			fmt.Fprintln(stderr, "vdxp-headers:", err)
			return exitFailure
		}
		body, ct = b, "application/octet-stream"
		hf := vdxp.Param{Key: "hash-file", Value: vdxp.HashFile(vdxp.StripCRLF(b))}
		at := len(params)
		for i, p := range params {
			if p.Key == "from" {
				at = i
			}
		}
		params = append(params[:at], append([]vdxp.Param{hf}, params[at:]...)...)
	}
	if *contentType != "" {
		ct = *contentType
	}
	stamp := *ts
	if stamp == "" {
		stamp = vdxp.Timestamp(time.Now().In(vdxp.Zone))
	}
	h := vdxp.Sign(*system, secret, stamp, ct, params)
	order := []string{vdxp.HeaderSignHeaderKey, vdxp.HeaderSignHeader, vdxp.HeaderHashHeader}
	for _, k := range []string{"systemid"} {
		order = append(order, vdxp.Prefix+k)
	}
	for _, p := range params {
		order = append(order, vdxp.Prefix+p.Key)
	}
	order = append(order, vdxp.Prefix+"timestamp", vdxp.Prefix+"Content-Type", vdxp.HeaderVersion, "Content-Type", "User-Agent")
	printed := map[string]bool{}
	var curl []string
	for _, k := range order {
		if printed[k] {
			continue
		}
		printed[k] = true
		v := h[k]
		if v == nil {
			v = h.Values(k)
		}
		for _, x := range v {
			fmt.Fprintf(stdout, "%s: %s\n", k, x)
			curl = append(curl, "-H "+shellQuote(k+": "+x))
		}
	}
	if *base != "" {
		method := "POST"
		if op == "downloadEdoc" {
			method = "GET"
		}
		data := ""
		if body != nil {
			data = " --data-binary @" + shellQuote(*file) // the SDK appends \r\n; the hub strips one if present
		}
		fmt.Fprintf(stdout, "\ncurl -sS -X %s %s%s %s\n", method, strings.Join(curl, " "), data, shellQuote(strings.TrimRight(*base, "/")+"/"+op))
	}
	return exitOK
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
