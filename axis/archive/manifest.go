package archive

import (
	"strconv"
	"strings"

	"github.com/axis-h40/axis/store/record"
	"github.com/beevik/etree"
)

// Namespace is manifest.xml's.
const Namespace = "urn:axis:archive:1"

// Doc is a documents/ID.json entry: what the hub knew of a document when
// its day was sealed.
type Doc struct {
	Document   record.Document   `json:"document"`
	Deliveries []record.Delivery `json:"deliveries"`
	Events     []record.Event    `json:"events"`
	Settled    bool              `json:"settled"`
}

// buildManifest is manifest.xml unsigned:
//
//	<Archive xmlns="urn:axis:archive:1" hub="H40" day="2026-12-01" documents="N"
//	         forced="false" expired="false">
//	  <Chain first="101" last="250" prev="…" head="…"/>
//	  <Entry name="envelopes/ID.edxml" doc="ID" size="…" sha256="…"/>
//	  …
//	  <Unsettled doc="ID"/>
//	</Archive>
func buildManifest(spec *Spec, sums map[string]journalEntry) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("Archive")
	root.CreateAttr("xmlns", Namespace)
	root.CreateAttr("hub", spec.Hub)
	root.CreateAttr("day", spec.Day)
	n := 0
	for _, e := range spec.Entries {
		if strings.HasPrefix(e.Name, EnvelopeDir) {
			n++
		}
	}
	root.CreateAttr("documents", strconv.Itoa(n))
	root.CreateAttr("forced", strconv.FormatBool(spec.Forced))
	root.CreateAttr("expired", strconv.FormatBool(spec.Expired))
	c := root.CreateElement("Chain")
	c.CreateAttr("first", strconv.FormatUint(spec.Chain.First, 10))
	c.CreateAttr("last", strconv.FormatUint(spec.Chain.Last, 10))
	c.CreateAttr("prev", spec.Chain.Prev)
	c.CreateAttr("head", spec.Chain.Head)
	for _, e := range spec.Entries {
		j := sums[e.Name]
		el := root.CreateElement("Entry")
		el.CreateAttr("name", e.Name)
		if e.DocID != "" {
			el.CreateAttr("doc", e.DocID)
		}
		el.CreateAttr("size", strconv.FormatUint(j.USize, 10))
		el.CreateAttr("sha256", j.SHA256)
	}
	for _, id := range spec.Unsettled {
		root.CreateElement("Unsettled").CreateAttr("doc", id)
	}
	doc.Indent(2)
	b, _ := doc.WriteToBytes()
	return b
}
