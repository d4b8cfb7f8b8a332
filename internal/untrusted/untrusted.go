// Package untrusted is the one toolkit every reader of untrusted input uses: the feed parsers (internal/feed/*),
// the SBOM readers (internal/sbom/*) and the importer that feeds them. It holds the limits (one Limits type; each
// reader family fills the fields left zero with its own defaults), the bounded readers (ReadAll, LimitReader with a
// shared Budget, LineLimit), the JSON guards (CheckJSON's depth and string-length pre-scan, LineCol, JSONError with
// the path of a mistyped value) and the one error builder, Invalid, whose message names the file and the field so
// an operator or a supplier can find the bad record. Every reader has one shape,
// Parse(name string, r io.Reader, lim Limits), with name first because it is what every error starts with.
// Nothing here touches a store, the network or a particular format.
package untrusted

import (
	"fmt"

	"github.com/vigil-dev/vigil"
)

// Default limits. They are generous for real input (an NVD yearly feed file is a few hundred MB, OSV.dev's all.zip
// for every ecosystem holds well under two million records) and small enough that a hostile input fails long
// before it exhausts memory. Reader families override some of them (an SBOM may be 64 MiB and nest 128 deep).
const (
	DefaultMaxFileSize   = 1 << 30  // 1 GiB: one file or archive entry after decompression
	DefaultMaxTotalSize  = 64 << 30 // 64 GiB: everything one walk or archive decompresses
	DefaultMaxEntries    = 4_000_000
	DefaultMaxRecordSize = 32 << 20 // 32 MiB: one OSV record, one NVD CVE, one CSAF document read whole
	DefaultMaxLineSize   = 1 << 20  // 1 MiB: one CSV line (the longest real KEV row is a few KiB)
	DefaultMaxDepth      = 64       // JSON/YAML/XML nesting; real OSV and NVD records stay under 12
	DefaultMaxRecords    = 10_000_000
)

// Limits bound what a reader accepts. A zero (or negative) field means the reader's default: Or fills it.
type Limits struct {
	MaxFileSize   int64 // bytes of one file or archive entry after decompression
	MaxTotalSize  int64 // decompressed bytes across one walk or one archive
	MaxEntries    int   // documents one walk yields, or entries one archive may hold
	MaxRecordSize int64 // bytes of one document or record read whole: an SBOM, a CSAF document, an OSV record, a CVE
	MaxLineSize   int   // bytes of one line of a line-oriented format (CSV)
	MaxDepth      int   // nesting depth of JSON/YAML values or XML elements
	// MaxString bounds one JSON string as written (escapes included). Its default is none of its own: the record
	// size bounds it; readers whose later walks copy strings around (CSAF, STIX) set one.
	MaxString  int
	MaxRecords int // records in one document: CSV rows, CVEs, CSAF vulnerabilities, STIX objects, SBOM components
	// MaxProducts and MaxProductRefs bound CSAF's product tree and the product entries it expands to (a few group
	// ids could otherwise fan out quadratically).
	MaxProducts    int
	MaxProductRefs int
}

// DefaultLimits returns the limits used for a field no reader family overrides.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with each zero field replaced by the package default.
func (l Limits) WithDefaults() Limits {
	return l.Or(Limits{
		MaxFileSize:   DefaultMaxFileSize,
		MaxTotalSize:  DefaultMaxTotalSize,
		MaxEntries:    DefaultMaxEntries,
		MaxRecordSize: DefaultMaxRecordSize,
		MaxLineSize:   DefaultMaxLineSize,
		MaxDepth:      DefaultMaxDepth,
		MaxRecords:    DefaultMaxRecords,
	})
}

// Or returns l with each zero (or negative) field taken from d: a reader calls lim.Or(itsDefaults) first.
func (l Limits) Or(d Limits) Limits {
	return Limits{
		MaxFileSize:    or(l.MaxFileSize, d.MaxFileSize),
		MaxTotalSize:   or(l.MaxTotalSize, d.MaxTotalSize),
		MaxEntries:     or(l.MaxEntries, d.MaxEntries),
		MaxRecordSize:  or(l.MaxRecordSize, d.MaxRecordSize),
		MaxLineSize:    or(l.MaxLineSize, d.MaxLineSize),
		MaxDepth:       or(l.MaxDepth, d.MaxDepth),
		MaxString:      or(l.MaxString, d.MaxString),
		MaxRecords:     or(l.MaxRecords, d.MaxRecords),
		MaxProducts:    or(l.MaxProducts, d.MaxProducts),
		MaxProductRefs: or(l.MaxProductRefs, d.MaxProductRefs),
	}
}

func or[T int | int64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Invalid returns an EINVALID error naming the document and, when field is not empty, the place in it: a JSON path
// such as affected[0].ranges[1].events[2], an XPath-like bom/components[1]/purl, or "line 12" for line formats.
// name is the document as the reader family names it in messages ("sbom pump.json", "p.json").
func Invalid(name, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		return vigil.Errorf(vigil.EINVALID, "%s: %s: %s", name, field, msg)
	}
	return vigil.Errorf(vigil.EINVALID, "%s: %s", name, msg)
}

// Clip shortens untrusted text quoted in an error message so that a hostile value cannot flood logs.
func Clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	// Cut on a rune boundary.
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
