package testgen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/axis-h40/axis/envelope"
)

// hostileXML is the corpus of issue 11: XML that XML 1.0 calls not
// well-formed but Go's parser took, shapes that cost the parser more than
// any envelope needs, unsigned edXML inside the Signature, over-long key
// fields, and envelopes whose signer may not do what they ask.
func hostileXML(good []byte, signAs signFunc) ([]hcase, error) {
	var cs []hcase
	add := func(name, code, what string, data []byte) {
		cs = append(cs, hcase{name: name, code: code, what: what, data: data})
	}
	commune := AgencyName(Commune)
	const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>`
	const edxmlOpen = `<edXML xmlns="` + envelope.Namespace + `">`
	const envOpen = `<edXML:edXMLEnvelope xmlns:edXML="` + envelope.Namespace + `">`

	// Not well-formed, each accepted by encoding/xml.
	add("attribute-twice", "malformed_xml", "an attribute given twice on one element",
		replaceOnce(good, envOpen, `<edXML:edXMLEnvelope xmlns:edXML="`+envelope.Namespace+`" id="a" id="b">`))
	add("namespace-prefix-twice", "malformed_xml", "the same namespace prefix declared twice on one element",
		replaceOnce(good, envOpen, `<edXML:edXMLEnvelope xmlns:edXML="`+envelope.Namespace+`" xmlns:edXML="urn:forged">`))
	add("attribute-two-prefixes-one-namespace", "malformed_xml", "one namespaced attribute twice under two prefixes bound to the same namespace",
		replaceOnce(good, envOpen, `<edXML:edXMLEnvelope xmlns:edXML="`+envelope.Namespace+`" xmlns:a="urn:x" xmlns:b="urn:x" a:k="1" b:k="2">`))
	add("attributes-run-together", "malformed_xml", "two attributes with no white space between them",
		replaceOnce(good, envOpen, `<edXML:edXMLEnvelope xmlns:edXML="`+envelope.Namespace+`" a="1"b="2">`))
	add("xml-declaration-not-first", "malformed_xml", "a comment before the XML declaration",
		append([]byte("<!-- exported by DMS -->\n"), good...))
	add("xml-declaration-twice", "malformed_xml", "a second XML declaration after the first",
		replaceOnce(good, xmlDecl, xmlDecl+"\n"+xmlDecl))
	add("text-after-root", "malformed_xml", "text after the root element",
		append(append([]byte{}, good...), "1212"...))
	add("bom", "ok", "a UTF-8 byte order mark before the declaration (legal; .NET writes it)",
		append([]byte{0xEF, 0xBB, 0xBF}, good...))

	// Shapes past the caps (large ones are gzip-compressed here).
	{
		var b bytes.Buffer
		b.WriteString(xmlDecl + "\n<edXML xmlns=\"" + envelope.Namespace + "\"")
		for i := 0; i < 100_000; i++ {
			fmt.Fprintf(&b, ` xmlns:n%d="u"`, i)
		}
		b.WriteString("/>")
		add("namespaces-100000", "too_large", "100,000 unused namespace declarations on the root (the 30 MB form is made by a test)", b.Bytes())
	}
	{
		var b bytes.Buffer
		b.WriteString(xmlDecl + "\n" + edxmlOpen + "<edXMLEnvelope a0=\"\"")
		for i := 1; i < 200_000; i++ {
			fmt.Fprintf(&b, ` a%d=""`, i)
		}
		b.WriteString("/></edXML>")
		add("attributes-200000", "too_large", "200,000 attributes on one element (the 30 MB form is made by a test)", b.Bytes())
	}
	{
		var b bytes.Buffer
		b.WriteString(xmlDecl + "\n" + edxmlOpen)
		for i := 0; i < 600_000/envelope.DefaultMaxAttributesPerElement; i++ {
			b.WriteString("<e")
			for j := 0; j < envelope.DefaultMaxAttributesPerElement; j++ {
				fmt.Fprintf(&b, ` a%d=""`, j)
			}
			b.WriteString("/>")
		}
		b.WriteString("</edXML>")
		add("attributes-spread-600000", "too_large", "600,000 attributes, 64 on each element (past the token cap)", b.Bytes())
	}
	{
		var b bytes.Buffer
		b.WriteString(xmlDecl + "\n" + edxmlOpen)
		for i := 0; i < 700; i++ {
			b.WriteString("<e")
			for j := 0; j < envelope.DefaultMaxNamespacesPerElement; j++ {
				fmt.Fprintf(&b, ` xmlns:n%d="u"`, j)
			}
			b.WriteString("/>")
		}
		b.WriteString("</edXML>")
		add("namespaces-spread", "too_large", "32 namespace declarations on each of 700 elements (past the per-document cap)", b.Bytes())
	}
	add("name-100000", "too_large", "an element name of 100,000 characters",
		replaceOnce(good, "<edXML:Content>", "<edXML:Content><"+strings.Repeat("n", 100_000)+"/>"))

	// Unsigned edXML inside the Signature: the enveloped transform drops the
	// whole Signature, so nothing in it is signed.
	{
		d := mustDoc(good)
		sig := signature(d)
		obj := sig.CreateElement("ds:Object")
		forged := header(d).FindElement("./edXML:MessageHeader").Copy()
		forged.FindElement("./edXML:Subject").SetText("Quyết định giả mạo")
		forged.FindElement("./edXML:To/edXML:OrganId").SetText(District)
		obj.AddChild(forged)
		add("signature-object-forged-header", "signature_invalid", "a ds:Object in the Signature holding a forged edXML MessageHeader", bytesOf(d))
	}
	{
		d := mustDoc(good)
		sig := signature(d)
		sig.CreateElement("edXML:MessageHeader").CreateElement("edXML:Subject").SetText("Quyết định giả mạo")
		add("signature-edxml-child", "signature_invalid", "an edXML MessageHeader as a direct child of the Signature", bytesOf(d))
	}

	// Over-long fields that become index keys, correctly signed.
	long := strings.Repeat("X", 40_000)
	for _, c := range []struct {
		name, what string
		edit       func(*envelope.Message)
	}{
		{"codenotation-40000", "a CodeNotation of 40,000 characters (bbolt's key limit is 32 KiB)", func(m *envelope.Message) { m.Code.CodeNotation = long }},
		{"documentid-40000", "a DocumentId of 40,000 characters", func(m *envelope.Message) { m.DocumentID = Commune + ",2026/05/28," + long }},
		{"subject-40000", "a Subject of 40,000 characters", func(m *envelope.Message) { m.Subject = strings.Repeat("Công văn ", 5000) }},
	} {
		m := NewDocument()
		c.edit(m)
		raw, err := signAs(m, commune)
		if err != nil {
			return nil, err
		}
		add(c.name, "header_invalid", c.what, raw)
	}

	// Authority: signed by the commune, about documents that are not its own
	// or that it never received.
	other := envelope.ResponseFor{OrganID: Province, Code: "7/UBND-VP", DocumentID: Province + ",2026/05/20,7/UBND-VP", PromulgationDate: "2026/05/20"}
	for _, c := range []struct {
		name, what string
		edit       func(*envelope.Message)
	}{
		{"revoke-other-agency", "a revoke whose ResponseFor names the province's document", func(m *envelope.Message) {
			m.Business.DocType = envelope.BusinessRevoke
			m.ResponseFor = []envelope.ResponseFor{other}
		}},
		{"revoke-other-agency-documentid", "a revoke naming its own organ in ResponseFor/OrganId but the province's DocumentId", func(m *envelope.Message) {
			m.Business.DocType = envelope.BusinessRevoke
			m.ResponseFor = []envelope.ResponseFor{{OrganID: Commune, Code: other.Code, DocumentID: other.DocumentID}}
		}},
		{"update-other-agency", "an update naming the province's document only in Bussiness/DocumentId", func(m *envelope.Message) {
			m.Business.DocType = envelope.BusinessUpdate
			m.Business.DocumentID = other.DocumentID
		}},
		{"replace-other-agency", "a replacement whose ReplacementInfoList names the province's document", func(m *envelope.Message) {
			m.Business.DocType = envelope.BusinessReplace
			m.Business.Replacements = []envelope.ReplacementInfo{{DocumentID: other.DocumentID, OrganIDs: []string{Department}}}
		}},
	} {
		m := NewDocument()
		m.Code.CodeNumber = "16"
		m.DocumentID = Commune + ",2026/05/29,16/UBND-VP"
		c.edit(m)
		raw, err := signAs(m, commune)
		if err != nil {
			return nil, err
		}
		add(c.name, "not_entitled", c.what, raw)
	}
	{
		m := Status("03", "Đã tiếp nhận")
		m.From = organs[Commune]
		m.ResponseFor = []envelope.ResponseFor{other}
		raw, err := signAs(m, commune)
		if err != nil {
			return nil, err
		}
		cs = append(cs, hcase{name: "status-not-a-recipient", code: "not_entitled", verify: "ok",
			what: "a status from the commune about a province document it never received", data: raw})
	}
	return cs, nil
}
