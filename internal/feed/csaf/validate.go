package csaf

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Report is the outcome of Validate: the JSON schema errors and the OASIS mandatory tests (CSAF 2.0 section 6.1)
// the document fails. A document conforms when both lists are empty.
type Report struct {
	SchemaErrors []string     `json:"schema_errors,omitempty"` // "JSON pointer: message"
	Failed       []TestResult `json:"failed,omitempty"`        // in test order
	// NotRun says why the mandatory tests could not run: the document does not even fit CSAF's JSON types.
	NotRun string `json:"not_run,omitempty"`
}

// TestResult is one failed mandatory test with the places it failed at.
type TestResult struct {
	ID     string   `json:"id"`   // "6.1.1"
	Name   string   `json:"name"` // "Missing Definition of Product ID"
	Errors []string `json:"errors"`
}

// Valid reports whether the document passed the schema and every mandatory test that ran.
func (r Report) Valid() bool { return len(r.SchemaErrors) == 0 && len(r.Failed) == 0 && r.NotRun == "" }

// FailedTests returns the ids of the failed mandatory tests.
func (r Report) FailedTests() []string {
	ids := make([]string, len(r.Failed))
	for i, f := range r.Failed {
		ids[i] = f.ID
	}
	return ids
}

// TestInfo names one implemented mandatory test.
type TestInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// MandatoryTests lists the mandatory tests Validate runs, in order.
func MandatoryTests() []TestInfo {
	out := make([]TestInfo, len(mandatory))
	for i, m := range mandatory {
		out[i] = TestInfo{ID: m.id, Name: m.name}
	}
	return out
}

// Validate checks raw against the embedded CSAF 2.0 JSON schema (with the FIRST CVSS schemas it references) and
// runs the implemented mandatory tests. The error is EINVALID only when the input cannot be judged at all: not
// JSON, or beyond DefaultLimits (size, nesting, string length, counts); everything else is in the Report.
//
// Validate does not go through github.com/gocsaf/csaf: its validator falls back to fetching unknown schema URLs
// over HTTP, and its typed model is built for writing documents rather than judging them.
func Validate(raw []byte) (Report, error) {
	name, lim := errName("(validate)"), DefaultLimits()
	if err := untrusted.CheckSize(name, raw, lim.MaxRecordSize); err != nil {
		return Report{}, err
	}
	if err := untrusted.CheckJSON(name, raw, lim); err != nil {
		return Report{}, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Report{}, untrusted.JSONError(name, "", raw, err)
	}
	sch, err := compiledSchemas()
	if err != nil {
		return Report{}, err
	}
	var rep Report
	if rep.SchemaErrors, err = schemaErrors(sch.csaf, inst, ""); err != nil {
		return Report{}, err
	}
	doc, err := decodeDoc(raw, name, lim)
	if err != nil {
		rep.NotRun = err.Error()
		return rep, nil
	}
	c := &checker{doc: doc, sch: sch}
	c.prepare()
	if n := c.fanOut(); n > lim.MaxProductRefs {
		// Tests that expand groups would do n steps or more; refuse like Parse does.
		rep.NotRun = untrusted.Invalid(name, "", "%d product references after group expansion, more than %d", n, lim.MaxProductRefs).Error()
		return rep, nil
	}
	for _, m := range mandatory {
		c.errs = nil
		m.run(c)
		if len(c.errs) > 0 {
			rep.Failed = append(rep.Failed, TestResult{ID: m.id, Name: m.name, Errors: c.errs})
		}
	}
	return rep, nil
}

// checker holds the decoded document and the indexes the tests share.
type checker struct {
	doc  *rawDoc
	sch  *schemas
	errs []string

	defs      []definition
	defined   map[string]bool // product ids
	groupDefs map[string][]string
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) prepare() {
	c.defs = definitions(c.doc.ProductTree)
	c.defined = map[string]bool{}
	for _, d := range c.defs {
		c.defined[d.fp.ProductID] = true
	}
	c.groupDefs = map[string][]string{}
	if pt := c.doc.ProductTree; pt != nil {
		for _, g := range pt.ProductGroups {
			if _, dup := c.groupDefs[g.GroupID]; !dup {
				c.groupDefs[g.GroupID] = g.ProductIDs
			}
		}
	}
}

// fanOut counts the product ids that statuses, scores, remediations, threats and flags name, groups expanded.
func (c *checker) fanOut() int {
	n := 0
	count := func(ids, groups []string) {
		n += len(ids)
		for _, g := range groups {
			n += len(c.groupDefs[g])
		}
	}
	for _, v := range c.doc.Vulnerabilities {
		for _, sl := range v.ProductStatus.statusLists() {
			n += len(sl.IDs)
		}
		for _, s := range v.Scores {
			n += len(s.Products)
		}
		for _, r := range v.Remediations {
			count(r.ProductIDs, r.GroupIDs)
		}
		for _, t := range v.Threats {
			count(t.ProductIDs, t.GroupIDs)
		}
		for _, f := range v.Flags {
			count(f.ProductIDs, f.GroupIDs)
		}
	}
	return n
}

// productRef is one place that refers to a product id.
type productRef struct{ path, id string }

// productRefs lists every reference to a product id outside of full product names (test 6.1.1's domain).
func (c *checker) productRefs() []productRef {
	var out []productRef
	list := func(path string, ids []string) {
		for i, id := range ids {
			out = append(out, productRef{fmt.Sprintf("%s/%d", path, i), id})
		}
	}
	if pt := c.doc.ProductTree; pt != nil {
		for i, g := range pt.ProductGroups {
			list(fmt.Sprintf("/product_tree/product_groups/%d/product_ids", i), g.ProductIDs)
		}
		for i, r := range pt.Relationships {
			p := fmt.Sprintf("/product_tree/relationships/%d", i)
			out = append(out, productRef{p + "/product_reference", r.ProductReference}, productRef{p + "/relates_to_product_reference", r.RelatesToProductReference})
		}
	}
	for i, v := range c.doc.Vulnerabilities {
		p := fmt.Sprintf("/vulnerabilities/%d", i)
		for _, sl := range v.ProductStatus.statusLists() {
			list(p+"/product_status/"+sl.Status, sl.IDs)
		}
		for j, r := range v.Remediations {
			list(fmt.Sprintf("%s/remediations/%d/product_ids", p, j), r.ProductIDs)
		}
		for j, s := range v.Scores {
			list(fmt.Sprintf("%s/scores/%d/products", p, j), s.Products)
		}
		for j, t := range v.Threats {
			list(fmt.Sprintf("%s/threats/%d/product_ids", p, j), t.ProductIDs)
		}
		for j, f := range v.Flags {
			list(fmt.Sprintf("%s/flags/%d/product_ids", p, j), f.ProductIDs)
		}
	}
	return out
}

// expand returns the product ids named directly or through groups.
func (c *checker) expand(ids, groups []string) []string {
	out := slices.Clone(ids)
	for _, g := range groups {
		out = append(out, c.groupDefs[g]...)
	}
	return out
}

type mandatoryTest struct {
	id, name string
	run      func(*checker)
}

// mandatory is the list of implemented tests in the order of the specification.
var mandatory = []mandatoryTest{
	{"6.1.1", "Missing Definition of Product ID", test611},
	{"6.1.2", "Multiple Definition of Product ID", test612},
	{"6.1.3", "Circular Definition of Product ID", test613},
	{"6.1.4", "Missing Definition of Product Group ID", test614},
	{"6.1.5", "Multiple Definition of Product Group ID", test615},
	{"6.1.6", "Contradicting Product Status", test616},
	{"6.1.7", "Multiple Scores with same Version per Product", test617},
	{"6.1.8", "Invalid CVSS", test618},
	{"6.1.9", "Invalid CVSS computation", test619},
	{"6.1.10", "Inconsistent CVSS", test6110},
	{"6.1.11", "CWE", test6111},
	{"6.1.12", "Language", test6112},
	{"6.1.13", "purl", test6113},
	{"6.1.14", "Sorted Revision History", test6114},
	{"6.1.15", "Translator", test6115},
	{"6.1.16", "Latest Document Version", test6116},
	{"6.1.17", "Document Status Draft", test6117},
	{"6.1.18", "Released Revision History", test6118},
	{"6.1.19", "Revision History Entries for Pre-release Versions", test6119},
	{"6.1.20", "Non-draft Document Version", test6120},
	{"6.1.21", "Missing Item in Revision History", test6121},
	{"6.1.22", "Multiple Definition in Revision History", test6122},
	{"6.1.23", "Multiple Use of Same CVE", test6123},
	{"6.1.24", "Multiple Definition in Involvements", test6124},
	{"6.1.25", "Multiple Use of Same Hash Algorithm", test6125},
	{"6.1.26", "Prohibited Document Category Name", test6126},
	{"6.1.27.1", "Document Notes", test61271},
	{"6.1.27.2", "Document References", test61272},
	{"6.1.27.3", "Vulnerabilities (informational advisory)", test61273},
	{"6.1.27.4", "Product Tree", test61274},
	{"6.1.27.5", "Vulnerability Notes", test61275},
	{"6.1.27.6", "Product Status", test61276},
	{"6.1.27.7", "VEX Product Status", test61277},
	{"6.1.27.8", "Vulnerability ID", test61278},
	{"6.1.27.9", "Impact Statement", test61279},
	{"6.1.27.10", "Action Statement", test612710},
	{"6.1.27.11", "Vulnerabilities (security advisory, VEX)", test612711},
	{"6.1.28", "Translation", test6128},
	{"6.1.29", "Remediation without Product Reference", test6129},
	{"6.1.30", "Mixed Integer and Semantic Versioning", test6130},
	{"6.1.31", "Version Range in Product Version", test6131},
	{"6.1.32", "Flag without Product Reference", test6132},
	{"6.1.33", "Multiple Flags with VEX Justification Codes per Product", test6133},
}

func test611(c *checker) {
	for _, r := range c.productRefs() {
		if !c.defined[r.id] {
			c.fail(r.path, "product id %q is not defined", untrusted.Clip(r.id))
		}
	}
}

func test612(c *checker) {
	first := map[string]string{}
	for _, d := range c.defs {
		id := d.fp.ProductID
		if p, dup := first[id]; dup {
			c.fail(d.path+"/product_id", "product id %q is already defined at %s", untrusted.Clip(id), p)
		} else {
			first[id] = d.path
		}
	}
}

// test613 finds product ids that end up in a circle of relationships: with each relationship-defined id pointing
// at the ids it is built from, peel off (Kahn's algorithm) every id whose references all lead out of the
// relationships; what cannot be peeled is on a circle or leads into one. Linear, however long the chains.
func test613(c *checker) {
	pt := c.doc.ProductTree
	if pt == nil {
		return
	}
	refs := map[string][]string{} // product id defined by a relationship → ids it is built from
	for _, r := range pt.Relationships {
		id := r.FullProductName.ProductID
		refs[id] = append(refs[id], r.ProductReference, r.RelatesToProductReference)
	}
	pending := map[string]int{}    // id → references to ids still in the relationship graph
	users := map[string][]string{} // id → relationship ids that reference it
	var free []string
	for id, rs := range refs {
		for _, r := range rs {
			if _, isRel := refs[r]; isRel {
				pending[id]++
				users[r] = append(users[r], id)
			}
		}
		if pending[id] == 0 {
			free = append(free, id)
		}
	}
	peeled := map[string]bool{}
	for len(free) > 0 {
		id := free[len(free)-1]
		free = free[:len(free)-1]
		peeled[id] = true
		for _, u := range users[id] {
			if pending[u]--; pending[u] == 0 {
				free = append(free, u)
			}
		}
	}
	reported := map[string]bool{}
	for i, r := range pt.Relationships {
		id := r.FullProductName.ProductID
		if !peeled[id] && !reported[id] {
			reported[id] = true
			c.fail(fmt.Sprintf("/product_tree/relationships/%d/full_product_name/product_id", i), "product id %q is defined through itself", untrusted.Clip(id))
		}
	}
}

func test614(c *checker) {
	check := func(path string, groups []string) {
		for i, g := range groups {
			if _, ok := c.groupDefs[g]; !ok {
				c.fail(fmt.Sprintf("%s/%d", path, i), "product group id %q is not defined", untrusted.Clip(g))
			}
		}
	}
	for i, v := range c.doc.Vulnerabilities {
		p := fmt.Sprintf("/vulnerabilities/%d", i)
		for j, r := range v.Remediations {
			check(fmt.Sprintf("%s/remediations/%d/group_ids", p, j), r.GroupIDs)
		}
		for j, t := range v.Threats {
			check(fmt.Sprintf("%s/threats/%d/group_ids", p, j), t.GroupIDs)
		}
		for j, f := range v.Flags {
			check(fmt.Sprintf("%s/flags/%d/group_ids", p, j), f.GroupIDs)
		}
	}
}

func test615(c *checker) {
	if c.doc.ProductTree == nil {
		return
	}
	first := map[string]int{}
	for i, g := range c.doc.ProductTree.ProductGroups {
		if j, dup := first[g.GroupID]; dup {
			c.fail(fmt.Sprintf("/product_tree/product_groups/%d/group_id", i), "group id %q is already defined at /product_tree/product_groups/%d", untrusted.Clip(g.GroupID), j)
		} else {
			first[g.GroupID] = i
		}
	}
}

// statusGroup is the contradiction class of a product_status list (6.1.6); recommended belongs to none.
var statusGroup = map[string]string{
	"first_affected": "affected", "known_affected": "affected", "last_affected": "affected",
	"known_not_affected": "not affected",
	"first_fixed":        "fixed", "fixed": "fixed",
	"under_investigation": "under investigation",
}

func test616(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		group := map[string]string{}
		for _, sl := range v.ProductStatus.statusLists() {
			g, ok := statusGroup[sl.Status]
			if !ok {
				continue
			}
			for j, id := range sl.IDs {
				if prev, seen := group[id]; seen && prev != g {
					c.fail(fmt.Sprintf("/vulnerabilities/%d/product_status/%s/%d", i, sl.Status, j), "product id %q is both %s and %s", untrusted.Clip(id), prev, g)
				} else if !seen {
					group[id] = g
				}
			}
		}
	}
}

func test6123(c *checker) {
	first := map[string]int{}
	for i, v := range c.doc.Vulnerabilities {
		if v.CVE == "" {
			continue
		}
		if j, dup := first[v.CVE]; dup {
			c.fail(fmt.Sprintf("/vulnerabilities/%d/cve", i), "%s is already used by /vulnerabilities/%d", untrusted.Clip(v.CVE), j)
		} else {
			first[v.CVE] = i
		}
	}
}

func test6124(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		seen := map[string]int{}
		for j, iv := range v.Involvements {
			key := iv.Party + "\x00" + normalizeTime(iv.Date)
			if k, dup := seen[key]; dup {
				c.fail(fmt.Sprintf("/vulnerabilities/%d/involvements/%d", i, j), "party %q at %q is already listed at index %d", untrusted.Clip(iv.Party), untrusted.Clip(iv.Date), k)
			} else {
				seen[key] = j
			}
		}
	}
}

func test6125(c *checker) {
	for _, d := range c.defs {
		if d.fp.Helper == nil {
			continue
		}
		for i, h := range d.fp.Helper.Hashes {
			seen := map[string]bool{}
			for j, fh := range h.FileHashes {
				if seen[fh.Algorithm] {
					c.fail(fmt.Sprintf("%s/product_identification_helper/hashes/%d/file_hashes/%d/algorithm", d.path, i, j), "hash algorithm %q is used twice for the same file", untrusted.Clip(fh.Algorithm))
				}
				seen[fh.Algorithm] = true
			}
		}
	}
}

func test6129(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		for j, r := range v.Remediations {
			if len(r.ProductIDs) == 0 && len(r.GroupIDs) == 0 {
				c.fail(fmt.Sprintf("/vulnerabilities/%d/remediations/%d", i, j), "remediation names no product_ids or group_ids")
			}
		}
	}
}

func test6132(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		for j, f := range v.Flags {
			if len(f.ProductIDs) == 0 && len(f.GroupIDs) == 0 {
				c.fail(fmt.Sprintf("/vulnerabilities/%d/flags/%d", i, j), "flag names no product_ids or group_ids")
			}
		}
	}
}

func test6133(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		first := map[string]int{}
		for j, f := range v.Flags {
			for _, id := range dedupe(c.expand(f.ProductIDs, f.GroupIDs)) {
				if k, dup := first[id]; dup {
					c.fail(fmt.Sprintf("/vulnerabilities/%d/flags/%d", i, j), "product id %q already has a flag (flags/%d)", untrusted.Clip(id), k)
				} else {
					first[id] = j
				}
			}
		}
	}
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// sortedKeys returns m's keys in order (deterministic messages).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
