// Package archive writes and checks the hub's daily archive files: one zip
// a day (Asia/Ho_Chi_Minh), archive_dir/YYYY/MM/axis-HUB-YYYY-MM-DD.zip,
// that outlives the hub and needs nothing of it to be checked:
//
//	envelopes/ID.edxml   each envelope received that day, its exact bytes
//	documents/ID.json    its record, deliveries and trace when sealed (Doc)
//	chain.jsonl          the day's segment of the event chain, one event a line
//	manifest.xml         every entry above with its size and SHA-256, the
//	                     segment's first and last events and its link to the
//	                     day before; signed by the hub (enveloped XML-DSig)
//	manifest.tsr         an RFC 3161 token over manifest.xml's bytes
//
// An auditor checks one with unzip, xmlsec1 and openssl ts -verify (README
// "Archives"), or with axisctl archive verify (Verify).
//
// Sealing streams each entry into the zip and resumes after a crash where
// it stopped: a journal beside the partial file records each finished
// entry (its offset, sizes, CRC and SHA-256), synced before the next
// begins. A restart truncates the partial file to the last finished entry
// and goes on; the entries already written are not read or written again.
// Every byte of the file is a function of the entries' contents (fixed
// modification times, deflate's deterministic output, a deterministic
// signature), so a sealing interrupted and resumed writes the same bytes
// as one that was not, but for manifest.tsr: a token is new each time it
// is asked for.
package archive

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Entry names.
const (
	EnvelopeDir  = "envelopes/"
	DocumentDir  = "documents/"
	ChainName    = "chain.jsonl"
	ManifestName = "manifest.xml"
	TokenName    = "manifest.tsr"
)

// FileName is the archive file of hub's day, relative to archive_dir.
func FileName(hub, day string) string {
	return filepath.Join(day[:4], day[5:7], "axis-"+hub+"-"+day+".zip")
}

// Entry is one file of an archive, written by Write when sealing reaches it.
type Entry struct {
	Name  string
	DocID string // the document an envelope or document entry is of
	Write func(w io.Writer) error
}

// Spec is what a day's archive holds.
type Spec struct {
	Path    string // the archive file to write
	Hub     string
	Day     string // YYYY-MM-DD
	Forced  bool   // sealed on demand before every document was settled
	Expired bool   // sealed because settle_after passed, not every document settled
	// Unsettled are the documents not settled when sealed (with Forced or
	// Expired): recipients that had not acked, relays not confirmed.
	Unsettled []string
	Chain     ChainInfo
	Entries   []Entry // in order; the manifest and token come after
	// Sign returns the manifest signed (enveloped XML-DSig); Stamp, when
	// not nil, a TimeStampResp over a SHA-256 digest.
	Sign  func(manifest []byte) ([]byte, error)
	Stamp func(ctx context.Context, digest []byte) ([]byte, error)
	// OnEntry, when set, is told each entry written (tests stop there).
	OnEntry func(name string)
}

// ChainInfo is a day's segment of the event chain: events First..Last
// (none when First is 0), the hash Prev the first links to (the last
// event of the day before, "" at the chain's start) and the last one's Head.
type ChainInfo struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	Prev  string `json:"prev"`
	Head  string `json:"head"`
}

// journalEntry is one finished entry of a partial archive.
type journalEntry struct {
	Name   string `json:"name"`
	DocID  string `json:"doc_id,omitempty"`
	Method uint16 `json:"method"`
	CRC32  uint32 `json:"crc32"`
	CSize  uint64 `json:"csize"`
	USize  uint64 `json:"usize"`
	SHA256 string `json:"sha256"`
	End    int64  `json:"end"` // the partial file's size once it was written
}

// Result is what a sealing wrote.
type Result struct {
	Path    string
	Bytes   int64
	SHA256  string // of the whole file
	Entries int
	Resumed int // entries found written by an earlier, interrupted sealing
}

// modified is every entry's modification time: the day itself, so that
// the bytes do not depend on when it was sealed.
func modified(day string) time.Time {
	t, _ := time.Parse("2006-01-02", day)
	return t
}

// Seal writes spec's archive, resuming an interrupted sealing of the same
// spec. The file appears at spec.Path only when complete (written as
// Path.partial, synced, renamed).
func Seal(ctx context.Context, spec *Spec) (*Result, error) {
	return seal(ctx, spec, false)
}

func seal(ctx context.Context, spec *Spec, restarted bool) (*Result, error) {
	if err := os.MkdirAll(filepath.Dir(spec.Path), 0o750); err != nil {
		return nil, err
	}
	partial, jpath := spec.Path+".partial", spec.Path+".journal"
	done, err := readJournal(jpath)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var end int64
	if n := len(done); n > 0 {
		end = done[n-1].End
	}
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if st.Size() < end {
		// The journal names bytes the file does not hold: start again.
		done, end = nil, 0
	}
	if err := f.Truncate(end); err != nil {
		return nil, err
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return nil, err
	}
	jf, err := os.OpenFile(jpath, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	if err := rewriteJournal(jf, done); err != nil {
		return nil, err
	}

	// The zip writer replays the finished entries' headers into sw, which
	// checks that they come out at the offsets recorded and writes nothing
	// of them; what follows is written at the file's end.
	sw := &skipWriter{w: f, skip: end}
	zw := zip.NewWriter(sw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.DefaultCompression) })
	mod := modified(spec.Day)
	for _, j := range done {
		fh := header(j.Name, j.Method, mod)
		setSizes(fh, j.CRC32, j.CSize, j.USize)
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return nil, err
		}
		if _, err := io.CopyN(w, zeros{}, int64(j.CSize)); err != nil {
			return nil, err
		}
		if err := zw.Flush(); err != nil {
			return nil, err
		}
		if sw.n != j.End {
			// Not what this program writes for that entry (another
			// version's journal?): start again, from nothing.
			f.Close()
			jf.Close()
			if err := os.Remove(jpath); err != nil {
				return nil, err
			}
			if err := os.Remove(partial); err != nil {
				return nil, err
			}
			if restarted {
				return nil, fmt.Errorf("archive: %s: entry %s ends at %d, its journal says %d", partial, j.Name, sw.n, j.End)
			}
			return seal(ctx, spec, true)
		}
	}
	res := &Result{Path: spec.Path, Resumed: len(done)}
	sums := map[string]journalEntry{}
	for _, j := range done {
		sums[j.Name] = j
	}
	write := func(name, doc string, method uint16, fill func(io.Writer) error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		fh := header(name, method, mod)
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		crc, sha := crc32.NewIEEE(), sha256.New()
		cw := &countWriter{w: w}
		var sink io.Writer = cw
		var fl *flate.Writer
		if method == zip.Deflate {
			fl, _ = flate.NewWriter(cw, flate.DefaultCompression)
			sink = fl
		}
		uc := &countWriter{w: io.MultiWriter(sink, crc, sha)}
		bw := bufio.NewWriterSize(uc, 256<<10)
		if err := fill(bw); err != nil {
			return fmt.Errorf("archive: %s: %w", name, err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if fl != nil {
			if err := fl.Close(); err != nil {
				return err
			}
		}
		setSizes(fh, crc.Sum32(), uint64(cw.n), uint64(uc.n))
		// The entry's data descriptor is written by the next Create (or
		// Close) from fh: the journal's End is where its data ends, and a
		// resumed sealing replays fh so that the descriptor follows.
		if err := zw.Flush(); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		j := journalEntry{Name: name, DocID: doc, Method: method, CRC32: fh.CRC32, CSize: fh.CompressedSize64, USize: fh.UncompressedSize64,
			SHA256: hex.EncodeToString(sha.Sum(nil)), End: sw.n}
		sums[name] = j
		if err := appendJournal(jf, j); err != nil {
			return err
		}
		if spec.OnEntry != nil {
			spec.OnEntry(name)
		}
		return nil
	}
	for _, e := range spec.Entries {
		if _, ok := sums[e.Name]; ok {
			continue
		}
		if err := write(e.Name, e.DocID, zip.Deflate, e.Write); err != nil {
			return nil, err
		}
	}
	if _, ok := sums[ManifestName]; !ok {
		m := buildManifest(spec, sums)
		signed, err := spec.Sign(m)
		if err != nil {
			return nil, fmt.Errorf("archive: signing the manifest: %w", err)
		}
		if err := write(ManifestName, "", zip.Deflate, func(w io.Writer) error { _, err := w.Write(signed); return err }); err != nil {
			return nil, err
		}
	}
	if _, ok := sums[TokenName]; !ok && spec.Stamp != nil {
		d, err := hex.DecodeString(sums[ManifestName].SHA256)
		if err != nil {
			return nil, err
		}
		tsr, err := spec.Stamp(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("archive: timestamping the manifest: %w", err)
		}
		if err := write(TokenName, "", zip.Store, func(w io.Writer) error { _, err := w.Write(tsr); return err }); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := os.Rename(partial, spec.Path); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(spec.Path)); err != nil {
		return nil, err
	}
	jf.Close()
	os.Remove(jpath)
	st, err := os.Stat(spec.Path)
	if err != nil {
		return nil, err
	}
	res.Bytes, res.Entries = st.Size(), len(sums)
	res.SHA256, err = FileSHA256(spec.Path)
	return res, err
}

// setSizes fills what archive/zip fills at the end of an entry it
// compressed itself (fileWriter.close), for an entry written raw: the
// 64-bit sizes, the 32-bit ones or their zip64 marks, the version.
func setSizes(fh *zip.FileHeader, crc uint32, csize, usize uint64) {
	fh.CRC32, fh.CompressedSize64, fh.UncompressedSize64 = crc, csize, usize
	// archive/zip writes a raw entry's data descriptor and directory
	// record from the 32-bit fields unless the entry is zip64: they are
	// deprecated for readers, not for this.
	if csize >= 1<<32-1 || usize >= 1<<32-1 {
		//lint:ignore SA1019 see above
		fh.CompressedSize, fh.UncompressedSize = 1<<32-1, 1<<32-1
		fh.ReaderVersion = 45 // zip64
	} else {
		//lint:ignore SA1019 see above
		fh.CompressedSize, fh.UncompressedSize = uint32(csize), uint32(usize)
	}
}

// header is an entry's header as CreateHeader would make it, for
// CreateRaw, which writes the header's fields as they are: the MS-DOS date
// and time of mod, made by Unix (permissions 0644), version 2.0, UTF-8
// names, sizes and CRC in a data descriptor after the data. No extended
// timestamp: the DOS date of the day is all a reader needs.
func header(name string, method uint16, mod time.Time) *zip.FileHeader {
	fh := &zip.FileHeader{Name: name, Method: method, Modified: mod}
	//lint:ignore SA1019 CreateRaw writes these fields, not Modified
	fh.ModifiedDate = uint16(mod.Day() + int(mod.Month())<<5 + (mod.Year()-1980)<<9)
	//lint:ignore SA1019 as above
	fh.ModifiedTime = uint16(mod.Second()/2 + mod.Minute()<<5 + mod.Hour()<<11)
	fh.CreatorVersion = 3<<8 | 20 // Unix, 2.0
	fh.ReaderVersion = 20
	fh.ExternalAttrs = 0o100644 << 16
	fh.Flags |= 0x8 // sizes and CRC in a data descriptor after the data
	return fh
}

// skipWriter writes through to w only past skip bytes (what a resumed
// sealing replays is already in the file); n counts every byte.
type skipWriter struct {
	w    io.Writer
	skip int64
	n    int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	total := len(p)
	if s.n < s.skip {
		k := min(int64(len(p)), s.skip-s.n)
		p = p[k:]
		s.n += k
	}
	if len(p) > 0 {
		m, err := s.w.Write(p)
		s.n += int64(m)
		if err != nil {
			return total - len(p) + m, err
		}
	}
	return total, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func readJournal(path string) ([]journalEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []journalEntry
	for _, line := range strings.Split(string(b), "\n") {
		var j journalEntry
		if line == "" || json.Unmarshal([]byte(line), &j) != nil || j.Name == "" {
			break // a line cut by the crash ends what is known
		}
		out = append(out, j)
	}
	return out, nil
}

func rewriteJournal(f *os.File, js []journalEntry) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	for _, j := range js {
		b, _ := json.Marshal(j)
		if _, err := f.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return f.Sync()
}

func appendJournal(f *os.File, j journalEntry) error {
	b, _ := json.Marshal(j)
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// FileSHA256 is the SHA-256 of a file, hex (an archive as sealed).
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
