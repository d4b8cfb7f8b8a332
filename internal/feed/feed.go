// Package feed is the shared part of Vigil's vulnerability-feed parsers (osv, nvd, kev, epss, csaf, stix): it tells
// which source a document comes from (Detect), walks files, folders, .zip and .gz archives with every read bounded
// (Walk), and holds the limits, error helpers and the JSON guards (nesting depth, error locations) the parsers
// share. Feed data is untrusted: an archive may be a zip bomb, a record may be a gigabyte long or ten thousand
// levels deep, and every error has to name the file and the field so an operator can find the bad record.
// Nothing here touches a store or the network.
package feed

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Default limits. They are generous for real feeds (an NVD yearly feed file is a few hundred MB, OSV.dev's all.zip
// for every ecosystem holds well under two million records) and small enough that a hostile input fails long
// before it exhausts memory.
const (
	DefaultMaxFileSize   = 1 << 30  // 1 GiB: one file or archive entry after decompression
	DefaultMaxTotalSize  = 64 << 30 // 64 GiB: everything one Walk or ReadZip decompresses
	DefaultMaxEntries    = 4_000_000
	DefaultMaxRecordSize = 32 << 20 // 32 MiB: one OSV record, one NVD CVE, one CSAF document read whole
	DefaultMaxLineSize   = 1 << 20  // 1 MiB: one CSV line (the longest real KEV row is a few KiB)
	DefaultMaxDepth      = 64       // JSON/YAML nesting; real OSV and NVD records stay under 12
	DefaultMaxRecords    = 10_000_000
)

// Limits bound what a walker or parser accepts. A zero field means its default (WithDefaults).
type Limits struct {
	MaxFileSize   int64 // bytes of one file or archive entry after decompression
	MaxTotalSize  int64 // decompressed bytes across one Walk or one archive
	MaxEntries    int   // documents one Walk yields, or entries one archive may hold
	MaxRecordSize int64 // bytes of one record read whole (an OSV record, an NVD vulnerability)
	MaxLineSize   int   // bytes of one CSV line
	MaxDepth      int   // nesting depth of JSON/YAML values
	MaxRecords    int   // records (rows, CVEs) in one file
}

// DefaultLimits returns the limits used when none are given.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with each zero (or negative) field replaced by its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRecordSize <= 0 {
		l.MaxRecordSize = DefaultMaxRecordSize
	}
	if l.MaxLineSize <= 0 {
		l.MaxLineSize = DefaultMaxLineSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	return l
}

// Invalid returns an EINVALID error naming the file and, when path is not empty, the place in it: a JSON path such
// as affected[0].ranges[1].events[2], or "line 12" / "line 12: epss" for CSV.
func Invalid(name, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		return vigil.Errorf(vigil.EINVALID, "%s: %s: %s", name, path, msg)
	}
	return vigil.Errorf(vigil.EINVALID, "%s: %s", name, msg)
}

// maxRejectErrors is how many rejected records' errors a Rejects keeps; the count goes on.
const maxRejectErrors = 20

// Rejects is returned by the streaming readers (osv.ReadZip, nvd.Parse, kev, epss) after they have delivered every
// valid record of a file when some records were invalid and skipped. It is an error on purpose: an importer that
// treats every error as fatal rolls back and so never silently drops data; one that wants partial imports checks
// errors.As(err, &rejects) and records Count with the import. Its code (vigil.ErrorCode) is EINVALID.
type Rejects struct {
	Name  string  // the file
	Count int     // records rejected
	Errs  []error // the first few rejections, each naming its record and field
}

// Add records one rejected record.
func (r *Rejects) Add(err error) {
	r.Count++
	if len(r.Errs) < maxRejectErrors {
		r.Errs = append(r.Errs, err)
	}
}

// Err returns r when it holds rejections, else nil.
func (r *Rejects) Err() error {
	if r == nil || r.Count == 0 {
		return nil
	}
	return r
}

func (r *Rejects) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d invalid record(s) skipped", r.Name, r.Count)
	for _, e := range r.Errs {
		b.WriteString("; ")
		b.WriteString(Message(e))
	}
	if r.Count > len(r.Errs) {
		fmt.Fprintf(&b, "; and %d more", r.Count-len(r.Errs))
	}
	return b.String()
}

// Unwrap exposes the kept errors so that errors.As and vigil.ErrorCode see their EINVALID code.
func (r *Rejects) Unwrap() []error {
	if len(r.Errs) == 0 {
		return []error{vigil.Errorf(vigil.EINVALID, "%s: invalid records", r.Name)}
	}
	return r.Errs
}

// IsRejects reports whether err is (or wraps) a *Rejects, returning it.
func IsRejects(err error) (*Rejects, bool) {
	var r *Rejects
	ok := errors.As(err, &r)
	return r, ok
}

// Message returns the text of err without the "vigil error: code=..." wrapper that *vigil.Error.Error adds, so
// that messages can be joined and shown: the Message of a bare *vigil.Error, else err.Error().
func Message(err error) string {
	var e *vigil.Error
	if errors.As(err, &e) && err.Error() == e.Error() {
		return e.Message
	}
	return err.Error()
}
