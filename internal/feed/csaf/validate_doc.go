package csaf

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
	"golang.org/x/text/language"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// normalizeTime turns an RFC 3339 date-time into one comparable form (UTC, nanoseconds); unparsable text is
// returned as is, so equal strings still compare equal.
func normalizeTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// revision is a revision-history entry with its parsed date and number.
type revision struct {
	index   int
	date    time.Time
	dateOK  bool
	number  docVersion
	numOK   bool
	numText string
}

func (c *checker) revisions() []revision {
	var out []revision
	for i, r := range c.doc.Document.Tracking.RevisionHistory {
		rv := revision{index: i, numText: r.Number}
		if t, err := time.Parse(time.RFC3339, r.Date); err == nil {
			rv.date, rv.dateOK = t, true
		}
		rv.number, rv.numOK = parseVersion(r.Number)
		out = append(out, rv)
	}
	return out
}

// byDate returns the revisions sorted by date, then number; nil when a date or number does not parse (the schema
// reports those).
func (c *checker) byDate() []revision {
	rs := c.revisions()
	for _, r := range rs {
		if !r.dateOK || !r.numOK {
			return nil
		}
	}
	// Equal dates carry no order of their own, so among them the numbers decide.
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].date.Equal(rs[j].date) {
			return rs[i].date.Before(rs[j].date)
		}
		return rs[i].number.compare(rs[j].number) < 0
	})
	return rs
}

func test6111(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		if v.CWE == nil {
			continue
		}
		p := fmt.Sprintf("/vulnerabilities/%d/cwe", i)
		name, ok := cweName(v.CWE.ID)
		switch {
		case !ok:
			c.fail(p+"/id", "%q is not in the CWE list (version %s)", untrusted.Clip(v.CWE.ID), cweVersion)
		case name != v.CWE.Name:
			c.fail(p+"/name", "%s is named %q, not %q", v.CWE.ID, name, untrusted.Clip(v.CWE.Name))
		}
	}
}

func test6112(c *checker) {
	d := &c.doc.Document
	for _, l := range []struct{ path, tag string }{{"/document/lang", d.Lang}, {"/document/source_lang", d.SourceLang}} {
		if l.tag == "" {
			continue
		}
		// x/text knows the IANA language subtag registry: "EZ" is well-formed but no language.
		if _, err := language.Parse(l.tag); err != nil {
			c.fail(l.path, "%q is not a valid language tag: %v", untrusted.Clip(l.tag), err)
		}
	}
}

func test6113(c *checker) {
	for _, d := range c.defs {
		if d.fp.Helper == nil || d.fp.Helper.Purl == "" {
			continue
		}
		p, err := packageurl.FromString(d.fp.Helper.Purl)
		if err == nil && p.Name == "" {
			err = fmt.Errorf("name is empty")
		}
		if err != nil {
			c.fail(d.path+"/product_identification_helper/purl", "invalid purl %q: %v", untrusted.Clip(d.fp.Helper.Purl), err)
		}
	}
}

func test6114(c *checker) {
	rs := c.byDate()
	for i := 1; i < len(rs); i++ {
		if rs[i].number.compare(rs[i-1].number) < 0 {
			c.fail("/document/tracking/revision_history", "sorted by date, number %q (index %d) comes after %q (index %d)", untrusted.Clip(rs[i].numText), rs[i].index, untrusted.Clip(rs[i-1].numText), rs[i-1].index)
			return
		}
	}
}

func test6115(c *checker) {
	d := &c.doc.Document
	if d.Publisher.Category == "translator" && d.SourceLang == "" {
		c.fail("/document/source_lang", "a translator's document must name its source language")
	}
}

// test6116: the document version is the number of the newest revision (by date; among equal dates the highest
// number). Build metadata is ignored, and so is a pre-release part while the document is a draft.
func test6116(c *checker) {
	tr := &c.doc.Document.Tracking
	rs := c.byDate()
	if len(rs) == 0 {
		return
	}
	last := rs[len(rs)-1]
	v, ok := parseVersion(tr.Version)
	if !ok {
		return
	}
	want := last.number
	if tr.Status == "draft" {
		v.pre, want.pre = "", ""
	}
	if v.compare(want) != 0 || v.integer != want.integer {
		c.fail("/document/tracking/version", "version %q is not the latest revision number %q", untrusted.Clip(tr.Version), untrusted.Clip(last.numText))
	}
}

// isPrerelease reports whether a version is 0, 0.y.z or carries a pre-release part.
func isZeroOrPre(v docVersion) bool { return v.major == 0 || v.pre != "" }

func test6117(c *checker) {
	tr := &c.doc.Document.Tracking
	if v, ok := parseVersion(tr.Version); ok && isZeroOrPre(v) && tr.Status != "draft" {
		c.fail("/document/tracking/status", "version %q requires status draft, not %q", untrusted.Clip(tr.Version), untrusted.Clip(tr.Status))
	}
}

func test6118(c *checker) {
	tr := &c.doc.Document.Tracking
	if tr.Status != "final" && tr.Status != "interim" {
		return
	}
	for _, r := range c.revisions() {
		if r.numOK && r.number.major == 0 {
			c.fail(fmt.Sprintf("/document/tracking/revision_history/%d/number", r.index), "a %s document lists unreleased revision %q", tr.Status, untrusted.Clip(r.numText))
		}
	}
}

func test6119(c *checker) {
	for _, r := range c.revisions() {
		if r.numOK && r.number.pre != "" {
			c.fail(fmt.Sprintf("/document/tracking/revision_history/%d/number", r.index), "revision %q is a pre-release", untrusted.Clip(r.numText))
		}
	}
}

func test6120(c *checker) {
	tr := &c.doc.Document.Tracking
	if tr.Status != "final" && tr.Status != "interim" {
		return
	}
	if v, ok := parseVersion(tr.Version); ok && v.pre != "" {
		c.fail("/document/tracking/version", "a %s document cannot have pre-release version %q", tr.Status, untrusted.Clip(tr.Version))
	}
}

// test6121: the major numbers (integer versions count whole) start at 0 or 1 and leave no gap.
func test6121(c *checker) {
	rs := c.byDate()
	if len(rs) == 0 {
		return
	}
	majors := map[uint64]bool{}
	for _, r := range rs {
		majors[r.number.major] = true
	}
	first := rs[0].number.major
	if first > 1 {
		c.fail("/document/tracking/revision_history", "the oldest revision is %q, not 0 or 1", untrusted.Clip(rs[0].numText))
		return
	}
	var max uint64
	for m := range majors {
		max = maxU(max, m)
	}
	if max-first+1 > uint64(len(rs)) {
		c.fail("/document/tracking/revision_history", "major versions from %d to %d but only %d revisions", first, max, len(rs))
		return
	}
	for m := first; m <= max; m++ {
		if !majors[m] {
			c.fail("/document/tracking/revision_history", "major version %d is missing", m)
			return
		}
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func test6122(c *checker) {
	first := map[string]int{}
	for _, r := range c.revisions() {
		key := r.numText
		if r.numOK {
			key = fmt.Sprintf("%d.%d.%d-%s", r.number.major, r.number.minor, r.number.patch, r.number.pre)
			if r.number.integer {
				key = fmt.Sprint(r.number.major)
			}
		}
		if j, dup := first[key]; dup {
			c.fail(fmt.Sprintf("/document/tracking/revision_history/%d/number", r.index), "number %q is already used by revision %d", untrusted.Clip(r.numText), j)
		} else {
			first[key] = r.index
		}
	}
}

// prohibited category names: the other profiles' names and values, compared without case, hyphens, white space
// and underscores (6.1.26).
var registeredCategories = map[string]bool{
	"csaf_base": true, "csaf_security_incident_response": true, "csaf_informational_advisory": true,
	"csaf_security_advisory": true, "csaf_vex": true,
}

var categoryNoise = regexp.MustCompile(`[-_\s]+`)

func test6126(c *checker) {
	cat := c.doc.Document.Category
	if registeredCategories[cat] {
		return
	}
	norm := strings.ToLower(categoryNoise.ReplaceAllString(cat, ""))
	for _, p := range []string{"securityincidentresponse", "informationaladvisory", "securityadvisory", "vex"} {
		if norm == p || norm == "csaf"+p {
			c.fail("/document/category", "%q is too close to the profile %q", untrusted.Clip(cat), p)
			return
		}
	}
	if strings.HasPrefix(strings.ToLower(cat), "csaf_") {
		c.fail("/document/category", "%q uses the reserved prefix csaf_", untrusted.Clip(cat))
	}
}

func test6128(c *checker) {
	d := &c.doc.Document
	if d.Lang != "" && d.SourceLang != "" && strings.EqualFold(d.Lang, d.SourceLang) {
		c.fail("/document/source_lang", "a translation's language %q equals its source language", untrusted.Clip(d.Lang))
	}
}

func test6130(c *checker) {
	tr := &c.doc.Document.Tracking
	kinds := map[bool]string{}
	note := func(path, s string) {
		if v, ok := parseVersion(s); ok {
			if _, seen := kinds[v.integer]; !seen {
				kinds[v.integer] = path
			}
		}
	}
	note("/document/tracking/version", tr.Version)
	for i, r := range tr.RevisionHistory {
		note(fmt.Sprintf("/document/tracking/revision_history/%d/number", i), r.Number)
	}
	if len(kinds) == 2 {
		c.fail(kinds[false], "semantic version mixed with integer versioning (%s)", kinds[true])
	}
}

// versionRangeWords are the words that betray a version range in a product_version branch (6.1.31). Words are
// separated by white space, so "after-eight" is a version name and "4.2 and later" a range; the comparison
// operators count wherever they appear ("<4.2").
var versionRangeWords = map[string]bool{
	"after": true, "all": true, "before": true, "earlier": true, "later": true, "prior": true, "versions": true,
}

func rangeWord(name string) (string, bool) {
	if i := strings.IndexAny(name, "<>"); i >= 0 {
		return name[i : i+1], true
	}
	for _, w := range strings.Fields(strings.ToLower(name)) {
		w = strings.Trim(w, ".,;:!?()[]{}\"'")
		if versionRangeWords[w] {
			return w, true
		}
	}
	return "", false
}

func test6131(c *checker) {
	if c.doc.ProductTree == nil {
		return
	}
	var walk func(bs []rawBranch, path string)
	walk = func(bs []rawBranch, path string) {
		for i, b := range bs {
			p := fmt.Sprintf("%s/%d", path, i)
			if b.Category == "product_version" {
				if w, ok := rangeWord(b.Name); ok {
					c.fail(p+"/name", "product_version %q contains the range word %q (use product_version_range)", untrusted.Clip(b.Name), w)
				}
			}
			walk(b.Branches, p+"/branches")
		}
	}
	walk(c.doc.ProductTree.Branches, "/product_tree/branches")
}
