package importer

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/feed/nvd"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/store"
)

// parseFunc parses one document's bytes into res: its advisories (prepared for the store), KEV catalog or EPSS
// scores, its rejected records, and the document's own id, revision and record count (res.doc). When nothing of
// the document can be kept it sets res.doc to nil.
type parseFunc func(r *run, name string, raw []byte, res *result)

// parsers maps each source to its parser. KEV and EPSS register theirs in their own file.
var parsers = map[string]parseFunc{
	vigil.SourceOSV:  parseOSV,
	vigil.SourceCSAF: parseCSAF,
	vigil.SourceNVD:  parseNVD,
	vigil.SourceSTIX: parseSTIX,
}

// recordName guesses a record's id from its file or entry name (PYSEC-2021-1.json → PYSEC-2021-1), for the
// rejected list when the record could not be read far enough to know its id.
func recordName(name string) string {
	if i := strings.LastIndexByte(name, '!'); i >= 0 {
		name = name[i+1:]
	}
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	for _, ext := range []string{".gz", ".json", ".yaml", ".yml"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

func (res *result) add(name, record string, a *vigil.Advisory) {
	p, err := store.PrepareAdvisory(a)
	if err != nil {
		res.reject(name, record, feed.Invalid(name, "", "%s", feed.Message(err)))
		return
	}
	res.advs = append(res.advs, p)
}

func parseOSV(r *run, name string, raw []byte, res *result) {
	a, err := osv.ParseBytes(name, raw, r.lim)
	if err != nil {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	res.doc.DocID, res.doc.Revision, res.doc.Records = a.ID, a.Modified.UTC().Format(time.RFC3339Nano), 1
	res.add(name, a.ID, &a)
	if len(res.advs) == 0 {
		res.doc = nil
	}
}

func parseCSAF(r *run, name string, raw []byte, res *result) {
	doc, err := csaf.Parse(bytes.NewReader(raw), name)
	if err != nil {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	res.doc.DocID, res.doc.Revision = doc.ID, doc.Version
	res.released = doc.InitialRelease
	if res.released.IsZero() {
		res.released = doc.CurrentRelease
	}
	for i := range doc.Advisories {
		res.add(name, doc.Advisories[i].ID, &doc.Advisories[i])
	}
	res.doc.Records = len(res.advs)
}

var nvdRecord = regexp.MustCompile(`vulnerabilities\[\d+\]`)

func parseNVD(r *run, name string, raw []byte, res *result) {
	page, err := nvd.Parse(name, bytes.NewReader(raw), r.lim, func(a vigil.Advisory) error {
		res.add(name, a.ID, &a)
		return nil
	})
	if rj, ok := feed.IsRejects(err); ok {
		for _, e := range rj.Errs {
			res.reject(name, nvdRecord.FindString(feed.Message(e)), e)
		}
		if more := rj.Count - len(rj.Errs); more > 0 {
			// The parser keeps the first few errors only; the rest are still counted, never dropped silently.
			res.reject(name, "", feed.Invalid(name, "", "%d more invalid CVE records (the parser lists the first %d)", more, len(rj.Errs)))
		}
	} else if err != nil {
		res.doc = nil
		res.advs = nil
		res.reject(name, recordName(name), err)
		return
	}
	res.doc.DocID = recordName(name)
	if page.TotalResults > 0 || page.StartIndex > 0 {
		res.doc.DocID = fmt.Sprintf("%s?startIndex=%d", res.doc.DocID, page.StartIndex)
	}
	if !page.Timestamp.IsZero() {
		res.doc.Revision = page.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	res.doc.Records = len(res.advs)
	res.nvdPage = &page
}

func parseSTIX(r *run, name string, raw []byte, res *result) {
	b, err := stix.Parse(bytes.NewReader(raw), name)
	if err != nil {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	for _, msg := range b.Rejected {
		rec, _, _ := strings.Cut(msg, ":")
		res.reject(name, rec, feed.Invalid(name, "", "%s", msg))
	}
	for i := range b.Advisories {
		res.add(name, b.Advisories[i].ID, &b.Advisories[i])
	}
	res.doc.DocID = b.ID
	res.doc.Records = len(res.advs)
}
