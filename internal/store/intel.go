package store

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// The intelligence store keeps, for every import run:
//   - each source document as fetched (gzip-compressed raw bytes, SHA-256 of the bytes, URL, time), never replaced:
//     a new revision of a document is a new row;
//   - one row per source advisory (source, CSAF document, id) holding the normalized vigil.Advisory as JSON and the
//     digest of that JSON, with the earlier versions in intel_advisory_revisions when a source revises it;
//   - alias groups (union-find over every id and alias an advisory carries) that merge the sources' advisories into
//     one vulnerability whose preferred id is its CVE;
//   - the affected index (intelkeys.go), KEV entries with their history, EPSS scores with their history;
//   - per run, the package keys whose advisories changed, so that only the device versions holding them are
//     re-matched.

// Limits on what one advisory may make the store do; feeds are untrusted.
const (
	maxIDLen      = 256  // an advisory id or alias
	maxAliases    = 1000 // ids one advisory may link into its group
	maxKeyNameLen = 1024 // a package name in the affected index
)

// SourceDoc is one source document as fetched, with its provenance. Fill it with NewSourceDoc (raw bytes, which it
// compresses) or, for an entry copied from a zip archive, ZipSourceDoc (no recompression).
type SourceDoc struct {
	Source    string    // vigil.SourceOSV, ...
	DocID     string    // the document's own id: CSAF tracking id, OSV record id, KEV "catalog", EPSS "epss", ...
	Revision  string    // CSAF tracking version, OSV modified, KEV catalog version, EPSS score date, ...
	Name      string    // the file (path!entry for an archive entry) or URL it was read from
	URL       string    // where it was fetched from, when it came over the network
	FetchedAt time.Time // zero means the run's time
	Records   int       // records read from it (stored ones plus rejected ones)
	Rejected  int       // records of it rejected by --skip-invalid: such a document is never skipped as known

	Digest     string // hex SHA-256 of the document's bytes
	BlobDigest [32]byte
	Size       int64
	Gzip       []byte // the bytes, gzip-compressed
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// NewSourceDoc returns a SourceDoc for raw, computing its digest and compressed form. It is safe to call from
// several goroutines (importer workers do).
func NewSourceDoc(source, docID, name string, raw []byte) *SourceDoc {
	d := &SourceDoc{Source: source, DocID: docID, Name: name, Size: int64(len(raw))}
	sum := sha256.Sum256(raw)
	d.Digest = hex.EncodeToString(sum[:])
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 64)
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(raw)
	zw.Close()
	gzipPool.Put(zw)
	d.Gzip = buf.Bytes()
	d.BlobDigest = sha256.Sum256(d.Gzip)
	return d
}

// ZipBlob builds the gzip form of a zip entry stored with Deflate from its compressed bytes, CRC-32 and size, so the
// importer keeps the raw record without decompressing and recompressing it (a gzip member is a header, the same
// deflate stream and a CRC-32/size trailer). Its SHA-256 (the document's BlobDigest) lets a re-import recognise an
// unchanged entry without decompressing it.
func ZipBlob(deflated []byte, crc uint32, size uint64) []byte {
	b := make([]byte, 0, len(deflated)+18)
	b = append(b, gzipHeader[:]...)
	b = append(b, deflated...)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	return b
}

// ZipBlobDigest is the SHA-256 of ZipBlob(deflated, crc, size), computed without building the blob: a re-import
// checks every entry of an archive this way and builds the blob only for the new ones.
func ZipBlobDigest(deflated []byte, crc uint32, size uint64) [32]byte {
	h := sha256.New()
	h.Write(gzipHeader[:])
	h.Write(deflated)
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:4], crc)
	binary.LittleEndian.PutUint32(t[4:], uint32(size))
	h.Write(t[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// gzipHeader is the fixed header of ZipBlob's gzip member: deflate, no flags, no time, unknown OS.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// ZipSourceDoc returns a SourceDoc for a zip entry from its gzip blob (ZipBlob) and its decompressed bytes (for the
// digest and size).
func ZipSourceDoc(source, docID, name string, blob, raw []byte) *SourceDoc {
	d := &SourceDoc{Source: source, DocID: docID, Name: name, Gzip: blob, BlobDigest: sha256.Sum256(blob), Size: int64(len(raw))}
	sum := sha256.Sum256(raw)
	d.Digest = hex.EncodeToString(sum[:])
	return d
}

// Gunzip returns the bytes of a stored document (for `vigil vuln show --raw` and tests).
func Gunzip(blob []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, vigil.Errorf(vigil.EINVALID, "stored document larger than %d bytes", max)
	}
	return b, nil
}

// CRC32 is the zip/gzip checksum of b, exported for tests that build blobs.
func CRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// PreparedAdvisory is an advisory made ready for the store: its JSON, the digest of that JSON (what "unchanged"
// means) and its affected-index keys. PrepareAdvisory is pure and runs in the importer's workers, so the single
// writer only writes.
type PreparedAdvisory struct {
	Advisory *vigil.Advisory
	Digest   string
	Keys     []vigil.PackageKey
	data     string   // the JSON
	record   []byte   // the match record (match.EncodeRecord)
	ids      []string // the id and aliases linked into its group
}

// PrepareAdvisory validates what the store relies on (source, id, bounded ids) and prepares a.
func PrepareAdvisory(a *vigil.Advisory) (*PreparedAdvisory, error) {
	if a.Source == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %q: source: required", a.ID)
	}
	if strings.TrimSpace(a.ID) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory: id: required")
	}
	if len(a.ID) > maxIDLen {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %.40q...: id: longer than %d bytes", a.ID, maxIDLen)
	}
	for _, id := range append([]string{a.ID, a.Document}, a.Aliases...) {
		if dbText(id) != id {
			return nil, vigil.Errorf(vigil.EINVALID, "advisory %q: an id holds invalid UTF-8 or a NUL byte", dbText(a.ID))
		}
	}
	if len(a.Aliases) > maxAliases {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %s: aliases: %d, more than the limit of %d", a.ID, len(a.Aliases), maxAliases)
	}
	data, err := json.Marshal(a)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %s: %v", a.ID, err)
	}
	sum := sha256.Sum256(data)
	p := &PreparedAdvisory{Advisory: a, data: string(data), Digest: hex.EncodeToString(sum[:]), record: match.EncodeRecord(a)}
	keys := match.AdvisoryKeys(a)
	out := keys[:0]
	for _, k := range keys {
		if len(k.Name) <= maxKeyNameLen && len(k.Ecosystem) <= maxKeyNameLen && k.Name != "" {
			k.Ecosystem, k.Name = dbText(k.Ecosystem), dbText(k.Name)
			out = append(out, k)
		}
	}
	p.Keys = out
	p.ids = linkIDs(a)
	return p, nil
}

// linkIDs returns the ids an advisory links into one vulnerability: its own id and its aliases, without its CSAF
// document id (one document describes several vulnerabilities; linking it would merge them) and without
// duplicates. Ids are kept as the source writes them.
func linkIDs(a *vigil.Advisory) []string {
	out := make([]string, 0, 1+len(a.Aliases))
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > maxIDLen || s == a.Document {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	add(a.ID)
	for _, s := range a.Aliases {
		add(s)
	}
	return out
}

// dbText makes feed text storable in a TEXT column on both engines: PostgreSQL refuses NUL bytes and invalid UTF-8
// (a truncation, or a hostile feed), which would otherwise fail a whole import.
func dbText(s string) string {
	ok := utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
	if ok {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// preferredBetter reports whether id a is a better name for a vulnerability than b: a CVE first, then a GHSA, then
// anything; within a kind the oldest (CVE-2019-99 before CVE-2019-100), then by text.
func preferredBetter(a, b string) bool {
	ra, rb := idRank(a), idRank(b)
	if ra != rb {
		return ra < rb
	}
	if ra == 0 {
		ya, na, _ := strings.Cut(a[4:], "-")
		yb, nb, _ := strings.Cut(b[4:], "-")
		if ya != yb {
			return ya < yb
		}
		ia, ea := strconv.Atoi(na)
		ib, eb := strconv.Atoi(nb)
		if ea == nil && eb == nil && ia != ib {
			return ia < ib
		}
	}
	return a < b
}

func idRank(id string) int {
	switch {
	case len(id) > 8 && strings.HasPrefix(id, "CVE-"):
		return 0
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	return 2
}

// isCVE reports whether id looks like a CVE id (KEV and EPSS attach by CVE).
func isCVE(id string) bool { return idRank(id) == 0 }

// unmarshalData decodes a stored advisory.
func unmarshalData(b []byte, a *vigil.Advisory) error {
	return json.Unmarshal(b, a)
}
