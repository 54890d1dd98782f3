package envelope

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Limits bound what a parser will take on. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int64 // whole envelope; default 64 MiB
	MaxDepth    int   // element nesting; default 64
	MaxElements int   // elements in the document; default 200,000
}

// Default limits. A real envelope is 7 levels deep and holds a few hundred
// elements; the rest of its size is base64 text.
const (
	DefaultMaxBytes    = 64 << 20
	DefaultMaxDepth    = 64
	DefaultMaxElements = 200_000
)

func (l *Limits) withDefaults() Limits {
	var o Limits
	if l != nil {
		o = *l
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxElements <= 0 {
		o.MaxElements = DefaultMaxElements
	}
	return o
}

// prescan refuses, before any tree is built, input that is too large, not
// UTF-8, has a DOCTYPE, or nests or counts elements past the limits. It walks
// the markup with IndexByte, so it costs little next to the parse. It is not a
// well-formedness check: the parser does that.
func prescan(b []byte, lim Limits) error {
	if int64(len(b)) > lim.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), lim.MaxBytes)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", ErrMalformedXML)
	}
	depth, elems := 0, 0
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return nil
		}
		i += j + 1
		rest := b[i:]
		var end []byte // skip to after this terminator
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			end = []byte("-->")
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			end = []byte("]]>")
		case bytes.HasPrefix(rest, []byte("!DOCTYPE")):
			return fmt.Errorf("%w: the document has a DOCTYPE declaration", ErrDoctypeForbidden)
		case bytes.HasPrefix(rest, []byte("!")):
			return fmt.Errorf("%w: markup declaration outside a DOCTYPE", ErrMalformedXML)
		case bytes.HasPrefix(rest, []byte("?")):
			end = []byte("?>")
		case bytes.HasPrefix(rest, []byte("/")):
			depth--
			end = []byte(">")
		default:
			elems++
			if elems > lim.MaxElements {
				return fmt.Errorf("%w: more than %d elements", ErrTooLarge, lim.MaxElements)
			}
			k := tagEnd(rest)
			if k < 0 {
				return nil // truncated: the parser reports it
			}
			if k == 0 || rest[k-1] != '/' {
				depth++
				if depth > lim.MaxDepth {
					return fmt.Errorf("%w: elements nested more than %d deep", ErrTooDeep, lim.MaxDepth)
				}
			}
			i += k + 1
			continue
		}
		k := bytes.Index(rest, end)
		if k < 0 {
			return nil
		}
		i += k + len(end)
	}
}

// tagEnd returns the index of the '>' closing a start tag, skipping quoted
// attribute values, or -1.
func tagEnd(b []byte) int {
	var quote byte
	for i, c := range b {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// onlyUTF8 refuses any declared encoding but UTF-8 (etree's default would
// pass other charsets through undecoded).
func onlyUTF8(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8":
		return input, nil
	}
	return nil, fmt.Errorf("encoding %q is not UTF-8", charset)
}

// parseTree applies the limits, parses, and checks there is exactly one root
// element and nothing but white space, comments and processing instructions
// beside it.
func parseTree(raw []byte, lim Limits) (*etree.Document, error) {
	if err := prescan(raw, lim); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{CharsetReader: onlyUTF8, MaxDepth: lim.MaxDepth + 1}
	if err := doc.ReadFromBytes(raw); err != nil {
		if err == etree.ErrMaxDepth {
			return nil, fmt.Errorf("%w: %v", ErrTooDeep, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformedXML, err)
	}
	roots := 0
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Element:
			roots++
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformedXML)
			}
		case *etree.Directive:
			return nil, fmt.Errorf("%w: directive outside the root element", ErrDoctypeForbidden)
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: %d root elements, want exactly one", ErrMalformedXML, roots)
	}
	if err := checkPrefixes(doc.Root()); err != nil {
		return nil, err
	}
	return doc, nil
}

// checkPrefixes refuses an element or attribute whose namespace prefix is not
// declared in scope (encoding/xml and etree let that through; an XML
// namespace processor must not). One map of declaration counts is updated on
// the way down and undone on the way back, so hostile declarations cost
// memory in proportion to the input, not to its depth.
func checkPrefixes(root *etree.Element) error {
	declared := map[string]int{"xml": 1, "xmlns": 1}
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		for _, a := range el.Attr {
			if a.Space == "xmlns" {
				declared[a.Key]++
			}
		}
		defer func() {
			for _, a := range el.Attr {
				if a.Space == "xmlns" {
					declared[a.Key]--
				}
			}
		}()
		if el.Space != "" && declared[el.Space] == 0 {
			return fmt.Errorf("%w: element %s:%s uses an undeclared namespace prefix", ErrMalformedXML, el.Space, el.Tag)
		}
		for _, a := range el.Attr {
			if a.Space != "" && declared[a.Space] == 0 {
				return fmt.Errorf("%w: attribute %s:%s uses an undeclared namespace prefix", ErrMalformedXML, a.Space, a.Key)
			}
		}
		for _, c := range el.ChildElements() {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

// Parse reads an envelope WITHOUT verifying its signature, for looking at what
// a field system sent (axisctl inspect). Nothing it returns may be trusted,
// routed or stored: use Verifier.Verify for that. Required fields are not
// checked; call Message.Validate to see what a hub would refuse.
func Parse(raw []byte, lim *Limits) (*Message, error) {
	doc, err := parseTree(raw, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	s, err := readSkeleton(doc.Root())
	if err != nil {
		return nil, err
	}
	return readMessage(s)
}
