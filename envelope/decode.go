package envelope

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// skeleton holds the structural elements of an edXML document.
type skeleton struct {
	root, envelope, header, message, trace, body, attachments *etree.Element
}

// inNS reports whether el is in the edXML namespace.
func inNS(el *etree.Element) bool { return el.NamespaceURI() == Namespace }

// children returns the child elements of el named tag in the edXML namespace.
func children(el *etree.Element, tag string) []*etree.Element {
	if el == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && inNS(c) {
			out = append(out, c)
		}
	}
	return out
}

// only returns the single child named tag (nil if absent) or an error naming
// the duplicate.
func only(el *etree.Element, tag string) (*etree.Element, error) {
	cs := children(el, tag)
	switch len(cs) {
	case 0:
		return nil, nil
	case 1:
		return cs[0], nil
	}
	return nil, fmt.Errorf("%w: %d %s elements, want at most one", ErrHeaderInvalid, len(cs), tag)
}

// required is only for a child that must be present: a missing one is an
// error too.
func required(el *etree.Element, tag string) (*etree.Element, error) {
	c, err := only(el, tag)
	if err == nil && c == nil {
		err = fmt.Errorf("%w: missing %s", ErrHeaderInvalid, tag)
	}
	return c, err
}

func text(el *etree.Element, tag string) string {
	for _, c := range children(el, tag) {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// readSkeleton checks the envelope's shape: one edXML root holding one
// edXMLEnvelope with one edXMLHeader with one MessageHeader.
func readSkeleton(root *etree.Element) (*skeleton, error) {
	if root.Tag != "edXML" || !inNS(root) {
		return nil, fmt.Errorf("%w: root element is {%s}%s, want {%s}edXML", ErrHeaderInvalid, root.NamespaceURI(), root.Tag, Namespace)
	}
	s := &skeleton{root: root}
	var err error
	if s.envelope, err = required(root, "edXMLEnvelope"); err != nil {
		return nil, err
	}
	if s.attachments, err = only(root, "AttachmentEncoded"); err != nil {
		return nil, err
	}
	if s.header, err = required(s.envelope, "edXMLHeader"); err != nil {
		return nil, err
	}
	if s.body, err = only(s.envelope, "edXMLBody"); err != nil {
		return nil, err
	}
	if s.message, err = required(s.header, "MessageHeader"); err != nil {
		return nil, err
	}
	if s.trace, err = only(s.header, "TraceHeaderList"); err != nil {
		return nil, err
	}
	return s, nil
}

func readOrganization(el *etree.Element) Organization {
	return Organization{
		OrganID:              text(el, "OrganId"),
		OrganizationInCharge: text(el, "OrganizationInCharge"),
		OrganName:            text(el, "OrganName"),
		OrganAdd:             text(el, "OrganAdd"),
		Email:                text(el, "Email"),
		Telephone:            text(el, "Telephone"),
		Fax:                  text(el, "Fax"),
		Website:              text(el, "Website"),
	}
}

func readStaff(el *etree.Element) *StaffInfo {
	if el == nil {
		return nil
	}
	return &StaffInfo{
		Department: text(el, "Department"),
		Staff:      text(el, "Staff"),
		Email:      text(el, "Email"),
		Mobile:     text(el, "Mobile"),
	}
}

func first(els []*etree.Element) *etree.Element {
	if len(els) == 0 {
		return nil
	}
	return els[0]
}

// readMessage builds the model from a checked skeleton. It does not validate
// required fields (see Message.Validate).
func readMessage(s *skeleton) (*Message, error) {
	mh := s.message
	m := &Message{Kind: KindDocument}
	from, err := only(mh, "From")
	if err != nil {
		return nil, err
	}
	if from != nil {
		m.From = readOrganization(from)
	}
	for _, to := range children(mh, "To") {
		m.To = append(m.To, readOrganization(to))
	}
	m.DocumentID = text(mh, "DocumentId")
	if c := first(children(mh, "Code")); c != nil {
		m.Code = Code{CodeNumber: text(c, "CodeNumber"), CodeNotation: text(c, "CodeNotation")}
	}
	if p := first(children(mh, "PromulgationInfo")); p != nil {
		m.PromulgationInfo = PromulgationInfo{Place: text(p, "Place"), PromulgationDate: text(p, "PromulgationDate")}
	}
	if d := first(children(mh, "DocumentType")); d != nil {
		m.DocumentType = DocumentType{Type: text(d, "Type"), TypeDetail: text(d, "TypeDetail"), TypeName: text(d, "TypeName")}
	}
	m.Subject = text(mh, "Subject")
	m.Content = text(mh, "Content")
	if si := first(children(mh, "SignerInfo")); si != nil {
		m.SignerInfo = SignerInfo{Competence: text(si, "Competence"), Position: text(si, "Position"), FullName: text(si, "FullName")}
	}
	m.DueDate = text(mh, "DueDate")
	if oi := first(children(mh, "OtherInfo")); oi != nil {
		m.OtherInfo = OtherInfo{
			Priority:             text(oi, "Priority"),
			SphereOfPromulgation: text(oi, "SphereOfPromulgation"),
			TyperNotation:        text(oi, "TyperNotation"),
			PromulgationAmount:   text(oi, "PromulgationAmount"),
			PageAmount:           text(oi, "PageAmount"),
			Direction:            text(oi, "Direction"),
		}
		for _, a := range children(first(children(oi, "Appendixes")), "Appendix") {
			m.OtherInfo.Appendixes = append(m.OtherInfo.Appendixes, strings.TrimSpace(a.Text()))
		}
	}
	for _, r := range children(mh, "ResponseFor") {
		m.ResponseFor = append(m.ResponseFor, ResponseFor{
			OrganID:          text(r, "OrganId"),
			Code:             text(r, "Code"),
			PromulgationDate: text(r, "PromulgationDate"),
			DocumentID:       text(r, "DocumentId"),
		})
	}
	m.SteeringType = text(mh, "SteeringType")
	for _, p := range children(first(children(mh, "ToPlaces")), "Place") {
		m.ToPlaces = append(m.ToPlaces, strings.TrimSpace(p.Text()))
	}
	m.StaffInfo = readStaff(first(children(mh, "StaffInfo")))
	if sc := children(mh, "StatusCode"); len(sc) > 0 {
		m.Kind = KindStatus
		m.StatusCode = strings.TrimSpace(sc[0].Text())
	}
	m.Description = text(mh, "Description")
	m.Timestamp = text(mh, "Timestamp")

	for _, th := range children(s.trace, "TraceHeader") {
		m.TraceHeaders = append(m.TraceHeaders, TraceHeader{OrganID: text(th, "OrganId"), Timestamp: text(th, "Timestamp")})
	}
	bus, err := only(s.trace, "Bussiness")
	if err != nil {
		return nil, err
	}
	if bus != nil {
		b := &Business{
			DocumentID: text(bus, "DocumentId"),
			DocReason:  text(bus, "BussinessDocReason"),
			Paper:      text(bus, "Paper"),
			StaffInfo:  readStaff(first(children(bus, "StaffInfo"))),
		}
		if t := text(bus, "BussinessDocType"); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil || n < BusinessNew || n > BusinessReplace {
				return nil, fmt.Errorf("%w: Bussiness/BussinessDocType %q is not 0, 1, 2 or 3", ErrHeaderInvalid, t)
			}
			b.DocType = n
		}
		for _, ri := range children(first(children(bus, "ReplacementInfoList")), "ReplacementInfo") {
			r := ReplacementInfo{DocumentID: text(ri, "DocumentId")}
			for _, o := range children(first(children(ri, "OrganIdList")), "OrganId") {
				r.OrganIDs = append(r.OrganIDs, strings.TrimSpace(o.Text()))
			}
			b.Replacements = append(b.Replacements, r)
		}
		m.Business = b
	}

	for _, r := range children(first(children(s.body, "edXMLManifest")), "Reference") {
		m.Manifest = append(m.Manifest, ManifestRef{
			ContentID:      text(r, "ContentId"),
			ContentType:    text(r, "ContentType"),
			Description:    text(r, "Description"),
			AttachmentName: text(r, "AttachmentName"),
		})
	}
	for _, a := range children(s.attachments, "Attachment") {
		enc := ""
		if c := first(children(a, "ContentTransferEncoded")); c != nil {
			enc = c.Text()
		}
		m.Attachments = append(m.Attachments, &Attachment{
			ContentID:   text(a, "ContentId"),
			Name:        text(a, "AttachmentName"),
			Description: text(a, "Description"),
			ContentType: text(a, "ContentType"),
			Size:        decodedLen(enc),
			encoded:     enc,
		})
	}
	return m, nil
}

// Validate checks the fields a hub needs: for a document, a valid From, at
// least one To, each with a valid organ code, a Subject, and a target for
// revoke, update and replace; for a status message, a valid From, a
// ResponseFor naming the original sender, a known StatusCode and a Timestamp.
// The error wraps ErrHeaderInvalid and names the field.
func (m *Message) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrHeaderInvalid}, a...)...)
	}
	organ := func(field, v string) error {
		if v == "" {
			return bad("missing %s", field)
		}
		if _, err := ParseOrganID(v); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		return nil
	}
	if err := organ("From/OrganId", m.From.OrganID); err != nil {
		return err
	}
	if err := m.checkLengths(); err != nil {
		return err
	}
	switch m.Kind {
	case KindStatus:
		if len(m.ResponseFor) == 0 {
			return bad("missing ResponseFor (the document this status answers)")
		}
		for i, r := range m.ResponseFor {
			if err := organ(fmt.Sprintf("ResponseFor[%d]/OrganId", i+1), r.OrganID); err != nil {
				return err
			}
		}
		if _, ok := StatusCodes[m.StatusCode]; !ok {
			return bad("StatusCode %q is not one of 01-06, 13, 15, 16", m.StatusCode)
		}
		if m.Timestamp == "" {
			return bad("missing Timestamp")
		}
	default:
		if len(m.To) == 0 {
			return bad("missing To (no recipient)")
		}
		for i, t := range m.To {
			if err := organ(fmt.Sprintf("To[%d]/OrganId", i+1), t.OrganID); err != nil {
				return err
			}
		}
		if m.Subject == "" {
			return bad("missing Subject")
		}
		switch m.BusinessDocType() {
		case BusinessRevoke, BusinessUpdate:
			if len(m.ResponseFor) == 0 && m.Business.DocumentID == "" {
				return bad("missing ResponseFor or Bussiness/DocumentId (the target of a revoke or update)")
			}
		case BusinessReplace:
			if len(m.ResponseFor) == 0 && (m.Business == nil || len(m.Business.Replacements) == 0) {
				return bad("missing ReplacementInfoList (the target of a replacement)")
			}
		}
	}
	return nil
}

// Longest values of the fields that become index keys or lookup keys (a
// bbolt key is at most 32 KiB, and no real value comes near these). Organ
// codes are bounded by ParseOrganID (35 characters).
const (
	MaxDocumentIDLen   = 256  // DocumentId, ResponseFor/DocumentId, Bussiness/DocumentId, ReplacementInfo/DocumentId
	MaxCodeNumberLen   = 64   // Code/CodeNumber
	MaxCodeNotationLen = 128  // Code/CodeNotation
	MaxCodeLen         = 256  // ResponseFor/Code ("15/UBND-VP")
	MaxSubjectLen      = 2000 // Subject, in characters
)

// checkLengths bounds the fields that become keys; the error wraps
// ErrHeaderInvalid and names the field and its limit.
func (m *Message) checkLengths() error {
	type field struct {
		name  string
		value string
		max   int
		runes bool
	}
	fs := []field{
		{"DocumentId", m.DocumentID, MaxDocumentIDLen, false},
		{"Code/CodeNumber", m.Code.CodeNumber, MaxCodeNumberLen, false},
		{"Code/CodeNotation", m.Code.CodeNotation, MaxCodeNotationLen, false},
		{"Subject", m.Subject, MaxSubjectLen, true},
	}
	for i, r := range m.ResponseFor {
		fs = append(fs, field{fmt.Sprintf("ResponseFor[%d]/DocumentId", i+1), r.DocumentID, MaxDocumentIDLen, false},
			field{fmt.Sprintf("ResponseFor[%d]/Code", i+1), r.Code, MaxCodeLen, false})
	}
	if b := m.Business; b != nil {
		fs = append(fs, field{"Bussiness/DocumentId", b.DocumentID, MaxDocumentIDLen, false})
		for i, r := range b.Replacements {
			fs = append(fs, field{fmt.Sprintf("ReplacementInfoList[%d]/DocumentId", i+1), r.DocumentID, MaxDocumentIDLen, false})
		}
	}
	for _, f := range fs {
		n, unit := len(f.value), "bytes"
		if f.runes {
			n, unit = utf8.RuneCountInString(f.value), "characters"
		}
		if n > f.max {
			return fmt.Errorf("%w: %s is %d %s, limit %d", ErrHeaderInvalid, f.name, n, unit, f.max)
		}
	}
	return nil
}
