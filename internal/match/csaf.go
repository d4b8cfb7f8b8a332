package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

// product is one CSAF product an advisory says is affected, with its version constraint read.
type product struct {
	ent  *entry
	idx  int
	p    *vigil.Product
	all  bool         // every version
	cons []constraint // product_version or product_version_range, read as a vers range
	bad  string       // why the version statement cannot be read
	rng  string       // evidence
	crit *cpe.Criterion
}

// affectedStatuses are the CSAF product statuses that say "this version is vulnerable".
var affectedStatuses = map[string]bool{"known_affected": true, "first_affected": true, "last_affected": true}

func newProduct(e *entry, i int) *product {
	p := &e.adv.Products[i]
	if !affectedStatuses[p.Status] {
		return nil
	}
	pr := &product{ent: e, idx: i, p: p}
	path := fmt.Sprintf("products[%d]", i)
	switch {
	case p.Version != "":
		pr.rng = "product_version: " + p.Version
		pr.cons, pr.all, pr.bad = parseVers(p.Version, true)
	case p.VersionRange != "":
		pr.rng = "product_version_range: " + p.VersionRange
		pr.cons, pr.all, pr.bad = parseVers(p.VersionRange, false)
	case p.Purl != "" && purlVersion(p.Purl) != "":
		pr.rng = "purl: " + p.Purl
		pr.cons = []constraint{{"=", purlVersion(p.Purl)}}
	default:
		pr.rng, pr.all = "all versions", true
	}
	if pr.bad != "" {
		pr.bad = path + ": " + pr.bad
	}
	if p.CPE != "" {
		if cr, err := cpe.Compile(vigil.CPEMatch{Vulnerable: true, Criteria: p.CPE}); err == nil {
			pr.crit = &cr
			if p.Version == "" && p.VersionRange == "" {
				pr.rng = cr.String()
			}
		}
	}
	return pr
}

// constraint is one vers comparator and version.
type constraint struct {
	op string // "=", "!=", "<", "<=", ">", ">="
	v  string
}

// parseVers reads a CSAF version statement: a vers string ("vers:generic/>=1.0|<2.3", "vers:all/*") or the free
// text CISA writes ("<= 4.1", "All versions < V6.5.1.5", "<= 1.12.0.27 | 1.12.13.2"). exact reads a bare value
// as one version. It returns all=true for "every version", or the reason the text is no version constraint.
func parseVers(s string, exact bool) (cons []constraint, all bool, bad string) {
	t := strings.TrimSpace(s)
	if len(t) > maxField {
		return nil, false, "version statement too long"
	}
	if strings.HasPrefix(strings.ToLower(t), "vers:") {
		var ok bool
		if _, t, ok = strings.Cut(t[len("vers:"):], "/"); !ok {
			return nil, false, fmt.Sprintf("%q: vers without a scheme", clip(s))
		}
	}
	low := strings.ToLower(t)
	for _, p := range []string{"all versions", "all"} {
		if strings.HasPrefix(low, p) {
			t, low = strings.TrimSpace(t[len(p):]), strings.TrimSpace(low[len(p):])
		}
	}
	if t == "" || t == "*" {
		return nil, true, ""
	}
	if exact && !strings.ContainsAny(t, "<>=!|") {
		if !versionLike(t) {
			return nil, false, fmt.Sprintf("%q is not a version", clip(s))
		}
		return []constraint{{"=", t}}, false, ""
	}
	for part := range strings.SplitSeq(t, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if part == "*" {
			return nil, true, ""
		}
		op := "="
		for _, o := range []string{">=", "<=", "!=", "<", ">", "="} {
			if strings.HasPrefix(part, o) {
				op, part = o, strings.TrimSpace(part[len(o):])
				break
			}
		}
		if !versionLike(part) {
			return nil, false, fmt.Sprintf("%q is not a version constraint", clip(s))
		}
		cons = append(cons, constraint{op, part})
	}
	if len(cons) == 0 {
		return nil, false, fmt.Sprintf("%q is not a version constraint", clip(s))
	}
	return cons, false, ""
}

// versionLike reports whether text can be a vendor version: its first word holds a digit ("3.0 D15", "V21 R2 P2",
// "D25"), which rules out dates written in words ("august 28", "april 1, 2018") and product names.
func versionLike(s string) bool {
	f := strings.Fields(s)
	return len(f) > 0 && strings.ContainsAny(f[0], "0123456789")
}

// versContains applies the vers algorithm (github.com/package-url/vers-spec) with the vendor version order:
// an equal constraint matching, a != excluding, the first constraint if it is < or <=, the last if it is > or >=,
// and each >/>= followed by </<= forming an interval.
func versContains(cons []constraint, v string) bool {
	var ranges []constraint
	for _, c := range cons {
		switch c.op {
		case "=":
			if cpe.CompareVersions(v, c.v) == 0 {
				return true
			}
		case "!=":
			if cpe.CompareVersions(v, c.v) == 0 {
				return false
			}
		default:
			ranges = append(ranges, c)
		}
	}
	sort.SliceStable(ranges, func(i, j int) bool { return cpe.CompareVersions(ranges[i].v, ranges[j].v) < 0 })
	sat := func(c constraint) bool {
		r := cpe.CompareVersions(v, c.v)
		switch c.op {
		case "<":
			return r < 0
		case "<=":
			return r <= 0
		case ">":
			return r > 0
		}
		return r >= 0
	}
	lower := func(c constraint) bool { return c.op == ">" || c.op == ">=" }
	for i, c := range ranges {
		if i == 0 && !lower(c) && sat(c) {
			return true
		}
		if i == len(ranges)-1 && lower(c) && sat(c) {
			return true
		}
		if i > 0 && lower(ranges[i-1]) && !lower(c) && sat(ranges[i-1]) && sat(c) {
			return true
		}
	}
	return false
}

// eval decides whether a component version is one the product statement calls affected.
func (pr *product) eval(v string) outcome {
	switch {
	case pr.bad != "":
		return outcome{st: stUnknown, reason: pr.bad, rng: pr.rng}
	case pr.all:
		return outcome{st: stYes, rng: pr.rng}
	case v == "":
		return outcome{st: stUnknown, reason: "the component has no version to compare", rng: pr.rng}
	case versContains(pr.cons, v):
		return outcome{st: stYes, rng: pr.rng}
	}
	return outcome{st: stNo}
}

// vendorAgrees reports whether a product's vendor and a component's supplier or group can be the same
// organization: either is unknown, or one's letters and digits contain the other's ("Wind River" and "Wind River
// Systems, Inc.").
func vendorAgrees(vendor string, c *vigil.Component) bool {
	v := alnum(vendor)
	if v == "" {
		return true
	}
	who := []string{alnum(c.Supplier), alnum(c.Group)}
	if who[0] == "" && who[1] == "" {
		return true
	}
	for _, w := range who {
		if w != "" && (strings.Contains(w, v) || strings.Contains(v, w)) {
			return true
		}
	}
	return false
}

func alnum(s string) string {
	if len(s) > maxField {
		s = s[:maxField]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// purlVersion returns the version a product's purl pins, "" when none.
func purlVersion(s string) string {
	p, err := ParsePurl(s)
	if err != nil {
		return ""
	}
	return p.Version
}
