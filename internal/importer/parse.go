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
	"github.com/vigil-dev/vigil/internal/feed/epss"
	"github.com/vigil-dev/vigil/internal/feed/kev"
	"github.com/vigil-dev/vigil/internal/feed/nvd"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// parseFunc parses one document's bytes into res: its advisories (prepared for the store), KEV catalog or EPSS
// scores, its rejected records, and the document's own id, revision and record count (res.doc). When nothing of
// the document can be kept it sets res.doc to nil.
type parseFunc func(r *run, name string, raw []byte, res *result)

// parsers maps each source to its parser.
var parsers = map[string]parseFunc{
	vigil.SourceOSV:  parseOSV,
	vigil.SourceCSAF: parseCSAF,
	vigil.SourceNVD:  parseNVD,
	vigil.SourceSTIX: parseSTIX,
	vigil.SourceKEV:  parseKEV,
	vigil.SourceEPSS: parseEPSS,
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

func (res *result) add(w vigil.IntelWriter, name, record string, a *vigil.Advisory) {
	p, err := w.Prepare(a)
	if err != nil {
		res.reject(name, record, untrusted.Invalid(name, "", "%s", err.Error()))
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
	res.doc.OSVRecord = true
	res.add(r.w, name, a.ID, &a)
	if len(res.advs) == 0 {
		res.doc = nil
	}
}

// parseCSAF and parseSTIX read with their format's own limits (csaf.DefaultLimits, stix.DefaultLimits): the run's
// limits are sized for feed files of millions of records, far beyond what one advisory document may hold.
func parseCSAF(r *run, name string, raw []byte, res *result) {
	doc, err := csaf.Parse(name, bytes.NewReader(raw), untrusted.Limits{})
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
		res.add(r.w, name, doc.Advisories[i].ID, &doc.Advisories[i])
	}
	res.doc.Records = len(res.advs)
}

var nvdRecord = regexp.MustCompile(`vulnerabilities\[\d+\]`)

func parseNVD(r *run, name string, raw []byte, res *result) {
	page, err := nvd.Parse(name, bytes.NewReader(raw), r.lim, func(a vigil.Advisory) error {
		res.add(r.w, name, a.ID, &a)
		return nil
	})
	if err != nil && !res.rejectsOf(name, err, nvdRecord) {
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
}

func parseSTIX(r *run, name string, raw []byte, res *result) {
	b, err := stix.Parse(name, bytes.NewReader(raw), untrusted.Limits{})
	if err != nil {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	for _, msg := range b.Rejected {
		rec, _, _ := strings.Cut(msg, ":")
		res.reject(name, rec, untrusted.Invalid(name, "", "%s", msg))
	}
	for i := range b.Advisories {
		res.add(r.w, name, b.Advisories[i].ID, &b.Advisories[i])
	}
	res.doc.DocID = b.ID
	res.doc.Records = len(res.advs)
}

// rejectsOf lists a streaming parser's per-record rejections; more, beyond the few the parser keeps, are counted in
// one further entry so that nothing is dropped silently. It reports false for any other error.
func (res *result) rejectsOf(name string, err error, record *regexp.Regexp) bool {
	rj, ok := feed.IsRejects(err)
	if !ok {
		return false
	}
	for _, e := range rj.Errs {
		res.reject(name, record.FindString(e.Error()), e)
	}
	if more := rj.Count - len(rj.Errs); more > 0 {
		res.reject(name, "", untrusted.Invalid(name, "", "%d more invalid records (the parser lists the first %d)", more, len(rj.Errs)))
	}
	return true
}

var kevRecord = regexp.MustCompile(`vulnerabilities\[\d+\]|line \d+`)

func parseKEV(r *run, name string, raw []byte, res *result) {
	cat, err := kev.Parse(name, bytes.NewReader(raw), r.lim)
	if err != nil && !res.rejectsOf(name, err, kevRecord) {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	res.doc.DocID, res.doc.Revision = "known_exploited_vulnerabilities", cat.Version
	res.doc.Records = len(cat.Entries)
	res.kev = &kevCatalog{version: cat.Version, entries: cat.Entries}
}

var epssRecord = regexp.MustCompile(`line \d+`)

func parseEPSS(r *run, name string, raw []byte, res *result) {
	var scores []vigil.EPSSScore
	h, err := epss.Parse(name, bytes.NewReader(raw), r.lim, func(s vigil.EPSSScore) error {
		scores = append(scores, s)
		return nil
	})
	if err != nil && !res.rejectsOf(name, err, epssRecord) {
		res.doc = nil
		res.reject(name, recordName(name), err)
		return
	}
	res.doc.DocID, res.doc.Revision = "epss_scores", h.ScoreDate.String()
	res.doc.Records = len(scores)
	if scores == nil {
		scores = []vigil.EPSSScore{}
	}
	res.epss = scores
}
