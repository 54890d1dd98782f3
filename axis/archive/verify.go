package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis/tsa"
	"github.com/axis-h40/axis/store/record"
	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Report is what Verify found of one archive file.
type Report struct {
	File      string    `json:"file"`
	Hub       string    `json:"hub"`
	Day       string    `json:"day"`
	Documents int       `json:"documents"`
	Entries   int       `json:"entries"`
	Forced    bool      `json:"forced"`
	Expired   bool      `json:"expired"`
	Unsettled int       `json:"unsettled"`
	Signer    string    `json:"signer,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"` // manifest.tsr's time
	TSA       string    `json:"tsa,omitempty"`
	Chain     ChainInfo `json:"chain"`
	Events    int       `json:"events"`
	Anchors   int       `json:"anchors"`
	// LinkedTo is set when the previous day's archive was among those
	// verified and this one's chain starts where that one's ended.
	LinkedTo string   `json:"linked_to,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Trust is what an archive is checked against.
type Trust struct {
	HubRoots *x509.CertPool // the CA (or the hub's own certificate) the manifest's signer must chain to
	TSARoots *x509.CertPool // nil: the token's signature is checked against the certificate it carries only
}

// Verify checks archive files: every entry against the manifest's SHA-256
// and size (and nothing unlisted), the manifest's signature, the token over
// the manifest, the chain segment's links and hashes and the anchors in it,
// and, among the files given, each day's segment starting where the day
// before ended. One report a file, in the order of their days.
func Verify(files []string, trust Trust) []*Report {
	var out []*Report
	for _, f := range files {
		out = append(out, verifyOne(f, trust))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Hub+out[i].Day < out[j].Hub+out[j].Day })
	for i := 1; i < len(out); i++ {
		p, r := out[i-1], out[i]
		if p.Hub != r.Hub || !p.OK() || !r.OK() || NextDay(p.Day) != r.Day {
			continue
		}
		if r.Chain.Prev != p.Chain.Head || (r.Chain.First != 0 && p.Chain.Last != 0 && r.Chain.First != p.Chain.Last+1) {
			r.Problems = append(r.Problems, fmt.Sprintf("the chain does not continue %s's: it starts at event %d after %s, that one ends at %d with %s",
				p.Day, r.Chain.First, r.Chain.Prev, p.Chain.Last, p.Chain.Head))
		} else {
			r.LinkedTo = p.File
		}
	}
	return out
}

// NextDay is the day after day (YYYY-MM-DD), "" when day is not one.
func NextDay(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, 1).Format("2006-01-02")
}

func verifyOne(file string, trust Trust) *Report {
	r := &Report{File: file}
	bad := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	zr, err := zip.OpenReader(file)
	if err != nil {
		bad("not a readable zip: %v", err)
		return r
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if files[f.Name] != nil {
			bad("entry %s appears twice", f.Name)
		}
		files[f.Name] = f
	}
	r.Entries = len(zr.File)
	mf := files[ManifestName]
	if mf == nil {
		bad("no %s", ManifestName)
		return r
	}
	mraw, err := readAll(mf, 64<<20)
	if err != nil {
		bad("%s: %v", ManifestName, err)
		return r
	}
	msum := sha256.Sum256(mraw)

	// The token first: its time, when its authority is trusted, is when
	// the signer's certificate must have been valid (without TSA roots a
	// token could be anyone's: now).
	at := time.Now()
	if tf := files[TokenName]; tf != nil {
		tsr, err := readAll(tf, 1<<20)
		if err == nil {
			var tok *tsa.Token
			if tok, err = tsa.Verify(tsr, msum[:], trust.TSARoots); err == nil {
				r.Timestamp, r.TSA = tok.Time, tok.Signer
				if trust.TSARoots != nil {
					at = tok.Time
				}
			}
		}
		if err != nil {
			bad("%s: %v", TokenName, err)
		}
	} else if trust.TSARoots != nil {
		bad("no %s: the manifest is not timestamped", TokenName)
	}

	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(mraw); err != nil || doc.Root() == nil {
		bad("%s is not XML: %v", ManifestName, err)
		return r
	}
	root := doc.Root()
	if root.Tag != "Archive" || root.NamespaceURI() != Namespace {
		bad("%s: root is %s, not an axis archive manifest", ManifestName, root.Tag)
		return r
	}
	signed, signer, err := verifySignature(root, trust.HubRoots, at)
	if err != nil {
		bad("%s: signature: %v", ManifestName, err)
	} else {
		root = signed // read what the signature covers, nothing beside it
	}
	r.Signer = signer
	r.Hub, r.Day = root.SelectAttrValue("hub", ""), root.SelectAttrValue("day", "")
	r.Forced = root.SelectAttrValue("forced", "") == "true"
	r.Expired = root.SelectAttrValue("expired", "") == "true"
	r.Documents, _ = strconv.Atoi(root.SelectAttrValue("documents", ""))
	if c := root.SelectElement("Chain"); c != nil {
		r.Chain.First, _ = strconv.ParseUint(c.SelectAttrValue("first", ""), 10, 64)
		r.Chain.Last, _ = strconv.ParseUint(c.SelectAttrValue("last", ""), 10, 64)
		r.Chain.Prev, r.Chain.Head = c.SelectAttrValue("prev", ""), c.SelectAttrValue("head", "")
	} else {
		bad("%s has no Chain", ManifestName)
	}
	r.Unsettled = len(root.SelectElements("Unsettled"))

	listed := map[string]bool{ManifestName: true, TokenName: true}
	for _, e := range root.SelectElements("Entry") {
		name := e.SelectAttrValue("name", "")
		listed[name] = true
		f := files[name]
		if f == nil {
			bad("%s is listed but missing", name)
			continue
		}
		want := e.SelectAttrValue("sha256", "")
		size, _ := strconv.ParseUint(e.SelectAttrValue("size", ""), 10, 64)
		got, n, err := hashEntry(f)
		switch {
		case err != nil:
			bad("%s: %v", name, err)
		case got != want || n != size:
			bad("%s: %d bytes with SHA-256 %s; the manifest says %d bytes, %s", name, n, got, size, want)
		}
		if name == ChainName && err == nil {
			verifySegment(f, r, trust.TSARoots, bad)
		}
	}
	for _, f := range zr.File {
		if !listed[f.Name] {
			bad("%s is in the file but not in the manifest", f.Name)
		}
	}
	return r
}

// verifySignature checks the manifest's enveloped signature: the signing
// certificate (KeyInfo's first) chains to roots at time at, and goxmldsig
// validates the signature with it. It answers the element the signature
// covers (the root without its Signature) and the signer's subject.
func verifySignature(root *etree.Element, roots *x509.CertPool, at time.Time) (*etree.Element, string, error) {
	var certs []*x509.Certificate
	for _, el := range root.FindElements("./Signature/KeyInfo/X509Data/X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(el.Text()), ""))
		if err != nil {
			return nil, "", fmt.Errorf("KeyInfo certificate: %v", err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, "", fmt.Errorf("KeyInfo certificate: %v", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, "", fmt.Errorf("no signature with a certificate")
	}
	if n := len(root.SelectElements("Signature")); n != 1 {
		return nil, "", fmt.Errorf("%d signatures, want one", n)
	}
	leaf := certs[0]
	if roots == nil {
		return nil, leaf.Subject.String(), fmt.Errorf("no trust roots given for the hub's certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, leaf.Subject.String(), fmt.Errorf("the signer %s: %v", leaf.Subject, err)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{leaf}})
	vc.Clock = dsig.NewFakeClockAt(at)
	vc.IdAttribute = "\x00" // never an attribute: only Reference URI="", the whole manifest
	signed, err := vc.Validate(root.Copy())
	if err != nil {
		return nil, leaf.Subject.String(), err
	}
	if signed.Tag != "Archive" || signed.NamespaceURI() != Namespace {
		return nil, leaf.Subject.String(), fmt.Errorf("the signature covers %s, not the manifest", signed.Tag)
	}
	return signed, leaf.Subject.String(), nil
}

// verifySegment checks chain.jsonl: seqs First..Last in order, each event's
// hash, each link (the first's to Prev), the last hash Head, and each
// anchor's token against the hash of the event it names when that is in
// the segment.
func verifySegment(f *zip.File, r *Report, roots *x509.CertPool, bad func(string, ...any)) {
	rc, err := f.Open()
	if err != nil {
		bad("%s: %v", ChainName, err)
		return
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	prev, want := r.Chain.Prev, r.Chain.First
	hashes := map[uint64]string{}
	for sc.Scan() {
		var e record.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			bad("%s line %d: %v", ChainName, r.Events+1, err)
			return
		}
		r.Events++
		switch {
		case e.Seq != want:
			bad("%s: event %d where %d was due", ChainName, e.Seq, want)
			return
		case e.Prev != prev:
			bad("%s: event %d does not link to the one before", ChainName, e.Seq)
			return
		case e.ChainHash() != e.Hash:
			bad("%s: event %d's hash does not match its contents", ChainName, e.Seq)
			return
		}
		hashes[e.Seq] = e.Hash
		if e.Type == "anchored" {
			hashOf := func(seq uint64) (string, bool) { h, ok := hashes[seq]; return h, ok }
			if _, err := tsa.CheckAnchor(&e, roots, hashOf); err != nil {
				bad("%s: event %d: %v", ChainName, e.Seq, err)
			} else {
				r.Anchors++
			}
		}
		prev = e.Hash
		want++
	}
	if err := sc.Err(); err != nil {
		bad("%s: %v", ChainName, err)
		return
	}
	if r.Chain.First == 0 && r.Events == 0 {
		return
	}
	if want != r.Chain.Last+1 || prev != r.Chain.Head {
		bad("%s ends at event %d with %s; the manifest says %d with %s", ChainName, want-1, prev, r.Chain.Last, r.Chain.Head)
	}
}

func hashEntry(f *zip.File) (string, uint64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc) // archive/zip checks the CRC at EOF
	if err != nil {
		return "", uint64(n), err
	}
	return hex.EncodeToString(h.Sum(nil)), uint64(n), nil
}

func readAll(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%d bytes, more than %d", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(rc, limit+1)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
