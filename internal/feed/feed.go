// Package feed is the shared part of Vigil's vulnerability-feed parsers (osv, nvd, kev, epss, csaf, stix): it tells
// which source a document comes from (Detect), walks files, folders, .zip and .gz archives with every read bounded
// (Walk), streams one large JSON document a record at a time (Stream) and collects the records a parser skipped
// (Rejects). Feed data is untrusted: an archive may be a zip bomb, a record may be a gigabyte long or ten thousand
// levels deep; the limits, bounded readers and error builder come from internal/untrusted, shared with the SBOM
// readers. Nothing here touches a store or the network.
package feed

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

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
		b.WriteString(e.Error())
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
