package vigil

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"sync"
	"time"
)

// IntelWriter is one import run's write session, the only way the importer reaches the store: everything written
// through it commits together, with one audit event for the run, or not at all. Known and Prepare are safe for
// concurrent use (the importer's parsing workers call them); every other method is called from the one goroutine
// that writes, in input order.
type IntelWriter interface {
	// Known looks up, in one query per kind of key, which of a batch of documents were imported whole before, and
	// their source and record counts: the importer then counts their records unchanged without parsing them.
	// Documents with rejected records are never known (a re-import must reject them again).
	Known(keys []DocKey) (map[DocKey]KnownDoc, error)
	// Prepare validates what the store relies on in an advisory and makes it ready to write. It is pure, so the
	// workers do this work and the single writer only writes.
	Prepare(a *Advisory) (*PreparedAdvisory, error)
	// Document stores a source document and returns its id, for the records read from it to refer to.
	Document(d *SourceDoc) (int64, error)
	// SetReleased records a CSAF document's release date: signals raised from its advisories are dated with it.
	SetReleased(doc int64, released time.Time)
	// Advisory stores one prepared advisory read from document doc (added, unchanged, revised or kept as an older
	// revision).
	Advisory(doc int64, p *PreparedAdvisory) error
	// KEV stores a KEV catalog's entries read from document doc.
	KEV(doc int64, catalogVersion string, entries []KEVEntry) error
	// EPSS stores EPSS scores read from document doc.
	EPSS(doc int64, scores []EPSSScore) error
	// Touch lists a source in the run's summaries even when nothing of it changed.
	Touch(source string)
	// Unchanged counts n records of source as unchanged.
	Unchanged(source string, n int)
	// Reject lists an invalid record skipped under the run's summary of source.
	Reject(source string, r RejectedRecord)
	// SetHTTPCache remembers a feed URL's ETag and Last-Modified for the next conditional fetch.
	SetHTTPCache(url, etag, lastModified string) error
}

// DocKey names a document for IntelWriter.Known: by the hex SHA-256 of its bytes (Digest), or, for a zip entry
// not yet decompressed, by the SHA-256 of its gzip form (Blob, ZipBlobDigest). Exactly one is set.
type DocKey struct {
	Digest string
	Blob   [32]byte
}

// KnownDoc is a document imported whole before: its source and how many records it held.
type KnownDoc struct {
	Source  string
	Records int
}

// PreparedAdvisory is an advisory made ready for the store by IntelWriter.Prepare; the importer hands it back to
// IntelWriter.Advisory untouched.
type PreparedAdvisory struct {
	Advisory *Advisory
	Data     string       // the advisory as JSON, as stored
	Digest   string       // hex SHA-256 of Data: what "unchanged" means
	Record   []byte       // the compiled match record
	Keys     []PackageKey // the affected-index keys
	IDs      []string     // the id and aliases linked into its vulnerability
	// Search is what `vuln list --text` reads of it besides its ids and package names: the lower-case title,
	// summary, CSAF document id and product names.
	Search string
}

// SourceDoc is one source document as fetched, with its provenance. Fill it with NewSourceDoc (raw bytes, which it
// compresses) or, for an entry copied from a zip archive, ZipSourceDoc (no recompression).
type SourceDoc struct {
	Source    string    // SourceOSV, ...
	DocID     string    // the document's own id: CSAF tracking id, OSV record id, KEV "catalog", EPSS "epss", ...
	Revision  string    // CSAF tracking version, OSV modified, KEV catalog version, EPSS score date, ...
	Name      string    // the file (path!entry for an archive entry) or URL it was read from
	URL       string    // where it was fetched from, when it came over the network
	FetchedAt time.Time // zero means the run's time
	Records   int       // records read from it (stored ones plus rejected ones)
	Rejected  int       // records of it rejected by --skip-invalid: such a document is never skipped as known
	// OSVRecord says the document is one OSV record that osv.ParseBytes reads into the one advisory written from
	// it: the store then keeps the document only, and parses it again when the advisory is shown.
	OSVRecord bool

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
