package envelope

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"unicode/utf8"
)

// The strict, bounded pass that runs before any tree is built.
//
// Go's encoding/xml (and so etree) tolerates documents that XML 1.0 calls
// not well-formed, and recipients' parsers (libxml2, .NET, Java) refuse
// them: an attribute given twice (the same namespace prefix declared twice
// is the same thing), an XML declaration anywhere but at the very start,
// text or a second root element beside the root, attributes run together
// without white space. A hub that stores and relays such bytes hands its
// recipients something they cannot open, or open differently from what was
// verified. scan refuses all of that, and caps what the standard allows but
// no envelope needs (attributes and namespace declarations per element,
// namespace declarations per document, name length, total markup tokens),
// so that the cost of everything after it is bounded by the limits and not
// by the attacker. It walks markup with IndexByte: on a real envelope,
// whose bytes are mostly base64, it costs a few percent of the parse.
//
// What it does not check, the parser does: that end tags match, entity and
// character references, characters outside XML's range.

// bom is the UTF-8 byte order mark, legal before the XML declaration.
var bom = []byte{0xEF, 0xBB, 0xBF}

// withoutBOM returns b without a leading UTF-8 BOM. The stored bytes keep
// it; only the parser is spared it.
func withoutBOM(b []byte) []byte { return bytes.TrimPrefix(b, bom) }

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedXML}, a...)...)
}

func tooLarge(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLarge}, a...)...)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameEnd returns the length of the XML name at the start of b (up to white
// space, '/', '>', '=' or a quote).
func nameEnd(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r', '/', '>', '=', '"', '\'', '<':
			return i
		}
	}
	return len(b)
}

// isPITargetXML reports whether a processing instruction's target is "xml"
// in any case (reserved: only the declaration at the start may use it).
func isPITargetXML(b []byte) bool {
	return len(b) >= 3 && (b[0]|0x20) == 'x' && (b[1]|0x20) == 'm' && (b[2]|0x20) == 'l' &&
		(len(b) == 3 || isXMLSpace(b[3]) || b[3] == '?')
}

// A textRun is character data of an element, b[start:end] of scan's
// input: at least minRunBytes of base64's alphabet and spaces, tabs and
// line feeds only, with at least one letter of the alphabet. Such text
// reads as itself (no references, no carriage returns to normalize, no
// character XML refuses), so the parser may take it without tokenizing it
// (parseTree).
type textRun struct{ start, end int }

const minRunBytes = 4096

// isBase64Text reports whether t is a textRun's content.
func isBase64Text(t []byte) bool {
	letters := false
	for _, c := range t {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
			letters = true
		case c == ' ', c == '\t', c == '\n':
		default:
			return false
		}
	}
	return letters
}

// scan applies the limits and the strict checks to the whole input, and
// returns the element text runs a parser may take as they are (textRun),
// in document order.
func scan(b []byte, lim Limits) ([]textRun, error) {
	var runs []textRun
	if int64(len(b)) > lim.MaxBytes {
		return nil, tooLarge("%d bytes, limit %d", len(b), lim.MaxBytes)
	}
	if !utf8.Valid(b) {
		return nil, malformed("invalid UTF-8")
	}
	i := len(b) - len(withoutBOM(b))
	start := i
	depth, elems, tokens, nsTotal := 0, 0, 0, 0
	roots := 0
	// names of the current start tag's attributes, reused; past eight, a
	// map of their hashes (a start tag with 64 attributes would otherwise
	// cost 2,016 comparisons).
	var attrs [][]byte
	seen := map[uint64]int{}
	seed := maphash.MakeSeed()
	for {
		j := bytes.IndexByte(b[i:], '<')
		if depth == 0 {
			text := b[i:]
			if j >= 0 {
				text = b[i : i+j]
			}
			for _, c := range text {
				if !isXMLSpace(c) {
					if roots == 0 {
						return nil, malformed("text before the root element")
					}
					return nil, malformed("text after the root element")
				}
			}
		}
		if j < 0 {
			break
		}
		if depth > 0 && j >= minRunBytes && isBase64Text(b[i:i+j]) {
			runs = append(runs, textRun{i, i + j})
		}
		at := i + j
		i = at + 1
		rest := b[i:]
		tokens++
		if tokens > lim.MaxTokens {
			return nil, tooLarge("more than %d markup tokens", lim.MaxTokens)
		}
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			k := bytes.Index(rest[3:], []byte("-->"))
			if k < 0 {
				return nil, malformed("unterminated comment")
			}
			i += 3 + k + 3
			continue
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			if depth == 0 {
				return nil, malformed("CDATA outside the root element")
			}
			k := bytes.Index(rest, []byte("]]>"))
			if k < 0 {
				return nil, malformed("unterminated CDATA section")
			}
			i += k + 3
			continue
		case bytes.HasPrefix(rest, []byte("!DOCTYPE")):
			return nil, fmt.Errorf("%w: the document has a DOCTYPE declaration", ErrDoctypeForbidden)
		case bytes.HasPrefix(rest, []byte("!")):
			return nil, malformed("markup declaration outside a DOCTYPE")
		case bytes.HasPrefix(rest, []byte("?")):
			target := rest[1:]
			if isPITargetXML(target) && at != start {
				return nil, malformed("an XML declaration at byte %d: it may only stand at the very start", at)
			}
			if nameEnd(target) > lim.MaxNameLength {
				return nil, tooLarge("a processing instruction target longer than %d bytes", lim.MaxNameLength)
			}
			k := bytes.Index(rest, []byte("?>"))
			if k < 0 {
				return nil, malformed("unterminated processing instruction")
			}
			i += k + 2
			continue
		case bytes.HasPrefix(rest, []byte("/")):
			if depth == 0 {
				return nil, malformed("an end tag with no element open")
			}
			depth--
			k := bytes.IndexByte(rest, '>')
			if k < 0 {
				return nil, malformed("unterminated end tag")
			}
			if k-1 > lim.MaxNameLength {
				return nil, tooLarge("an end tag longer than %d bytes", lim.MaxNameLength)
			}
			i += k + 1
			continue
		}

		// A start tag.
		if roots > 0 && depth == 0 {
			return nil, malformed("a second root element")
		}
		if depth == 0 {
			roots++
		}
		elems++
		if elems > lim.MaxElements {
			return nil, tooLarge("more than %d elements", lim.MaxElements)
		}
		n := nameEnd(rest)
		if n == 0 {
			return nil, malformed("a '<' that starts no tag at byte %d", at)
		}
		if n > lim.MaxNameLength {
			return nil, tooLarge("an element name longer than %d bytes", lim.MaxNameLength)
		}
		p := n
		attrs = attrs[:0]
		nsHere := 0
		empty := false
	attributes:
		for {
			sp := p
			for p < len(rest) && isXMLSpace(rest[p]) {
				p++
			}
			if p >= len(rest) {
				return nil, malformed("unterminated start tag")
			}
			switch rest[p] {
			case '>':
				p++
				break attributes
			case '/':
				if p+1 >= len(rest) || rest[p+1] != '>' {
					return nil, malformed("'/' inside a start tag")
				}
				p += 2
				empty = true
				break attributes
			}
			if sp == p {
				return nil, malformed("attributes without white space between them at byte %d", at+1+p)
			}
			an := nameEnd(rest[p:])
			if an == 0 {
				return nil, malformed("a start tag with a stray %q at byte %d", rest[p], at+1+p)
			}
			if an > lim.MaxNameLength {
				return nil, tooLarge("an attribute name longer than %d bytes", lim.MaxNameLength)
			}
			name := rest[p : p+an]
			p += an
			for p < len(rest) && isXMLSpace(rest[p]) {
				p++
			}
			if p >= len(rest) || rest[p] != '=' {
				return nil, malformed("attribute %q has no value", name)
			}
			p++
			for p < len(rest) && isXMLSpace(rest[p]) {
				p++
			}
			if p >= len(rest) || (rest[p] != '"' && rest[p] != '\'') {
				return nil, malformed("attribute %q's value is not quoted", name)
			}
			q := rest[p]
			e := bytes.IndexByte(rest[p+1:], q)
			if e < 0 {
				return nil, malformed("unterminated attribute value")
			}
			value := rest[p+1 : p+1+e]
			p += 1 + e + 1
			if bytes.IndexByte(value, '<') >= 0 {
				return nil, malformed("'<' inside the value of attribute %q", name)
			}
			if len(attrs) < 8 {
				for _, a := range attrs {
					if bytes.Equal(a, name) {
						return nil, malformed("attribute %q appears twice on one element", name)
					}
				}
			} else {
				if len(attrs) == 8 {
					clear(seen)
					for k, a := range attrs {
						seen[maphash.Bytes(seed, a)] = k
					}
				}
				h := maphash.Bytes(seed, name)
				if k, dup := seen[h]; dup && bytes.Equal(attrs[k], name) {
					return nil, malformed("attribute %q appears twice on one element", name)
				}
				seen[h] = len(attrs) // a hash collision of two names only hides the first from this check
			}
			attrs = append(attrs, name)
			if len(attrs) > lim.MaxAttributesPerElement {
				return nil, tooLarge("more than %d attributes on one element", lim.MaxAttributesPerElement)
			}
			tokens++
			if tokens > lim.MaxTokens {
				return nil, tooLarge("more than %d markup tokens", lim.MaxTokens)
			}
			if bytes.Equal(name, []byte("xmlns")) || bytes.HasPrefix(name, []byte("xmlns:")) {
				nsHere++
				nsTotal++
				if nsHere > lim.MaxNamespacesPerElement {
					return nil, tooLarge("more than %d namespace declarations on one element", lim.MaxNamespacesPerElement)
				}
				if nsTotal > lim.MaxNamespaces {
					return nil, tooLarge("more than %d namespace declarations", lim.MaxNamespaces)
				}
				if len(name) > 6 && len(bytes.TrimSpace(value)) == 0 {
					return nil, malformed("%s undeclares a prefix (not allowed in XML 1.0)", name)
				}
			}
		}
		if !empty {
			depth++
			if depth > lim.MaxDepth {
				return nil, fmt.Errorf("%w: elements nested more than %d deep", ErrTooDeep, lim.MaxDepth)
			}
		}
		i += p
	}
	switch {
	case roots == 0:
		return nil, malformed("no root element")
	case depth > 0:
		return nil, malformed("the document ends inside an element (truncated?)")
	}
	return runs, nil
}
