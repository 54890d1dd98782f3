// Package testgen writes the signed sample envelopes and the hostile corpus of
// testdata/ from the demo PKI. RSA PKCS#1 v1.5 signatures are deterministic,
// so the output is byte-for-byte reproducible from the committed PKI; a test
// checks that the committed files are what Generate makes.
package testgen

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Demo agencies with certificates in testdata/pki.
const (
	Province   = "000.00.00.H40" // UBND tỉnh Nam Định
	Department = "000.00.11.H40" // Sở Thông tin và Truyền thông
	District   = "000.00.35.H40" // UBND huyện Hải Hậu
	Commune    = "000.07.35.H40" // UBND xã Hải Minh (bound by subject serialNumber)
)

// PKI names (files testdata/pki/NAME.{key,crt,chain.pem}).
const (
	RootCA        = "demo-root-ca"
	IssuingCA     = "demo-issuing-ca"
	Hub           = "demo-hub-h40"
	RogueRootCA   = "demo-rogue-root-ca"
	ExpiredLeaf   = "demo-expired-000.07.35.H40"
	NotYetLeaf    = "demo-notyet-000.07.35.H40"
	RogueLeaf     = "demo-rogue-000.07.35.H40"
	NoUsageLeaf   = "demo-nousage-000.07.35.H40"
	agencyPrefix  = "demo-agency-"
	maxHostileGen = 2_000_000
)

// AgencyName is the PKI file name of an agency's certificate.
func AgencyName(organ string) string { return agencyPrefix + organ }

// GeneratePKI makes a fresh demo PKI in dir (new keys: every signed sample
// changes with it).
func GeneratePKI(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := demopki.Issue(nil, demopki.Spec{CommonName: "DEMO axis Root CA", CA: true, NotBefore: demopki.RootFrom, NotAfter: demopki.RootUntil})
	if err != nil {
		return err
	}
	ca, err := demopki.Issue(root, demopki.Spec{CommonName: "DEMO axis Issuing CA", CA: true, NotBefore: demopki.RootFrom, NotAfter: demopki.CAUntil})
	if err != nil {
		return err
	}
	rogue, err := demopki.Issue(nil, demopki.Spec{CommonName: "DEMO rogue Root CA (untrusted)", CA: true, NotBefore: demopki.RootFrom, NotAfter: demopki.RootUntil})
	if err != nil {
		return err
	}
	if err := root.Write(dir, RootCA); err != nil {
		return err
	}
	if err := ca.Write(dir, IssuingCA, root); err != nil {
		return err
	}
	if err := rogue.Write(dir, RogueRootCA); err != nil {
		return err
	}
	leaves := []struct {
		name string
		from *demopki.Cert
		spec demopki.Spec
	}{
		{Hub, ca, demopki.Spec{CommonName: "DEMO axis hub Nam Dinh (axis-h40)", OU: Province, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
		{AgencyName(Province), ca, demopki.Spec{CommonName: "UBND tỉnh Nam Định (DEMO)", OU: Province, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
		{AgencyName(Department), ca, demopki.Spec{CommonName: "Sở Thông tin và Truyền thông Nam Định (DEMO)", OU: Department, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
		{AgencyName(District), ca, demopki.Spec{CommonName: "UBND huyện Hải Hậu (DEMO)", OU: District, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
		{AgencyName(Commune), ca, demopki.Spec{CommonName: "UBND xã Hải Minh (DEMO)", SerialNumber: Commune, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
		{ExpiredLeaf, ca, demopki.Spec{CommonName: "UBND xã Hải Minh (DEMO, expired)", OU: Commune, NotBefore: demopki.RootFrom, NotAfter: demopki.LeafFrom}},
		{NotYetLeaf, ca, demopki.Spec{CommonName: "UBND xã Hải Minh (DEMO, not yet valid)", OU: Commune, NotBefore: demopki.LeafUntil.AddDate(-2, 0, 0), NotAfter: demopki.LeafUntil}},
		{NoUsageLeaf, ca, demopki.Spec{CommonName: "UBND xã Hải Minh (DEMO, encryption only)", OU: Commune, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil, KeyUsage: x509.KeyUsageKeyEncipherment}},
		{RogueLeaf, rogue, demopki.Spec{CommonName: "UBND xã Hải Minh (DEMO, rogue CA)", OU: Commune, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil}},
	}
	for _, l := range leaves {
		c, err := demopki.Issue(l.from, l.spec)
		if err != nil {
			return err
		}
		if err := c.Write(dir, l.name, l.from); err != nil {
			return err
		}
	}
	return nil
}

// Signer loads a PKI name as an envelope signer (leaf + its issuer in KeyInfo).
func Signer(pkiDir, name string) (*envelope.Signer, error) {
	return envelope.LoadSigner(filepath.Join(pkiDir, name+".key"), filepath.Join(pkiDir, name+".chain.pem"))
}

var organs = map[string]envelope.Organization{
	Province:   {OrganID: Province, OrganName: "UBND tỉnh Nam Định", OrganAdd: "Số 1 đường Trần Hưng Đạo, TP Nam Định", Email: "ubnd@namdinh.gov.vn"},
	Department: {OrganID: Department, OrganName: "Sở Thông tin và Truyền thông tỉnh Nam Định", OrganAdd: "Số 2 đường Trường Chinh, TP Nam Định", Email: "stttt@namdinh.gov.vn"},
	District:   {OrganID: District, OrganName: "UBND huyện Hải Hậu", OrganAdd: "Thị trấn Yên Định, Hải Hậu", Email: "haihau@namdinh.gov.vn"},
	Commune:    {OrganID: Commune, OrganName: "UBND xã Hải Minh", OrganAdd: "Xã Hải Minh, Hải Hậu, Nam Định", Email: "haiminh@namdinh.gov.vn"},
}

// Organ returns the demo Organization block for a code.
func Organ(code string) envelope.Organization { return organs[code] }

// NewDocument is the base sample: 15/UBND-VP from the commune to the department.
func NewDocument() *envelope.Message {
	return &envelope.Message{
		Kind:             envelope.KindDocument,
		From:             organs[Commune],
		To:               []envelope.Organization{organs[Department]},
		DocumentID:       Commune + ",2026/05/28,15/UBND-VP",
		Code:             envelope.Code{CodeNumber: "15", CodeNotation: "UBND-VP"},
		PromulgationInfo: envelope.PromulgationInfo{Place: "Hải Minh", PromulgationDate: "2026/05/28"},
		DocumentType:     envelope.DocumentType{Type: "1", TypeName: "Công văn"},
		Subject:          "Công văn về việc báo cáo kết quả chuyển đổi số năm 2026",
		Content:          "Kính gửi Sở Thông tin và Truyền thông tỉnh Nam Định.",
		SignerInfo:       envelope.SignerInfo{Competence: "TM. UBND", Position: "Chủ tịch", FullName: "Trần Văn Minh"},
		DueDate:          "2026/06/15",
		OtherInfo:        envelope.OtherInfo{Priority: "0", PromulgationAmount: "1", PageAmount: "2"},
		SteeringType:     "0",
		TraceHeaders:     []envelope.TraceHeader{{OrganID: Commune, Timestamp: "2026/05/28 08:30:00"}},
		Business: &envelope.Business{DocType: envelope.BusinessNew, DocReason: "Văn bản điện tử mới", Paper: "0",
			StaffInfo: &envelope.StaffInfo{Department: "Văn phòng", Staff: "Nguyễn Thị Lan", Email: "vanthu@haiminh.namdinh.gov.vn"}},
		Attachments: []*envelope.Attachment{envelope.NewAttachment("cid:1", "15-UBND-VP.pdf", "application/pdf", []byte("%PDF-1.4 demo attachment of 15/UBND-VP\n"))},
	}
}

// Status is a status message from the department answering NewDocument.
func Status(code, desc string) *envelope.Message {
	d := NewDocument()
	return &envelope.Message{
		Kind: envelope.KindStatus,
		From: organs[Department],
		ResponseFor: []envelope.ResponseFor{{OrganID: Commune, Code: d.Code.String(), DocumentID: d.DocumentID,
			PromulgationDate: d.PromulgationInfo.PromulgationDate}},
		StaffInfo:   &envelope.StaffInfo{Department: "Văn thư", Staff: "Lê Văn Hùng"},
		StatusCode:  code,
		Description: desc,
		Timestamp:   "2026/05/28 09:15:00",
	}
}

func business(docType int, reason string) *envelope.Message {
	m := NewDocument()
	m.Business.DocType = docType
	m.Business.DocReason = reason
	m.Code.CodeNumber = fmt.Sprint(15 + docType)
	m.DocumentID = Commune + ",2026/05/29," + m.Code.String()
	target := envelope.ResponseFor{OrganID: Commune, Code: "15/UBND-VP", DocumentID: NewDocument().DocumentID, PromulgationDate: "2026/05/28"}
	if docType == envelope.BusinessReplace {
		m.Business.Replacements = []envelope.ReplacementInfo{{DocumentID: target.DocumentID, OrganIDs: []string{Department}}}
	} else {
		m.ResponseFor = []envelope.ResponseFor{target}
	}
	return m
}

// beyond is a new document from the commune to an organ outside the
// province, numbered n.
func beyond(n int, to envelope.Organization) *envelope.Message {
	m := NewDocument()
	m.To = []envelope.Organization{to}
	m.Code.CodeNumber = fmt.Sprint(n)
	m.DocumentID = Commune + ",2026/05/28," + m.Code.String()
	m.Subject = "Báo cáo kết quả chuyển đổi số năm 2026 gửi " + to.OrganName
	return m
}

// Samples are the signed sample envelopes of testdata/envelopes, by file name.
func Samples() map[string]*envelope.Message {
	s := map[string]*envelope.Message{
		"new.xml":     NewDocument(),
		"revoke.xml":  business(envelope.BusinessRevoke, "Thu hồi văn bản"),
		"update.xml":  business(envelope.BusinessUpdate, "Cập nhật văn bản"),
		"replace.xml": business(envelope.BusinessReplace, "Thay thế văn bản"),
		// Beyond the province: routed to the national peer (README: the
		// three demo hubs).
		"to-central.xml":        beyond(16, envelope.Organization{OrganID: "000.00.00.G22", OrganName: "Văn phòng Chính phủ"}),
		"to-other-province.xml": beyond(17, envelope.Organization{OrganID: "000.00.11.H41", OrganName: "Sở Thông tin và Truyền thông tỉnh Nghệ An"}),
	}
	for code, desc := range envelope.StatusCodes {
		s["status-"+code+".xml"] = Status(code, "Trạng thái: "+desc)
	}
	return s
}

// Generate writes testdata/envelopes and testdata/hostile under dir, signing
// with the PKI in dir/pki.
func Generate(dir string) error {
	pki := filepath.Join(dir, "pki")
	envDir := filepath.Join(dir, "envelopes")
	if err := os.MkdirAll(envDir, 0o755); err != nil {
		return err
	}
	signers := map[string]*envelope.Signer{}
	for _, n := range []string{AgencyName(Commune), AgencyName(Department), ExpiredLeaf, NotYetLeaf, RogueLeaf, NoUsageLeaf} {
		s, err := Signer(pki, n)
		if err != nil {
			return err
		}
		signers[n] = s
	}
	signAs := func(m *envelope.Message, who string) ([]byte, error) {
		raw, err := envelope.Encode(m)
		if err != nil {
			return nil, err
		}
		return signers[who].Sign(raw)
	}
	for name, m := range Samples() {
		who := AgencyName(m.From.OrganID)
		raw, err := signAs(m, who)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(envDir, name), raw, 0o644); err != nil {
			return err
		}
	}
	unsigned, err := envelope.Encode(NewDocument())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(envDir, "unsigned-new.xml"), unsigned, 0o644); err != nil {
		return err
	}
	good, err := signAs(NewDocument(), AgencyName(Commune))
	if err != nil {
		return err
	}
	cases, err := hostile(good, signAs, pki)
	if err != nil {
		return err
	}
	hdir := filepath.Join(dir, "hostile")
	if err := os.RemoveAll(hdir); err != nil {
		return err
	}
	var index strings.Builder
	index.WriteString("# Hostile envelopes\n\nGenerated by `go run ./internal/cmd/gentestdata` from the demo PKI; do not edit by hand.\n" +
		"Each folder holds `envelope.xml` (or `envelope.xml.gz`, decompressed before use) and `code`, the\n" +
		"machine code the hub must answer (`ok`: it must verify, with the header of envelopes/new.xml), and where\n" +
		"Verify alone says something else (a rule that needs the hub's store), `verify-code`.\n\n| case | code | what |\n|---|---|---|\n")
	for _, c := range cases {
		cd := filepath.Join(hdir, c.name)
		if err := os.MkdirAll(cd, 0o755); err != nil {
			return err
		}
		file, data := "envelope.xml", c.data
		if len(data) > 1<<20 {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
			file, data = "envelope.xml.gz", b.Bytes()
		}
		if err := os.WriteFile(filepath.Join(cd, file), data, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cd, "code"), []byte(c.code+"\n"), 0o644); err != nil {
			return err
		}
		what := c.what
		if c.verify != "" {
			if err := os.WriteFile(filepath.Join(cd, "verify-code"), []byte(c.verify+"\n"), 0o644); err != nil {
				return err
			}
			what += " (Verify alone: " + c.verify + ")"
		}
		fmt.Fprintf(&index, "| %s | %s | %s |\n", c.name, c.code, what)
	}
	if err := os.WriteFile(filepath.Join(hdir, "README.md"), []byte(index.String()), 0o644); err != nil {
		return err
	}
	if err := WriteDemoCRLs(pki); err != nil {
		return err
	}
	return WriteDemoConfig(filepath.Join(dir, "demo"))
}

// hcase is one hostile case: code is what the hub answers; verify, when
// set, is what Verify alone says where it differs ("ok" for an envelope
// only the hub's store-backed checks refuse).
type hcase struct {
	name, code, what string
	verify           string
	data             []byte
}

type signFunc func(m *envelope.Message, who string) ([]byte, error)

func mustDoc(raw []byte) *etree.Document {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(raw); err != nil {
		panic(err)
	}
	return d
}

func bytesOf(d *etree.Document) []byte {
	b, err := d.WriteToBytes()
	if err != nil {
		panic(err)
	}
	return b
}

func header(d *etree.Document) *etree.Element {
	return d.Root().FindElement("./edXML:edXMLEnvelope/edXML:edXMLHeader")
}

func signature(d *etree.Document) *etree.Element { return header(d).FindElement("./ds:Signature") }

// replaceOnce replaces exactly one occurrence or panics (the corpus must mean
// what it says).
func replaceOnce(b []byte, old, new string) []byte {
	if bytes.Count(b, []byte(old)) != 1 {
		panic(fmt.Sprintf("testgen: %q occurs %d times", old, bytes.Count(b, []byte(old))))
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// signWith signs m with goxmldsig directly, for variants our Signer refuses to
// make (SHA-1, an Id reference).
func signWith(m *envelope.Message, pki, who string, hash crypto.Hash, rootID, prefix string) ([]byte, error) {
	raw, err := envelope.Encode(m)
	if err != nil {
		return nil, err
	}
	c, err := demopki.Load(pki, who)
	if err != nil {
		return nil, err
	}
	ca, err := demopki.Load(pki, IssuingCA)
	if err != nil {
		return nil, err
	}
	ctx, err := dsig.NewSigningContext(c.Key, [][]byte{c.Cert.Raw, ca.Cert.Raw})
	if err != nil {
		return nil, err
	}
	ctx.Hash = hash
	ctx.Prefix = prefix
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	d := mustDoc(raw)
	if rootID != "" {
		d.Root().CreateAttr("ID", rootID)
	} else {
		ctx.IdAttribute = "\x00"
	}
	sig, err := ctx.ConstructSignature(d.Root(), true)
	if err != nil {
		return nil, err
	}
	header(d).AddChild(sig)
	return bytesOf(d), nil
}

func hostile(good []byte, signAs signFunc, pki string) ([]hcase, error) {
	var cs []hcase
	add := func(name, code, what string, data []byte) {
		cs = append(cs, hcase{name: name, code: code, what: what, data: data})
	}
	commune := AgencyName(Commune)

	// Signature wrapping.
	{
		d := mustDoc(good)
		orig := d.Root().FindElement("./edXML:edXMLEnvelope").Copy()
		osig := orig.FindElement("./edXML:edXMLHeader/ds:Signature")
		osig.Parent().RemoveChild(osig)
		mh := header(d).FindElement("./edXML:MessageHeader")
		mh.FindElement("./edXML:From/edXML:OrganId").SetText(Province)
		mh.FindElement("./edXML:Subject").SetText("Quyết định giả mạo")
		w := d.Root().CreateElement("Wrapper")
		w.AddChild(orig)
		add("wrap-forged-header-original-in-wrapper", "digest_mismatch",
			"the signed envelope moved under a Wrapper; a forged header at the normal path keeps the Signature", bytesOf(d))
	}
	{
		signed := mustDoc(good).Root()
		forged := mustDoc(good)
		header(forged).RemoveChild(signature(forged))
		header(forged).FindElement("./edXML:MessageHeader/edXML:To/edXML:OrganId").SetText(District)
		forged.Root().CreateElement("Object").AddChild(signed)
		add("wrap-forged-root", "signature_invalid",
			"the whole signed document wrapped under a forged root whose header is unsigned", bytesOf(forged))
	}
	{
		d := mustDoc(good)
		mh := header(d).FindElement("./edXML:MessageHeader")
		forged := mh.Copy()
		forged.FindElement("./edXML:To/edXML:OrganId").SetText(District)
		header(d).InsertChildAt(mh.Index(), forged)
		add("wrap-second-messageheader", "header_invalid", "a second, unsigned MessageHeader before the signed one", bytesOf(d))
	}

	// Parser attacks.
	const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	withDoctype := func(dt string) []byte {
		return append([]byte(xmlDecl+dt+"\n"), bytes.TrimPrefix(good, []byte(xmlDecl))...)
	}
	add("doctype-internal-entity", "doctype_forbidden", "DOCTYPE declaring an internal entity used in Subject",
		replaceOnce(withDoctype(`<!DOCTYPE edXML [<!ENTITY forged "Quyết định giả mạo">]>`), "Công văn về việc", "&forged;"))
	add("doctype-system-entity", "doctype_forbidden", "DOCTYPE with a SYSTEM entity (XXE)",
		replaceOnce(withDoctype(`<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`), "Công văn về việc", "&xxe;"))
	{
		var b strings.Builder
		b.WriteString(`<!DOCTYPE edXML [<!ENTITY lol "lol">`)
		prev := "lol"
		for i := 1; i <= 9; i++ {
			name := fmt.Sprintf("lol%d", i)
			fmt.Fprintf(&b, `<!ENTITY %s "%s">`, name, strings.Repeat("&"+prev+";", 10))
			prev = name
		}
		b.WriteString("]>")
		add("billion-laughs", "doctype_forbidden", "exponential entity expansion", replaceOnce(withDoctype(b.String()), "Công văn về việc", "&lol9;"))
	}
	add("nesting-10000", "too_deep", "10,000 nested elements inside Content",
		replaceOnce(good, "Kính gửi", strings.Repeat("<x>", 10000)+strings.Repeat("</x>", 10000)))
	{
		var b bytes.Buffer
		b.WriteString(xmlDecl + `<edXML xmlns="` + envelope.Namespace + `"><edXMLEnvelope><edXMLHeader><MessageHeader>`)
		for i := 0; i < maxHostileGen; i++ {
			b.WriteString("<a/>")
		}
		b.WriteString(`</MessageHeader></edXMLHeader></edXMLEnvelope></edXML>`)
		add("elements-2000000", "too_large", "two million empty elements (gzip-compressed here)", b.Bytes())
	}
	add("truncated", "malformed_xml", "the signed envelope cut in half", good[:len(good)/2])
	add("invalid-utf8", "malformed_xml", "a byte 0xff inside Subject", replaceOnce(good, "Công văn về việc", "Công v\xffn về việc"))
	add("encoding-latin1", "malformed_xml", "declares ISO-8859-1", replaceOnce(good, `encoding="UTF-8"`, `encoding="ISO-8859-1"`))
	add("two-roots", "malformed_xml", "a second root element after edXML", append(append([]byte{}, good...), "<edXML/>"...))
	add("not-edxml", "header_invalid", "a well-formed document that is not edXML", []byte(xmlDecl+`<html><body>hello</body></html>`))

	// Signature structure.
	{
		d := mustDoc(good)
		header(d).RemoveChild(signature(d))
		add("signature-removed", "signature_missing", "the Signature element deleted", bytesOf(d))
	}
	{
		// A legacy signer computed SignedInfo unprefixed in the xmldsig
		// namespace, then wrote the Signature without its xmlns.
		raw, err := signWith(NewDocument(), pki, commune, crypto.SHA256, "", "")
		if err != nil {
			return nil, err
		}
		d := mustDoc(raw)
		sig := header(d).FindElement("./Signature")
		sig.RemoveAttr("xmlns")
		add("signature-edxml-namespace", "signature_missing",
			"the Signature without the xmldsig namespace, as field systems emit it (verifies with the legacy option)", bytesOf(d))
	}
	{
		d := mustDoc(good)
		header(d).AddChild(signature(d).Copy())
		add("two-signatures", "signature_invalid", "the Signature appears twice in edXMLHeader", bytesOf(d))
	}
	{
		d := mustDoc(good)
		sv := signature(d).FindElement("./ds:SignatureValue")
		t := []byte(sv.Text())
		if t[10] == 'A' {
			t[10] = 'B'
		} else {
			t[10] = 'A'
		}
		sv.SetText(string(t))
		add("signature-value-changed", "signature_invalid", "one character of SignatureValue changed", bytesOf(d))
	}
	{
		d := mustDoc(good)
		ki := signature(d).FindElement("./ds:KeyInfo")
		signature(d).RemoveChild(ki)
		add("keyinfo-removed", "certificate_untrusted", "no certificate in KeyInfo", bytesOf(d))
	}
	idRef, err := signWith(NewDocument(), pki, commune, crypto.SHA256, "doc-15", "ds")
	if err != nil {
		return nil, err
	}
	add("reference-id-uri", "signature_invalid", `Reference URI="#doc-15" (an Id) instead of URI=""`, idRef)
	sha1, err := signWith(NewDocument(), pki, commune, crypto.SHA1, "", "ds")
	if err != nil {
		return nil, err
	}
	add("rsa-sha1", "algorithm_forbidden", "rsa-sha1 with a sha1 digest under the default policy", sha1)

	// Certificates.
	for _, c := range []struct{ name, who, code, what string }{
		{"cert-expired", ExpiredLeaf, "certificate_expired", "signer certificate expired before the verification time"},
		{"cert-not-yet-valid", NotYetLeaf, "certificate_expired", "signer certificate not yet valid at the verification time"},
		{"cert-untrusted-root", RogueLeaf, "certificate_untrusted", "signer certificate chains to a root the policy does not trust"},
		{"cert-no-digital-signature", NoUsageLeaf, "certificate_usage", "signer certificate has keyEncipherment only"},
		{"cert-other-agency", AgencyName(Department), "sender_mismatch", "a valid signature by another agency's certificate"},
	} {
		raw, err := signAs(NewDocument(), c.who)
		if err != nil {
			return nil, err
		}
		add(c.name, c.code, c.what, raw)
	}

	// Content changed after signing.
	add("subject-changed", "digest_mismatch", "one character of Subject changed", replaceOnce(good, "chuyển đổi số", "chuyển đổi sổ"))
	{
		d := mustDoc(good)
		cte := d.Root().FindElement("./AttachmentEncoded/Attachment/ContentTransferEncoded")
		t := []byte(cte.Text())
		t[4] ^= 1
		cte.SetText(string(t))
		add("attachment-changed", "digest_mismatch", "one character of the attachment's base64 changed", bytesOf(d))
	}
	add("comment-in-signed-text", "ok", "a comment injected into the signed Subject: verifies, and the returned Subject is whole",
		replaceOnce(good, "chuyển đổi số", "chuyển đổi<!-- injected --> số"))

	// Header fields, correctly signed.
	for _, c := range []struct {
		name, what string
		edit       func(*envelope.Message)
	}{
		{"missing-from", "no From block", func(m *envelope.Message) { m.From = envelope.Organization{} }},
		{"no-to", "no To block", func(m *envelope.Message) { m.To = nil }},
		{"malformed-organ-code", "To/OrganId is not an organ code", func(m *envelope.Message) { m.To[0].OrganID = "000.00.11.h40 OR 1=1" }},
		{"status-unknown-code", "a status message with StatusCode 99", nil},
	} {
		m := NewDocument()
		if c.edit != nil {
			c.edit(m)
		} else {
			m = Status("99", "không rõ")
		}
		raw, err := envelope.Encode(m)
		if err != nil {
			return nil, err
		}
		s, err := Signer(pki, commune)
		if c.edit == nil {
			s, err = Signer(pki, AgencyName(Department))
		}
		if err != nil {
			return nil, err
		}
		if raw, err = s.Sign(raw); err != nil {
			return nil, err
		}
		add(c.name, "header_invalid", c.what, raw)
	}
	more, err := hostileXML(good, signAs)
	if err != nil {
		return nil, err
	}
	return append(cs, more...), nil
}
