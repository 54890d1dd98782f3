package envelope

import (
	"encoding/base64"
	"strconv"

	"github.com/beevik/etree"
)

// NewAttachment makes an attachment for Encode from its content.
func NewAttachment(contentID, name, contentType string, content []byte) *Attachment {
	return &Attachment{
		ContentID: contentID, Name: name, Description: name, ContentType: contentType,
		Size: int64(len(content)), encoded: base64.StdEncoding.EncodeToString(content),
	}
}

// Encode writes m as an unsigned edXML envelope in the layout field systems
// use (default namespace on the root, prefix edXML inside). Sign it before
// sending. Manifest references are derived from the attachments when
// m.Manifest is empty.
func Encode(m *Message) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("edXML")
	root.CreateAttr("xmlns", Namespace)
	env := root.CreateElement("edXML:edXMLEnvelope")
	env.CreateAttr("xmlns:edXML", Namespace)
	hdr := env.CreateElement("edXML:edXMLHeader")
	mh := hdr.CreateElement("edXML:MessageHeader")

	add := func(parent *etree.Element, tag, val string) {
		if val != "" {
			parent.CreateElement("edXML:" + tag).SetText(val)
		}
	}
	org := func(tag string, o Organization) {
		el := mh.CreateElement("edXML:" + tag)
		el.CreateElement("edXML:OrganId").SetText(o.OrganID)
		add(el, "OrganizationInCharge", o.OrganizationInCharge)
		add(el, "OrganName", o.OrganName)
		add(el, "OrganAdd", o.OrganAdd)
		add(el, "Email", o.Email)
		add(el, "Telephone", o.Telephone)
		add(el, "Fax", o.Fax)
		add(el, "Website", o.Website)
	}
	staff := func(parent *etree.Element, s *StaffInfo) {
		if s == nil {
			return
		}
		el := parent.CreateElement("edXML:StaffInfo")
		add(el, "Department", s.Department)
		add(el, "Staff", s.Staff)
		add(el, "Email", s.Email)
		add(el, "Mobile", s.Mobile)
	}
	responseFor := func() {
		for _, r := range m.ResponseFor {
			el := mh.CreateElement("edXML:ResponseFor")
			add(el, "OrganId", r.OrganID)
			add(el, "Code", r.Code)
			add(el, "DocumentId", r.DocumentID)
			add(el, "PromulgationDate", r.PromulgationDate)
		}
	}

	org("From", m.From)
	if m.Kind == KindStatus {
		responseFor()
		staff(mh, m.StaffInfo)
		add(mh, "StatusCode", m.StatusCode)
		add(mh, "Description", m.Description)
		add(mh, "Timestamp", m.Timestamp)
	} else {
		for _, t := range m.To {
			org("To", t)
		}
		add(mh, "DocumentId", m.DocumentID)
		c := mh.CreateElement("edXML:Code")
		add(c, "CodeNumber", m.Code.CodeNumber)
		add(c, "CodeNotation", m.Code.CodeNotation)
		p := mh.CreateElement("edXML:PromulgationInfo")
		add(p, "Place", m.PromulgationInfo.Place)
		add(p, "PromulgationDate", m.PromulgationInfo.PromulgationDate)
		d := mh.CreateElement("edXML:DocumentType")
		add(d, "Type", m.DocumentType.Type)
		add(d, "TypeDetail", m.DocumentType.TypeDetail)
		add(d, "TypeName", m.DocumentType.TypeName)
		add(mh, "Subject", m.Subject)
		add(mh, "Content", m.Content)
		si := mh.CreateElement("edXML:SignerInfo")
		add(si, "Competence", m.SignerInfo.Competence)
		add(si, "Position", m.SignerInfo.Position)
		add(si, "FullName", m.SignerInfo.FullName)
		add(mh, "DueDate", m.DueDate)
		oi := mh.CreateElement("edXML:OtherInfo")
		add(oi, "Priority", m.OtherInfo.Priority)
		add(oi, "SphereOfPromulgation", m.OtherInfo.SphereOfPromulgation)
		add(oi, "TyperNotation", m.OtherInfo.TyperNotation)
		add(oi, "PromulgationAmount", m.OtherInfo.PromulgationAmount)
		add(oi, "PageAmount", m.OtherInfo.PageAmount)
		add(oi, "Direction", m.OtherInfo.Direction)
		if len(m.OtherInfo.Appendixes) > 0 {
			ap := oi.CreateElement("edXML:Appendixes")
			for _, a := range m.OtherInfo.Appendixes {
				ap.CreateElement("edXML:Appendix").SetText(a)
			}
		}
		responseFor()
		add(mh, "SteeringType", m.SteeringType)
		if len(m.ToPlaces) > 0 {
			tp := mh.CreateElement("edXML:ToPlaces")
			for _, p := range m.ToPlaces {
				tp.CreateElement("edXML:Place").SetText(p)
			}
		}
	}

	if len(m.TraceHeaders) > 0 || m.Business != nil {
		tl := hdr.CreateElement("edXML:TraceHeaderList")
		for _, th := range m.TraceHeaders {
			el := tl.CreateElement("edXML:TraceHeader")
			add(el, "OrganId", th.OrganID)
			add(el, "Timestamp", th.Timestamp)
		}
		if b := m.Business; b != nil {
			bl := tl.CreateElement("edXML:Bussiness")
			add(bl, "DocumentId", b.DocumentID)
			bl.CreateElement("edXML:BussinessDocType").SetText(strconv.Itoa(b.DocType))
			add(bl, "BussinessDocReason", b.DocReason)
			add(bl, "Paper", b.Paper)
			if len(b.Replacements) > 0 {
				rl := bl.CreateElement("edXML:ReplacementInfoList")
				for _, r := range b.Replacements {
					ri := rl.CreateElement("edXML:ReplacementInfo")
					add(ri, "DocumentId", r.DocumentID)
					ol := ri.CreateElement("edXML:OrganIdList")
					for _, o := range r.OrganIDs {
						ol.CreateElement("edXML:OrganId").SetText(o)
					}
				}
			}
			staff(bl, b.StaffInfo)
		}
	}

	if m.Kind != KindStatus {
		man := env.CreateElement("edXML:edXMLBody").CreateElement("edXML:edXMLManifest")
		man.CreateAttr("version", "1.0")
		refs := m.Manifest
		if len(refs) == 0 {
			for _, a := range m.Attachments {
				refs = append(refs, ManifestRef{ContentID: a.ContentID, ContentType: a.ContentType, Description: a.Description, AttachmentName: a.Name})
			}
		}
		for _, r := range refs {
			el := man.CreateElement("edXML:Reference")
			add(el, "ContentId", r.ContentID)
			add(el, "ContentType", r.ContentType)
			add(el, "Description", r.Description)
			add(el, "AttachmentName", r.AttachmentName)
		}
		if len(m.Attachments) > 0 {
			ae := root.CreateElement("AttachmentEncoded")
			for _, a := range m.Attachments {
				el := ae.CreateElement("Attachment")
				el.CreateElement("ContentId").SetText(a.ContentID)
				el.CreateElement("AttachmentName").SetText(a.Name)
				el.CreateElement("Description").SetText(a.Description)
				el.CreateElement("ContentType").SetText(a.ContentType)
				el.CreateElement("ContentTransferEncoded").SetText(a.encoded)
			}
		}
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}
