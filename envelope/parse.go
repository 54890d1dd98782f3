package envelope

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Limits bound what a parser will take on. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int64 // whole envelope; default 64 MiB
	MaxDepth    int   // element nesting; default 64
	MaxElements int   // elements in the document; default 200,000
	// MaxTokens bounds elements, attributes, comments, processing
	// instructions and CDATA sections together; default 500,000.
	MaxTokens               int
	MaxAttributesPerElement int // default 64
	MaxNamespacesPerElement int // namespace declarations on one element; default 32
	MaxNamespaces           int // namespace declarations in the document; default 20,000
	MaxNameLength           int // an element's, attribute's or PI target's name, in bytes; default 256
}

// Default limits. A real envelope is 7 levels deep and holds a few hundred
// elements (a few thousand with 240 recipients), each with at most a few
// attributes; the rest of its size is base64 text. Some serializers
// declare the namespace again on every element, hence the generous
// per-document count of declarations.
const (
	DefaultMaxBytes                = 64 << 20
	DefaultMaxDepth                = 64
	DefaultMaxElements             = 200_000
	DefaultMaxTokens               = 500_000
	DefaultMaxAttributesPerElement = 64
	DefaultMaxNamespacesPerElement = 32
	DefaultMaxNamespaces           = 20_000
	DefaultMaxNameLength           = 256
)

func (l *Limits) withDefaults() Limits {
	var o Limits
	if l != nil {
		o = *l
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	def(&o.MaxDepth, DefaultMaxDepth)
	def(&o.MaxElements, DefaultMaxElements)
	def(&o.MaxTokens, DefaultMaxTokens)
	def(&o.MaxAttributesPerElement, DefaultMaxAttributesPerElement)
	def(&o.MaxNamespacesPerElement, DefaultMaxNamespacesPerElement)
	def(&o.MaxNamespaces, DefaultMaxNamespaces)
	def(&o.MaxNameLength, DefaultMaxNameLength)
	return o
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

// parseTree applies the limits and the strict checks (scan), parses, and checks there is exactly one root
// element and nothing but white space, comments and processing instructions
// beside it.
func parseTree(raw []byte, lim Limits) (*etree.Document, error) {
	runs, err := scan(raw, lim)
	if err != nil {
		return nil, err
	}
	doc, err := readTree(raw, runs, lim.MaxDepth+1)
	if err != nil {
		return nil, err
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

// readTree parses raw (scanned: runs are its long base64 text runs) with
// etree. encoding/xml under etree reads text a byte at a time, most of a
// big envelope's parse: so each run is replaced by a short marker in a
// copy of the markup, the copy is parsed, and each marker's CharData is
// given the run's text back, which is what parsing it would have given (a
// run holds no reference, no carriage return, no character XML refuses).
// Should a marker not come back exactly once, in order, as a whole CharData
// (text that looked like a marker), the original is parsed as it is.
func readTree(raw []byte, runs []textRun, maxDepth int) (*etree.Document, error) {
	if len(runs) == 0 {
		return readEtree(withoutBOM(raw), maxDepth)
	}
	small := make([]byte, 0, len(raw)-(runs[len(runs)-1].end-runs[0].start)+len(runs)*24)
	at := 0
	for i, r := range runs {
		small = append(small, raw[at:r.start]...)
		small = append(small, runMarker...)
		small = strconv.AppendInt(small, int64(i), 10)
		small = append(small, '.')
		at = r.end
	}
	small = append(small, raw[at:]...)
	doc, err := readEtree(withoutBOM(small), maxDepth)
	if err != nil {
		return readEtree(withoutBOM(raw), maxDepth) // the original's own error
	}
	next, ok := 0, true
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		for _, t := range el.Child {
			switch t := t.(type) {
			case *etree.CharData:
				if !strings.HasPrefix(t.Data, runMarker) {
					continue
				}
				if t.Data != runMarker+strconv.Itoa(next)+"." || next >= len(runs) || t.IsCData() {
					ok = false
					return
				}
				t.Data = string(raw[runs[next].start:runs[next].end])
				next++
			case *etree.Element:
				walk(t)
			}
			if !ok {
				return
			}
		}
	}
	walk(&doc.Element)
	if !ok || next != len(runs) {
		return readEtree(withoutBOM(raw), maxDepth)
	}
	return doc, nil
}

// runMarker starts the text that stands for a textRun in readTree's copy.
const runMarker = "axis-elided-text-run-"

// readEtree parses b with etree, as the envelope package does everywhere.
func readEtree(b []byte, maxDepth int) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{CharsetReader: onlyUTF8, MaxDepth: maxDepth}
	if err := doc.ReadFromBytes(b); err != nil {
		if err == etree.ErrMaxDepth {
			return nil, fmt.Errorf("%w: %v", ErrTooDeep, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformedXML, err)
	}
	return doc, nil
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

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
		for i, a := range el.Attr {
			if a.Space != "" && declared[a.Space] == 0 {
				return fmt.Errorf("%w: attribute %s:%s uses an undeclared namespace prefix", ErrMalformedXML, a.Space, a.Key)
			}
			switch {
			case a.Space == "xmlns" && a.Key == "xmlns":
				return fmt.Errorf("%w: the prefix xmlns may not be declared", ErrMalformedXML)
			case a.Space == "xmlns" && a.Key == "xml" && a.Value != xmlNamespace:
				return fmt.Errorf("%w: the prefix xml may only be bound to %s", ErrMalformedXML, xmlNamespace)
			case a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns"):
				continue
			}
			// Two attributes with the same namespace and local name under
			// different prefixes are one attribute given twice.
			if a.Space == "" {
				continue
			}
			uri := a.NamespaceURI()
			for _, b := range el.Attr[:i] {
				if b.Space != "" && b.Space != "xmlns" && b.Key == a.Key && b.NamespaceURI() == uri {
					return fmt.Errorf("%w: attribute {%s}%s appears twice on one element", ErrMalformedXML, uri, a.Key)
				}
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
