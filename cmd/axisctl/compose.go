package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/store/record"
)

// organsFlag is a repeatable --to CODE[=NAME].
type organsFlag []envelope.Organization

func (f *organsFlag) String() string { return fmt.Sprint(*f) }

func (f *organsFlag) Set(v string) error {
	o, err := parseOrgan(v)
	if err != nil {
		return err
	}
	*f = append(*f, o)
	return nil
}

// parseOrgan reads CODE or CODE=NAME (the name the envelope gives, which
// hubs and consoles show for a recipient they do not know).
func parseOrgan(v string) (envelope.Organization, error) {
	code, name, _ := strings.Cut(v, "=")
	id, err := envelope.ParseOrganID(code)
	if err != nil {
		return envelope.Organization{}, err
	}
	return envelope.Organization{OrganID: id.String(), OrganName: strings.TrimSpace(name)}, nil
}

// filesFlag is a repeatable --attach FILE.
type filesFlag []string

func (f *filesFlag) String() string     { return strings.Join(*f, ",") }
func (f *filesFlag) Set(v string) error { *f = append(*f, v); return nil }

// runCompose: axisctl compose --from CODE --to CODE... --subject S --notation N/ABBR [--attach FILE]... [--out FILE]
//
// It writes an unsigned edXML document (QCVN 102:2016) for `axisctl sign`:
// a new document (BussinessDocType 0) with the header a hub routes by
// (From, To, DocumentId, Code, PromulgationDate) and the attachments, so
// that a document for a central body or another province needs no XML
// editing. The date is today in Asia/Ho_Chi_Minh unless --date.
func runCompose(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compose", "--from CODE[=NAME] --to CODE[=NAME] [--to ...] --subject TEXT --notation N/ABBR [--attach FILE]... [-o OUT.xml]", stderr)
	from := fs.String("from", "", "the sending organ (its code, =its name optional)")
	var to organsFlag
	fs.Var(&to, "to", "a recipient organ, CODE or CODE=NAME; repeat for each")
	subject := fs.String("subject", "", "the document's subject (trích yếu)")
	notation := fs.String("notation", "", `number and notation, e.g. "15/UBND-VP"`)
	date := fs.String("date", "", "promulgation date YYYY/MM/DD (default today in Asia/Ho_Chi_Minh)")
	typeName := fs.String("type", "Công văn", "the document type's name")
	content := fs.String("content", "", "the document's text (optional)")
	var attach filesFlag
	fs.Var(&attach, "attach", "a file to attach; repeat for each")
	out := fs.String("o", "", "write the envelope to this file instead of standard output")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if code, done := requireFlags(fs, stderr, "from", "subject", "notation"); done {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "compose: takes no arguments, got %d", len(pos))
	}
	if len(to) == 0 {
		return usageError(stderr, "compose: --to is required (repeat it for each recipient)")
	}
	sender, err := parseOrgan(*from)
	if err != nil {
		return usageError(stderr, "compose: --from: %v", err)
	}
	number, abbr, ok := strings.Cut(*notation, "/")
	if !ok || strings.TrimSpace(number) == "" || strings.TrimSpace(abbr) == "" {
		return usageError(stderr, `compose: --notation is NUMBER/ABBREVIATION, e.g. "15/UBND-VP"`)
	}
	day := *date
	if day == "" {
		day = time.Now().In(record.Zone).Format("2006/01/02")
	} else if _, err := time.Parse("2006/01/02", day); err != nil {
		return usageError(stderr, "compose: --date %q is not YYYY/MM/DD", day)
	}
	m := &envelope.Message{
		Kind:             envelope.KindDocument,
		From:             sender,
		To:               to,
		DocumentID:       sender.OrganID + "," + day + "," + strings.TrimSpace(*notation),
		Code:             envelope.Code{CodeNumber: strings.TrimSpace(number), CodeNotation: strings.TrimSpace(abbr)},
		PromulgationInfo: envelope.PromulgationInfo{PromulgationDate: day},
		DocumentType:     envelope.DocumentType{Type: "1", TypeName: *typeName},
		Subject:          *subject,
		Content:          *content,
		TraceHeaders:     []envelope.TraceHeader{{OrganID: sender.OrganID, Timestamp: time.Now().In(record.Zone).Format("2006/01/02 15:04:05")}},
		Business:         &envelope.Business{DocType: envelope.BusinessNew, DocReason: "Văn bản điện tử mới", Paper: "0"},
	}
	for i, f := range attach {
		b, err := os.ReadFile(f)
		if err != nil {
			return fail(stderr, fmt.Errorf("compose: %w", err)) // a missing file: exit 1
		}
		ct := mime.TypeByExtension(filepath.Ext(f))
		if ct == "" {
			ct = "application/octet-stream"
		}
		m.Attachments = append(m.Attachments, envelope.NewAttachment(fmt.Sprintf("cid:%d", i+1), filepath.Base(f), ct, b))
	}
	raw, err := envelope.Encode(m)
	if err != nil {
		return fail(stderr, fmt.Errorf("compose: %w", err))
	}
	return emit(stdout, stderr, *out, raw)
}
